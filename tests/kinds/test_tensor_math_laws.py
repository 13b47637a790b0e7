"""The rules of the compute kinds of kinds/tensor_math.py (Matmul, Einsum, Softmax, Reduce,
Normalize, the scaled-dot-product attentions, Div, Pow, Unary, Clamp), every figure derived
by hand from the kind's definition (its docstring, docs/conventions.md) or from the tool
function a foreign count mirrors. Torch-free and fast.

Written for the mutants of archcalc.kinds.tensor_math that only the torch tests killed
(docs/testing.md, "Mutation testing"). Sizes are chosen so that every term of a formula is
non-zero and distinct.
"""

from __future__ import annotations

import pytest

from archcalc import ShapeError, SpecError, UnsupportedError
from archcalc.kinds import GLOBAL, Extra
from archcalc.kinds._base import TensorArg, TorchCall
from archcalc.kinds.tensor_math import (
    Clamp,
    Div,
    Einsum,
    MaskedScaledDotProductAttention,
    Matmul,
    Normalize,
    Pow,
    Reduce,
    ScaledDotProductAttention,
    Softmax,
    Unary,
    _axis,
    _batch_leads,
    _dims_arg,
    _traced,
    torch_axis,
)

#: the receptive-field step of a per-position op: size 1, stride 1, offset 0 on both axes
POINTWISE = ((1, 1, 0), (1, 1, 0))


def _saved(items: tuple) -> list:
    """Saved tensors as data: slots by name, each extra tensor as (elements, itemsize)."""
    return [(x.elements, x.itemsize) if isinstance(x, Extra) else x for x in items]


# ---------------------------------------------------------------- Matmul


def test_matmul_shapes() -> None:
    m = Matmul()
    # (..., m, k) @ (..., k, n) -> (..., m, n)
    assert m.out_shape(((3, 5, 4), (3, 4, 7))) == (3, 5, 7)
    # the leading axes broadcast: 1 stretches to 2 (either side)
    assert m.out_shape(((2, 5, 4), (1, 4, 7))) == (2, 5, 7)
    assert m.out_shape(((1, 5, 4), (2, 4, 7))) == (2, 5, 7)
    # rank exactly 2 per sample is valid; a parameter (k, n) aligns with the trailing axes
    assert m.out_shape(((5, 4), (4, 7))) == (5, 7)
    assert m.out_shape(((3, 5, 4), (4, 7))) == (3, 5, 7)
    assert Matmul("bmm").out_shape(((5, 4), (4, 7))) == (5, 7)
    assert Matmul("@").out_shape(((3, 5, 4), (3, 4, 7))) == (3, 5, 7)


def test_matmul_shape_errors() -> None:
    with pytest.raises(ShapeError, match="^Matmul: operands of per-sample shapes .*rank >= 2"):
        Matmul().out_shape(((4,), (4, 7)))
    with pytest.raises(ShapeError, match="rank >= 2 per sample"):
        Matmul().out_shape(((5, 4), (4,)))
    with pytest.raises(
        ShapeError, match=r"^Matmul: \(\.\.\., 5, 4\) @ \(\.\.\., 3, 7\): the inner sizes differ$"
    ):
        Matmul().out_shape(((5, 4), (3, 7)))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 5, 4\) @ \(\.\.\., 3, 7\): the inner"):
        Matmul().out_shape(((2, 5, 4), (2, 3, 7)))
    # bmm takes (m, k) and (k, n) per sample only: torch's bmm is of rank 3
    with pytest.raises(ShapeError, match="takes \\(m, k\\) and \\(k, n\\) per sample"):
        Matmul("bmm").out_shape(((3, 5, 4), (3, 4, 7)))
    with pytest.raises(ShapeError, match="^Matmul: input 1 has shape"):
        Matmul().out_shape(((2, 5, 4), (3, 4, 7)))  # 2 and 3 do not broadcast
    with pytest.raises(SpecError):
        Matmul("mm")


def test_matmul_counts() -> None:
    m = Matmul()
    ins, out = ((2, 5, 4), (2, 4, 7)), (2, 5, 7)
    # 2 batch entries · m·k·n = 2·5·4·7
    assert m.macs(ins, out) == 280
    assert m.flops(ins, out) == 2 * 280
    assert m.params(ins) == 0
    # over a batch of 3: FlopCounterMode 2·MACs, torchvision MACs
    assert m.count_flopcounter(ins, out, 3) == 2 * 3 * 280
    assert m.count_torchvision(ins, out, 3) == 3 * 280
    assert m.count_torchinfo(ins, out, 3) == 0
    # fvcore matmul_flop_jit: numel of the first operand (batch included) · n; a broadcast
    # first operand (1, 5, 4) is counted once: 3 · (1·5·4) · 7, not 3 · 2·5·4·7
    bins, bout = ((1, 5, 4), (2, 4, 7)), (2, 5, 7)
    assert m.count_fvcore(bins, bout, 3) == 3 * 20 * 7
    assert m.macs(bins, bout) == 2 * 5 * 4 * 7
    # ptflops patches torch.matmul / bmm (same formula), not Tensor.__matmul__
    assert m.count_ptflops_functional(bins, bout, 3) == 3 * 20 * 7
    assert Matmul("bmm").count_ptflops_functional(((5, 4), (4, 7)), (5, 7), 3) == 3 * 20 * 7
    assert Matmul("@").count_ptflops_functional(bins, bout, 3) == 0
    assert m.count_ptflops_hook(bins, bout, 3) == 0
    assert m.count_thop(bins, bout, 3) == 0


