"""The rules of the window kinds (kinds/window.py: torchvision's Swin attentions and patch
merging, MaxViT's partition attention, timm's Swin blocks), every figure derived by hand
from the kinds' definitions (their docstrings, docs/conventions.md). Torch-free and fast.

Written for the mutants of kinds.window that only the torch tests (tests/test_windows.py,
tests/test_timm_modules.py) killed. Sizes are chosen so that every term of a formula is
non-zero and distinct, and the map is neither square nor a multiple of the window:
C = 6 channels, h = 3 heads, window (2, 3), a 5 × 7 map (padded to Hp = 6, Wp = 9:
L = 54 padded tokens, 35 map tokens, N = 6 tokens per window, nW = 3·3 = 9 windows,
T = (2·2 − 1)(2·3 − 1) = 15 relative positions, h·L·N = 972 scores), batch 2.
"""

from __future__ import annotations

import re

import pytest
import sympy

import archcalc.kinds.window as window_module
from archcalc import ShapeError, SpecError, UnsupportedError
from archcalc.kinds import (
    Extra,
    PartitionAttention,
    PatchMerging,
    PatchMergingV2,
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
    TimmSwinBlock,
    TimmSwinV2Block,
    TimmSwinV2CrBlock,
    Windows,
)
from archcalc.kinds._base import TorchCall
from archcalc.kinds.window import _np_einsum_macs

C, H, WIN, B = 6, 3, (2, 3), 2
MAP = ((C, 5, 7),)
OUT = MAP[0]
#: the words of the window kinds' documentation (module and class docstrings)
TERMS = set(
    re.findall(
        r"\w+",
        (window_module.__doc__ or "")
        + "".join(getattr(window_module, n).__doc__ or "" for n in window_module.__all__),
    )
)


def _saved(items: tuple) -> list:
    """Saved tensors as data: (elements, itemsize, buffer) per extra tensor; each extra
    tensor says what it is (a non-empty label, distinct within the layer)."""
    labels = [x.what for x in items if isinstance(x, Extra)]
    assert all(isinstance(w, str) and w for w in labels)
    assert len(set(labels)) == len(labels)
    # a label speaks the kinds' documented terms (case as documented), and a few plain words
    for w in labels:
        assert set(re.findall(r"\w+", w)) <= TERMS | {"copy", "drop", "expanded", "fc1", "path"}, w
    return [(x.elements, x.itemsize, x.buffer) if isinstance(x, Extra) else x for x in items]


def _counts(layer, ins, out, b) -> dict:
    return {
        t: getattr(layer, f"count_{t}")(ins, out, b)
        for t in (
            "fvcore",
            "flopcounter",
            "torchvision",
            "ptflops_hook",
            "ptflops_functional",
            "thop",
            "torchinfo",
        )
    }


# ---------------------------------------------------------------- Windows


def test_windows_step() -> None:
    w = Windows(3, 1, 7)
    # base(j) = j − ((j − shift) mod size): windows start at positions ≡ 1 (mod 3)
    assert [w.base(j) for j in range(7)] == [-2, 1, 1, 1, 4, 4, 4]
    assert (w.taps, w.dilation, w.period) == (3, 1, 3)
    g = Windows(2, 0, 6, True)
    # grid of 2 blocks of q = 3: unit j reads (j mod 3) + 3t; base = j − j mod 6 + j mod 3
    assert [g.base(j) for j in range(12)] == [0, 1, 2, 0, 1, 2, 6, 7, 8, 6, 7, 8]
    assert (g.taps, g.dilation, g.period) == (2, 3, 6)


# ---------------------------------------------------------------- torchvision Swin v1


def test_swin_attention_v1() -> None:
    a = ShiftedWindowAttention(C, H, WIN, (1, 2))
    assert a.out_shape(MAP) == (6, 5, 7)
    # qkv 3C² + 3C, proj C² + C, table T·h = 15·3
    assert a.params(MAP) == 4 * 36 + 3 * 6 + 6 + 15 * 3 == 213
    assert a.buffers(MAP) == 6 * 6  # relative_position_index N²
    # 4·L·C² + 2·L·N·C = 4·54·36 + 2·54·6·6
    macs = 4 * 54 * 36 + 2 * 54 * 6 * 6
    assert a.macs(MAP, OUT) == macs == 11664
    # biases 3LC + LC, q scale LC, bias add hLN, mask hLN (shifted), softmax 5hLN
    assert a.flops(MAP, OUT) == 2 * macs + 4 * 324 + 324 + 972 + 972 + 5 * 972
    # geometry: per axis Windows(window, shift, length)
    assert a.geometry(MAP, OUT) == (Windows(2, 1, 5), Windows(3, 2, 7))
    assert _saved(a.saved(MAP, OUT, B)) == [
        (2 * 54 * 6, None, False),
        (3 * 2 * 54 * 6, None, False),
        (2 * 3 * 54 * 6, None, False),
        (2 * 54 * 6, None, False),
        (36, 8, True),
    ]
    assert _counts(a, MAP, OUT, B) == {
        "fvcore": 2 * macs,
        "flopcounter": 4 * macs,
        "torchvision": 2 * macs,
        "ptflops_hook": 0,
        "ptflops_functional": 2 * 324 * (2 * 6 + 3),  # b·L·N·(2C + h)
        "thop": 0,
        "torchinfo": 0,
    }


