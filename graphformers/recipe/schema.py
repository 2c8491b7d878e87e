"""The recipe schema: typed ``model`` / ``data`` / ``train`` sections, each key with its default
and its documentation (the string under it, which the recipe reference prints)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from graphformers.errors import GraphformersError


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
    local: PartSpec | None = None
    """local message-passing block, a name or {name: ..., option: ...}; none for a pure transformer; null: the model's
    (gps: gine)"""
    mixer: PartSpec | None = None
    """global mixer, a name or {name: ..., option: ...}; none for a pure MPNN; null: the model's (gps: full)"""
    ordering: PartSpec | None = None
    """node ordering read by sequence mixers (mamba, cat), a name or {name: ..., option: ...}: the order they scan each
    graph's nodes in"""
    encoders: list[PartSpec] = field(default_factory=list)
    """positional/structural encodings, e.g. [{name: lap, k: 8, dim: 16}]; concatenated to the node features"""
    pair_encodings: list[PartSpec] = field(default_factory=list)
    """encodings of node pairs, e.g. [{name: rrwp, steps: 17}]; read by the parts that name them (model grit, mixer
    full's bias)"""
    node_encoder: str | None = None
    """feature encoder for raw node features; null: the dataset's choice"""
    edge_encoder: str | None = None
    """feature encoder for raw edge features; null: the dataset's choice, a learned constant when it has none"""
    dropout: float = 0.0
    """dropout on every branch of a layer"""
    input_dropout: float = 0.0
    """dropout on the encoded node features before the first layer (GAT's 0.6 on Cora's bag of words)"""
    attn_dropout: float = 0.0
    """the mixer's dropout: attention probabilities (full, exphormer), attended values (performer), output
    (polynormer)"""
    norm: Literal["batch", "layer", "none"] = "batch"
    """normalisation after each residual"""
    ffn_ratio: int = 2
    """FFN width as a multiple of hidden"""
    pool: Literal["mean", "sum", "max"] = "mean"
    """graph-level tasks: how node states are pooled"""
    virtual_node: bool = False
    """one learned node per graph joined to all its nodes, updated by an MLP after each layer (OGB's GIN-VN;
    gps, mpnn)"""
    options: dict[str, Any] = field(default_factory=dict)
    """the model's own options, for models that take any (polynormer: {local_layers: 10, global_layers: 3, ...})"""


@dataclass
class DataConfig:
    """Which registered dataset, where it lives and how it is batched."""

    name: str = "relay"
    """registered dataset"""
    root: str | None = None
    """data root; null: $GRAPHFORMERS_DATA, else ./datasets"""
    batch_size: int = 64
    """graphs (data.neighbors: target nodes) per mini-batch and process; the global batch is batch_size x processes"""
    num_workers: int = 0
    """DataLoader worker processes"""
    precompute_workers: int = 0
    """workers computing positional encodings (0: in this process)"""
    cache: bool = True
    """keep positional encodings under <dataset folder>/encodings/"""
    pair_storage: Literal["precompute", "per_batch"] = "precompute"
    """pair encodings: computed once and kept (in memory and the cache), or computed for each mini-batch where it is
    collated (no memory held; data.num_workers share the work)"""
    node_parts: int | None = None
    """one large graph: train and evaluate on this many random node partitions (induced subgraphs)"""
    neighbors: list[int] | None = None
    """one large graph: batches of data.batch_size target nodes with sampled neighbours, fan-out per hop (e.g. [15,
    10]; -1: all)"""
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
    """learning rate"""
    optimizer: Literal["adamw", "adam"] = "adamw"
    """adamw: decoupled weight decay; adam: weight decay as an L2 term of the gradient (as in the GCN and GAT papers)"""
    weight_decay: float = 0.0
    """weight decay (decoupled or L2, see optimizer)"""
    scheduler: Literal["cosine", "none"] = "cosine"
    """learning-rate schedule per epoch, after the warm-up"""
    warmup_epochs: int = 0
    """epochs of linear warm-up from lr/10"""
    gradient_clip: float | None = 1.0
    """gradient-norm clipping; null: none"""
    seed: int = 0
    """seeds weights, shuffling, dropout and sign flips (runs and resumes are reproducible)"""
    accelerator: str = "auto"
    """Lightning accelerator: auto, cpu, gpu"""
    devices: int | Literal["auto"] = 1
    """devices (one process each) per machine; auto: every GPU, else 1"""
    num_nodes: int = 1
    """machines; processes in all = devices x num_nodes"""
    strategy: Literal["auto", "ddp", "ddp_spawn", "fsdp"] = "auto"
    """Lightning strategy for more than one process (ddp runs with a static graph; auto: ddp when devices x num_nodes >
    1 or devices is auto)"""
    sync_batchnorm: bool = False
    """batch-norm statistics over the global batch, not each process's share (GPU)"""
    precision: Literal["32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true"] = "32-true"
    """Lightning precision: 32-true, 64-true; bf16-mixed / 16-mixed (GPUs only) compute in bfloat16 / float16 where
    safe (weights, loss, metrics and encodings stay float32); bf16-true keeps bfloat16 weights; 16-true is refused
    (float16 weights underflow)"""
    compile: bool = False
    """torch.compile (dynamic shapes) the model's parts where it pays: grit's layers (1.8x a CPU training step on
    Peptides-func); models measured not to gain (gps: 0.5x) refuse"""
    deterministic: bool | Literal["warn"] | None = None
    """true: deterministic kernels only (same seed, same run; exact --resume; an op without one stops the run); warn:
    warn and run such ops; false: fastest kernels; null: true on CPU, warn on GPUs"""
    out_dir: str | None = None
    """where runs are written; null: runs/<recipe name>"""
    progress_bar: bool = True
    """show Lightning's progress bar and model summary"""
    loggers: list[Literal["csv", "tensorboard", "wandb", "mlflow"]] = field(default_factory=lambda: ["csv"])
    """experiment loggers; the run's metrics.csv is always written; tensorboard, wandb, mlflow: pip install
    'graphformers[<name>]'"""
    limit_batches: int | None = None
    """smoke runs: at most this many batches per epoch and split"""
    on_nonfinite_loss: Literal["stop", "skip"] = "stop"
    """a NaN/inf training loss stops the run (the last checkpoint stays intact) or skips that step"""


@dataclass
class PublishedResult:
    """A published number this recipe reproduces; the multi-run summary prints it beside the measured mean."""

    metric: str
    """the dataset's metric (as graphformers reports it, e.g. auroc, accuracy, ap, mae)"""
    value: float
    """published mean, in the units graphformers reports (a fraction for auroc / accuracy / ap: 0.8975, not 89.75)"""
    source: str
    """paper (and table) or repository the number comes from"""
    protocol: str
    """how it was obtained: epochs or steps, seeds or splits, model size"""
    std: float | None = None
    """published standard deviation over those seeds or splits; null if none was published"""


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
    published: PublishedResult | None = None
    """the published result this recipe reproduces: {metric, value, std, source, protocol}"""

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


NO_PART = "none"


def is_absent(spec: PartSpec | None) -> bool:
    """Whether a local/mixer slot is empty (``null`` or ``none``)."""
    return spec is None or spec.name == NO_PART
