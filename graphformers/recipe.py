"""The recipe schema: typed ``model`` / ``data`` / ``train`` sections loaded from YAML.

A recipe file may name a base with ``extends: base.yaml`` (resolved next to the file);
its keys override the base's, nested mappings merge and lists replace. Dotted
overrides (``model.layers=6``) are applied last. Every value is checked against the
schema below: an unknown key gets a did-you-mean, a wrong type names the expected
type, and both name the file (or command-line override) the value came from.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Union

import yaml

from graphformers.errors import GraphformersError
from graphformers.registry import ENCODERS, LOCAL_BLOCKS, MIXERS, MODELS, DATASETS, Registry, RegistryError


class RecipeError(GraphformersError, ValueError):
    """A recipe that cannot be used, with the file and key at fault."""


@dataclass
class PartSpec:
    """A registered part by name plus its own options; YAML ``gine`` or ``{name: gat, heads: 2}``."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelConfig:
    """Architecture of the graph transformer."""

    name: str = "gps"
    """registered model"""
    hidden: int = 64
    """width of every layer (node features + positional encodings)"""
    layers: int = 3
    """number of GPS layers"""
    heads: int = 4
    """attention heads of the mixer"""
    local: Optional[PartSpec] = field(default_factory=lambda: PartSpec("gine"))
    """local message-passing block, a name or {name: ..., option: ...}; none for a pure transformer"""
    mixer: Optional[PartSpec] = field(default_factory=lambda: PartSpec("full"))
    """global mixer, a name or {name: ..., option: ...}; none for a pure MPNN"""
    encoders: list[PartSpec] = field(default_factory=list)
    """positional/structural encodings, e.g. [{name: lap, k: 8, dim: 16}]; concatenated to the node features"""
    node_encoder: Optional[str] = None
    """feature encoder for raw node features; null: the dataset's choice"""
    edge_encoder: Optional[str] = None
    """feature encoder for raw edge features; null: the dataset's choice, a learned constant when it has none"""
    dropout: float = 0.0
    """dropout on every branch of a layer"""
    attn_dropout: float = 0.0
    """dropout inside the mixer (attention probabilities)"""
    norm: Literal["batch", "layer", "none"] = "batch"
    """normalisation after each residual"""
    ffn_ratio: int = 2
    """FFN width as a multiple of hidden"""
    pool: Literal["mean", "sum", "max"] = "mean"
    """graph-level tasks: how node states are pooled"""


@dataclass
class DataConfig:
    """Which registered dataset, where it lives and how it is batched."""

    name: str = "relay"
    """registered dataset"""
    root: Optional[str] = None
    """data root; null: $GRAPHFORMERS_DATA, else ./datasets"""
    batch_size: int = 64
    """graphs (data.neighbors: target nodes) per mini-batch and process; the global batch is batch_size x processes"""
    num_workers: int = 0
    """DataLoader worker processes"""
    precompute_workers: int = 0
    """workers computing positional encodings (0: in this process)"""
    cache: bool = True
    """keep positional encodings under <dataset folder>/encodings/"""
    node_parts: Optional[int] = None
    """one large graph: train and evaluate on this many random node partitions (induced subgraphs)"""
    neighbors: Optional[list[int]] = None
    """one large graph: batches of data.batch_size target nodes with sampled neighbours, fan-out per hop (e.g. [15, 10]; -1: all)"""
    evaluate: Literal["batches", "full_graph"] = "batches"
    """one large graph: evaluate on batches like training's, or every node at once on the whole graph, layer by layer"""
    options: dict[str, Any] = field(default_factory=dict)
    """the dataset's own options, e.g. {num_train: 2000}"""


@dataclass
class TrainConfig:
    """Optimisation and run settings."""

    max_epochs: int = 30
    """epochs to train"""
    lr: float = 1e-3
    """AdamW learning rate"""
    weight_decay: float = 0.0
    """AdamW weight decay"""
    scheduler: Literal["cosine", "none"] = "cosine"
    """learning-rate schedule per epoch, after the warm-up"""
    warmup_epochs: int = 0
    """epochs of linear warm-up from lr/10"""
    gradient_clip: Optional[float] = 1.0
    """gradient-norm clipping; null: none"""
    seed: int = 0
    """seeds weights, shuffling, dropout and sign flips (runs and resumes are reproducible)"""
    accelerator: str = "auto"
    """Lightning accelerator: auto, cpu, gpu"""
    devices: Union[int, Literal["auto"]] = 1
    """devices (one process each) per machine; auto: every GPU, else 1"""
    num_nodes: int = 1
    """machines; processes in all = devices x num_nodes"""
    strategy: Literal["auto", "ddp", "ddp_spawn", "fsdp"] = "auto"
    """Lightning strategy for more than one process (ddp runs with a static graph; auto: ddp when devices x num_nodes > 1 or devices is auto)"""
    sync_batchnorm: bool = False
    """batch-norm statistics over the global batch, not each process's share (GPU)"""
    precision: Literal["32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true"] = "32-true"
    """Lightning precision"""
    out_dir: Optional[str] = None
    """where runs are written; null: runs/<recipe name>"""
    progress_bar: bool = True
    """show Lightning's progress bar and model summary"""
    limit_batches: Optional[int] = None
    """smoke runs: at most this many batches per epoch and split"""
    on_nonfinite_loss: Literal["stop", "skip"] = "stop"
    """a NaN/inf training loss stops the run (the last checkpoint stays intact) or skips that step"""


