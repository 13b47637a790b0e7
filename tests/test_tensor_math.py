"""Compute ops on tensors of any rank (archcalc/kinds/tensor_math.py, the broadcasting merges,
LayerScale on tokens, Linear and LayerNorm on rank-3 tensors): every rule derived by hand, each
foreign convention measured with the installed tools on a real torch module (and on archcalc's
own build of the same model), what autograd saves measured in torch, and the import of the
written-out attention of a transformer.

Measured with torch 2.14.1 (CPU), fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1, torchinfo 1.8.0.
Sizes: a batch of N=2, H=3 heads, L=5 queries, S=7 keys, E=4 channels per head.
"""

from __future__ import annotations

import math

import pytest
from foreign_tools import tool_totals

import archcalc
from archcalc import Builder
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import (
    GLOBAL,
    Add,
    Clamp,
    Div,
    Einsum,
    Extra,
    LayerNorm,
    LayerScale,
    Linear,
    LinearBiasInput,
    MaskedScaledDotProductAttention,
    Matmul,
    Mul,
    Normalize,
    Pow,
    Reduce,
    ScaledDotProductAttention,
    Shift,
    Softmax,
    Sub,
    Unary,
)
from archcalc.kinds.arith import Scale

N, H, L, S, E = 2, 3, 5, 7, 4
POINTWISE = ((1, 1, 0), (1, 1, 0))


# ---------------------------------------------------------------- rules, by hand


def test_matmul_by_hand():
    m = Matmul()
    ins = ((H, L, E), (H, E, S))
    assert m.out_shape(ins) == (H, L, S)
    assert m.macs(ins, (H, L, S)) == H * L * E * S  # per head an L×E by E×S product
    assert m.flops(ins, (H, L, S)) == 2 * H * L * E * S
    assert m.geometry(ins, (H, L, S)) is GLOBAL
    # fvcore matmul_flop_jit: numel of the first operand (batch included) · n
    assert m.count_fvcore(ins, (H, L, S), N) == N * (H * L * E) * S
    # a broadcast first operand (1, L, E) is counted once by fvcore, H times by the MACs
    bc = ((1, L, E), (H, E, S))
    assert m.out_shape(bc) == (H, L, S)
    assert m.count_fvcore(bc, (H, L, S), N) == N * (1 * L * E) * S
    assert m.count_flopcounter(bc, (H, L, S), N) == 2 * N * H * L * E * S
    # ptflops patches torch.matmul and Tensor.matmul, not the @ operator
    assert m.count_ptflops_functional(ins, (H, L, S), N) == N * H * L * E * S
    assert Matmul("@").count_ptflops_functional(ins, (H, L, S), N) == 0
    # saved: both operands; the broadcast one as matmul's expanded contiguous copy
    assert m.saved(ins, (H, L, S), N) == ("in0", "in1")
    assert m.saved(bc, (H, L, S), N) == (Extra(N * H * L * E, None, "operand 0 expanded"), "in1")
    with pytest.raises(archcalc.ShapeError, match="inner sizes differ"):
        m.out_shape(((H, L, E), (H, E + 1, S)))
    # a lower-rank second operand (x @ w, w a parameter) broadcasts: trailing axes aligned
    assert m.out_shape(((H, L, E), (E, S))) == (H, L, S)
    with pytest.raises(archcalc.ShapeError, match="rank >= 2 per sample"):
        m.out_shape(((E,), (E, S)))
    with pytest.raises(archcalc.ShapeError, match="bmm"):
        Matmul("bmm").out_shape(ins)
    with pytest.raises(archcalc.SpecError, match="must be one of"):
        Matmul("mm")


def test_einsum_by_hand():
    e = Einsum("hld,hmd->hlm")
    ins = ((H, L, E), (H, S, E))
    assert e.out_shape(ins) == (H, L, S)
    assert e.macs(ins, (H, L, S)) == H * L * S * E  # every combination of h, l, m, d once
    assert e.flops(ins, (H, L, S)) == 2 * H * L * S * E  # d is summed: multiply and add
    outer = Einsum("hl,hm->hlm")  # nothing summed: products only
    assert outer.flops(((H, L), (H, S)), (H, L, S)) == H * L * S
    assert outer.count_flopcounter(((H, L), (H, S)), (H, L, S), N) == 0  # aten::mul
    # fvcore's special case 'abc,abd->acd' (the batch letter renamed a): exactly N·MACs
    kv = Einsum("lc,ld->cd")
    assert kv.count_fvcore(((L, E), (L, S)), (E, S), N) == N * L * E * S
    # any other equation: np.einsum_path's printed cost 2·N·MACs + 1 to 4 digits, halved
    big = ((3, 197, 64), (3, 197, 64))
    cost = 2 * (N * 3 * 197 * 197 * 64) + 1  # 29,805,313 printed as 2.981e+07
    assert (
        e.count_fvcore(big, (3, 197, 197), N)
        == 29_810_000 // 2
        == math.floor(float(f"{cost:.3e}") / 2)
    )
    assert e.saved(ins, (H, L, S), N) == ("in0", "in1")
    # a parameter as the second operand (mvitv2's 'byhwc,hkc->byhwk'): no batch letter, so
    # fvcore's renamed equation is 'abc,cd->abd' here, not its special case
    # a batch folded into the first letter (SAM's (N·heads, h, w, c) queries): the model's
    # equation is the per-sample one, 'abcd,bed->abce' after fvcore's renaming: no special
    # case, the rounded cost
    sam = Einsum("bhwc,hkc->bhwk", second_batched=False, folded=True)
    sam_ins = ((H, L, L, E), (L, S, E))
    assert sam.out_shape(sam_ins) == (H, L, L, S)
    total = N * H * L * L * E * S
    assert sam.count_fvcore(sam_ins, (), N) == math.floor(float(f"{2 * total + 1:.3e}") / 2)
    # a table of positions read per query position: the field kept; over tokens: global
    assert sam.geometry(sam_ins, ()) == POINTWISE
    assert Einsum("lc,lk->ck", second_batched=False).geometry(((L, E), (L, S)), ()) is GLOBAL
    assert e.geometry(ins, (H, L, S)) is GLOBAL
    rel = Einsum("lc,kc->lk", second_batched=False)
    assert rel.out_shape(((L, E), (S, E))) == (L, S)
    cost = 2 * N * L * E * S + 1
    assert rel.count_fvcore(((L, E), (S, E)), (L, S), N) == math.floor(float(f"{cost:.3e}") / 2)
    for bad in ("hld,hmd", "hld->hl", "h...d,hmd->hm", "hhd,hmd->hm", "hld,hmd->hlz"):
        with pytest.raises(archcalc.SpecError, match="explicit equation of two operands"):
            Einsum(bad)
    with pytest.raises(archcalc.ShapeError, match="'d' is 4 and 5"):
        e.out_shape(((H, L, E), (H, S, E + 1)))


