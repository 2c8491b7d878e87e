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


class DuplicateKeyError(yaml.YAMLError):
    """A mapping that names one key twice (its message names the key and both lines)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping naming one key twice, at any depth."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """The mapping of ``node``, as ``SafeLoader`` builds it, after checking its own keys are distinct
        (keys merged in with ``<<`` may be overridden, as YAML intends).

        Args:
            node (yaml.Node): the mapping node.
            deep (bool): build nested values now (PyYAML's argument).
        """
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, tuple[str, int]] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                spelling, line = getattr(key_node, "value", key), key_node.start_mark.line + 1
                try:
                    seen = first.get(key)
                except TypeError:  # an unhashable key (a list): SafeLoader's own error follows
                    continue
                if seen is not None:
                    twice = repr(spelling) if seen[0] == spelling else f"{seen[0]!r} (line {seen[1]}) and {spelling!r}"
                    raise DuplicateKeyError(
                        f"key {twice} is given twice in one mapping, on lines {seen[1]} and {line}; YAML would "
                        f"silently keep only the second: delete or merge one of them")
                first[key] = (spelling, line)
        return super().construct_mapping(node, deep)


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
    except DuplicateKeyError as error:
        raise YamlError(f"{where}: {error}") from None
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
            f"encoding, such as Latin-1 or Windows-1252); save it as UTF-8 (an editor's encoding setting, or "
            f"iconv -f ENCODING -t utf-8 '{path}' > fixed.yaml)") from None
    return parse_yaml(text, str(path))