def test_swin_attention_v1_unshifted_and_no_bias() -> None:
    a = ShiftedWindowAttention(C, H, WIN, 0, qkv_bias=False, proj_bias=False)
    assert a.params(MAP) == 4 * 36 + 45
    # no biases, no mask: 2·MACs + q scale + bias add + softmax
    assert a.flops(MAP, OUT) == 2 * 11664 + 324 + 972 + 5 * 972
    assert a.geometry(MAP, OUT) == (Windows(2, 0, 5), Windows(3, 0, 7))
    only_q = ShiftedWindowAttention(C, H, WIN, 0, qkv_bias=True, proj_bias=False)
    assert only_q.params(MAP) == 4 * 36 + 18 + 45
    assert only_q.flops(MAP, OUT) == 2 * 11664 + 3 * 324 + 324 + 972 + 5 * 972
    only_p = ShiftedWindowAttention(C, H, WIN, 0, qkv_bias=False, proj_bias=True)
    assert only_p.params(MAP) == 4 * 36 + 6 + 45
    assert only_p.flops(MAP, OUT) == 2 * 11664 + 324 + 324 + 972 + 5 * 972


def test_swin_attention_shift_dropped_where_the_window_covers_the_axis() -> None:
    # a 2 × 3 map and a (2, 3) window: torchvision drops the shift on both axes (no mask)
    small = ((C, 2, 3),)
    a = ShiftedWindowAttention(C, H, WIN, (1, 2))
    assert a.geometry(small, small[0]) == (Windows(2, 0, 2), Windows(3, 0, 3))
    # L = 6, N = 6: MACs 4·6·36 + 2·6·6·6; scores h·L·N = 108; no mask add
    macs = 4 * 6 * 36 + 2 * 6 * 6 * 6
    assert a.flops(small, small[0]) == 2 * macs + 4 * 36 + 36 + 108 + 5 * 108
    # one axis covered (height 2 ≤ 2), the other not (width 7 > 3): shift kept on width
    part = ((C, 2, 7),)
    assert a.geometry(part, part[0]) == (Windows(2, 0, 2), Windows(3, 2, 7))
    # L = 2·9 = 18, scores 3·18·6 = 324: the mask is added
    macs = 4 * 18 * 36 + 2 * 18 * 6 * 6
    assert a.flops(part, part[0]) == 2 * macs + 4 * 108 + 108 + 324 + 324 + 5 * 324
    # window (3, 3) ≥ padded 3 on height only; shift kept on width (4 pads to 6)
    b = ShiftedWindowAttention(C, H, (3, 3), (1, 1))
    m = ((C, 3, 4),)
    assert b.geometry(m, m[0]) == (Windows(3, 0, 3), Windows(3, 1, 4))


def test_swin_attention_shape_and_spec_errors() -> None:
    a = ShiftedWindowAttention(C, H, WIN, (1, 2))
    with pytest.raises(ShapeError, match=r"ShiftedWindowAttention needs a \(C, H, W\) map"):
        a.out_shape(((6, 5),))
    with pytest.raises(ShapeError, match="ShiftedWindowAttention.dim = 6 but the map has 5"):
        a.out_shape(((5, 5, 7),))
    with pytest.raises(ShapeError, match="needs a"):
        a.macs(((6, 5, 7, 1),), OUT)
    with pytest.raises(SpecError, match=r"must be divisible by num_heads \(=4\)"):
        ShiftedWindowAttention(6, 4, WIN)
    with pytest.raises(SpecError, match="must be below window_size"):
        ShiftedWindowAttention(6, 3, (2, 3), (2, 0))
    with pytest.raises(SpecError, match="must be below window_size"):
        ShiftedWindowAttention(6, 3, (2, 3), (0, 3))
    ShiftedWindowAttention(6, 3, (2, 3), (1, 2))  # shift one below the window is valid
    with pytest.raises(SpecError, match="must be >= 0"):
        ShiftedWindowAttention(6, 3, (2, 3), (-1, 0))


# ---------------------------------------------------------------- torchvision Swin v2