def test_softmax_reductions_normalize_by_hand():
    x = ((H, L, S),)
    sm = Softmax(-1)
    assert sm.out_shape(x) == (H, L, S) and sm.flops(x, (H, L, S)) == 5 * H * L * S
    assert sm.saved(x, (H, L, S), N) == ("out",)  # softmax's backward reads its output
    # thop count_softmax on nn.Softmax: per row of n = S values, n exp + (n - 1) adds + n div
    assert sm.count_thop(x, (H, L, S), N) == N * H * L * (3 * S - 1)
    assert Softmax(-1, "Tensor.softmax").count_thop(x, (H, L, S), N) == 0
    assert sm.count_ptflops_functional(x, (H, L, S), N) == N * H * L * S
    # receptive field: over the channels of tokens (L, C) pointwise, over the tokens global
    assert Softmax(-1).geometry(((L, E),), (L, E)) == POINTWISE
    assert Softmax(0).geometry(((L, E),), (L, E)) is GLOBAL
    assert Softmax(0).geometry(((E, L, S),), (E, L, S)) == POINTWISE  # channels of a map
    # over one spatial axis of a (C, H, W) map: unit (c, i, j) reads row i whole and no other
    # row (gradient support: a 1 x W box), neither a local field nor the whole image: a gap.
    # (Attention scores (h, L, S) reach their softmax already GLOBAL from q·kᵀ, and the engine
    # keeps a global field without asking the next layer's geometry.)
    with pytest.raises(archcalc.UnsupportedError, match="one spatial axis"):
        Softmax(-1).geometry(x, (H, L, S))
    assert Reduce("mean", (1, 2)).geometry(((E, L, S),), (E,)) is GLOBAL  # both axes: all
    with pytest.raises(archcalc.UnsupportedError, match="rank-4"):
        Softmax(-1).geometry(((2, H, L, S),), (2, H, L, S))
    with pytest.raises(archcalc.ShapeError, match="axis 3"):
        Softmax(3).out_shape(x)

    n = H * L * S
    assert Reduce("sum", (-1,)).out_shape(x) == (H, L)
    assert Reduce("mean", (1, 2), keepdim=True).out_shape(x) == (H, 1, 1)
    # sum: n - r adds; mean: + r divides; amax: n - r comparisons; norm: n squares, n - r
    # adds, r square roots
    assert Reduce("sum", (-1,)).flops(x, (H, L)) == n - H * L
    assert Reduce("mean", (-1,)).flops(x, (H, L)) == n
    assert Reduce("amax", (-1,)).flops(x, (H, L)) == n - H * L
    assert Reduce("norm", (-1,)).flops(x, (H, L)) == 2 * n
    assert Reduce("sum", (-1,)).saved(x, (H, L), N) == ()
    assert Reduce("norm", (-1,)).saved(x, (H, L), N) == ("in0", "out")
    assert Reduce("mean", (0,)).geometry(((L, E),), (E,)) is GLOBAL  # mean over tokens
    # torch.max(x, dim): the values keep the int64 indices for backward, the indices nothing
    assert Reduce("max", (-1,)).flops(x, (H, L)) == n - H * L
    assert Reduce("max", (-1,)).saved(x, (H, L), N) == (Extra(N * H * L, 8, "indices (int64)"),)
    assert Reduce("argmax", (-1,)).saved(x, (H, L), N) == ()
    with pytest.raises(archcalc.SpecError, match="must be one axis for max"):
        Reduce("max", (0, 1))
    with pytest.raises(archcalc.ShapeError, match="repeated"):
        Reduce("sum", (1, -2)).out_shape(x)
    with pytest.raises(archcalc.SpecError, match="non-empty list of axes"):
        Reduce("sum", ())

    nz = Normalize(-1)
    # norms 2n, r = n / S clamps, n divides
    assert nz.flops(x, (H, L, S)) == 3 * n + H * L
    assert nz.saved(x, (H, L, S), N) == (
        "in0",
        Extra(N * H * L, None, "norms"),
        Extra(N * H * L, None, "clamped norms"),
    )


def test_elementwise_broadcasting_by_hand():
    scores, mask = (H, L, S), (1, L, S)
    # a (1, L, S) mask or bias added to (H, L, S) scores: one add per output element
    assert Add().out_shape((scores, mask)) == scores
    assert Add().flops((scores, mask), scores) == H * L * S
    assert Sub().out_shape((scores, (S,))) == scores  # trailing axes aligned
    assert Mul().out_shape(((L, E), (L, 1))) == (L, E)  # x * sigmoid(gate) on tokens
    assert Div().out_shape((scores, (H, L, 1))) == scores
    assert Div().flops((scores, (H, L, 1)), scores) == H * L * S
    assert Div().saved((scores, (H, L, 1)), scores, N) == ("in0", "in1")
    assert Pow(2).flops((scores,), scores) == H * L * S and Pow(2).saved((), (), N) == ("in0",)
    with pytest.raises(archcalc.ShapeError, match="input 1 has shape 4x5x7, which does not"):
        Add().out_shape((scores, (4, L, S)))
    with pytest.raises(archcalc.ShapeError, match="two inputs"):
        Sub().out_shape((scores, scores, scores))
    # clamp: one comparison per bound and element; its backward keeps the input
    assert Clamp(0.0, 6.0).flops((scores,), scores) == 2 * H * L * S
    assert Clamp(max=4.6).flops((scores,), scores) == H * L * S
    assert Clamp(max=4.6).saved((scores,), scores, N) == ("in0",)
    with pytest.raises(archcalc.SpecError, match="must be a number when max is None"):
        Clamp()
    # x + c, c - x: one op per element, nothing saved; ptflops sees x.add(c) only
    assert Shift(1.0, negate=True).flops((scores,), scores) == H * L * S
    assert Shift(1.0).saved((scores,), scores, N) == ()
    assert Shift(2.0).count_ptflops_functional((scores,), scores, N) == 0
    assert Shift(2.0, patched=True).count_ptflops_functional((scores,), scores, N) == (
        N * H * L * S
    )


