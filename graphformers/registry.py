"""Name -> part registries, one per kind of interchangeable part.

Parts register themselves with a decorator (``@register_mixer("full")``); recipes
refer to them by name. Installed packages add parts through the entry-point group
``graphformers.plugins``: each entry point is imported on the first lookup in any
registry, so its decorators run before the name is resolved.
"""
from __future__ import annotations

import difflib
import inspect
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, TypeVar

from graphformers.errors import GraphformersError

PLUGIN_GROUP = "graphformers.plugins"
T = TypeVar("T")


class RegistryError(GraphformersError, LookupError):
    """A name that no part answers to, or two parts claiming one name."""


@dataclass(frozen=True)
class Entry:
    """A registered part and where it came from (a module path)."""

    name: str
    part: Any
    origin: str

    @property
    def description(self) -> str:
        """First line of the part's docstring."""
        doc = inspect.getdoc(self.part) or ""
        return doc.splitlines()[0] if doc else ""


class Registry:
    """Parts of one kind (mixers, local blocks, ...) by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering a class or factory under ``name``."""

        def decorate(part: T) -> T:
            origin = getattr(part, "__module__", "?")
            known = self._entries.get(name)
            if known is not None and known.part is not part:
                raise RegistryError(
                    f"{self.kind} {name!r} is registered twice: by {known.origin} and by {origin}. "
                    f"Rename one of them."
                )
            self._entries[name] = Entry(name, part, origin)
            return part

        return decorate

    def get(self, name: str) -> Any:
        """The part registered as ``name``; unknown names raise with the known ones listed."""
        load_plugins()
        if name in self._entries:
            return self._entries[name].part
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RegistryError(f"Unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {', '.join(known)}.")

    def entries(self) -> list[Entry]:
        """All entries, sorted by name."""
        load_plugins()
        return [self._entries[name] for name in sorted(self._entries)]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return [entry.name for entry in self.entries()]


ENCODERS = Registry("encoder")
LOCAL_BLOCKS = Registry("local block")
MIXERS = Registry("mixer")
MODELS = Registry("model")
DATASETS = Registry("dataset")

register_encoder = ENCODERS.register
register_local = LOCAL_BLOCKS.register
register_mixer = MIXERS.register
register_model = MODELS.register
register_dataset = DATASETS.register

_plugins_loaded = False


def load_plugins() -> None:
    """Import every ``graphformers.plugins`` entry point once; a broken plugin warns, others still load."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry_point in entry_points(group=PLUGIN_GROUP):
        try:
            entry_point.load()
        except Exception as error:  # a plugin's own bug must not break the toolkit
            warnings.warn(
                f"graphformers plugin {entry_point.name!r} ({entry_point.value}) failed to import: "
                f"{type(error).__name__}: {error}",
                stacklevel=2,
            )