def test_swin_attention_v2() -> None:
    a = ShiftedWindowAttentionV2(C, H, WIN, (1, 2))
    assert a.out_shape(MAP) == (6, 5, 7)
    # qkv and proj 4C² + 4C, logit_scale h, cpb_mlp 2·512 + 512 + 512·h
    assert a.params(MAP) == 144 + 24 + 3 + 1536 + 1536 == 3243
    assert a.buffers(MAP) == 2 * 15 + 36  # relative_coords_table 2T, index N²
    cpb = 15 * 512 * (2 + 3)  # T·512·(2 + h), once per forward
    macs = 11664 + cpb
    assert a.macs(MAP, OUT) == macs
    # biases 4LC, cpb bias + ReLU 2·512T, 16·sigmoid 5hN², normalize 6LC, logit scale,
    # bias add and mask (hLN each), softmax 5hLN
    flops = 2 * macs + 4 * 324 + 2 * 512 * 15 + 5 * 3 * 36 + 6 * 324 + 3 * 972 + 5 * 972
    assert a.flops(MAP, OUT) == flops
    assert a.geometry(MAP, OUT) == (Windows(2, 1, 5), Windows(3, 2, 7))
    assert _saved(a.saved(MAP, OUT, B)) == [
        (648, None, False),
        (3 * 648, None, False),
        (4 * 2 * 3 * 54, None, False),
        (2 * 648, None, False),
        (2 * 2 * 972, None, False),
        (648, None, False),
        (648, None, False),
        (3, None, False),
        (512 * 15 + 3 * 36, None, False),
        (30, None, True),
        (36, 8, True),
    ]
    assert _counts(a, MAP, OUT, B) == {
        "fvcore": 2 * 11664 + cpb,
        "flopcounter": 2 * (2 * 11664 + cpb),
        "torchvision": 2 * 11664 + cpb,
        "ptflops_hook": 15 * 512 * (4 + 3),
        "ptflops_functional": 2 * 324 * (6 + 3) + 512 * 15,  # b·L·N·(C + h) + 512T
        "thop": cpb,
        "torchinfo": 1536 + 512 * 3,
    }


def test_swin_attention_v2_unshifted_and_no_bias() -> None:
    a = ShiftedWindowAttentionV2(C, H, WIN, 0, qkv_bias=False, proj_bias=False)
    assert a.params(MAP) == 144 + 3 + 1536 + 1536
    macs = 11664 + 15 * 512 * 5
    assert a.flops(MAP, OUT) == 2 * macs + 15360 + 540 + 6 * 324 + 2 * 972 + 5 * 972
    q = ShiftedWindowAttentionV2(C, H, WIN, 0, qkv_bias=True, proj_bias=False)
    assert q.params(MAP) == 144 + 18 + 3 + 3072
    assert q.flops(MAP, OUT) == 2 * macs + 3 * 324 + 15360 + 540 + 6 * 324 + 2 * 972 + 5 * 972
    p = ShiftedWindowAttentionV2(C, H, WIN, 0, qkv_bias=False, proj_bias=True)
    assert p.params(MAP) == 144 + 6 + 3 + 3072
    assert p.flops(MAP, OUT) == 2 * macs + 324 + 15360 + 540 + 6 * 324 + 2 * 972 + 5 * 972


# ---------------------------------------------------------------- patch merging


def test_patch_merging() -> None:
    m = PatchMerging(C)
    # M = ⌈5/2⌉·⌈7/2⌉ = 3·4 = 12 tokens of 4C gathered, Linear(4C, 2C)
    assert m.out_shape(MAP) == (12, 3, 4)
    assert m.params(MAP) == 8 * 36 + 2 * 4 * 6 == 336  # reduction + LayerNorm(4C)
    assert m.buffers(MAP) == 0
    assert m.macs(MAP, (12, 3, 4)) == 12 * 8 * 36 == 3456
    assert m.flops(MAP, (12, 3, 4)) == 2 * 3456 + 8 * 12 * 4 * 6
    assert m.geometry(MAP, (12, 3, 4)) == ((2, 2, 0), (2, 2, 0))
    assert _saved(m.saved(MAP, (12, 3, 4), B)) == [
        (2 * 4 * 12 * 6, None, False),
        (2 * 2 * 12, "acc", False),
        (2 * 4 * 12 * 6, None, False),
    ]
    norm = 12 * 4 * 6
    assert _counts(m, MAP, (12, 3, 4), B) == {
        "fvcore": 2 * (3456 + 5 * norm),
        "flopcounter": 4 * 3456,
        "torchvision": 2 * 3456,
        "ptflops_hook": 2 * (3456 + norm),
        "ptflops_functional": 0,
        "thop": 2 * (3456 + 4 * norm),
        "torchinfo": 2 * 336,
    }
    # an even map: M = 2·3
    assert m.out_shape(((6, 4, 6),)) == (12, 2, 3)


def test_patch_merging_v2() -> None:
    m = PatchMergingV2(C)
    assert m.out_shape(MAP) == (12, 3, 4)
    assert m.params(MAP) == 8 * 36 + 2 * 2 * 6 == 312  # reduction + LayerNorm(2C)
    assert m.macs(MAP, (12, 3, 4)) == 3456
    norm = 12 * 2 * 6
    assert m.flops(MAP, (12, 3, 4)) == 2 * 3456 + 8 * norm
    assert m.geometry(MAP, (12, 3, 4)) == ((2, 2, 0), (2, 2, 0))
    assert _saved(m.saved(MAP, (12, 3, 4), B)) == [
        (2 * 4 * 12 * 6, None, False),
        (2 * 2 * 12 * 6, None, False),
        (2 * 2 * 12, "acc", False),
    ]
    assert _counts(m, MAP, (12, 3, 4), B) == {
        "fvcore": 2 * (3456 + 5 * norm),
        "flopcounter": 4 * 3456,
        "torchvision": 2 * 3456,
        "ptflops_hook": 2 * (3456 + norm),
        "ptflops_functional": 0,
        "thop": 2 * (3456 + 4 * norm),
        "torchinfo": 2 * 312,
    }