def test_sdpa_by_hand():
    a = ScaledDotProductAttention()
    ins = ((H, L, E), (H, S, E), (H, S, E + 2))
    assert a.out_shape(ins) == (H, L, E + 2)
    # QKᵀ: H·L·S·E, AV: H·L·S·Ev
    assert a.macs(ins, (H, L, E + 2)) == H * L * S * E + H * L * S * (E + 2)
    # 2·MACs + scaling q (H·L·E) + 5 per score (H·L·S)
    assert a.flops(ins, ()) == 2 * a.macs(ins, ()) + H * L * E + 5 * H * L * S
    assert a.geometry(ins, ()) is GLOBAL
    same = ((H, L, E), (H, S, E), (H, S, E))
    # CPU: the fused flash kernel for torch ranks 3/4 with Ev = E (no flop formula, saves
    # q, k, v, the output and a float32 log-sum-exp per query), else the math path
    assert a.fused(same) and not a.fused(ins) and not a.fused(tuple((2, *s) for s in same))
    assert a.count_flopcounter(same, (H, L, E), N) == 0
    assert a.count_flopcounter(ins, (H, L, E + 2), N) == 2 * N * a.macs(ins, ())
    assert a.saved(same, (H, L, E), N) == (
        "in0",
        "in1",
        "in2",
        "out",
        Extra(N * H * L, "acc", "log-sum-exp per query"),
    )
    assert a.saved(ins, (H, L, E + 2), N) == (
        Extra(N * H * L * E, None, "scaled q"),
        Extra(N * H * S * E, None, "scaled k (transposed)"),
        Extra(N * H * L * S, None, "attention weights"),
        "in2",
    )
    with pytest.raises(archcalc.ShapeError, match="do not fit"):
        a.out_shape(((H, L, E), (H, S, E + 1), (H, S, E)))
    # multi-query attention: one key/value head broadcast over the H query heads
    mqa = ((H, L, E), (1, S, E), (1, S, E))
    assert a.out_shape(mqa) == (H, L, E) and a.macs(mqa, ()) == 2 * H * L * S * E
    assert a.fused(mqa)


def test_masked_sdpa_by_hand():
    m = MaskedScaledDotProductAttention()
    ins = ((H, L, E), (H, S, E), (H, S, E), (L, S))  # a (L, S) bias for every head
    plain = ScaledDotProductAttention()
    assert m.out_shape(ins) == (H, L, E)
    assert m.macs(ins, ()) == plain.macs(ins[:3], ()) == 2 * H * L * S * E
    assert m.flops(ins, ()) == plain.flops(ins[:3], ()) + H * L * S  # the mask's adds
    # a mask that requires grad: the math path on CPU, whatever the shapes
    assert not m.fused(ins) and m.count_flopcounter(ins, (), N) == 2 * N * m.macs(ins, ())
    assert m.saved(ins, (H, L, E), N) == plain.saved(((H, L, E), (H, S, E), (H, S, E + 2)), (), N)
    const = MaskedScaledDotProductAttention(mask_grad=False)
    assert const.fused(ins) and const.count_flopcounter(ins, (), N) == 0
    assert const.saved(ins, (H, L, E), N) == (*plain.saved(ins[:3], (H, L, E), N), "in3")
    with pytest.raises(archcalc.ShapeError, match="does not broadcast to 6x7"):
        m.out_shape((*ins[:3], (6, S)))


def test_layerscale_linear_layernorm_on_any_rank():
    tok = ((L, 12),)
    ls = LayerScale(12, channels_last=True, param="gamma")
    assert ls.out_shape(tok) == (L, 12) and ls.params(tok) == 12
    assert ls.flops(tok, (L, 12)) == L * 12  # one multiply per element
    assert ls.count_torchinfo(tok, (L, 12), N) == 0  # torchinfo skips a 'gamma'
    assert LayerScale(12, channels_last=True).count_torchinfo(tok, (L, 12), N) == N * 12
    with pytest.raises(archcalc.ShapeError, match="last axis has 5"):
        LayerScale(12, channels_last=True).out_shape(((12, L),))
    heads = ((H, L, E),)
    lin = Linear(E, 6, channels_last=True)
    assert lin.out_shape(heads) == (H, L, 6)
    assert lin.macs(heads, (H, L, 6)) == H * L * E * 6
    assert Linear(E, 6).out_shape(((E, L, S),)) == (6, L, S)  # a map: its channels (axis 0)
    assert LayerNorm(E).out_shape(heads) == heads[0]


# ---------------------------------------------------------------- the tools on real modules

torch = pytest.importorskip("torch")
at = pytest.importorskip("archcalc.torch")
nn = torch.nn
F = torch.nn.functional

_CONVENTIONS = ("fvcore", "flopcounter", "ptflops", "thop", "torchinfo")
ZERO = dict.fromkeys(_CONVENTIONS, 0)


def _ours(model) -> dict[str, object]:
    shapes = infer_shapes(model)
    return {c: sum(count(model, shapes, N, c).values()) for c in _CONVENTIONS}


