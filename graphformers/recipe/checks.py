"""Every check of a loaded recipe, each rule once: parts exist and are of the right kind, options
are ones their constructors take (with the right types), values are in range, combinations make
sense, and the model builds. Rules about a part's own options live in the part (it raises
:class:`~graphformers.errors.PartOptionError`); the recipe checks them by building the model with
the dataset's declared task, so a recipe error appears before any data is loaded."""
from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import torch

from graphformers.errors import PartOptionError
from graphformers.metrics import METRICS
from graphformers.options import accepts_any_option
from graphformers.recipe.convert import convert
from graphformers.recipe.origins import source
from graphformers.recipe.schema import PartSpec, Recipe, RecipeError, is_absent
from graphformers.registry import DATASETS, MODELS, REGISTRIES, Registry, RegistryError
from graphformers.resources import (
    MEMORY_SHARE,
    DataRootError,
    data_root,
    machine_memory_bytes,
    missing_logger_package,
)

_RANGES: dict[str, tuple[Any, str]] = {
    "model.hidden": (lambda v: v >= 1, ">= 1"),
    "model.layers": (lambda v: v >= 1, ">= 1"),
    "model.heads": (lambda v: v >= 1, ">= 1"),
    "model.ffn_ratio": (lambda v: v >= 1, ">= 1"),
    "model.dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.attn_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.input_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
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


def check_recipe(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Raise :class:`RecipeError` (naming the file or override at fault) for the first problem found.

    Args:
        recipe (Recipe): the loaded recipe.
        origins (mapping): where each dotted key was set (see :mod:`graphformers.recipe.origins`).
    """
    check_parts(recipe, origins)
    _check_model_keys(recipe, origins)
    _check_ranges(recipe, origins)
    _check_combinations(recipe, origins)
    _check_data_root(recipe, origins)
    _check_published(recipe, origins)
    _check_model_size(recipe, origins)
    _check_loggers(recipe, origins)
    _check_model_builds(recipe, origins)


def check_parts(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Every named part exists in its own registry and every option is one its constructor takes;
    the recipe's part, model and data options are replaced by their converted values (:func:`check_options`).
    The keys checked are each kind's ``recipe_keys`` (:data:`~graphformers.registry.REGISTRIES`): a
    part with its options (``model.mixer``), a list of them (``model.encoders``), or a name, whose
    options sit beside it when it is a section's ``name`` (``model.options``, ``data.options``).

    Args:
        recipe (Recipe): the recipe, changed in place.
        origins (mapping): where each key was set, for messages.
    """
    for registry in REGISTRIES:
        for dotted in registry.recipe_keys:
            value = _get_dotted(recipe, dotted)
            for spec in value if isinstance(value, list) else [value]:
                if isinstance(spec, PartSpec):
                    if not is_absent(spec):
                        _lookup(registry, spec.name, dotted, origins)
                        spec.options = check_options(registry, spec.name, spec.options, f"{dotted} ({spec.name})",
                                                     source(origins, dotted))
                elif spec is not None:
                    _lookup(registry, spec, dotted, origins)
                    section, key = dotted.rsplit(".", 1)
                    if key == "name":
                        config = _get_dotted(recipe, section)
                        config.options = check_options(registry, spec, config.options, f"{section}.options ({spec})",
                                                       source(origins, f"{section}.options"))


def _check_model_keys(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Refuse a ``model`` key the chosen model does not read; give the keys it reads that were left
    ``null`` its own defaults (:meth:`~graphformers.models.base.GraphModel.resolved`)."""
    model_type = MODELS.get(recipe.model.name)
    try:
        model_type.check_reads(recipe.model)
    except PartOptionError as error:
        key = model_type.unread_keys(recipe.model)[0]
        raise RecipeError(f"{source(origins, f'model.{key}')}: {error}") from None
    recipe.model = model_type.resolved(recipe.model)


def _lookup(registry: Registry, name: str, dotted: str, origins: Mapping[str, str]) -> None:
    """Raise unless ``name`` is in ``registry``; a name of another kind says which key takes it."""
    if name not in registry:
        other = next((kind for kind in REGISTRIES if kind is not registry and name in kind), None)
        if other is not None:
            raise RecipeError(
                f"{source(origins, dotted)}: {dotted}: {name!r} is a {other.kind}, not a {registry.kind}. "
                f"{registry.kind.capitalize()}s: {', '.join(registry.names())}. "
                f"{other.kind.capitalize()}s ({' / '.join(other.recipe_keys)}): {', '.join(other.names())}.")
    try:
        registry.get(name)
    except RegistryError as error:
        raise RecipeError(f"{source(origins, dotted)}: {dotted}: {error}") from None


def check_options(registry: Registry, name: str, options: Mapping[str, Any], where: str, origin: str) -> dict[str, Any]:
    """``options`` converted to the types of part ``name``'s signature (the same source ``graphformers
    list`` prints): the values parts are built from (YAML reads ``5e-1`` as a string; the part gets 0.5).
    Raise :class:`RecipeError` if ``options`` names an option the part does not take, misses one it
    needs, or gives one a value that does not convert.

    Args:
        registry (Registry): the part's registry.
        name (str): the registered part.
        options (mapping): the recipe's options for it.
        where (str): the recipe key, for messages.
        origin (str): the file or override that set them.
    """
    known = {option.name: option for option in registry.options(name)}
    if not accepts_any_option(registry.constructor(name)):
        for option in options:
            if option not in known:
                close = difflib.get_close_matches(option, list(known), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise RecipeError(f"{origin}: {where} has no option {option!r}.{hint} "
                                  f"Options: {', '.join(known) or 'none'}.")
    missing = [option for option in known.values() if option.required and option.name not in options]
    if missing:
        raise RecipeError(f"{origin}: {where} needs option {missing[0].name!r} (it has no default).")
    converted = dict(options)
    for option, value in options.items():
        annotation = known[option].annotation if option in known else None
        if annotation is None:
            continue
        try:
            converted[option] = convert(annotation, value, f"{where}.{option}", {})
        except RecipeError as error:
            raise RecipeError(f"{origin}: {str(error).split(': ', 1)[1]}") from None
        except TypeError:  # an annotation the recipe types do not cover: the constructor checks it
            continue
    return converted


def _get_dotted(recipe: Recipe, dotted: str) -> Any:
    node: Any = recipe
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _check_ranges(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Values of the right type but outside their sensible range."""
    for dotted, (accepts, wanted) in _RANGES.items():
        value = _get_dotted(recipe, dotted)
        if not accepts(value):
            raise RecipeError(f"{source(origins, dotted)}: {dotted!r} must be {wanted}, got {value!r}.")


def _check_combinations(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Data and model settings that cannot work together."""
    data = recipe.data
    if data.neighbors is not None and data.node_parts is not None:
        raise RecipeError(f"{source(origins, 'data.neighbors')}: data.neighbors and data.node_parts are two ways to "
                          f"batch one large graph; keep one of them.")
    if data.evaluate == "full_graph":
        if data.neighbors is None and data.node_parts is None:
            raise RecipeError(f"{source(origins, 'data.evaluate')}: data.evaluate: full_graph is for one large graph "
                              f"trained on data.neighbors or data.node_parts batches; without them whole graphs are "
                              f"already evaluated (remove data.evaluate).")
        if not MODELS.get(recipe.model.name).chunked_inference:
            raise RecipeError(f"{source(origins, 'data.evaluate')}: data.evaluate: full_graph needs a model with "
                              f"chunked (layer-by-layer) inference, as the built-in gps; {recipe.model.name!r} does "
                              f"not declare chunked_inference. Remove data.evaluate to evaluate on batches.")


def _check_data_root(recipe: Recipe, origins: Mapping[str, str]) -> None:
    try:
        data_root(recipe.data.root)
    except DataRootError as error:
        raise RecipeError(f"{source(origins, 'data.root')}: {error}") from None


def _check_published(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """A ``published:`` block names the metric the dataset reports, in the units it is reported in."""
    published = recipe.published
    if published is None:
        return
    where = source(origins, "published")
    info = DATASETS.get(recipe.data.name).task_info(recipe.data.options)
    if info is not None and published.metric != info.metric:
        raise RecipeError(f"{where}: published.metric is {published.metric!r}, but {recipe.data.name!r} reports "
                          f"{info.metric!r}; set published.metric: {info.metric} (and its value in those units).")
    if published.metric in METRICS and METRICS[published.metric].fraction and not 0 <= published.value <= 1:
        raise RecipeError(f"{where}: published.value {published.value} is not a fraction, but {published.metric} is "
                          f"reported as one (0.8975, not 89.75); divide the published mean and std by 100.")
    if published.std is not None and not published.std >= 0:
        raise RecipeError(f"{where}: published.std must be >= 0 or null, got {published.std}.")


TRAINING_BYTES_PER_WEIGHT = 16
"""float32 weight, its gradient and AdamW's two moments."""


def _check_model_size(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Refuse, before building it, a model whose weights alone could not be trained in the share of this
    machine's memory a model may take (:data:`graphformers.resources.MEMORY_SHARE`): a generous bound of ``(8 + 2
    ffn_ratio) hidden^2`` weights per layer (local block,
    mixer and FFN), over ``model.layers`` and any ``*layers`` count in ``model.options``."""

    model = recipe.model
    extra = [value for key, value in model.options.items()
             if key.endswith("layers") and isinstance(value, int) and not isinstance(value, bool) and value > 0]
    layers = model.layers + sum(extra)
    needed = layers * (8 + 2 * model.ffn_ratio) * model.hidden ** 2 * TRAINING_BYTES_PER_WEIGHT
    budget = int(machine_memory_bytes() * MEMORY_SHARE)
    if needed > budget:
        raise RecipeError(f"{_section_sources(origins, 'model')}: model: {layers:,} layers of width {model.hidden:,} "
                          f"(FFN ratio {model.ffn_ratio}) could need up to {needed / 2**30:,.0f} GiB for weights, "
                          f"gradients and optimizer state, above the {budget / 2**30:,.1f} GiB ({MEMORY_SHARE:.0%} of "
                          f"this "
                          f"machine's memory) a model may take; lower model.hidden, model.layers or model.ffn_ratio.")


def _check_loggers(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Each logger in ``train.loggers`` has its package installed (the error names the extra)."""
    for name in recipe.train.loggers:
        reason = missing_logger_package(name)
        if reason:
            raise RecipeError(f"{source(origins, 'train.loggers')}: {reason}")


def _check_model_builds(recipe: Recipe, origins: Mapping[str, str]) -> None:
    """Build the model for the dataset's declared task (if it declares one), so the parts' own rules
    (heads dividing hidden, encoders leaving room for features, ...) become recipe errors. The
    global random state is left as it was."""
    info = DATASETS.get(recipe.data.name).task_info(recipe.data.options)
    if info is None:
        return
    with torch.random.fork_rng(devices=[]):
        try:
            MODELS.get(recipe.model.name)(recipe.model, info).precompute_transforms()
        except PartOptionError as error:
            raise RecipeError(f"{_section_sources(origins, 'model')}: model: {error}") from None


def _section_sources(origins: Mapping[str, str], section: str) -> str:
    """Every file or override that set a key of ``section`` (a rule about the section may involve any)."""
    sources = dict.fromkeys(origin for key, origin in origins.items()
                            if key == section or key.startswith(f"{section}."))
    return ", ".join(sources) or "recipe defaults"