def test_patch_merging_errors() -> None:
    with pytest.raises(ShapeError, match=r"PatchMerging needs a \(C, H, W\) map"):
        PatchMerging(C).out_shape(((6, 5),))
    with pytest.raises(ShapeError, match="PatchMergingV2.dim = 6 but the map has 4"):
        PatchMergingV2(C).macs(((4, 5, 7),), OUT)
    with pytest.raises(SpecError, match="must be >= 1"):
        PatchMerging(0)


# ---------------------------------------------------------------- MaxViT partition attention

PA = ((6, 4, 6),)  # L = 24 tokens, partition 2: N = 4, heads 6/2 = 3, mlp_ratio 3


def test_partition_attention_window() -> None:
    a = PartitionAttention(6, 2, 2, "window", 3)
    assert a.heads == 3
    assert a.out_shape(PA) == (6, 4, 6)
    # linears (4 + 2r)C² + (3 + 1 + r + 1)C, norms 4C, table (2P − 1)²·h
    lin = 10 * 36 + 8 * 6 + 24
    assert a.params(PA) == lin + 9 * 3 == 459
    assert a.buffers(PA) == 2**4  # N² = P⁴
    einsum = 24 * 4 * 6  # L·N·C
    macs = 10 * 24 * 36 + 2 * einsum
    assert a.macs(PA, PA[0]) == macs == 9792
    # per token: biases (5 + r)C, norms 16C, k scale C, GELU 5rC, adds 2C; 6 per score
    assert a.flops(PA, PA[0]) == 2 * macs + (8 + 16 + 1 + 15 + 2) * 24 * 6 + 6 * 3 * 24 * 4
    assert a.geometry(PA, PA[0]) == (Windows(2, 0, 4), Windows(2, 0, 6))
    assert _saved(a.saved(PA, PA[0], B)) == [
        (2 * 2 * 24 * 6, None, False),
        (4 * 2 * 24, "acc", False),
        (2 * 2 * 24 * 6, None, False),
        (3 * 2 * 24 * 6, None, False),
        (2 * 24 * 6, None, False),
        (2 * 3 * 24 * 4, None, False),
        (2 * 2 * 3 * 24 * 6, None, False),
        (16, 8, True),
    ]
    assert _counts(a, PA, PA[0], B) == {
        # b·(linears + 10LC) + 2·einsum(b·LNC): 2·1152 = 2304 has 4 digits, exact
        "fvcore": 2 * (8640 + 10 * 144) + 2 * 1152,
        "flopcounter": 4 * macs,
        "torchvision": 2 * macs,
        "ptflops_hook": 2 * 24 * (10 * 36 + 13 * 6),
        "ptflops_functional": 2 * (3 * 24 * 4 + 3 * 24 * 6),
        "thop": 2 * (8640 + 8 * 144),
        "torchinfo": 2 * lin,
    }
    d = PartitionAttention(6, 2, 2, "window", 3, 0.5)
    assert _saved(d.saved(PA, PA[0], B))[-1] == (4, None, False)  # two masks of the batch


def test_partition_attention_grid_and_errors() -> None:
    g = PartitionAttention(6, 3, 2, "grid", 1)
    sq = ((6, 4, 4),)
    assert g.heads == 2
    assert g.geometry(sq, sq[0]) == (Windows(2, 0, 4, True), Windows(2, 0, 4, True))
    assert g.buffers(sq) == 16
    assert g.params(sq) == 6 * 36 + 6 * 6 + 24 + 9 * 2
    with pytest.raises(ShapeError, match="a grid on a 4x6 map"):
        g.out_shape(PA)
    a = PartitionAttention(6, 2, 2)
    with pytest.raises(
        ShapeError, match="the map's height 5 is not a multiple of partition_size 2"
    ):
        a.out_shape(((6, 5, 6),))
    with pytest.raises(ShapeError, match="the map's width 7 is not a multiple of partition_size 2"):
        a.macs(((6, 4, 7),), PA[0])
    with pytest.raises(ShapeError, match="PartitionAttention.dim = 6 but the map has 4"):
        a.out_shape(((4, 4, 6),))
    with pytest.raises(SpecError, match=r"must be divisible by head_dim \(=4\)"):
        PartitionAttention(6, 4, 2)
    with pytest.raises(SpecError, match=r"must be in \[0, 1\]"):
        PartitionAttention(6, 2, 2, stochastic_depth_prob=1.5)
    with pytest.raises(SpecError, match=r"must be in \[0, 1\]"):
        PartitionAttention(6, 2, 2, stochastic_depth_prob=-0.5)
    PartitionAttention(6, 2, 2, stochastic_depth_prob=1.0)  # the bounds are allowed
    PartitionAttention(6, 2, 2, stochastic_depth_prob=0.0)


def test_np_einsum_macs_rounds_like_numpy() -> None:
    # np.einsum_path prints 2·macs with 4 significant digits: 246912 → 2.469e+05
    assert _np_einsum_macs(123456) == 123450
    assert _np_einsum_macs(1152) == 1152
    # 2·99999 = 199998 → 2.000e+05 → 100000
    assert _np_einsum_macs(99999) == 100000
    # a symbolic count passes through unrounded
    n = sympy.Symbol("n", positive=True, integer=True)
    assert _np_einsum_macs(3 * n) == 3 * n