class _Fn(nn.Module):
    def __init__(self, fn, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            setattr(self, k, v)

    def forward(self, x):
        return self.fn(self, x)


def _model(shape, *nodes):
    """A Builder model: nodes are (name, layer, inputs, via)."""
    b = Builder("m", shape)
    for name, layer, inputs, via in nodes:
        b.add(name, layer, *inputs, via=via)
    return b.build()


def _case_matmul():
    x = (N, H, L, L)
    macs = N * H * L * L * L
    net = _Fn(lambda s, x: torch.matmul(x, x))
    m = _model(x[1:], ("matmul", Matmul(), ("input", "input"), "function"))
    # fvcore matmul_flop_jit, FlopCounterMode bmm 2·MACs, ptflops' patched torch.matmul
    return net, x, m, {**ZERO, "fvcore": macs, "flopcounter": 2 * macs, "ptflops": macs}


def _case_matmul_broadcast():
    x = (N, H, L, L)
    net = _Fn(lambda s, x: x.mean(1, keepdim=True) @ x)
    m = _model(
        x[1:],
        ("mean", Reduce("mean", (0,), keepdim=True), ("input",), "method"),
        ("matmul", Matmul("@"), ("mean", "input"), "method"),
    )
    # fvcore: the (N, 1, L, L) first operand's numel · L; FlopCounterMode: the expanded bmm;
    # ptflops: neither Tensor.mean nor @ is patched
    return net, x, m, {**ZERO, "fvcore": N * L * L * L, "flopcounter": 2 * N * H * L**3}


def _case_bmm():
    x = (N, L, L)
    net = _Fn(lambda s, x: torch.bmm(x, x))
    m = _model(x[1:], ("bmm", Matmul("bmm"), ("input", "input"), "function"))
    return net, x, m, {**ZERO, "fvcore": N * L**3, "flopcounter": 2 * N * L**3, "ptflops": N * L**3}


def _case_einsum():
    x = (N, H, 20, E)
    net = _Fn(lambda s, x: torch.einsum("bhld,bhmd->bhlm", x, x))
    m = _model(x[1:], ("einsum", Einsum("hld,hmd->hlm"), ("input", "input"), "function"))
    macs = N * H * 20 * 20 * E  # 9600: printed 1.920e+04 + 1 -> 1.920e+04, halved: 9600
    return net, x, m, {**ZERO, "fvcore": macs, "flopcounter": 2 * macs}


def _case_softmax_functional():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: F.softmax(x, dim=-1))
    m = _model(x[1:], ("softmax", Softmax(-1), ("input",), "function"))
    return net, x, m, {**ZERO, "ptflops": N * H * L * S}  # patched F.softmax: input numel


def _case_softmax_module():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: s.sm(x), sm=nn.Softmax(dim=-1))
    m = _model(x[1:], ("sm", Softmax(-1), ("input",), "module"))
    # ptflops: no hook, but nn.Softmax calls the patched F.softmax; thop count_softmax
    return net, x, m, {**ZERO, "ptflops": N * H * L * S, "thop": N * H * L * (3 * S - 1)}


def _case_softmax_method():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: x.softmax(-1))
    m = _model(x[1:], ("softmax", Softmax(-1, "Tensor.softmax"), ("input",), "method"))
    return net, x, m, dict(ZERO)


def _case_reductions():
    x = (N, H, L, S)
    net = _Fn(
        lambda s, x: torch.linalg.vector_norm(
            x.amax(-1, keepdim=True) / x.norm(dim=1, keepdim=True).sum(-1, keepdim=True),
            dim=(1,),
        )
    )
    m = _model(
        x[1:],
        ("amax", Reduce("amax", (-1,), keepdim=True), ("input",), "method"),
        ("norm", Reduce("norm", (0,), keepdim=True), ("input",), "function"),
        ("sum", Reduce("sum", (-1,), keepdim=True), ("norm",), "method"),
        ("truediv", Div(), ("amax", "sum"), "method"),
        ("linalg_vector_norm", Reduce("norm", (0,)), ("truediv",), "function"),
    )
    return net, x, m, dict(ZERO)  # no tool counts a reduction or a division


def _case_normalize_pow_sub():
    x = (N, L, 12)
    net = _Fn(lambda s, x: F.normalize(x, dim=-1) ** 2 - x.pow(3))
    m = _model(
        x[1:],
        ("normalize", Normalize(-1), ("input",), "function"),
        ("pow", Pow(2), ("normalize",), "function"),
        ("pow_1", Pow(3), ("input",), "method"),
        ("sub", Sub(), ("pow", "pow_1"), "method"),
    )
    return net, x, m, dict(ZERO)


def _case_sdpa(rank5: bool):
    x = (N, 2, H, L, E) if rank5 else (N, H, L, E)
    net = _Fn(lambda s, x: F.scaled_dot_product_attention(x, x, x))
    a = ScaledDotProductAttention()
    m = _model(x[1:], ("sdpa", a, ("input", "input", "input"), "function"))
    # no fvcore handle; FlopCounterMode counts the math path's bmm (QKᵀ and AV), 0 fused
    macs = math.prod(x[:-1]) * x[-2] * 2 * E
    return net, x, m, {**ZERO, "flopcounter": 2 * macs if rank5 else 0}


def _case_broadcast_merges():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: (x + x.mean(1, keepdim=True)) * x.amax((1, 2), keepdim=True))
    m = _model(
        x[1:],
        ("mean", Reduce("mean", (0,), keepdim=True), ("input",), "method"),
        ("add", Add(), ("input", "mean"), "method"),
        ("amax", Reduce("amax", (0, 1), keepdim=True), ("input",), "method"),
        ("mul", Mul(), ("add", "amax"), "method"),
    )
    return net, x, m, dict(ZERO)  # aten::add / mul unhandled; the operators not patched


def _case_timm_layerscale():
    from timm.layers import LayerScale as TimmLayerScale

    x = (N, L, 12)
    net = _Fn(lambda s, x: s.ls(x), ls=TimmLayerScale(12))
    m = _model(
        x[1:], ("ls", LayerScale(12, channels_last=True, param="gamma"), ("input",), "module")
    )
    return net, x, m, dict(ZERO)  # torchinfo multiplies only 'weight'/'bias' parameters


def _case_linear_layernorm_rank4():
    x = (N, H, L, E)
    net = _Fn(lambda s, x: s.fc(s.ln(x)), ln=nn.LayerNorm(E), fc=nn.Linear(E, 6))
    m = _model(
        x[1:],
        ("ln", LayerNorm(E), ("input",), "module"),
        ("fc", Linear(E, 6, channels_last=True), ("ln",), "module"),
    )
    n = N * H * L * E
    return (
        net,
        x,
        m,
        {
            # layer_norm 5 per element (affine); linear_flop_jit: input numel · out_features
            "fvcore": 5 * n + n * 6,
            "flopcounter": 2 * n * 6,  # addmm only
            # bn hook: input numel; linear hook (E·6 + 6) per position; ÷ N
            "ptflops": H * L * E + H * L * (E * 6 + 6),
            "thop": 4 * n + E * N * H * L * 6,  # calculate_norm 2·2 (affine); in · out numel
            "torchinfo": N * (2 * E) + N * (E * 6 + 6),  # weight + bias numel × batch each
        },
    )