def test_matmul_geometry_and_saved() -> None:
    ins, out = ((3, 5, 4), (3, 4, 7)), (3, 5, 7)
    assert Matmul().geometry(ins, out) is GLOBAL
    assert Matmul(const_second=True).geometry(ins, out) == POINTWISE
    # both operands kept as they are
    assert Matmul().saved(ins, out, 2) == ("in0", "in1")
    # a parameter (4, 7) has no leading axes: kept as it is
    assert Matmul().saved(((3, 5, 4), (4, 7)), out, 2) == ("in0", "in1")
    # a broadcast second operand (1, 4, 7): its expanded copy, batch 2 · 3 · 4·7
    s = Matmul().saved(((3, 5, 4), (1, 4, 7)), out, 2)
    assert _saved(s) == ["in0", (2 * 3 * 4 * 7, None)]
    assert "operand 1" in s[1].what
    # a broadcast first operand (1, 5, 4): 2 · 3 · 5·4
    s = Matmul().saved(((1, 5, 4), (3, 4, 7)), out, 2)
    assert _saved(s) == [(2 * 3 * 5 * 4, None), "in1"]
    assert "operand 0" in s[0].what


# ---------------------------------------------------------------- Einsum


def test_einsum_rules() -> None:
    e = Einsum("hld,hmd->hlm")
    ins = ((2, 5, 4), (2, 7, 4))
    assert e.out_shape(ins) == (2, 5, 7)
    # one MAC per combination of the letters h, l, d, m: 2·5·4·7; d summed: 2 FLOPs each
    assert e.macs(ins, (2, 5, 7)) == 280
    assert e.flops(ins, (2, 5, 7)) == 560
    assert e.count_flopcounter(ins, (2, 5, 7), 3) == 2 * 3 * 280
    # an outer product, nothing summed: i·j·k products, 1 FLOP each; FlopCounterMode 0
    o = Einsum("ij,jk->ijk")
    assert o.out_shape(((2, 3), (3, 4))) == (2, 3, 4)
    assert o.macs(((2, 3), (3, 4)), (2, 3, 4)) == 24
    assert o.flops(((2, 3), (3, 4)), (2, 3, 4)) == 24
    assert o.count_flopcounter(((2, 3), (3, 4)), (2, 3, 4), 3) == 0
    # the output term's order is the output's axes' order
    assert Einsum("ij,jk->ki").out_shape(((2, 3), (3, 4))) == (4, 2)
    assert Einsum("hld,hmd->hlm").saved(ins, (2, 5, 7), 2) == ("in0", "in1")
    assert e.count_ptflops_functional(ins, (2, 5, 7), 3) == 0
    assert e.count_torchinfo(ins, (2, 5, 7), 3) == 0


def test_einsum_fvcore() -> None:
    # 'ld,lm->dm' batch-first is '@ld,@lm->@dm', renamed 'abc,abd->acd': fvcore's exact
    # case, N·MACs = 7 · 7·11·13 = 7007 (the rounded path would give 14015 -> 1.402e4 / 2)
    e = Einsum("ld,lm->dm")
    assert e.count_fvcore(((7, 11), (7, 13)), (11, 13), 7) == 7 * 7 * 11 * 13
    # 'ld,md->ml' is '@ld,@md->@ml', renamed 'abc,adc->adb': the other exact case
    e = Einsum("ld,md->ml")
    assert e.count_fvcore(((7, 11), (13, 11)), (13, 7), 7) == 7 * 7 * 11 * 13
    # any other: numpy's 'Optimized FLOP count' = N·MACs·(1 + summed) + 1 to 4 significant
    # digits, halved and floored: h·l·d·m = 3·7·11·13 = 3003, N = 7: 21021·2 + 1 = 42043
    # -> 4.204e4 = 42040 -> 21020
    e = Einsum("hld,hmd->hlm")
    assert e.count_fvcore(((3, 7, 11), (3, 13, 11)), (3, 7, 13), 7) == 21020
    # nothing summed: 21021 + 1 = 21022 -> 2.102e4 = 21020 -> 10510
    o = Einsum("hld,hmd->hlmd")
    assert o.count_fvcore(((3, 7, 11), (3, 13, 11)), (3, 7, 13, 11), 7) == 10510
    # a parameter second operand (no batch letter): '@ld,dm->@lm' renamed 'abc,cd->abd',
    # not an exact case: 7 · 7·11·13 = 7007, 2·7007 + 1 = 14015 -> 1.402e4 -> 7010
    p = Einsum("ld,dm->lm", second_batched=False)
    assert p.count_fvcore(((7, 11), (11, 13)), (7, 13), 7) == 7010
    # folded: the equation as it is, 'ld,lm->dm' is 'abc'-free 'ab,ac->bc': not exact
    f = Einsum("ld,lm->dm", folded=True)
    assert f.count_fvcore(((7, 11), (7, 13)), (11, 13), 7) == 7010


