"""Name -> part registries, one per kind of interchangeable part, each typed by the kind's base class.

Parts register themselves with a decorator (``@register_mixer("full")``); recipes refer to them
by name. A registry refuses a part that does not derive from its kind's base class (the
contract, written in that folder's ``base.py``), so a part that would fail deep inside training
fails where it is declared. The built-in parts of a kind register when their package is imported,
which the registry does on its first lookup (so ``import graphformers`` loads no part, dataset or
Lightning). Installed packages add parts through the entry-point group ``graphformers.plugins``:
each entry point is imported on the first lookup in any registry, so its decorators run before the
name is resolved.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, TypeVar

from graphformers.errors import GraphformersError
from graphformers.options import PartOption, part_options

PLUGIN_GROUP = "graphformers.plugins"
T = TypeVar("T")


class RegistryError(GraphformersError, LookupError):
    """A name that no part answers to, two parts claiming one name, or a part of the wrong kind."""


@dataclass(frozen=True)
class Entry:
    """A registered part, where it came from (a module path) and the callable that builds it, whose
    signature and docstring give its options and description (the part itself; a dataset's loader)."""

    name: str
    part: Any
    origin: str
    constructor: Callable[..., Any]

    @property
    def description(self) -> str:
        """First line of the constructor's docstring."""
        doc = inspect.getdoc(self.constructor) or ""
        return doc.splitlines()[0] if doc else ""

    @property
    def built_in(self) -> bool:
        """Whether this package registered it (not a plugin)."""
        return self.origin.split(".")[0] == "graphformers"


class Registry:
    """Parts of one kind (mixers, local blocks, ...) by name.

    Args:
        kind (str): what the parts are called in messages (``"mixer"``).
        word (str, optional): the kind's word on the command line (``graphformers list mixer``;
            default: ``kind``).
        recipe_keys (tuple of str, optional): the recipe keys that name parts of this kind
            (``model.mixer``): the recipe checks look each up here, and the key reference lists
            the registered names beside them.
        base (str, optional): ``"module:Class"`` of the base class every part must derive from
            (a class registered must subclass it, anything else must be an instance of it). It is
            imported on the first registration, so that a base module can itself register parts.
            :obj:`None` accepts anything (for ad-hoc registries).
        supplied (tuple of str, optional): constructor arguments the toolkit passes itself (a
            mixer's ``hidden``, ``heads``, ``dropout``); the others are the part's recipe options.
        constructor (callable, optional): maps a registered part to the callable whose signature
            holds its options (default: the part itself; a dataset's is its loader).
        built_ins (str, optional): the module whose import registers the kind's built-in parts,
            imported on the first lookup (:obj:`None`: no built-ins).
    """

    def __init__(self, kind: str, base: str | None = None, supplied: tuple[str, ...] = (),
                 constructor: Callable[[Any], Callable[..., Any]] | None = None,
                 built_ins: str | None = None, word: str | None = None, recipe_keys: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.word = word or kind
        self.recipe_keys = recipe_keys
        self.supplied = supplied
        self._base_path = base
        self._constructor = constructor
        self._built_ins = built_ins
        self._entries: dict[str, Entry] = {}

    def _load(self) -> None:
        """Register the built-in parts (once) and the plugins' before a lookup."""
        if self._built_ins is not None:
            module, self._built_ins = self._built_ins, None  # cleared first: its import may look names up
            importlib.import_module(module)
        load_plugins()

    @contextmanager
    def isolated(self) -> Iterator[Registry]:
        """Parts registered inside the ``with`` block are forgotten after it (for tests and
        experiments): the built-ins and plugins stay, a name taken inside may be taken again later."""
        self._load()
        saved = self._entries
        self._entries = dict(saved)
        try:
            yield self
        finally:
            self._entries = saved

    @property
    def base(self) -> type | None:
        """The base class parts of this kind derive from (None: any)."""
        if self._base_path is None:
            return None
        module, _, name = self._base_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering a part under ``name`` (see :meth:`add`)."""

        def decorate(part: T) -> T:
            self.add(name, part)
            return part

        return decorate

    def add(self, name: str, part: Any, origin: str | None = None) -> None:
        """Register ``part`` as ``name`` (``origin``: the module declaring it, default the part's
        own); refuses a part of the wrong kind or a name already taken."""
        origin = origin or getattr(part, "__module__", "?")
        self._check_kind(name, part, origin)
        known = self._entries.get(name)
        if known is not None and known.part is not part:
            raise RegistryError(
                f"{self.kind} {name!r} is registered twice: by {known.origin} and by {origin}. Rename one of them."
            )
        self._entries[name] = Entry(name, part, origin, self._constructor(part) if self._constructor else part)

    def _check_kind(self, name: str, part: Any, origin: str) -> None:
        base = self.base
        if base is None:
            return
        fits = issubclass(part, base) if isinstance(part, type) else isinstance(part, base)
        if not fits:
            what = getattr(part, "__qualname__", type(part).__qualname__)
            wanted = f"{base.__module__}.{base.__qualname__}"
            how = f"subclass {wanted}" if isinstance(part, type) else f"be a {wanted} instance"
            raise RegistryError(f"{self.kind} {name!r} ({origin}.{what}) is not a {wanted}. A {self.kind} must "
                                f"{how}; its docstring is the contract to follow.")

    def get(self, name: str) -> Any:
        """The part registered as ``name``; unknown names raise with the known ones listed."""
        return self.entry(name).part

    def entry(self, name: str) -> Entry:
        """The entry of ``name``; unknown names raise with the known ones listed (and a did-you-mean)."""
        self._load()
        if name in self._entries:
            return self._entries[name]
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RegistryError(f"Unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {', '.join(known)}.")

    def constructor(self, name: str) -> Callable[..., Any]:
        """The callable that builds part ``name`` (whose signature and ``Args:`` give its options)."""
        return self.entry(name).constructor

    def options(self, name: str) -> list[PartOption]:
        """Part ``name``'s recipe options: types, defaults and docs (:func:`~graphformers.options.part_options`)."""
        return part_options(self.constructor(name), self.supplied)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def entries(self) -> list[Entry]:
        """All entries, sorted by name."""
        self._load()
        return [self._entries[name] for name in sorted(self._entries)]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return [entry.name for entry in self.entries()]


class DatasetRegistry(Registry):
    """The registry of datasets, whose entries are :class:`~graphformers.data.base.DatasetSpec` s
    made from a loader and the facts about its data (:meth:`register`)."""

    def register(self, name: str, info: Any = None, raw_files: tuple[Any, ...] = (),
                 offline: bool | None = None, num_splits: int = 1) -> Callable[[T], T]:
        """Decorator registering a loader as dataset ``name`` (a
        :class:`~graphformers.data.base.DatasetSpec` with these fields, which documents each).

        Args:
            name (str): the registered name (``data.name``).
            info (TaskInfo or callable, optional): the task, or a function of the options giving it.
            raw_files (tuple of RawFile, optional): the official files under the data root.
            offline (bool, optional): whether it needs no download (default: it has no raw files).
            num_splits (int, optional): how many official splits the dataset ships.
        """

        def decorate(loader: T) -> T:  # the base class is the spec (imported on use, as for every kind)
            self.add(name, self.base(name, loader, info, tuple(raw_files), offline, num_splits),
                     origin=loader.__module__)
            return loader

        return decorate


MODELS = Registry("model", "graphformers.models.base:GraphModel", ("config", "info"),
                  constructor=lambda model: model.options_type or model, built_ins="graphformers.models",
                  recipe_keys=("model.name",))
"""A model's recipe options are the fields of its ``options_type`` (``model.options``), if it declares one."""
LOCAL_BLOCKS = Registry("local block", "graphformers.local.base:LocalBlock", ("hidden",),
                        built_ins="graphformers.local",
                        word="local", recipe_keys=("model.local",))
MIXERS = Registry("mixer", "graphformers.mixers.base:GlobalMixer", ("hidden", "heads", "dropout"),
                  built_ins="graphformers.mixers", recipe_keys=("model.mixer",))
POSITIONAL_ENCODERS = Registry("positional encoder", "graphformers.encoders.base:PositionalEncoder",
                               built_ins="graphformers.encoders", word="encoder", recipe_keys=("model.encoders",))
PAIR_ENCODINGS = Registry("pair encoding", "graphformers.pair_encodings.base:PairEncoding",
                          built_ins="graphformers.pair_encodings", word="pair", recipe_keys=("model.pair_encodings",))
FEATURE_ENCODERS = Registry("feature encoder", "graphformers.encoders.base:FeatureEncoder", ("in_dim", "out_dim"),
                            built_ins="graphformers.encoders", word="feature",
                            recipe_keys=("model.node_encoder", "model.edge_encoder"))
ORDERINGS = Registry("node ordering", "graphformers.orderings.base:NodeOrdering", built_ins="graphformers.orderings",
                     word="ordering", recipe_keys=("model.ordering",))
DATASETS = DatasetRegistry("dataset", "graphformers.data.base:DatasetSpec", ("root",),
                           constructor=lambda spec: spec.loader,
                    built_ins="graphformers.data.catalog", recipe_keys=("data.name",))
REGISTRIES = (MODELS, LOCAL_BLOCKS, MIXERS, POSITIONAL_ENCODERS, PAIR_ENCODINGS, FEATURE_ENCODERS, ORDERINGS,
              DATASETS)
"""Every kind of part: the one table of kinds. ``graphformers list`` shows them in this order, the
recipe checks look up each kind's recipe keys, and the key reference and the README's table of
kinds are made from it; a new kind is one more registry here."""

register_model = MODELS.register
register_local = LOCAL_BLOCKS.register
register_mixer = MIXERS.register
register_feature_encoder = FEATURE_ENCODERS.register
register_positional_encoder = POSITIONAL_ENCODERS.register
register_ordering = ORDERINGS.register
register_pair_encoding = PAIR_ENCODINGS.register
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
