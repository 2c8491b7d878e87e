"""The ``full`` mixer is exact softmax attention inside each graph of a batch."""
from __future__ import annotations

import itertools

import pytest
import torch
from conftest import naive_attention, random_batch

from graphformers.mixers import FullAttention
from graphformers.mixers.packed_attention import packed_attention
from graphformers.mixers.size_groups import from_channel_blocks, padded_blocks, size_groups, to_channel_blocks
from graphformers.mixers.softmax_attention import block_attention


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
    groups = size_groups(sizes, block_cost=5000, max_ratio=2.0)
    ids = torch.cat(groups)
    assert sorted(ids.tolist()) == [i for i in range(len(sizes)) if sizes[i] > 0]
    for group in groups:
        assert sizes[group].max() <= 2.0 * sizes[group].min()
    assert [int(sizes[group].max()) for group in groups] == sorted((int(sizes[g].max()) for g in groups), reverse=True)
    assert len(groups) < len(ids)  # similar sizes do share a block
    assert len(size_groups(sizes, block_cost=0)) == len(set(sizes[sizes > 0].tolist()))  # no padding at all


def _partition_cost(sizes: list[int], cuts: tuple[int, ...], block_cost: float) -> float:
    bounds = (0, *cuts, len(sizes))
    return sum((end - start) * sizes[start] ** 2 + block_cost for start, end in itertools.pairwise(bounds))


@pytest.mark.parametrize("seed", range(5))
def test_size_groups_find_the_cheapest_partition(seed):
    """Against every partition of the sorted sizes into consecutive blocks (2^(n-1) of them)."""
    generator = torch.Generator().manual_seed(seed)
    sizes = torch.randint(1, 60, (9,), generator=generator)
    ordered = sorted(sizes.tolist(), reverse=True)
    block_cost = 800.0
    cheapest = min(
        _partition_cost(ordered, cuts, block_cost)
        for count in range(len(ordered))
        for cuts in itertools.combinations(range(1, len(ordered)), count)
        if all(ordered[a] <= 2.0 * ordered[b - 1] for a, b in zip((0, *cuts), (*cuts, len(ordered)), strict=True))
    )
    groups = size_groups(sizes, block_cost=block_cost, max_ratio=2.0)
    found = sum(len(group) * int(sizes[group].max()) ** 2 + block_cost for group in groups)
    assert found == pytest.approx(cheapest)


def test_attention_weights_reproduce_the_mixer_output():
    torch.manual_seed(0)
    batch = random_batch((5, 9, 3))
    mixer = FullAttention(hidden=5 * 4, heads=4, dropout=0.0).eval()
    x = torch.randn(batch.num_nodes, 20)
    weights = mixer.attention_weights(x, batch.batch)
    assert [w.shape for w in weights] == [(4, 5, 5), (4, 9, 9), (4, 3, 3)]
    _, _, v = mixer.qkv(x).view(x.size(0), 3, 4, -1).unbind(1)
    attended = torch.cat([torch.einsum("hnm,mhd->nhd", w, v_i)
                          for w, v_i in zip(weights, v.split([5, 9, 3]), strict=True)])
    torch.testing.assert_close(mixer.out(attended.reshape(-1, 20)), mixer(x, batch.batch, batch), atol=1e-5, rtol=0)


def test_channel_blocks_hold_each_nodes_channels_heads_first_and_read_back_exactly():
    batch = random_batch((7, 3, 8, 7, 2))
    plan = padded_blocks(batch.batch, batch.num_graphs, block_cost=30.0)
    values = torch.randn(batch.num_nodes, 6, 4)
    blocks = to_channel_blocks(values, plan)
    for block, packed in zip(plan.blocks, blocks, strict=True):
        assert packed.shape == (6, *block.index.shape, 4)
        expected = values[block.index].permute(2, 0, 1, 3)  # [C, G, L, d]
        assert torch.equal(packed[:, block.valid], expected[:, block.valid])
        assert packed[:3].reshape(3 * block.index.size(0), block.index.size(1), 4).data_ptr() == packed.data_ptr()
    assert len(blocks) < batch.num_graphs  # some graphs share a block, with padding
    torch.testing.assert_close(from_channel_blocks(blocks, plan), values, rtol=0, atol=0)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.3])
def test_packed_attention_equals_blockwise_attention_with_the_same_masks_gradients_included(p):
    torch.manual_seed(0)
    batch = random_batch((7, 12, 1, 4, 9, 9, 11, 30, 3, 5))
    plan = padded_blocks(batch.batch, batch.num_graphs, block_cost=30.0)
    assert {block.complete for block in plan.blocks} == {True, False}  # padded blocks and exact ones
    heads, width = 4, 3
    qkv = torch.randn(batch.num_nodes, 3 * heads * width, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(batch.num_nodes, heads * width, dtype=torch.float64)
    torch.manual_seed(7)
    packed = packed_attention(qkv, plan, heads, p)
    torch.manual_seed(7)
    attended = []
    for block, values in zip(plan.blocks, to_channel_blocks(qkv.view(-1, 3 * heads, width), plan), strict=True):
        q, k, v = values.view(3, heads, *values.shape[1:]).transpose(1, 2)
        mask = None if block.complete else block.valid[:, None, None, :]
        attended.append(block_attention(q, k, v, mask, p).transpose(0, 1))
    expected = from_channel_blocks(attended, plan).flatten(1)
    torch.testing.assert_close(packed, expected)
    gradient, = torch.autograd.grad((packed * weights).sum(), qkv)
    reference, = torch.autograd.grad((expected * weights).sum(), qkv)
    torch.testing.assert_close(gradient, reference)


def test_full_attention_trains_through_the_packed_path_on_the_cpu_with_dropout():
    torch.manual_seed(0)
    batch = random_batch((5, 9, 3, 9))
    mixer = FullAttention(hidden=8, heads=2, dropout=0.5).train()
    x = torch.randn(batch.num_nodes, 8, requires_grad=True)
    torch.manual_seed(1)
    out = mixer(x, batch.batch, batch)
    torch.manual_seed(1)
    expected = mixer.out(packed_attention(mixer.qkv(x), padded_blocks(batch.batch, batch.num_graphs), 2, 0.5))
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    out.square().sum().backward()
    assert x.grad is not None and bool(x.grad.isfinite().all()) and x.grad.abs().sum() > 0