def test_einsum_geometry() -> None:
    ins = ((2, 3, 5, 4), (3, 6, 4))
    # a parameter summed over x's last letter only, keeping the others: per position
    assert Einsum("yhwc,hkc->yhwk", second_batched=False).geometry(ins, ()) == POINTWISE
    assert Einsum("ij,jk->ik", second_batched=False).geometry(((2, 3), (3, 4)), ()) == POINTWISE
    # a parameter vector: 'ij,j->i' keeps every letter of x but the summed one
    assert Einsum("ij,j->i", second_batched=False).geometry(((2, 3), (3,)), ()) == POINTWISE
    # an activation second operand: every output sees every position
    assert Einsum("yhwc,hkc->yhwk").geometry(ins, ()) is GLOBAL
    # summed over the first letter, or over two letters, or dropping a letter of x
    assert Einsum("ij,ik->jk", second_batched=False).geometry(((2, 3), (2, 4)), ()) is GLOBAL
    assert Einsum("ij,jk->k", second_batched=False).geometry(((2, 3), (3, 4)), ()) is GLOBAL
    assert Einsum("hij,jk->ik", second_batched=False).geometry(((5, 2, 3), (3, 4)), ()) is GLOBAL


@pytest.mark.parametrize(
    "eq",
    ["ij,jk", "ij->ij", "ij,jk,kl->il", "i1,jk->ik", "iij,jk->ik", "ij,jk->iz", "ij,jk->ii"],
)
def test_einsum_bad_equation(eq: str) -> None:
    reason = (
        "must be an explicit equation of two operands 'ab,bc->ac' (letters only, no '...', "
        "no letter twice in one term, output letters from the inputs)"
    )
    with pytest.raises(SpecError) as err:
        Einsum(eq)
    assert str(err.value) == f"Einsum.equation = {eq!r}: {reason}"


def test_einsum_shape_errors() -> None:
    with pytest.raises(ShapeError, match="^Einsum: term 'ij'"):
        Einsum("ij,jk->ik").out_shape(((2, 3, 4), (3, 4)))
    with pytest.raises(ShapeError, match="term 'jk'"):
        Einsum("ij,jk->ik").out_shape(((2, 3), (3,)))
    with pytest.raises(ShapeError, match="^Einsum: 'j' is 3 and 5"):
        Einsum("ij,jk->ik").out_shape(((2, 3), (5, 4)))
    # spaces are ignored
    assert Einsum("ij, jk -> ik").out_shape(((2, 3), (3, 4))) == (2, 4)
    # every rule re-reads the shapes, naming the kind
    e, bad = Einsum("ij,jk->ik"), ((2, 3), (5, 4))
    for rule in (e.macs, e.flops):
        with pytest.raises(ShapeError, match="^Einsum: 'j' is 3 and 5"):
            rule(bad, ())


# ---------------------------------------------------------------- Softmax


def test_softmax_rules() -> None:
    s = Softmax(-1)
    ins = ((2, 5, 7),)
    assert s.out_shape(ins) == (2, 5, 7)
    assert Softmax(-3).out_shape(ins) == (2, 5, 7)
    assert Softmax(2).out_shape(ins) == (2, 5, 7)
    # 5 FLOPs per element: 5 · 70
    assert s.flops(ins, (2, 5, 7)) == 350
    assert s.macs(ins, (2, 5, 7)) == 0
    assert s.saved(ins, (2, 5, 7), 2) == ("out",)
    # ptflops: F.softmax counts the input numel over the batch; Tensor.softmax is not patched
    assert s.count_ptflops_functional(ins, (2, 5, 7), 3) == 3 * 70
    t = Softmax(-1, "Tensor.softmax")
    assert t.count_ptflops_functional(ins, (2, 5, 7), 3) == 0
    # thop: rows·(3n - 1); over the last axis n = 7, rows = 70/7 = 10: 3 · 10 · 20
    assert s.count_thop(ins, (2, 5, 7), 3) == 3 * 10 * 20
    # over axis 1: n = 5, rows = 14: 3 · 14 · 14
    assert Softmax(1).count_thop(ins, (2, 5, 7), 3) == 3 * 14 * 14
    assert type(Softmax(1).count_thop(ins, (2, 5, 7), 3)) is int  # a count of operations
    assert t.count_thop(ins, (2, 5, 7), 3) == 0


