"""The ``full`` mixer is exact softmax attention inside each graph of a batch."""
from __future__ import annotations

import torch

from conftest import naive_attention, random_batch
from graphformers.mixers import FullAttention
from graphformers.mixers.size_groups import size_groups


def test_full_attention_equals_naive_per_graph_attention():
    torch.manual_seed(0)
    sizes = (7, 12, 1, 4, 9, 9, 11, 30)  # several size groups, one of two equal-size graphs (no mask)
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


def test_size_groups_cover_every_nonempty_graph_once_with_bounded_padding():
    sizes = torch.tensor([444, 8, 151, 150, 0, 120, 121, 9, 444, 37])
    groups = size_groups(sizes, ratio=1.25)
    ids = torch.cat(groups)
    assert sorted(ids.tolist()) == [i for i in range(len(sizes)) if sizes[i] > 0]
    for group in groups:
        assert sizes[group].max() <= 1.25 * sizes[group].min()
    assert len(groups) < len(ids)  # similar sizes do share a block


def test_attention_weights_reproduce_the_mixer_output():
    torch.manual_seed(0)
    batch = random_batch((5, 9, 3))
    mixer = FullAttention(hidden=5 * 4, heads=4, dropout=0.0).eval()
    x = torch.randn(batch.num_nodes, 20)
    weights = mixer.attention_weights(x, batch.batch)
    assert [w.shape for w in weights] == [(4, 5, 5), (4, 9, 9), (4, 3, 3)]
    _, _, v = mixer.qkv(x).view(x.size(0), 3, 4, -1).unbind(1)
    attended = torch.cat([torch.einsum("hnm,mhd->nhd", w, v_i) for w, v_i in zip(weights, v.split([5, 9, 3]))])
    torch.testing.assert_close(mixer.out(attended.reshape(-1, 20)), mixer(x, batch.batch, batch), atol=1e-5, rtol=0)