@dataclass
class Recipe:
    """A whole recipe: what to build, on which data, trained how."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """the architecture"""
    data: DataConfig = field(default_factory=DataConfig)
    """the dataset and its batching"""
    train: TrainConfig = field(default_factory=TrainConfig)
    """optimisation and run settings"""
    imports: list[str] = field(default_factory=list)
    """modules to import first (they may register parts)"""
    name: str = "recipe"
    """run name; default: the recipe file's name"""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form in recipe syntax (YAML-able, checkpoint-safe); inverse of :func:`recipe_from_dict`."""
        return _plain(self)


def _plain(value: Any) -> Any:
    if isinstance(value, PartSpec):
        return {"name": value.name, **value.options}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# Parts named in a recipe and the constructor arguments the toolkit passes itself.
_PART_FIELDS: dict[str, tuple[Registry, frozenset[str]]] = {
    "model.local": (LOCAL_BLOCKS, frozenset({"hidden"})),
    "model.mixer": (MIXERS, frozenset({"hidden", "heads", "dropout"})),
    "model.encoders": (ENCODERS, frozenset()),
}
NO_PART = "none"


def load_recipe(path: str | Path, overrides: list[str] = ()) -> Recipe:
    """Read ``path`` (following ``extends``), apply ``key=value`` overrides and validate."""
    origins: dict[str, str] = {}
    raw = _read_with_bases(Path(path), origins, chain=())
    for override in overrides:
        _apply_override(raw, override, origins)
    recipe = _build(Recipe, raw, "", origins)
    name_source = _source(origins, "name")
    if name_source != str(path) and not name_source.startswith("command-line"):
        recipe.name = Path(path).stem  # a base recipe's name is not inherited
    _import_user_modules(recipe.imports)
    _check_parts(recipe, origins)
    _check_ranges(recipe, origins)
    return recipe


def recipe_from_dict(raw: dict[str, Any]) -> Recipe:
    """A recipe from its :meth:`Recipe.to_dict` form (e.g. a checkpoint's hyperparameters);
    imports its ``imports`` so that plugin parts resolve."""
    recipe = _build(Recipe, raw, "", {})
    _import_user_modules(recipe.imports)
    return recipe


def _read_with_bases(path: Path, origins: dict[str, str], chain: tuple[Path, ...]) -> dict[str, Any]:
    if not path.is_file():
        wanted_by = f"{chain[-1]}: extends" if chain else "Recipe file"
        raise RecipeError(f"{wanted_by} {str(path)!r} not found (looked for {path.resolve()}).")
    if path.resolve() in chain:
        raise RecipeError(f"{path}: 'extends' forms a cycle: {' -> '.join(map(str, chain + (path,)))}.")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise RecipeError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe must be a mapping of sections, got {type(raw).__name__}.")
    base_name = raw.pop("extends", None)
    merged: dict[str, Any] = {}
    if base_name is not None:
        if not isinstance(base_name, str):
            raise RecipeError(f"{path}: 'extends' must be a file name, got {base_name!r}.")
        merged = _read_with_bases(path.parent / base_name, origins, chain + (path.resolve(),))
    _record_origins(raw, "", str(path), origins)
    return _deep_merge(merged, raw)


def _record_origins(raw: Mapping[str, Any], prefix: str, source: str, origins: dict[str, str]) -> None:
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        origins[dotted] = source
        if isinstance(value, dict) and dotted.count(".") < 1:
            _record_origins(value, dotted + ".", source, origins)


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_override(raw: dict[str, Any], override: str, origins: dict[str, str]) -> None:
    key, sep, text = override.partition("=")
    if not sep or not key:
        raise RecipeError(f"Override {override!r} must look like section.key=value (e.g. model.layers=6).")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RecipeError(f"Override {override!r}: value is not valid YAML: {error}") from None
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise RecipeError(f"Override {override!r}: {part!r} is not a section.")
    node[leaf] = value
    origins[key] = f"command-line override {override!r}"