# ---------------------------------------------------------------- timm Swin v1 block


def test_timm_swin_block() -> None:
    b = TimmSwinBlock(C, H, WIN, (1, 1), 10)
    assert b.out_shape(MAP) == (6, 5, 7)
    # qkv 3C² + 3C, proj C² + C, MLP 2CM + M + C, norms 4C, table T·h
    assert b.params(MAP) == 126 + 42 + 120 + 10 + 6 + 24 + 45 == 373
    assert b.buffers(MAP) == 36 + 9 * 36  # index N² + shift mask nW·N²
    # 4·Lp·C² + 2·L·C·M + 2·Lp·N·C: the MLP on the 35 map tokens
    lin = 4 * 54 * 36 + 2 * 35 * 6 * 10
    macs = lin + 2 * 54 * 6 * 6
    assert b.macs(MAP, OUT) == macs == 15864
    # per padded token: qkv, proj biases, q scale (3C + C + C); per map token: MLP biases
    # M + C, norms 16C, GELU 5M, adds 2C; per score: bias, mask, softmax 5
    assert b.flops(MAP, OUT) == 2 * macs + 30 * 54 + 174 * 35 + 7 * 972
    assert _saved(b.saved(MAP, OUT, B)) == [
        (3 * 2 * 35 * 6, None, False),
        (5 * 2 * 54 * 6, None, False),
        (4 * 2 * 35, "acc", False),
        (2 * 972, None, False),
        (2 * 2 * 35 * 10, None, False),
        (36, 8, True),
    ]
    hooked = 54 * (126 + 36 + 6) + 35 * (120 + 10 + 6)  # (in·out + bias)·rows
    assert _counts(b, MAP, OUT, B) == {
        "fvcore": 2 * (lin + 10 * 35 * 6),
        "flopcounter": 4 * macs,
        "torchvision": 2 * macs,
        "ptflops_hook": 2 * (hooked + 35 * (12 + 10)),
        "ptflops_functional": 2 * 35 * 10,
        "thop": 2 * (lin + 8 * 35 * 6),
        "torchinfo": 2 * (9 * (4 * 36 + 18 + 6) + 120 + 10 + 6 + 24),
    }


def test_timm_swin_block_variants() -> None:
    # unfused (explicit softmax), no qkv bias, no GELU hook, drop path, unshifted
    b = TimmSwinBlock(C, H, WIN, 0, 10, qkv_bias=False, fused=False, drop_path=0.1)
    assert b.params(MAP) == 108 + 42 + 120 + 10 + 6 + 24 + 45
    assert b.buffers(MAP) == 36
    lin = 4 * 54 * 36 + 2 * 35 * 6 * 10
    macs = lin + 2 * 54 * 6 * 6
    assert b.flops(MAP, OUT) == 2 * macs + 12 * 54 + 174 * 35 + 6 * 972
    assert _saved(b.saved(MAP, OUT, B))[-1] == (4, None, False)
    assert b.geometry(MAP, OUT) == (Windows(2, 0, 5), Windows(3, 0, 7))
    softmax = 972 // 6 * (3 * 6 - 1)  # thop: (3N − 1) per row of N scores
    hooked = 54 * (108 + 36 + 6) + 35 * 136
    counts = _counts(b, MAP, OUT, B)
    assert counts["fvcore"] == 2 * (lin + 10 * 35 * 6 + 2 * 54 * 6 * 6)
    assert counts["ptflops_functional"] == 2 * (350 + 972)
    assert counts["thop"] == 2 * (lin + 8 * 35 * 6 + softmax)
    assert counts["ptflops_hook"] == 2 * (hooked + 35 * (12 + 10))
    assert counts["torchinfo"] == 2 * (9 * (4 * 36 + 6) + 160)
    nog = TimmSwinBlock(C, H, WIN, 0, 10, gelu_hooked=False)
    assert nog.count_ptflops_hook(MAP, OUT, B) == 2 * (54 * (126 + 36 + 6) + 35 * 136 + 35 * 12)
    # mlp_hidden defaults to 4C
    assert TimmSwinBlock(C, H, WIN).mlp_hidden == 24


def test_timm_swin_block_geometry_and_errors() -> None:
    b = TimmSwinBlock(C, H, WIN, (1, 1), 10)
    # a map the window divides: windows contiguous, shifted by 1 on both axes
    even = ((6, 4, 6),)
    assert b.geometry(even, even[0]) == (Windows(2, 1, 4), Windows(3, 1, 6))
    with pytest.raises(UnsupportedError, match="a shifted window on a map of 5 units"):
        b.geometry(MAP, OUT)
    w_only = TimmSwinBlock(C, H, WIN, (0, 1), 10)
    with pytest.raises(UnsupportedError, match="a shifted window on a map of 7 units"):
        w_only.geometry(((6, 4, 7),), (6, 4, 7))
    # a shift on an axis the window divides, none on the other: no gap
    assert w_only.geometry(((6, 5, 6),), (6, 5, 6)) == (Windows(2, 0, 5), Windows(3, 1, 6))
    with pytest.raises(ShapeError, match="TimmSwinBlock.dim = 6 but the map has 5"):
        b.out_shape(((5, 5, 7),))
    with pytest.raises(SpecError, match=r"must be divisible by num_heads \(=4\)"):
        TimmSwinBlock(6, 4)
    with pytest.raises(SpecError, match=r"must be in \[0, 1\)"):
        TimmSwinBlock(6, 3, drop_path=1.0)
    with pytest.raises(SpecError, match=r"must be in \[0, 1\)"):
        TimmSwinBlock(6, 3, drop_path=-0.1)
    with pytest.raises(SpecError, match="must be >= 1"):
        TimmSwinBlock(6, 3, mlp_hidden=0)


