"""Dropout from random bits: the drop rate, independence, seeding, gradients, and attention with it
equal to the written-out softmax attention with the same mask."""
from __future__ import annotations

import math

import pytest
import torch

from graphformers.mixers.softmax_attention import block_attention
from graphformers.nn.dropout import Dropout, dropout, dropout_keep_mask, keep_thresholds

PROBABILITIES = (0.1, 1 / 3, 0.5, 0.9)


@pytest.mark.parametrize("p", PROBABILITIES + (0.0, 0.123456789, 0.25, 3 / 128, 3 / 256))
def test_each_lanes_keep_probability_is_exact_for_multiples_of_1_128_and_within_2_to_the_minus_16_otherwise(p):
    lanes, (full, *_, last) = keep_thresholds(p)
    info = torch.iinfo(lanes)
    signed = torch.arange(info.min, info.max + 1)  # every value of a full lane
    non_negative = torch.arange(0, info.max + 1)  # every value of the last lane (sign bit clear)
    errors = [abs(float((signed >= full).double().mean()) - (1 - p)),
              abs(float((non_negative >= last).double().mean()) - (1 - p))]
    exact = (p * 128).is_integer()
    assert lanes == (torch.int8 if exact else torch.int16)
    assert errors == [0.0, 0.0] if exact else errors[0] <= 2**-17 and errors[1] <= 2**-16


@pytest.mark.parametrize("p", PROBABILITIES)
def test_the_mask_drops_at_rate_p_in_every_lane_and_its_elements_are_independent(p):
    torch.manual_seed(0)
    n = 1 << 22
    keep = dropout_keep_mask((n,), p).double()
    lanes = len(keep_thresholds(p)[1])
    sigma = math.sqrt(p * (1 - p) / (n // lanes))
    for lane in range(lanes):  # the bits of one int64 draw feed several elements
        assert abs(float(keep[lane::lanes].mean()) - (1 - p)) < 5 * sigma, lane
    for offset in (1, 2, 3, 4, 5, 7, 8, 9, 16):  # within one draw, and across draws
        both = float((keep[:-offset] * keep[offset:]).mean())
        assert abs(both - (1 - p) ** 2) < 5 * math.sqrt((1 - p) ** 2 * (1 - (1 - p) ** 2) / n), offset


def test_the_mask_follows_torchs_seed_and_takes_any_shape():
    torch.manual_seed(3)
    first = dropout_keep_mask((5, 7, 3), 0.5)
    torch.manual_seed(3)
    assert torch.equal(first, dropout_keep_mask((5, 7, 3), 0.5))
    assert first.shape == (5, 7, 3) and first.dtype == torch.bool
    assert not torch.equal(first, dropout_keep_mask((5, 7, 3), 0.5))
    assert bool(dropout_keep_mask((11,), 0.0).all())


@pytest.mark.parametrize("masking", ["padded keys", "bias", "none"])
def test_attention_with_dropout_equals_softmax_attention_with_the_same_mask(masking):
    generator = torch.Generator().manual_seed(1)
    graphs, heads, length, width, p = 3, 2, 6, 4, 0.4
    q, k, v = (torch.randn(graphs, heads, length, width, generator=generator, dtype=torch.float64, requires_grad=True)
               for _ in range(3))
    valid = torch.ones(graphs, length, dtype=torch.bool)
    valid[1, 4:], valid[2, 2:] = False, False
    bias = torch.randn(graphs, heads, length, length, generator=generator, dtype=torch.float64)
    mask = {"padded keys": valid[:, None, None, :], "bias": bias, "none": None}[masking]
    torch.manual_seed(7)
    attended = block_attention(q, k, v, mask, p)
    torch.manual_seed(7)
    keep = dropout_keep_mask((heads, graphs, length, length), p).transpose(0, 1)  # drawn heads first
    scores = q @ k.transpose(-1, -2) / math.sqrt(width)
    if masking == "padded keys":
        scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
    elif masking == "bias":
        scores = scores + bias
    expected = (torch.softmax(scores, dim=-1) * keep / (1 - p)) @ v
    torch.testing.assert_close(attended, expected)
    assert 0 < int(keep.sum()) < keep.numel()
    rows = valid[:, None, :, None].expand_as(expected)  # padded queries are never read back
    gradients = torch.autograd.grad(attended[rows].sum(), (q, k, v))
    for gradient, reference in zip(gradients, torch.autograd.grad(expected[rows].sum(), (q, k, v)), strict=True):
        torch.testing.assert_close(gradient, reference)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_dropout_scales_what_it_keeps_and_its_gradient_is_the_mask(dtype):
    x = torch.randn(64, 33, dtype=dtype, requires_grad=True)
    torch.manual_seed(5)
    out = dropout(x, 0.25)
    torch.manual_seed(5)
    keep = dropout_keep_mask(x.shape, 0.25)
    torch.testing.assert_close(out, torch.where(keep, x / 0.75, 0.0).to(dtype))
    (gradient,) = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(gradient, (keep / 0.75).to(dtype))
    assert dropout(x, 0.25, training=False) is x and dropout(x, 0.0) is x
    module = Dropout(0.25)
    assert module.eval()(x) is x and not torch.equal(module.train()(x), x)