def _source(origins: Mapping[str, str], dotted: str) -> str:
    """The file (or override) that set ``dotted`` or its closest enclosing key."""
    dotted = dotted.split("[", 1)[0]
    while dotted:
        if dotted in origins:
            return origins[dotted]
        dotted = dotted.rpartition(".")[0]
    return "recipe defaults"


def _build(cls: type, raw: Any, prefix: str, origins: Mapping[str, str]) -> Any:
    where = prefix.rstrip(".") or "recipe"
    if not isinstance(raw, dict):
        raise RecipeError(f"{_source(origins, where)}: {where!r} must be a mapping, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            raise RecipeError(
                f"{_source(origins, dotted)}: unknown key {dotted!r}.{hint} Known keys in {where!r}: {', '.join(known)}."
            )
        values[key] = _convert(hints[key], value, dotted, origins)
    return cls(**values)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " | ".join(repr(choice) for choice in typing.get_args(annotation))
    if origin is Union:
        return " or ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    if annotation is PartSpec:
        return "a part name or {name: ..., <options>}"
    if origin is list:
        return f"a list of ({_type_name(typing.get_args(annotation)[0])})"
    if origin is not None:
        return str(annotation).replace("typing.", "")
    return annotation.__name__


def _convert(annotation: Any, value: Any, dotted: str, origins: Mapping[str, str]) -> Any:
    """``value`` checked (and, where lossless, converted) against ``annotation``."""
    origin = typing.get_origin(annotation)

    def wrong() -> RecipeError:
        return RecipeError(
            f"{_source(origins, dotted)}: {dotted!r} must be {_type_name(annotation)}, "
            f"got {type(value).__name__} {value!r}."
        )

    if origin is Union:
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        inner = [arg for arg in args if arg is not type(None)]
        for arg in inner:
            try:
                return _convert(arg, value, dotted, origins)
            except RecipeError:
                continue
        raise wrong()
    if origin is Literal:
        choices = typing.get_args(annotation)
        if value in choices:
            return value
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RecipeError(f"{wrong()}{hint}")
    if origin is list:
        if not isinstance(value, list):
            raise wrong()
        (item_type,) = typing.get_args(annotation)
        return [_convert(item_type, item, f"{dotted}[{i}]", origins) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong()
        return dict(value)
    if annotation is PartSpec:
        if isinstance(value, str):
            return PartSpec(value)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            options = {k: v for k, v in value.items() if k != "name"}
            return PartSpec(value["name"], options)
        raise wrong()
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, value, dotted + ".", origins)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise wrong()
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise wrong()
    if annotation is float:
        # YAML 1.1 reads "1e-3" as a string; accept any numeral.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise wrong() from None
        raise wrong()
    if annotation is str:
        if isinstance(value, str):
            return value
        raise wrong()
    raise TypeError(f"recipe schema uses an unsupported annotation {annotation!r}")


def _import_user_modules(modules: list[str]) -> None:
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise RecipeError(f"imports: cannot import {module!r}: {error}. Is it installed or on PYTHONPATH?") from None