@pytest.mark.parametrize("dim", [3, -4])
def test_softmax_axis_errors(dim: int) -> None:
    with pytest.raises(ShapeError, match=f"^Softmax: axis {dim} is not an axis of a rank-3 tensor"):
        Softmax(dim).out_shape(((2, 5, 7),))


@pytest.mark.parametrize("dim", [True, "1", 1.0])
def test_softmax_bad_dim(dim: object) -> None:
    with pytest.raises(SpecError, match="must be an integer axis"):
        Softmax(dim)


def test_fields_of_softmax_normalize_reduce() -> None:
    # (C, H, W): over the channels (axis 0) the field is kept; over H and W together GLOBAL
    chw = ((4, 5, 6),)
    assert Softmax(0).geometry(chw, chw[0]) == POINTWISE
    assert Softmax(-3).geometry(chw, chw[0]) == POINTWISE
    assert Reduce("mean", (1, 2)).geometry(chw, (4,)) is GLOBAL
    assert Reduce("mean", (-1, -2, 0)).geometry(chw, ()) is GLOBAL
    # one spatial axis only: no box per axis, an explicit gap
    with pytest.raises(UnsupportedError, match="^Softmax over axis 1 .*mixes one spatial axis"):
        Softmax(1).geometry(chw, chw[0])
    with pytest.raises(UnsupportedError, match="^Reduce over axis 2 .*mixes one spatial axis"):
        Reduce("sum", (0, 2)).geometry(chw, (5,))
    with pytest.raises(UnsupportedError, match="^Normalize over axis 1 .*mixes one spatial axis"):
        Normalize(1).geometry(chw, chw[0])
    # (L, C) tokens: over the channels kept, over the tokens GLOBAL
    lc = ((5, 6),)
    assert Softmax(-1).geometry(lc, lc[0]) == POINTWISE
    assert Normalize(1).geometry(lc, lc[0]) == POINTWISE
    assert Softmax(0).geometry(lc, lc[0]) is GLOBAL
    assert Normalize(-2).geometry(lc, lc[0]) is GLOBAL
    assert Reduce("mean", (0,)).geometry(lc, (6,)) is GLOBAL
    # other ranks: positions and channels cannot be told apart
    for shape in ((3, 4, 5, 6), (6,)):
        with pytest.raises(UnsupportedError, match=f"^Softmax: .*rank-{len(shape)} tensor"):
            Softmax(0).geometry((shape,), shape)


# ---------------------------------------------------------------- Reduce


def test_reduce_shapes() -> None:
    x = ((3, 5, 7),)
    assert Reduce("sum", (-1,), keepdim=True).out_shape(x) == (3, 5, 1)
    assert Reduce("sum", (-1,)).out_shape(x) == (3, 5)
    assert Reduce("mean", (0, 2)).out_shape(x) == (5,)
    assert Reduce("mean", (2, 0), keepdim=True).out_shape(x) == (1, 5, 1)
    assert Reduce("amax", (1,)).out_shape(x) == (3, 7)
    with pytest.raises(ShapeError, match="axis repeated"):
        Reduce("sum", (0, -3)).out_shape(x)
    with pytest.raises(ShapeError, match="axis 3 is not an axis of a rank-3 tensor"):
        Reduce("sum", (3,)).out_shape(x)
    with pytest.raises(ShapeError, match="axis -4 is not an axis of a rank-3 tensor"):
        Reduce("sum", (-4,)).out_shape(x)


def test_reduce_flops_and_saved() -> None:
    x, out = ((3, 5, 7),), (3, 5)
    n, r = 105, 15
    assert Reduce("sum", (-1,)).flops(x, out) == n - r  # adds
    assert Reduce("mean", (-1,)).flops(x, out) == n  # n - r adds, r divides
    assert Reduce("norm", (-1,)).flops(x, out) == 2 * n  # n squares, n - r adds, r roots
    for op in ("amax", "amin", "max", "min", "argmax", "argmin"):
        assert Reduce(op, (-1,)).flops(x, out) == n - r  # comparisons
    # saved: the int64 indices of max/min (batch 2 · 15 outputs, 8 bytes)
    for op in ("max", "min"):
        s = Reduce(op, (-1,)).saved(x, out, 2)
        assert _saved(s) == [(2 * 15, 8)]
        assert s[0].what == "indices (int64)"
    for op in ("sum", "mean", "argmax", "argmin"):
        assert Reduce(op, (-1,)).saved(x, out, 2) == ()
    for op in ("amax", "amin", "norm"):
        assert Reduce(op, (-1,)).saved(x, out, 2) == ("in0", "out")
    assert Reduce("sum", (-1,)).count_fvcore(x, out, 2) == 0


