"""GAT as Velickovic et al. 2018 built it for node classification (``model.name: gat``).

The generic stack (``model.name: mpnn`` with ``local: gat``) keeps every layer ``hidden`` wide, so
its features pass a linear encoder first and its classes come from an MLP head. On the Planetoid
public split that stack stays several points of test accuracy below the paper (``recipes/README.md``
has both, on the same data and schedule): the paper's first layer reads the raw bag-of-words
features and its last layer is an attention layer straight onto the classes. This model has
exactly those shapes, from PyG's ``GATConv``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn import GATConv

from graphformers.errors import PartOptionError, check_heads_divide
from graphformers.models.base import GraphModel
from graphformers.models.parts import model_options, require_node_level
from graphformers.nn.dropout import dropout
from graphformers.recipe import ModelConfig
from graphformers.registry import register_model
from graphformers.task import TaskInfo


@dataclass(frozen=True)
class GATOptions:
    """Options of ``model.name: gat`` (``model.options``).

    Args:
        output_heads (int, optional): attention heads of the last layer, whose outputs are averaged
            (the paper: 1 on Cora and CiteSeer, 8 on PubMed) (default: :obj:`1`)
    """

    output_heads: int = 1


@register_model("gat")
class GATModel(GraphModel):
    """``layers - 1`` hidden GAT layers, then one GAT layer onto the outputs (Velickovic et al. 2018, Sec. 3.3).

    Hidden layer ``l`` (``heads`` heads of ``hidden / heads`` channels, concatenated; the first reads
    the raw node features)::

        x = ELU(concat_k sum_{j in N(i) + i} alpha^k_ij W^k dropout(x_j))
        alpha^k_ij = softmax_j(LeakyReLU_0.2(a^k . [W^k x_i || W^k x_j]))

    Output layer: the same with ``output_heads`` heads of ``num_outputs`` channels, averaged. Dropout
    ``model.dropout`` on every layer's input and ``model.attn_dropout`` on the attention
    coefficients (both 0.6 in the paper). Self loops are added; there are no edge features,
    residuals or norms. Node-level tasks on float node features only.

    Args:
        config (ModelConfig): ``hidden``, ``layers`` (at least 1), ``heads``, ``dropout``,
            ``attn_dropout``, ``node_encoder`` (linear) and ``options`` (:class:`GATOptions`).
        info (TaskInfo): the dataset's task (node level, ``node_in`` float features).
    """

    options_type = GATOptions
    reads = ("hidden", "layers", "heads", "node_encoder", "dropout", "attn_dropout")

    def __init__(self, config: ModelConfig, info: TaskInfo) -> None:
        super().__init__(config, info)
        options = model_options(GATOptions, config.options, "gat")
        require_node_level(info, "gat", "model.name: mpnn with local: gat")
        if (config.node_encoder or info.node_encoder) != "linear":
            raise PartOptionError("gat's first layer reads float node features, but this dataset's are categorical "
                                  f"(node encoder {config.node_encoder or info.node_encoder!r}); use model.name: mpnn "
                                  "with local: gat, which embeds them first.")
        if config.layers < 1 or options.output_heads < 1:
            raise PartOptionError(f"gat needs model.layers >= 1 and model.options.output_heads >= 1 (got "
                                  f"{config.layers} and {options.output_heads}).")
        check_heads_divide(config.hidden, config.heads, "gat")
        widths = [info.node_in] + [config.hidden] * (config.layers - 1)
        self.hidden_layers = nn.ModuleList(
            GATConv(width, config.hidden // config.heads, heads=config.heads, dropout=config.attn_dropout)
            for width in widths[:-1])
        self.output_layer = GATConv(widths[-1], info.num_outputs, heads=options.output_heads, concat=False,
                                    dropout=config.attn_dropout)
        self.dropout = config.dropout

    def forward(self, data: Batch, chunk: int | None = None) -> Tensor:
        """``data`` (``x [N, node_in]``, ``edge_index [2, E]``) -> ``[N, num_outputs]``."""
        x = data.x
        for layer in self.hidden_layers:
            x = F.elu(layer(dropout(x, self.dropout, self.training), data.edge_index))
        return self.output_layer(dropout(x, self.dropout, self.training), data.edge_index)