def _case_shift():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: (1.0 - x).add(2.0) - 3.0 + 0.0)
    m = _model(
        x[1:],
        ("sub", Shift(1.0, negate=True), ("input",), "function"),
        ("add", Shift(2.0, patched=True), ("sub",), "method"),
        ("sub_1", Shift(-3.0), ("add",), "method"),
    )  # + 0.0 is the input itself
    # only x.add(c) is patched by ptflops (_elementwise_tensor_flops_hook: input numel)
    return net, x, m, {**ZERO, "ptflops": N * H * L * S}


def _case_einsum_parameter():
    x = (N, L, E)
    net = _Fn(
        lambda s, x: torch.einsum("blc,kc->blk", x, s.rel), rel=nn.Parameter(torch.randn(S, E))
    )
    return net, x, None, {**ZERO, "fvcore": N * L * E * S, "flopcounter": 2 * N * L * E * S}


def _case_max():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: x.max(-1, keepdim=True)[0] * x.amin(1, keepdim=True))
    m = _model(
        x[1:],
        ("max", Reduce("max", (-1,), keepdim=True), ("input",), "method"),
        ("amin", Reduce("amin", (0,), keepdim=True), ("input",), "method"),
        ("mul", Mul(), ("max", "amin"), "method"),
    )
    return net, x, m, dict(ZERO)  # aten::max is in fvcore's _IGNORED_OPS, amin unhandled


def _case_unary():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: (2.0 / x).sin() + torch.rsqrt(x.exp()) + 1 / x.abs())
    m = _model(
        x[1:],
        ("truediv", Unary("reciprocal"), ("input",), "function"),
        ("truediv_scale", Scale(2.0), ("truediv",), "function"),
        ("sin", Unary("sin"), ("truediv_scale",), "method"),
        ("exp", Unary("exp"), ("input",), "method"),
        ("rsqrt", Unary("rsqrt"), ("exp",), "function"),
        ("add", Add(), ("sin", "rsqrt"), "method"),
        ("abs", Unary("abs"), ("input",), "method"),
        ("truediv_1", Unary("reciprocal"), ("abs",), "function"),
        ("add_1", Add(), ("add", "truediv_1"), "method"),
    )
    return net, x, m, dict(ZERO)  # no handle, no patch, no module


def _case_clamp():
    x = (N, H, L, S)
    net = _Fn(lambda s, x: x.clamp(max=4.6).clamp_min(0.1))
    m = _model(
        x[1:],
        ("clamp", Clamp(max=4.6), ("input",), "method"),
        ("clamp_min", Clamp(min=0.1), ("clamp",), "method"),
    )
    return net, x, m, dict(ZERO)  # aten::clamp ignored by fvcore, clamp_min unhandled


def _case_patched_products():
    x = (N, 6, L, L)
    net = _Fn(
        lambda s, x: torch.mul(x, x.amax(1, keepdim=True)).add(x).mul(s.gamma.reshape(1, -1, 1, 1)),
        gamma=nn.Parameter(torch.ones(6)),
    )
    m = _model(
        x[1:],
        ("amax", Reduce("amax", (0,), keepdim=True), ("input",), "method"),
        ("mul", Mul(patched=True), ("input", "amax"), "function"),
        ("add", Add(patched=True), ("mul", "input"), "method"),
        ("gamma", LayerScale(6, patched=True), ("add",), "method"),
    )
    # ptflops patches torch.mul, Tensor.add and Tensor.mul: the broadcast output's numel
    # each, over the batch; torchinfo: the root module is a leaf whose own parameter is no
    # 'weight'; fvcore: aten::mul / add unhandled
    return net, x, m, {**ZERO, "ptflops": 3 * N * 6 * L * L}