@pytest.mark.parametrize("dims", [(), [0], (True,), (0.0,), 0])
def test_reduce_bad_dims(dims: object) -> None:
    with pytest.raises(SpecError, match="must be a non-empty list of axes"):
        Reduce("sum", dims)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_reduce_one_axis(op: str) -> None:
    with pytest.raises(SpecError, match=f"must be one axis for {op}"):
        Reduce(op, (0, 1))
    assert Reduce(op, (1,)).out_shape(((3, 5, 7),)) == (3, 7)


# ---------------------------------------------------------------- Normalize


def test_normalize_rules() -> None:
    ins = ((2, 5, 4),)
    # 40 elements; along the last axis 40/4 = 10 norms: 3·40 + 10
    assert Normalize(-1).flops(ins, ins[0]) == 130
    # along axis 0: 40/2 = 20 norms; along axis 1: 40/5 = 8
    assert Normalize(0).flops(ins, ins[0]) == 140
    assert Normalize(1).flops(ins, ins[0]) == 128
    assert Normalize(-1).out_shape(ins) == (2, 5, 4)
    # batch 3: the input and 3·10 norms, clamped and not
    s = Normalize(-1).saved(ins, ins[0], 3)
    assert _saved(s) == ["in0", (30, None), (30, None)]
    assert [x.what for x in s[1:]] == ["norms", "clamped norms"]
    with pytest.raises(ShapeError, match="^Normalize: axis 3 is not an axis of a rank-3 tensor"):
        Normalize(3).out_shape(ins)
    with pytest.raises(SpecError, match="must be an integer axis"):
        Normalize(True)


# ---------------------------------------------------------------- attention

Q, K, V = (3, 5, 4), (3, 7, 4), (3, 7, 6)


def test_sdpa_counts() -> None:
    a = ScaledDotProductAttention()
    # B = 3 heads, L = 5, S = 7, E = 4, Ev = 6: out (3, 5, 6)
    assert a.out_shape((Q, K, V)) == (3, 5, 6)
    # QKᵀ 3·5·7·4 = 420, AV 3·5·7·6 = 630
    assert a.macs((Q, K, V), (3, 5, 6)) == 1050
    # 2·MACs + the scaling of q 3·5·4 + 5 per score 5·3·5·7
    assert a.flops((Q, K, V), (3, 5, 6)) == 2100 + 60 + 525
    assert a.geometry((Q, K, V), (3, 5, 6)) is GLOBAL
    # multi-query: one key/value head for 3 query heads, B = 3
    assert a.out_shape((Q, (1, 7, 4), (1, 7, 4))) == (3, 5, 4)
    assert a.macs((Q, (1, 7, 4), (1, 7, 4)), (3, 5, 4)) == 3 * 5 * 7 * 8
    # rank 2 per sample: B = 1
    assert a.macs(((5, 4), (7, 4), (7, 4)), (5, 4)) == 5 * 7 * 8


def test_sdpa_kernel_and_saved() -> None:
    a = ScaledDotProductAttention()
    qkv = (Q, K, (3, 7, 4))
    # torch rank 4 (3 per sample) with Ev = E: the fused CPU kernel; FlopCounterMode 0
    assert a.fused(qkv)
    assert a.fused(((5, 4), (7, 4), (7, 4)))  # torch rank 3
    assert a.count_flopcounter(qkv, (3, 5, 4), 2) == 0
    # q, k, v, the output and a float32 log-sum-exp per query: 2 · 3·5
    s = a.saved(qkv, (3, 5, 4), 2)
    assert _saved(s) == ["in0", "in1", "in2", "out", (30, "acc")]
    assert s[4].what == "log-sum-exp per query"
    # Ev != E, or torch rank 5, or rank 2 folded: the math path
    assert not a.fused((Q, K, V))
    assert not a.fused(((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)))
    f = ScaledDotProductAttention(folded=True)
    assert not f.fused(((5, 4), (7, 4), (7, 4)))
    assert f.fused(qkv)
    # math path: FlopCounterMode 2·MACs over the batch of 2
    assert a.count_flopcounter((Q, K, V), (3, 5, 6), 2) == 2 * 2 * 1050
    # the scaled q 2·3·5·4, the scaled kᵀ 2·3·7·4, the weights 2·3·5·7, v
    s = a.saved((Q, K, V), (3, 5, 6), 2)
    assert _saved(s) == [(120, None), (168, None), (210, None), "in2"]
    assert [x.what for x in s[:3]] == ["scaled q", "scaled k (transposed)", "attention weights"]
    assert a.count_fvcore(qkv, (3, 5, 4), 2) == 0
    assert a.count_torchinfo(qkv, (3, 5, 4), 2) == 0


