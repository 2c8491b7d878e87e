"""Recipe part names -> built modules: where ``model.local``, ``model.mixer`` and the encoders'
names meet their registries. Layers and parts take built modules; only models read names."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from graphformers.encoders.base import FeatureEncoder, PositionalEncoder
from graphformers.errors import PartOptionError
from graphformers.local.base import LocalBlock
from graphformers.mixers.base import GlobalMixer
from graphformers.orderings.base import NodeOrdering
from graphformers.pair_encodings.base import PairEncoding
from graphformers.recipe import ModelConfig, PartSpec, is_absent
from graphformers.registry import (
    FEATURE_ENCODERS,
    LOCAL_BLOCKS,
    MIXERS,
    ORDERINGS,
    PAIR_ENCODINGS,
    POSITIONAL_ENCODERS,
)
from graphformers.task import TaskInfo


def build_local(spec: PartSpec | None, hidden: int) -> LocalBlock | None:
    """The local block ``spec`` names, ``hidden`` wide (None for ``none``).

    Args:
        spec (PartSpec, optional): name and options (``model.local``).
        hidden (int): feature width.
    """
    return None if is_absent(spec) else LOCAL_BLOCKS.get(spec.name)(hidden, **spec.options)


def build_mixer(spec: PartSpec | None, hidden: int, heads: int, dropout: float) -> GlobalMixer | None:
    """The global mixer ``spec`` names (None for ``none``).

    Args:
        spec (PartSpec, optional): name and options (``model.mixer``).
        hidden (int): feature width.
        heads (int): attention heads (``model.heads``).
        dropout (float): the mixer's dropout (``model.attn_dropout``).
    """
    return None if is_absent(spec) else MIXERS.get(spec.name)(hidden, heads, dropout, **spec.options)


def build_ordering(spec: PartSpec | None) -> NodeOrdering | None:
    """The node ordering ``spec`` names (``model.ordering``; None when it is not set).

    Args:
        spec (PartSpec, optional): name and options.
    """
    return None if is_absent(spec) else ORDERINGS.get(spec.name)(**spec.options)


def mixer_companions(name: str) -> dict[str, Any]:
    """The ``model`` keys a mixer cannot run without, set to a default (for tests and benchmarks that
    build every mixer): ``{"ordering": degree}`` for mixers that scan nodes in order, else nothing.

    Args:
        name (str): the registered mixer.
    """
    return {"ordering": PartSpec("degree")} if MIXERS.get(name).reads_ordering else {}


def build_positional(spec: PartSpec) -> PositionalEncoder:
    """The positional encoder ``spec`` names (an entry of ``model.encoders``).

    Args:
        spec (PartSpec): name and options.
    """
    return POSITIONAL_ENCODERS.get(spec.name)(**spec.options)


def build_pair_encodings(specs: list[PartSpec]) -> dict[str, PairEncoding]:
    """The pair encodings ``model.pair_encodings`` names, by name; a name listed twice raises
    :class:`~graphformers.errors.PartOptionError` (both would store the same attributes).

    Args:
        specs (list of PartSpec): names and options.
    """
    encodings: dict[str, PairEncoding] = {}
    for spec in specs:
        if spec.name in encodings:
            raise PartOptionError(f"model.pair_encodings lists {spec.name!r} twice; keep one (each is stored under "
                                  f"its name).")
        encodings[spec.name] = PAIR_ENCODINGS.get(spec.name)(**spec.options)
    return encodings


def build_feature(name: str, in_dim: int, out_dim: int) -> FeatureEncoder:
    """The feature encoder ``name`` from ``in_dim`` raw features (or categories) to ``out_dim`` channels.

    Args:
        name (str): a registered feature encoder (``model.node_encoder`` / ``edge_encoder``).
        in_dim (int): raw feature width, or number of categories.
        out_dim (int): output channels.
    """
    return FEATURE_ENCODERS.get(name)(in_dim, out_dim)


def model_options(options_type: type, options: dict[str, Any], model: str) -> Any:
    """``options`` (``model.options``) as the model's dataclass ``options_type``; an unknown key raises
    :class:`~graphformers.errors.PartOptionError` (a recipe's are checked before, with a did-you-mean).

    Args:
        options_type (type): the model's :attr:`~graphformers.models.base.GraphModel.options_type`.
        options (dict): the recipe's ``model.options``.
        model (str): the model's registered name, for messages.
    """
    known = [field.name for field in fields(options_type)]
    unknown = [key for key in options if key not in known]
    if unknown:
        raise PartOptionError(f"model.options has no option {unknown[0]!r} for {model}; its options: "
                              f"{', '.join(known)}.")
    return options_type(**options)


def require_node_level(info: TaskInfo, model: str, instead: str) -> None:
    """Raise :class:`~graphformers.errors.PartOptionError` unless ``info`` is a node-level task.

    Args:
        info (TaskInfo): the dataset's task.
        model (str): the model's registered name, for the message.
        instead (str): what to use for other tasks, for the message.
    """
    if info.level != "node":
        raise PartOptionError(f"{model} predicts nodes, but the dataset's task is {info.level}-level; use {instead}.")


def build_head(info: TaskInfo, hidden: int, layers: int = 2) -> nn.Module:
    """The prediction head on ``hidden``-wide states: an MLP to ``info``'s outputs (2 layers, or
    1: a linear map, OGB's readout), or for link-level tasks a linear map to node embeddings whose
    dot products score pairs (GraphGPS's ``inductive_edge`` head).

    Args:
        info (TaskInfo): the dataset's task (level, outputs, sequence length).
        hidden (int): width of the states the head reads.
        layers (int, optional): the MLP's layers, 1 or 2. (default: :obj:`2`)
    """
    if info.level == "link":
        return nn.Linear(hidden, hidden)
    outputs = info.num_outputs * info.sequence_length
    if layers == 1:
        return nn.Linear(hidden, outputs)
    return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def build_edge_features(config: ModelConfig, info: TaskInfo,
                        hidden: int) -> tuple[FeatureEncoder | None, nn.Parameter | None]:
    """``(edge_encoder, edge_vector)``: the encoder of the recipe's (or the dataset's) edge features,
    and ``None``; or, for a dataset without edge features, ``None`` and one learned ``[hidden]`` vector
    every edge carries (so blocks that read edge features still run). A model keeps the pair as
    its ``edge_encoder`` / ``edge_vector`` attributes and reads them with :func:`edge_features`.

    Args:
        config (ModelConfig): the recipe's ``model`` section (``edge_encoder``).
        info (TaskInfo): the dataset's task (``edge_encoder``, ``edge_in``).
        hidden (int): width of the edge features.
    """
    name = config.edge_encoder or info.edge_encoder
    if name is None:
        return None, nn.Parameter(torch.zeros(hidden))
    return build_feature(name, info.edge_in, hidden), None


def edge_features(data: Batch, encoder: FeatureEncoder | None, vector: nn.Parameter | None) -> Tensor:
    """``[E, hidden]`` edge features of ``data``: ``encoder(data.edge_attr)``, or ``vector`` on every edge
    (an expanded view, no copy).

    Args:
        data (Batch): the batch (``edge_index [2, E]``, ``edge_attr``).
        encoder (FeatureEncoder, optional): from :func:`build_edge_features`.
        vector (Parameter, optional): from :func:`build_edge_features`.
    """
    if encoder is None:
        return vector.expand(data.edge_index.size(1), -1)
    return encoder(data.edge_attr)