CASES = {
    "matmul": _case_matmul,
    "matmul_broadcast": _case_matmul_broadcast,
    "bmm": _case_bmm,
    "einsum": _case_einsum,
    "softmax_functional": _case_softmax_functional,
    "softmax_module": _case_softmax_module,
    "softmax_method": _case_softmax_method,
    "reductions_div": _case_reductions,
    "normalize_pow_sub": _case_normalize_pow_sub,
    "sdpa_fused": lambda: _case_sdpa(False),
    "sdpa_math": lambda: _case_sdpa(True),
    "broadcast_merges": _case_broadcast_merges,
    "timm_layerscale": _case_timm_layerscale,
    "linear_layernorm_rank4": _case_linear_layernorm_rank4,
    "shift": _case_shift,
    "max": _case_max,
    "unary": _case_unary,
    "clamp": _case_clamp,
    "patched_products": _case_patched_products,
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_tool_on_the_real_module_and_the_build(case):
    net, shape, model, hand = CASES[case]()
    net = net.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    assert tool_totals(net, x) == hand
    assert _ours(model) == hand
    built = at.to_torch(model).eval()
    assert tool_totals(built, x) == hand
    with torch.no_grad():
        assert built(x).shape == net(x).shape


@pytest.mark.parametrize("case", list(CASES))
def test_the_real_module_imports_as_the_model(case):
    net, shape, model, hand = CASES[case]()
    imported = at.from_torch(net.eval(), shape[1:])
    assert [n.layer for n in imported.live_nodes()] == [n.layer for n in model.live_nodes()]
    assert _ours(imported) == hand
    assert archcalc.summary(imported).params == sum(p.numel() for p in net.parameters())


def test_fvcore_rounds_a_general_einsum():
    # 2·(2·3·197·197·64) + 1 = 29,805,313, printed by np.einsum_path as 2.981e+07
    net = _Fn(lambda s, x: torch.einsum("bhld,bhmd->bhlm", x, x))
    x = torch.randn(N, 3, 197, 64)
    assert tool_totals(net, x)["fvcore"] == 14_905_000
    e = Einsum("hld,hmd->hlm")
    ins = ((3, 197, 64), (3, 197, 64))
    assert e.count_fvcore(ins, e.out_shape(ins), N) == 14_905_000


# ---------------------------------------------------------------- saved tensors (autograd)


def _saved_bytes(fn, leaves):
    _, storages = at.saved_tensors(fn)
    return sum(nbytes for (_, nbytes) in storages)


def _expected_bytes(layer, ins, batch):
    out = layer.out_shape(ins)
    total = 0
    for item in layer.saved(ins, out, batch):
        if isinstance(item, Extra):
            size = item.itemsize if isinstance(item.itemsize, int) else 4
            total += size * item.elements  # float32 activations and accumulators, or as said
        elif item == "out":
            total += 4 * batch * math.prod(out)
        else:
            total += 4 * batch * math.prod(ins[int(item[2:])])
    return total


def _leaf(*shape):
    return torch.randn(*shape, requires_grad=True)


SAVED = {
    # (layer, per-sample input shapes, torch function of the leaves, bytes by hand)
    "matmul": (Matmul(), ((H, L, E), (H, E, S)), torch.matmul, 4 * N * (H * L * E + H * E * S)),
    "matmul_broadcast": (
        Matmul(),
        ((1, L, E), (H, E, S)),
        torch.matmul,
        4 * N * (H * L * E + H * E * S),  # the (1, L, E) operand expanded H times, copied
    ),
    "einsum": (
        Einsum("hld,hmd->hlm"),
        ((H, L, E), (H, S, E)),
        lambda a, b: torch.einsum("bhld,bhmd->bhlm", a, b),
        4 * N * (H * L * E + H * S * E),
    ),
    "softmax": (Softmax(-1), ((H, L, S),), lambda x: x.softmax(-1), 4 * N * H * L * S),
    "sum": (Reduce("sum", (-1,)), ((H, L, S),), lambda x: x.sum(-1), 0),
    "amax": (
        Reduce("amax", (-1,)),
        ((H, L, S),),
        lambda x: x.amax(-1),
        4 * N * (H * L * S + H * L),
    ),
    "norm": (
        Reduce("norm", (1, 2)),
        ((H, L, S),),
        lambda x: torch.linalg.vector_norm(x, dim=(2, 3)),
        4 * N * (H * L * S + H),
    ),
    "max": (
        Reduce("max", (-1,)),
        ((H, L, S),),
        lambda x: x.max(-1)[0],
        8 * N * H * L,  # the int64 indices of the maxima
    ),
    "clamp": (Clamp(0.0, 0.5), ((H, L, S),), lambda x: x.clamp(0.0, 0.5), 4 * N * H * L * S),
    "normalize": (
        Normalize(-1),
        ((H, L, S),),
        lambda x: F.normalize(x, dim=-1),
        4 * N * (H * L * S + 2 * H * L),  # input, norms, clamped norms
    ),
    "div": (Div(), ((H, L, S), (H, L, 1)), torch.div, 4 * N * (H * L * S + H * L)),
    "pow": (Pow(3.0), ((H, L, S),), lambda x: x**3.0, 4 * N * H * L * S),
    "sdpa_fused": (
        ScaledDotProductAttention(),
        ((H, L, E), (H, S, E), (H, S, E)),
        F.scaled_dot_product_attention,
        # q, k, v, the output, a float32 log-sum-exp per query
        4 * N * (H * L * E + 2 * H * S * E + H * L * E + H * L),
    ),
    "sdpa_multi_query": (
        ScaledDotProductAttention(),
        ((H, L, E), (1, S, E), (1, S, E)),
        F.scaled_dot_product_attention,
        # fused: q, the one k and v head, the output, the log-sum-exp per query and head
        4 * N * (H * L * E + 2 * S * E + H * L * E + H * L),
    ),
    "sdpa_math": (
        ScaledDotProductAttention(),
        ((H, L, E), (H, S, E), (H, S, E + 2)),
        F.scaled_dot_product_attention,
        # scaled q, scaled kᵀ, the weights, v
        4 * N * (H * L * E + H * S * E + H * L * S + H * S * (E + 2)),
    ),
    "sdpa_learned_mask": (
        MaskedScaledDotProductAttention(),
        ((H, L, E), (H, S, E), (H, S, E), (H, L, S)),
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        # a mask requiring grad: the math path (scaled q, scaled kᵀ, the weights, v)
        4 * N * (H * L * E + H * S * E + H * L * S + H * S * E),
    ),
}


@pytest.mark.parametrize("case", list(SAVED))
def test_saved_tensors_measured_by_autograd(case):
    layer, ins, fn, hand = SAVED[case]
    leaves = [_leaf(N, *s) for s in ins]
    assert _saved_bytes(lambda: fn(*leaves), leaves) == hand == _expected_bytes(layer, ins, N)


@pytest.mark.parametrize("case", list(CASES))
def test_training_memory_equals_autograd_on_the_build(case):
    # the summary's bytes kept for backward against torch's measurement of the same model
    # built by archcalc.torch (a training-mode step with the input requiring grad)
    _, _, model, _ = CASES[case]()
    got = at.measure(model, batch=N, input_requires_grad=True)["saved_bytes"]
    s = archcalc.summary(model, batch=N, input_requires_grad=True)
    assert s.memory.saved_for_backward_bytes == got


#: each elementwise function's backward keeps, by hand: its output or its input (N·H·L
#: float32 elements), or nothing (sign's gradient is 0)
UNARY_KEEPS = {
    "exp": 1, "log": 1, "sqrt": 1, "rsqrt": 1, "reciprocal": 1,
    "sin": 1, "cos": 1, "abs": 1, "erf": 1, "sign": 0,
}  # fmt: skip


@pytest.mark.parametrize("op", list(UNARY_KEEPS))
def test_unary_saved_by_autograd(op):
    x = (torch.rand(N, H, L) + 0.5).requires_grad_()  # positive: log, sqrt defined
    hand = UNARY_KEEPS[op] * 4 * N * H * L
    assert _saved_bytes(lambda: getattr(torch, op)(x), [x]) == hand
    assert hand == _expected_bytes(Unary(op), ((H, L),), N)


# ---------------------------------------------------------------- receptive fields, import


def test_receptive_fields_of_token_ops():
    b = Builder("t", (L, 12))
    b.add("over_channels", Softmax(-1), via="method")
    b.add("scale", LayerScale(12, channels_last=True))
    s = archcalc.summary(b.build())
    assert not s.layers[-1].rf.is_global  # per token: the field of the token itself
    b.add("over_tokens", Softmax(0), via="method")
    assert archcalc.summary(b.build()).layers[-1].rf.is_global
    b2 = Builder("q", (L, L))
    b2.add("scores", Matmul("@"), "input", "input")
    assert archcalc.summary(b2.build()).layers[-1].rf.is_global


class _WrittenOut(nn.Module):
    """A transformer block's attention written out (timm style), and the fused kernel."""

    def __init__(self, c=12, heads=H):
        super().__init__()
        self.heads = heads
        self.ln = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.ln(x)).reshape(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * 0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        y = (a @ v).transpose(1, 2).reshape(b, n, c)
        y = y + F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
        return self.proj(y).mean(1)


def test_written_out_attention_imports_exactly():
    net = _WrittenOut().eval()
    x = torch.randn(N, L, 12)
    imported = at.from_torch(net, (L, 12))
    kinds = [n.layer.kind for n in imported.live_nodes()]
    for k in ("Matmul", "Softmax", "ScaledDotProductAttention", "Reduce"):
        assert k in kinds
    assert archcalc.summary(imported).params == sum(p.numel() for p in net.parameters())
    assert _ours(imported) == tool_totals(net, x)
    # every output sees every token, or the field is an explicit gap (T's Reshape), never
    # a local number
    s = archcalc.summary(imported)
    assert s.rf_gap is not None or s.layers[-1].rf.is_global


class _WithParams(nn.Module):
    """Products and sums with parameters used directly (swiftformer's ``query @ w_g``,
    efficientformer's learned attention biases added to the scores, rope's ``-x``)."""

    def __init__(self, c=12):
        super().__init__()
        self.w_g = nn.Parameter(torch.randn(c, 1))
        # (not named *bias*: torchinfo would count the root module's own such parameter)
        self.table = nn.Parameter(torch.zeros(1, L, L))

    def forward(self, x):  # x: (N, L, c)
        g = F.normalize(x @ self.w_g * 0.5, dim=1)  # (N, L, 1)
        scores = (x @ x.transpose(-2, -1)) + self.table  # (N, L, L) + (1, L, L)
        return -(scores.softmax(-1) @ (x * g))


def test_products_with_parameters_import_exactly():
    net = _WithParams().eval()
    x = torch.randn(N, L, 12)
    imported = at.from_torch(net, (L, 12))
    matmuls = [n.layer for n in imported.live_nodes() if n.layer.kind == "Matmul"]
    assert len(matmuls) == 3
    # x @ w_g: a per-token map (w_g the same for every sample): the field is kept
    assert matmuls[0] == Matmul("@", const_second=True)
    assert matmuls[0].geometry(((L, 12), (12, 1)), (L, 1)) == POINTWISE
    assert archcalc.summary(imported).params == 12 + L * L  # w_g and the biases, once each
    # fvcore: x @ w_g N·L·12·1, the scores N·L·12·L, softmax @ (x·g) N·L·L·12; the rest 0
    macs = N * L * 12 * 1 + N * L * 12 * L + N * L * L * 12
    hand = {**ZERO, "fvcore": macs, "flopcounter": 2 * macs}
    assert tool_totals(net, x) == hand == _ours(imported)


def test_einsum_with_a_parameter_imports_exactly():
    net, shape, _, hand = _case_einsum_parameter()
    x = torch.randn(*shape)
    # fvcore: 'abc,dc->abd' is no special case: (2·N·L·E·S + 1) = 561 printed 5.610e+02,
    # halved and floored: 280 = N·L·E·S
    assert tool_totals(net.eval(), x) == hand
    imported = at.from_torch(net, shape[1:])
    assert Einsum("lc,kc->lk", second_batched=False) in [n.layer for n in imported.live_nodes()]
    assert _ours(imported) == hand
    assert archcalc.summary(imported).params == S * E


class _BiasedAttention(nn.Module):
    """Attention with a learned relative-position bias as sdpa's mask (MaxViT, CoAtNet)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(E, 3 * E)
        self.table = nn.Parameter(torch.zeros(H, L, L))  # (not named *bias*: torchinfo)

    def forward(self, x):  # x: (N, H, L, E)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=self.table)


def test_attention_with_a_learned_mask_imports_exactly():
    net = _BiasedAttention().eval()
    x = torch.randn(N, H, L, E)
    imported = at.from_torch(net, (H, L, E))
    assert MaskedScaledDotProductAttention() in [n.layer for n in imported.live_nodes()]
    assert archcalc.summary(imported).params == 3 * E * E + 3 * E + H * L * L
    qkv = N * H * L * E * 3 * E  # the projection's MACs
    scores = N * H * L * L * E * 2  # QKᵀ and AV
    # fvcore: linear only (no sdpa handle); FlopCounterMode: the mask requires grad, so the
    # math path's bmm count besides the projection's addmm; ptflops: the Linear hook per
    # position (÷ N) only; thop: count_linear; torchinfo: the Linear's weight + bias × N
    hand = {
        "fvcore": qkv,
        "flopcounter": 2 * qkv + 2 * scores,
        "ptflops": H * L * (E * 3 * E + 3 * E),
        "thop": qkv,
        "torchinfo": N * (3 * E * E + 3 * E),
    }
    assert tool_totals(net, x) == hand == _ours(imported)


class _Sam(nn.Module):
    """SAM's decomposed relative positions: queries of N·heads windows (the batch folded
    into axis 0) against a table of positions."""

    def __init__(self):
        super().__init__()
        self.rh = nn.Parameter(torch.randn(L, S, E))

    def forward(self, x):  # x: (N, H, L, L, E)
        r_q = x.reshape(-1, L, L, E)  # (N·H, L, L, E)
        return torch.einsum("bhwc,hkc->bhwk", r_q, self.rh)


def test_einsum_of_a_folded_batch_imports_exactly():
    net = _Sam().eval()
    x = torch.randn(N, H, L, L, E)
    imported = at.from_torch(net, (H, L, L, E))
    e = Einsum("bhwc,hkc->bhwk", second_batched=False, folded=True)
    assert e in [n.layer for n in imported.live_nodes()]
    total = N * H * L * L * E * S  # 8400; 2·8400 + 1 = 16801 printed 1.680e+04: 8400
    hand = {
        **ZERO,
        "fvcore": math.floor(float(f"{2 * total + 1:.3e}") / 2),
        "flopcounter": 2 * total,
    }
    assert tool_totals(net, x) == hand == _ours(imported)


class _FoldedTimmAttention(nn.Module):
    """timm's Attention on N·k sequences, the batch folded into axis 0 (MobileViT's
    patches): every count is k times one sequence's."""

    def __init__(self):
        super().__init__()
        from timm.layers.attention import Attention

        self.attn = Attention(12, num_heads=H, qkv_bias=True)

    def forward(self, x):  # x: (N, k, L, 12)
        n, k, length, c = x.shape
        return self.attn(x.reshape(n * k, length, c)).reshape(n, k, length, c)