def test_sdpa_shape_errors() -> None:
    a = ScaledDotProductAttention()
    with pytest.raises(ShapeError, match="^ScaledDotProductAttention: q, k, v .*rank >= 2"):
        a.out_shape(((4,), (4,), (4,)))
    with pytest.raises(ShapeError, match="takes one rank >= 2 per sample"):
        a.out_shape((Q, (7, 4), K))
    with pytest.raises(ShapeError, match="do not fit"):
        a.out_shape((Q, K, (3, 6, 4)))  # S differs between k and v
    with pytest.raises(ShapeError, match="do not fit"):
        a.out_shape((Q, (3, 7, 5), K))  # E differs between q and k
    with pytest.raises(ShapeError, match="broadcast q"):
        a.out_shape(((1, 5, 4), K, K))  # k's 3 heads would stretch q's 1
    with pytest.raises(ShapeError, match="^ScaledDotProductAttention: input 1 has shape"):
        a.out_shape(((2, 5, 4), K, K))
    # torch rank 6: k's and v's 4 heads would stretch q's third leading axis (1)
    with pytest.raises(ShapeError, match="broadcast q"):
        a.out_shape(((2, 3, 1, 5, 4), (2, 3, 4, 7, 4), (2, 3, 4, 7, 4)))
    # every rule re-reads the shapes, naming the kind
    bad = (Q, K, (3, 6, 4))
    for rule in (a.macs, a.flops):
        with pytest.raises(ShapeError, match="^ScaledDotProductAttention: q"):
            rule(bad, ())
    with pytest.raises(ShapeError, match="^ScaledDotProductAttention: q"):
        a.saved(bad, (), 2)


def test_masked_sdpa() -> None:
    m = MaskedScaledDotProductAttention()
    qkv = (Q, K, (3, 7, 4))
    for mask in ((3, 5, 7), (1, 5, 7), (5, 7), (7,)):
        assert m.out_shape((*qkv, mask)) == (3, 5, 4)
    with pytest.raises(ShapeError, match="a mask of shape"):
        m.out_shape((*qkv, (2, 3, 5, 7)))
    with pytest.raises(ShapeError, match="^MaskedScaledDotProductAttention: input 1"):
        m.out_shape((*qkv, (3, 5, 6)))
    bad = (Q, K, (3, 6, 4), (5, 6))
    for rule in (m.out_shape, lambda i: m.flops(i, ())):
        with pytest.raises(ShapeError, match="^MaskedScaledDotProductAttention: q"):
            rule(bad)
    with pytest.raises(ShapeError, match="takes q, k, v and a mask, got 3 inputs"):
        m.out_shape(qkv)
    ins = (*qkv, (1, 5, 7))
    # MACs 3·5·7·(4 + 4) = 840; FLOPs 2·840 + 3·5·4 + 5·105 + one add per score 105
    assert m.macs(ins, (3, 5, 4)) == 840
    assert m.flops(ins, (3, 5, 4)) == 1680 + 60 + 525 + 105
    # a mask that requires grad: the math path
    assert not m.fused(ins)
    assert m.count_flopcounter(ins, (3, 5, 4), 2) == 2 * 2 * 840
    assert _saved(m.saved(ins, (3, 5, 4), 2)) == [(120, None), (168, None), (210, None), "in2"]
    # a constant mask: fused where the unmasked one is, and the mask kept
    c = MaskedScaledDotProductAttention(mask_grad=False)
    assert c.fused(ins)
    assert c.count_flopcounter(ins, (3, 5, 4), 2) == 0
    assert _saved(c.saved(ins, (3, 5, 4), 2)) == ["in0", "in1", "in2", "out", (30, "acc"), "in3"]
    assert not c.fused((Q, K, V, (1, 5, 7)))


# ---------------------------------------------------------------- elementwise


def test_div_pow_unary() -> None:
    d = Div()
    assert d.out_shape(((3, 5, 7), (1, 5, 1))) == (3, 5, 7)
    assert d.out_shape(((5, 1), (3, 5, 7))) == (3, 5, 7)
    assert d.flops(((3, 5, 7), (1, 5, 1)), (3, 5, 7)) == 105  # one per output element
    assert d.saved(((3, 5, 7), (1, 5, 1)), (3, 5, 7), 2) == ("in0", "in1")
    with pytest.raises(ShapeError, match="Div takes two inputs, got 3"):
        d.out_shape(((3,), (3,), (3,)))
    with pytest.raises(ShapeError, match="Div takes two inputs, got 1"):
        d.out_shape(((3,),))
    with pytest.raises(ShapeError, match="^Div: input 1 has shape"):
        d.out_shape(((3, 5), (3, 4)))
    for layer in (Pow(3.0), Unary("exp")):
        assert layer.out_shape(((3, 5),)) == (3, 5)
        assert layer.flops(((3, 5),), (3, 5)) == 15
        assert layer.geometry(((3, 5),), (3, 5)) == POINTWISE
    assert Pow(2.0).saved(((3, 5),), (3, 5), 2) == ("in0",)
    # what backward keeps (measured, tests/test_tensor_math.py): the output of exp, sqrt,
    # rsqrt, reciprocal; the input of log, sin, cos, abs, erf; nothing for sign
    for op in ("exp", "sqrt", "rsqrt", "reciprocal"):
        assert Unary(op).saved(((3, 5),), (3, 5), 2) == ("out",)
    for op in ("log", "sin", "cos", "abs", "erf"):
        assert Unary(op).saved(((3, 5),), (3, 5), 2) == ("in0",)
    assert Unary("sign").saved(((3, 5),), (3, 5), 2) == ()
    with pytest.raises(SpecError):
        Unary("tanh2")


