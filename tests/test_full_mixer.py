"""The ``full`` mixer is exact softmax attention inside each graph of a batch."""
from __future__ import annotations

import math

import torch

from conftest import random_batch
from graphformers.mixers import FullAttention


def naive_attention(mixer: FullAttention, x: torch.Tensor) -> torch.Tensor:
    """Multi-head softmax attention over one graph's nodes ``x [n, hidden]``, written out."""
    heads, head_dim = mixer.heads, mixer.hidden // mixer.heads
    q, k, v = mixer.qkv(x).view(x.size(0), 3, heads, head_dim).unbind(1)
    outputs = []
    for h in range(heads):
        scores = q[:, h] @ k[:, h].T / math.sqrt(head_dim)
        outputs.append(torch.softmax(scores, dim=-1) @ v[:, h])
    return mixer.out(torch.cat(outputs, dim=-1))


def test_full_attention_equals_naive_per_graph_attention():
    torch.manual_seed(0)
    sizes = (7, 12, 1, 4, 9)
    batch = random_batch(sizes)
    mixer = FullAttention(hidden=16, heads=4, dropout=0.0).eval()
    x = torch.randn(batch.num_nodes, 16)
    with torch.no_grad():
        out = mixer(x, batch.batch, batch)
        expected = torch.cat([naive_attention(mixer, x[batch.batch == g]) for g in range(len(sizes))])
    assert (out - expected).abs().max() < 1e-5


def test_full_attention_does_not_leak_across_graphs():
    torch.manual_seed(0)
    batch = random_batch((5, 8))
    mixer = FullAttention(hidden=16, heads=2, dropout=0.0).eval()
    x = torch.randn(batch.num_nodes, 16)
    changed = x.clone()
    changed[batch.batch == 1] = torch.randn(8, 16)
    with torch.no_grad():
        first = mixer(x, batch.batch, batch)[batch.batch == 0]
        again = mixer(changed, batch.batch, batch)[batch.batch == 0]
    torch.testing.assert_close(first, again)