def test_timm_attention_on_a_folded_batch_imports_exactly():
    net = _FoldedTimmAttention().eval()
    k = 4
    x = torch.randn(N, k, L, 12)
    imported = at.from_torch(net, (k, L, 12))
    assert archcalc.summary(imported).params == 4 * 12 * 12 + 3 * 12 + 12
    # per sequence (timm Attention, fused): qkv + proj MACs 4·L·E² under fvcore; the
    # ptflops hook: q scaling L·E, QKᵀ and AV 2·L²·E, softmax h·L²; thop the children
    seq_proj, seq_hook = 4 * L * 12 * 12, L * 12 + 2 * L * L * 12 + H * L * L
    hand = {
        "fvcore": N * k * seq_proj,
        "flopcounter": 2 * N * k * seq_proj,
        "ptflops": k * seq_hook,
        "thop": N * k * seq_proj,
        "torchinfo": N * k * (4 * 12 * 12 + 3 * 12 + 12),  # output_size[0] is N·k
    }
    assert tool_totals(net, x) == hand == _ours(imported)


class _BeitQkv(nn.Module):
    """BEiT's projection: F.linear with a bias concatenated from q and v biases and a zero
    k-bias buffer."""

    def __init__(self, c=12):
        super().__init__()
        self.qkv = nn.Linear(c, 3 * c, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("k_bias", torch.zeros(c), persistent=False)
        self.v_bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        qkv_bias = torch.cat((self.q_bias, self.k_bias, self.v_bias))
        return F.linear(x, weight=self.qkv.weight, bias=qkv_bias)


def test_linear_with_a_computed_bias_by_hand_and_imported():
    lin = LinearBiasInput(12, 36)
    ins = ((L, 12), (36,))
    assert lin.out_shape(ins) == (L, 36) and lin.params(ins) == 12 * 36  # the weight only
    assert lin.macs(ins, (L, 36)) == L * 12 * 36
    assert lin.flops(ins, (L, 36)) == 2 * L * 12 * 36 + L * 36  # + the bias adds
    with pytest.raises(archcalc.ShapeError, match="with a bias of shape 35"):
        lin.out_shape(((L, 12), (35,)))
    net = _BeitQkv().eval()
    x = torch.randn(N, L, 12)
    imported = at.from_torch(net, (L, 12))
    assert LinearBiasInput(12, 36) in [n.layer for n in imported.live_nodes()]
    s = archcalc.summary(imported)
    assert s.params == 12 * 36 + 2 * 12 and s.buffers == 12  # q/v biases once, the k buffer
    # fvcore linear_flop_jit and FlopCounterMode's addmm: the MACs; the rest see no module
    macs = N * L * 12 * 36
    hand = {**ZERO, "fvcore": macs, "flopcounter": 2 * macs}
    assert tool_totals(net, x) == hand == _ours(imported)


class _Clippable(nn.Module):
    """Gemma 4's clippable input: torch.clamp by two 0-d buffers."""

    def __init__(self):
        super().__init__()
        self.register_buffer("input_min", torch.tensor(-1.0))
        self.register_buffer("input_max", torch.tensor(1.0))

    def forward(self, x):
        return torch.clamp(x, self.input_min, self.input_max)


def test_clamp_by_buffers_imports_exactly():
    c = Clamp(tensor_bounds=2)
    x = ((L, 12),)
    assert c.buffers(x) == 2 and c.flops(x, (L, 12)) == 2 * L * 12  # two comparisons each
    net = _Clippable().eval()
    imported = at.from_torch(net, (L, 12))
    assert [n.layer for n in imported.live_nodes()] == [c]
    s = archcalc.summary(imported)
    assert (s.params, s.buffers) == (0, 2)
    assert tool_totals(net, torch.randn(N, L, 12)) == ZERO == _ours(imported)
    # autograd keeps the input (and the two 0-d bounds, module buffers: no new memory)
    xs = torch.randn(N, L, 12, requires_grad=True)
    kept = at.saved_tensors(lambda: net(xs), exclude=list(net.buffers()))[1]
    assert sum(nb for (_, nb) in kept) == 4 * N * L * 12


def test_sdpa_on_a_folded_batch_runs_the_fused_kernel():
    # (N·2, H, L, E) in the model: torch rank 4, the fused CPU kernel (FlopCounterMode 0);
    # the same per-sample shape (2, H, L, E) batch first is rank 5: the math path
    a, shapes = ScaledDotProductAttention(folded=True), ((2, H, L, E),) * 3
    assert a.fused(shapes) and not ScaledDotProductAttention().fused(shapes)
    net = _Fn(lambda s, x: F.scaled_dot_product_attention(*(x.reshape(-1, H, L, E),) * 3))
    x = torch.randn(N, 2, H, L, E)
    imported = at.from_torch(net, (2, H, L, E))
    assert a in [n.layer for n in imported.live_nodes()]
    assert tool_totals(net, x) == ZERO == _ours(imported)


def test_patched_product_with_a_parameter_is_an_explicit_ptflops_gap():
    # x.mul(buffer): ptflops broadcasts the full shapes aligning their leading axes, which
    # depends on the buffer's rank before the import dropped its leading 1s: unknown
    net = _Fn(lambda s, x: x.mul(s.std))
    net.register_buffer("std", torch.ones(1, 6, 1, 1))  # (a parameter is a LayerScale)
    imported = at.from_torch(net, (6, L, L))
    assert Mul(patched=None) in [n.layer for n in imported.live_nodes()]
    with pytest.raises(archcalc.UnsupportedError, match="rank before broadcasting"):
        _ours(imported)
    shapes = infer_shapes(imported)
    assert sum(count(imported, shapes, N, "fvcore").values()) == 0  # the others still count


def test_linalg_norm_imports_as_the_two_norm():
    net = _Fn(lambda s, x: x / torch.linalg.norm(x, dim=-1, keepdim=True))
    imported = at.from_torch(net, (L, 12))
    assert [n.layer for n in imported.live_nodes()] == [Reduce("norm", (-1,), True), Div()]
    assert tool_totals(net, torch.randn(N, L, 12)) == ZERO == _ours(imported)
    with pytest.raises(archcalc.UnsupportedError, match="1-norm"):
        at.from_torch(_Fn(lambda s, x: torch.linalg.norm(x, ord=1, dim=-1)), (L, 12))