# ---------------------------------------------------------------- timm Swin v2 block


def test_timm_swin_v2_block() -> None:
    b = TimmSwinV2Block(C, H, WIN, (1, 1), 10)
    # qkv 3C² + 2C (q, v biases), proj C² + C, logit scale h, cpb 1536 + 512h, MLP, norms
    assert b.params(MAP) == 120 + 42 + 3 + 1536 + 1536 + 136 + 24 == 3397
    # k_bias C, relative_coords_table 2T, index N², shift mask nW·N²
    assert b.buffers(MAP) == 6 + 30 + 36 + 324
    cpb = 15 * 512 * 5
    macs = 15864 + cpb
    assert b.macs(MAP, OUT) == macs
    # per padded token: biases 3C + C, normalisation 6C; per score: logit scale, bias,
    # mask, softmax 5; the cpb's biases and ReLU 1024T and 16·sigmoid 5hN²
    flops = 2 * macs + 60 * 54 + 174 * 35 + 1024 * 15 + 5 * 3 * 36 + 8 * 972
    assert b.flops(MAP, OUT) == flops
    assert _saved(b.saved(MAP, OUT, B)) == [
        (8 * 2 * 54 * 6, None, False),
        (4 * 2 * 3 * 54, None, False),
        (2 * 2 * 972, None, False),
        (3 * 2 * 35 * 6, None, False),
        (2 * 2 * 35 * 10, None, False),
        (4 * 2 * 35, "acc", False),
        (3 + 512 * 15 + 3 * 36, None, False),
        (30, None, True),
        (36, 8, True),
    ]
    lin = 4 * 54 * 36 + 2 * 35 * 6 * 10
    softmax = 972 // 6 * 17
    assert _counts(b, MAP, OUT, B) == {
        "fvcore": 2 * (lin + 2 * 54 * 6 * 6 + 10 * 35 * 6) + cpb,
        "flopcounter": 2 * (2 * 15864 + cpb),
        "torchvision": 2 * 15864 + cpb,
        "ptflops_hook": 2 * (42 * 54 + 136 * 35 + 35 * 12) + 15 * 512 * 7,
        "ptflops_functional": 512 * 15 + 2 * (35 * 10 + 972),
        "thop": 2 * (54 * 36 + 2 * 35 * 6 * 10 + 8 * 35 * 6 + softmax) + cpb,
        "torchinfo": 2 * (9 * 42 + 160) + 1536 + 512 * 3,
    }


def test_timm_swin_v2_block_variants() -> None:
    b = TimmSwinV2Block(C, H, WIN, 0, 10, qkv_bias=False, gelu_hooked=True, drop_path=0.2)
    assert b.params(MAP) == 108 + 42 + 3 + 3072 + 136 + 24
    assert b.buffers(MAP) == 30 + 36
    macs = 15864 + 38400
    flops = 2 * macs + 42 * 54 + 174 * 35 + 15360 + 540 + 7 * 972
    assert b.flops(MAP, OUT) == flops
    assert _saved(b.saved(MAP, OUT, B))[-1] == (4, None, False)
    assert b.count_ptflops_hook(MAP, OUT, B) == (2 * (42 * 54 + 136 * 35 + 35 * 22) + 15 * 512 * 7)


# ---------------------------------------------------------------- timm Swin v2 cr block


def test_timm_swin_v2_cr_block() -> None:
    b = TimmSwinV2CrBlock(C, H, WIN, (1, 1), 10, meta_hidden=8)
    # qkv, proj 4C² + 4C; meta Mlp(2, K, h): 3K + Kh + h; logit scale h; MLP; 2 norms 4C
    assert b.params(MAP) == 168 + 24 + 24 + 3 + 3 + 136 + 24 == 382
    assert b.buffers(MAP) == 2 * 36 + 324  # log-coordinates 2N² + shift mask
    meta = 36 * (2 * 8 + 8 * 3)  # N²·(2K + Kh)
    macs = 15864 + meta
    assert b.macs(MAP, OUT) == macs
    # per padded token 4C + 6C; per map token M + C + 16C + 5M + 2C; meta's biases and
    # ReLU N²·(2K + h)... per score 8
    flops = 2 * macs + 60 * 54 + 174 * 35 + 36 * (16 + 3) + 8 * 972
    assert b.flops(MAP, OUT) == flops
    assert _saved(b.saved(MAP, OUT, B)) == [
        (8 * 2 * 54 * 6, None, False),
        (4 * 2 * 3 * 54, None, False),
        (2 * 2 * 972, None, False),
        (3 * 2 * 35 * 6, None, False),
        (2 * 2 * 35 * 10, None, False),
        (2 * 2 * 2 * 35, "acc", False),
        (3 + 36 * 8, None, False),
        (72, None, True),
        (2 * 36 * 8, None, False),  # the meta dropout's mask and output (0.125)
    ]
    lin = 4 * 54 * 36 + 2 * 35 * 6 * 10
    assert _counts(b, MAP, OUT, B) == {
        "fvcore": 2 * (15864 + 5 * 2 * 35 * 6) + meta,
        "flopcounter": 2 * (2 * 15864 + meta),
        "torchvision": 2 * 15864 + meta,
        # GELU is torch's nn.GELU here (gelu_hooked defaults True): 2C + M per map token
        "ptflops_hook": 2 * (168 * 54 + 136 * 35 + 35 * 22) + 36 * (24 + 8 + 24 + 3),
        "ptflops_functional": 2 * 35 * 10 + 36 * 8,
        "thop": 2 * (lin + 4 * 2 * 35 * 6) + meta,
        "torchinfo": 2 * 9 * 168 + 36 * (24 + 24 + 3) + 2 * 160,
    }