def _check_parts(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Every named part exists and every option is one its constructor takes."""
    for registry, dotted in ((MODELS, "model.name"), (DATASETS, "data.name")):
        name = _get_dotted(recipe, dotted)
        try:
            registry.get(name)
        except RegistryError as error:
            raise RecipeError(f"{_source(origins, dotted)}: {dotted}: {error}") from None
    for dotted, (registry, supplied) in _PART_FIELDS.items():
        value = _get_dotted(recipe, dotted)
        specs = value if isinstance(value, list) else [value]
        for spec in specs:
            if is_absent(spec):
                continue
            try:
                part = registry.get(spec.name)
            except RegistryError as error:
                raise RecipeError(f"{_source(origins, dotted)}: {dotted}: {error}") from None
            check_options(part, spec.options, supplied, f"{dotted} ({spec.name})", _source(origins, dotted))
    check_options(DATASETS.get(recipe.data.name), recipe.data.options, frozenset({"root"}),
                  f"data.options ({recipe.data.name})", _source(origins, "data.options"))


def check_options(part: Any, options: Mapping[str, Any], supplied: frozenset[str], where: str, source: str) -> None:
    """Raise if ``options`` holds a keyword that ``part``'s constructor does not accept."""
    parameters = inspect.signature(part).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [name for name in parameters if name not in supplied]
    for option in options:
        if option not in accepted:
            close = difflib.get_close_matches(option, accepted, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RecipeError(
                f"{source}: {where} has no option {option!r}.{hint} Options: {', '.join(accepted) or 'none'}."
            )
    hints = _type_hints(part)
    for option, value in options.items():
        if option in hints:
            try:
                _convert(hints[option], value, f"{where}.{option}", {})
            except RecipeError as error:
                raise RecipeError(f"{source}: {str(error).split(': ', 1)[1]}") from None
            except TypeError:
                continue


def _type_hints(part: Any) -> dict[str, Any]:
    """A part's constructor annotations, resolved; empty where they cannot be."""
    try:
        return typing.get_type_hints(part.__init__ if isinstance(part, type) else part)
    except (NameError, TypeError):
        return {}


def _get_dotted(recipe: Recipe, dotted: str) -> Any:
    node: Any = recipe
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


_RANGES: dict[str, tuple[Any, str]] = {
    "model.hidden": (lambda v: v >= 1, ">= 1"),
    "model.layers": (lambda v: v >= 1, ">= 1"),
    "model.heads": (lambda v: v >= 1, ">= 1"),
    "model.ffn_ratio": (lambda v: v >= 1, ">= 1"),
    "model.dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.attn_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "data.batch_size": (lambda v: v >= 1, ">= 1"),
    "data.num_workers": (lambda v: v >= 0, ">= 0"),
    "data.precompute_workers": (lambda v: v >= 0, ">= 0"),
    "data.node_parts": (lambda v: v is None or v >= 1, "null or >= 1"),
    "data.neighbors": (lambda v: v is None or (len(v) >= 1 and all(k >= 1 or k == -1 for k in v)),
                       "null or a non-empty list of fan-outs, each >= 1 or -1"),
    "train.max_epochs": (lambda v: v >= 1, ">= 1"),
    "train.lr": (lambda v: math.isfinite(v) and v > 0, "a finite number > 0"),
    "train.weight_decay": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "train.warmup_epochs": (lambda v: v >= 0, ">= 0"),
    "train.gradient_clip": (lambda v: v is None or (math.isfinite(v) and v > 0), "null or a number > 0"),
    "train.devices": (lambda v: v == "auto" or v >= 1, ">= 1 or auto"),
    "train.num_nodes": (lambda v: v >= 1, ">= 1"),
    "train.limit_batches": (lambda v: v is None or v >= 1, "null or >= 1"),
}


def _check_ranges(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Values of the right type but outside their sensible range, and combinations that cannot work."""
    for dotted, (accepts, wanted) in _RANGES.items():
        value = _get_dotted(recipe, dotted)
        if not accepts(value):
            raise RecipeError(f"{_source(origins, dotted)}: {dotted!r} must be {wanted}, got {value!r}.")
    if recipe.data.neighbors is not None and recipe.data.node_parts is not None:
        raise RecipeError(f"{_source(origins, 'data.neighbors')}: data.neighbors and data.node_parts are two ways to "
                          f"batch one large graph; keep one of them.")
    if recipe.data.evaluate == "full_graph" and recipe.data.neighbors is None and recipe.data.node_parts is None:
        raise RecipeError(f"{_source(origins, 'data.evaluate')}: data.evaluate: full_graph is for one large graph "
                          f"trained on data.neighbors or data.node_parts batches; without them whole graphs are "
                          f"already evaluated (remove data.evaluate).")
    model = recipe.model
    if is_absent(model.local) and is_absent(model.mixer):
        raise RecipeError(f"{_source(origins, 'model.mixer')}: model.local and model.mixer are both none; "
                          f"a layer needs at least one of them.")
    if not is_absent(model.mixer) and model.hidden % model.heads:
        raise RecipeError(f"{_source(origins, 'model.heads')}: model.hidden ({model.hidden}) must be divisible "
                          f"by model.heads ({model.heads}).")
    pe_dims = sum(spec.options.get("dim", _default(ENCODERS.get(spec.name), "dim")) for spec in model.encoders)
    if pe_dims >= model.hidden:
        raise RecipeError(f"{_source(origins, 'model.encoders')}: the positional encoders' dims add up to {pe_dims}, "
                          f"which leaves no room in model.hidden ({model.hidden}) for the node features; "
                          f"raise model.hidden or lower their dim.")


def is_absent(spec: Optional[PartSpec]) -> bool:
    """Whether a local/mixer slot is empty (``null`` or ``none``)."""
    return spec is None or spec.name == NO_PART


def _default(part: Any, parameter: str) -> Any:
    return inspect.signature(part).parameters[parameter].default
