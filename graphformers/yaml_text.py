"""YAML as graphformers reads every YAML file and value: safe (no Python objects are built),
UTF-8, and a key written twice in one mapping an error, not ``yaml.safe_load``'s silent
last-one-wins (a recipe with two ``model:`` sections would otherwise train the second alone)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from graphformers.errors import GraphformersError


class YamlError(GraphformersError, ValueError):
    """YAML that cannot be read as written: not UTF-8, not YAML, or a key given twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping naming one key twice, at any depth."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice in one mapping, on lines {first_line[key]} and "
                        f"{line}; YAML would silently keep only the second: delete or merge one of them",
                        key_node.start_mark)
                first_line[key] = line
            except TypeError:  # an unhashable key (a list): PyYAML's own error follows
                pass
        return super().construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping)


def parse_yaml(text: str, where: str) -> Any:
    """The value of YAML ``text`` (:obj:`None` for an empty document).

    Args:
        text (str): the YAML.
        where (str): what it is, for messages: a file's path, ``command-line override 'model.x=...'``.

    Raises:
        YamlError: it is not YAML, or a mapping names a key twice.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise YamlError(f"{where}: not valid YAML: {' '.join(str(error).split())}") from None


def read_yaml(path: str | Path) -> Any:
    """The value of the YAML file ``path``, read as UTF-8 (:func:`parse_yaml`).

    Raises:
        YamlError: the file is not UTF-8 (naming the line and the byte), is not YAML, or a mapping
            names a key twice.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise YamlError(
            f"{path}, line {line}: byte 0x{data[error.start]:02x} is not UTF-8 (the file was saved in another "
            f"encoding, such as Latin-1 or Windows-1252); save it as UTF-8, e.g. "
            f"iconv -f latin1 -t utf-8 {path} > fixed.yaml") from None
    return parse_yaml(text, str(path))