def test_timm_swin_v2_cr_block_variants() -> None:
    b = TimmSwinV2CrBlock(
        C, H, WIN, 0, 10, meta_hidden=8, meta_dropout=0.0, extra_norm=True, drop_path=0.1
    )
    # norm3: 2C more params; 3 norms of 8 FLOPs per element
    assert b.params(MAP) == 382 + 12
    assert b.buffers(MAP) == 72
    meta = 36 * 40
    flops = 2 * (15864 + meta) + 60 * 54 + (174 + 48) * 35 + 36 * 19 + 7 * 972
    assert b.flops(MAP, OUT) == flops
    saved = _saved(b.saved(MAP, OUT, B))
    assert saved[3] == (4 * 2 * 35 * 6, None, False)  # three norm inputs and the sum
    assert saved[5] == (2 * 3 * 2 * 35, "acc", False)
    assert saved[-1] == (4, None, False)  # drop path, no meta dropout
    assert len(saved) == 9
    assert b.count_fvcore(MAP, OUT, B) == 2 * (15864 + 15 * 35 * 6) + meta
    assert b.count_thop(MAP, OUT, B) == 2 * (4 * 54 * 36 + 4200 + 12 * 35 * 6) + meta
    assert b.count_ptflops_hook(MAP, OUT, B) == (
        2 * (168 * 54 + 136 * 35 + 35 * (18 + 10)) + 36 * 59
    )
    assert b.count_torchinfo(MAP, OUT, B) == 2 * 9 * 168 + 36 * 51 + 2 * 172
    with pytest.raises(SpecError, match=r"must be in \[0, 1\)"):
        TimmSwinV2CrBlock(C, H, meta_dropout=1.0)
    with pytest.raises(SpecError, match=r"must be in \[0, 1\)"):
        TimmSwinV2CrBlock(C, H, meta_dropout=-0.5)
    with pytest.raises(SpecError, match="must be >= 1"):
        TimmSwinV2CrBlock(C, H, meta_hidden=0)
    with pytest.raises(SpecError, match=r"must be divisible by num_heads \(=4\)"):
        TimmSwinV2CrBlock(6, 4)


# ---------------------------------------------------------------- reading a module (torch-free)
# from_torch reads only attributes; stand-ins named like torch's/timm's classes replace the
# modules (tests/test_timm_modules.py checks the same readings on the real timm modules).


def _cls(name: str, module: str, bases: tuple = ()) -> type:
    return type(name, bases, {"__module__": module})


TORCH_GELU = _cls("GELU", "torch.nn.modules.activation")
TIMM_GELU = _cls("GELU", "timm.layers.activations", (TORCH_GELU,))
IDENTITY = _cls("Identity", "torch.nn.modules.linear")
NS = _cls("NS", "tests.fake")


def _obj(cls: type = NS, **kw) -> object:
    o = cls()
    o.__dict__.update(kw)
    return o


def _timm_block(v2: bool = False, **over) -> object:
    drop = _obj(p=0.0)
    attn = _obj(
        qkv=_obj(in_features=6, out_features=18, bias=None if v2 else object()),
        num_heads=3,
        attn_drop=drop,
        proj_drop=drop,
        q_bias=object(),
        fused_attn=True,
    )
    mlp = _obj(
        act=TORCH_GELU(),
        norm=IDENTITY(),
        drop1=drop,
        drop2=drop,
        fc1=_obj(in_features=6, out_features=10),
    )
    m = dict(attn=attn, mlp=mlp, window_size=(2, 3), shift_size=(1, 1), drop_path1=_obj())
    m.update(over)
    return _obj(**m)


def _call(module: object, shape=(6, 4, 6), layout: str = "nhwc"):
    return TorchCall("m", "module", module, (), {}, (shape,), (layout,), shape)