def test_clamp() -> None:
    x, out = ((3, 5),), (3, 5)
    # one comparison per bound and element: 15 elements
    assert Clamp(0.0, 6.0).flops(x, out) == 30
    assert Clamp(max=4.6).flops(x, out) == 15
    assert Clamp(min=0.0).flops(x, out) == 15
    assert Clamp(tensor_bounds=2).flops(x, out) == 30
    assert Clamp(1.0, tensor_bounds=1).flops(x, out) == 30
    assert Clamp(0.0, 6.0).out_shape(x) == (3, 5)
    assert Clamp(0.0, 6.0).geometry(x, out) == POINTWISE
    # the bound buffers: one element each
    assert Clamp(0.0, 6.0).buffers(x) == 0
    assert Clamp(tensor_bounds=2).buffers(x) == 2
    assert Clamp(0.0, 6.0).saved(x, out, 2) == ("in0",)
    s = Clamp(tensor_bounds=2).saved(x, out, 2)
    assert _saved(s) == ["in0", (2, None)]
    assert s[1].buffer
    assert s[1].what == "the bound buffers"


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"min": float("inf")}, "must be a finite number or None"),
        ({"max": float("nan")}, "must be a finite number or None"),
        ({"min": "0"}, "must be a finite number or None"),
        ({"max": True}, "must be a finite number or None"),
        ({"min": 0.0, "tensor_bounds": 3}, "must be 0, 1 or 2"),
        ({"min": 0.0, "tensor_bounds": -1}, "must be 0, 1 or 2"),
        ({"min": 0.0, "tensor_bounds": True}, "must be 0, 1 or 2"),
        ({"min": 0.0, "tensor_bounds": 1.0}, "must be 0, 1 or 2"),
        ({}, "must be a number when max is None"),
    ],
)
def test_clamp_validation(kw: dict, msg: str) -> None:
    with pytest.raises(SpecError, match=msg):
        Clamp(**kw)


# ---------------------------------------------------------------- torch's axes


def _call(inputs: tuple, layouts: tuple) -> TorchCall:
    return TorchCall("Tensor.sum", "method", None, (), {}, inputs, layouts, ())


def test_torch_axis() -> None:
    # std (N, 3, 5, 7): torch's dim 1 is per-sample axis 0; -1 stays -1 (after the batch)
    std = _call(((3, 5, 7),), ("std",))
    assert torch_axis(std, 1) == 0
    assert torch_axis(std, 3) == 2
    assert torch_axis(std, -1) == -1
    assert torch_axis(std, -3) == -3
    for d in (0, -4):
        with pytest.raises(UnsupportedError, match="over the batch axis \\(dim 0\\)"):
            torch_axis(std, d)
    for d in (4, -5, True, None):
        with pytest.raises(UnsupportedError, match="of a tensor of 4 dimensions"):
            torch_axis(std, d)
    # batch@1 (3, N, 5, 7): torch's 0 is axis 0, 2 is axis 1, -1 stays -1, -3 is the batch
    b1 = _call(((3, 5, 7),), ("batch@1",))
    assert torch_axis(b1, 0) == 0
    assert torch_axis(b1, 2) == 1
    assert torch_axis(b1, -1) == -1
    assert torch_axis(b1, -4) == 0
    with pytest.raises(UnsupportedError, match="over the batch axis \\(dim 1\\)"):
        torch_axis(b1, -3)
    # fold (N·3, 5, 7): the per-sample axes are torch's; axis 0 holds the batch
    fold = _call(((3, 5, 7),), ("fold",))
    assert torch_axis(fold, 1) == 1
    assert torch_axis(fold, -1) == 2
    with pytest.raises(UnsupportedError, match="of a tensor of 3 dimensions"):
        torch_axis(fold, 3)
    # const: no batch axis at all
    const = _call(((3, 5, 7),), ("const",))
    assert torch_axis(const, 0) == 0
    assert torch_axis(const, 2) == 2
    assert torch_axis(const, -1) == -1
    assert torch_axis(const, -3) == -3
    for d in (3, -4):
        with pytest.raises(UnsupportedError, match="^dim -?[34] of a tensor of 3 dimensions$"):
            torch_axis(const, d)
    # nhwc (N, H, W, C) holds (C, H, W): torch's 3 is C (0), 1 is H (1), 2 is W (2)
    nhwc = _call(((4, 5, 6),), ("nhwc",))
    assert [torch_axis(nhwc, d) for d in (1, 2, 3, -1, -3)] == [1, 2, 0, 0, 1]
    for d in (0, -4):
        with pytest.raises(
            UnsupportedError, match="^an operation over the batch axis \\(dim 0\\)$"
        ):
            torch_axis(nhwc, d)
    with pytest.raises(UnsupportedError, match="in layout bcast"):
        torch_axis(_call(((3, 5, 7),), ("bcast",)), 1)
    # the axis of input 1
    two = _call(((3,), (3, 5, 7)), ("std", "std"))
    assert torch_axis(two, 3, 1) == 2


def test_axis() -> None:
    # an axis of a rank-3 tensor: -3 ... 2, counted from the end when negative
    assert [_axis("K", d, 3) for d in (0, 2, -1, -3)] == [0, 2, 2, 0]
    for d in (3, -4, True, "1", 1.0):
        with pytest.raises(ShapeError, match=f"^K: axis {d!r} is not an axis of a rank-3 tensor$"):
            _axis("K", d, 3)


def test_traced() -> None:
    # n activations in one layout with the batch at one axis, or all constants: accepted
    for layouts in (("std",), ("fold",), ("batch@1",), ("const",), ("nhwc",)):
        _traced(_call(((3, 5),), layouts), 1, "an op")
    _traced(_call(((3, 5), (3, 5)), ("batch@2", "batch@2")), 2, "an op")
    refused = [
        _call(((3, 5), (5,)), ("std", "std")),  # two inputs for one
        _call(((3, 5), (5,)), ("std", "const")),  # an activation and a constant
        _call(((3, 5), (5,)), ("std", "fold")),  # two layouts
        _call(((3, 5),), ("bcast",)),  # no batch axis
        _call(((3, 5),), ("batch@x",)),
    ]
    for call in refused:
        with pytest.raises(
            UnsupportedError, match="^an op of 1 activations with the batch at one axis; got"
        ):
            _traced(call, 1, "an op")
    with pytest.raises(UnsupportedError, match=r"got 2 \(\(3, 5\) \(std\), \(5,\) \(const\)\)$"):
        _traced(refused[1], 1, "an op")
    # a parameter among the arguments
    w = TensorArg((5,), param="blocks.0.weight", is_param=True)
    call = TorchCall(
        "torch.mul",
        "function",
        None,
        (TensorArg((2, 3, 5), index=0), w),
        {},
        ((3, 5),),
        ("std",),
        (),
    )
    with pytest.raises(UnsupportedError, match="and the parameters 'blocks.0.weight'$"):
        _traced(call, 1, "an op")
    b = TensorArg((5,), param="blocks.0.bias", is_param=True)
    call = TorchCall(
        "torch.addcmul", "function", None, (call.args[0], w, b), {}, ((3, 5),), ("std",), ()
    )
    with pytest.raises(UnsupportedError, match="parameters 'blocks.0.weight', 'blocks.0.bias'$"):
        _traced(call, 1, "an op")


def test_dims_arg() -> None:
    std = _call(((3, 5, 7),), ("std",))
    assert _dims_arg(std, 1) == (0,)
    assert _dims_arg(std, [1, -1]) == (0, -1)
    assert _dims_arg(std, (3, 2)) == (2, 1)
    for v in (None, [], ()):
        with pytest.raises(
            UnsupportedError, match=r"^Tensor.sum over every axis \(the batch axis too\)$"
        ):
            _dims_arg(std, v)
    with pytest.raises(UnsupportedError, match="over the batch axis"):
        _dims_arg(std, [1, 0])


def test_batch_leads() -> None:
    # the batch among the leading axes of a matrix product: torch rank >= 3, batch at <= rank - 3
    for shape, layout in (((5, 4), "std"), ((3, 5, 4), "batch@1"), ((3, 5, 4), "fold")):
        _batch_leads(_call((shape,), (layout,)), "a product")
    refused = [
        (((4,), "std"), "torch rank 2 with the batch at axis 0"),
        (((5, 4), "batch@1"), "torch rank 3 with the batch at axis 1"),
        (((3, 5, 4), "batch@2"), "torch rank 4 with the batch at axis 2"),
        (((5, 4), "fold"), "torch rank 2 with the batch at axis 0"),
        (((3, 5, 4), "bcast"), "torch rank 4 with the batch at axis None"),
    ]
    for (shape, layout), what in refused:
        with pytest.raises(UnsupportedError) as err:
            _batch_leads(_call((shape,), (layout,)), "a product")
        assert str(err.value) == (
            f"a product of operands of {what}; archcalc needs the batch among the leading "
            f"axes (rank >= 3)"
        )