def test_timm_swin_read_fields() -> None:
    b = TimmSwinBlock.from_torch(_call(_timm_block()))
    assert b == TimmSwinBlock(6, 3, (2, 3), (1, 1), 10, True, True, 0.0, True)
    m = _timm_block(v2=True)
    m.mlp.act = TIMM_GELU()  # timm's own GELU: not the exact type ptflops hooks
    m.drop_path1 = _obj(drop_prob=0.25)
    v2 = TimmSwinV2Block.from_torch(_call(m))
    assert v2 == TimmSwinV2Block(6, 3, (2, 3), (1, 1), 10, True, False, 0.25, False)
    m.attn.q_bias = None
    assert TimmSwinV2Block.from_torch(_call(m)).qkv_bias is False
    v1 = _timm_block()
    v1.attn.qkv.bias = None
    v1.attn.fused_attn = False
    v1.drop_path1 = _obj(drop_prob=None)
    assert TimmSwinBlock.from_torch(_call(v1)) == TimmSwinBlock(
        6, 3, (2, 3), (1, 1), 10, False, False, 0.0, True
    )


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda m: setattr(m.attn, "attn_drop", _obj(p=0.1)), "attention or projection dropout"),
        (lambda m: setattr(m.attn, "proj_drop", _obj(p=0.1)), "attention or projection dropout"),
        (lambda m: setattr(m.attn.qkv, "out_features", 24), "a head dimension other than"),
        (lambda m: setattr(m.attn, "qkv_bias_separate", True), "separate qkv biases"),
        (
            lambda m: setattr(m.mlp, "act", _cls("ReLU", "torch.nn")()),
            "an activation other than GELU",
        ),
        (lambda m: setattr(m.mlp, "norm", _cls("LayerNorm", "torch.nn")()), "an MLP norm"),
        (lambda m: setattr(m.mlp, "drop1", _obj(p=0.1)), "an MLP norm or dropout"),
        (lambda m: setattr(m.mlp, "drop2", _obj(p=0.1)), "an MLP norm or dropout"),
        (lambda m: setattr(m, "dynamic_mask", True), "a dynamic mask"),
    ],
)
def test_timm_swin_read_refusals(change, why) -> None:
    m = _timm_block()
    change(m)
    with pytest.raises(UnsupportedError, match=f"timm's SwinTransformerBlock with {why}"):
        TimmSwinBlock.from_torch(_call(m))


def test_timm_swin_read_layout() -> None:
    m = _timm_block()
    with pytest.raises(UnsupportedError, match=r"per-sample shape \(6, 4\): it runs on chan"):
        TimmSwinBlock.from_torch(_call(m, (6, 4)))
    with pytest.raises(UnsupportedError, match="SwinTransformerBlock on a tensor"):
        TimmSwinBlock.from_torch(_call(m, layout="std"))
    # archcalc's own build of the kind runs on (N, C, H, W): layout "std"
    own = _timm_block()
    own.__class__ = _cls("Own", "archcalc.torch.windows")
    assert TimmSwinBlock.from_torch(_call(own, layout="std")).dim == 6
    with pytest.raises(UnsupportedError, match="on a tensor"):
        TimmSwinBlock.from_torch(_call(own, layout="nhwc"))


def test_symbolic_maps_keep_the_shift() -> None:
    # an unknown map length or window: torchvision's drop of the shift cannot be decided,
    # the shift is kept (the windows start at positions ≡ shift)
    n = sympy.Symbol("n", positive=True, integer=True)
    a = ShiftedWindowAttention(C, H, WIN, (1, 2))
    sym = ((C, n, 7),)
    assert a.geometry(sym, sym[0]) == (Windows(2, 1, n), Windows(3, 2, 7))
    w = sympy.Symbol("w", positive=True, integer=True)
    b = ShiftedWindowAttention(C, H, (w, 3), (1, 2))
    assert b.geometry(MAP, OUT) == (Windows(w, 1, 5), Windows(3, 2, 7))
    # timm: a symbolic length or shift cannot be judged a gap; no error
    t = TimmSwinBlock(C, H, WIN, (1, 1), 10)
    sym6 = ((C, n, 6),)
    assert t.geometry(sym6, sym6[0]) == (Windows(2, 1, n), Windows(3, 1, 6))
    s = sympy.Symbol("s", positive=True, integer=True)
    u = TimmSwinBlock(C, H, WIN, (s, 1), 10)
    assert u.geometry(((6, 5, 6),), (6, 5, 6)) == (Windows(2, s, 5), Windows(3, 1, 6))


def test_timm_swin_read_defaults_and_messages() -> None:
    # an older timm WindowAttention without fused_attn: the explicit softmax (unfused);
    # timm's own GELU subclass: not the exact nn.GELU type ptflops hooks
    m = _timm_block()
    del m.attn.fused_attn
    m.mlp.act = TIMM_GELU()
    b = TimmSwinBlock.from_torch(_call(m))
    assert (b.fused, b.gelu_hooked) == (False, False)
    # every reason is named, comma-separated
    two = _timm_block(dynamic_mask=True)
    two.attn.attn_drop = _obj(p=0.1)
    with pytest.raises(
        UnsupportedError, match="with attention or projection dropout, a dynamic mask$"
    ):
        TimmSwinBlock.from_torch(_call(two))
    # a call without a traced tensor input
    with pytest.raises(UnsupportedError, match=r"per-sample shape \(\): it runs on"):
        TimmSwinBlock.from_torch(TorchCall("m", "module", _timm_block(), (), {}, (), (), (6, 4, 6)))
