"""Torch-free laws for rules that only torch tests judged before: the mutants the mutation run
of docs/testing.md ("Mutation testing") left alive in Linear (fixed weights, channels last),
LinearBiasInput, LayerScale, Pad's saved input, the attention kinds on folded sequences,
the error messages of Add, Mul and Sub, the 1-D pools' import helpers, and the words each
kind uses for the tensors it keeps (shown by ``archcalc memory --saved``). Every figure is
derived by hand in the comments.
"""

from __future__ import annotations

import pytest

from archcalc import ShapeError, UnsupportedError
from archcalc.kinds import (
    Add,
    AvgPool1d,
    BatchNorm2d,
    Conv2d,
    LayerNorm,
    LayerScale,
    Linear,
    LinearBiasInput,
    MaxPool1d,
    MaxPool2d,
    Mul,
    MultiheadAttention,
    Pad,
    Sub,
    TimmAttention,
)
from archcalc.kinds._base import Extra, TensorArg, TorchCall


def _extras(kept):
    return [(x.elements, x.itemsize, x.what, x.buffer) for x in kept if isinstance(x, Extra)]


def _refs(kept):
    return [x for x in kept if isinstance(x, str)]


# ---------------------------------------------------------------- Linear


def test_linear_with_fixed_weights():
    # F.linear(x, W, b) with W (3×4) and b (3) buffers (csatv2's DCT): no parameters,
    # 4·3 + 3 = 15 buffer elements; MACs per token 4·3, FLOPs 2·MACs. Autograd needs no
    # weight gradient, so it keeps W (for the input's gradient: dx = dy·W), not the input:
    # 12 elements, a module buffer (no new memory)
    lin = Linear(4, 3, fixed=True)
    ins = ((5, 4),)
    out = lin.out_shape(ins)
    assert out == (5, 3)
    assert lin.params(ins) == 0 and lin.buffers(ins) == 15
    assert lin.macs(ins, out) == 5 * 12 and lin.flops(ins, out) == 2 * 5 * 12
    kept = lin.saved(ins, out, 2)
    assert _refs(kept) == []
    assert _extras(kept) == [(12, None, "fixed weight", True)]
    # a trained Linear: 15 parameters, no buffers, keeps its input only
    trained = Linear(4, 3)
    assert (trained.params(ins), trained.buffers(ins)) == (15, 0)
    assert trained.saved(ins, out, 2) == ("in0",)


def test_linear_channels_last_on_rank_three():
    # torch's Linear on (2, 3, 5) acts on the last axis: (2, 3, 7); MACs 2·3·5·7 = 210
    lin = Linear(5, 7, channels_last=True)
    ins = ((2, 3, 5),)
    assert lin.out_shape(ins) == (2, 3, 7)
    assert lin.macs(ins, (2, 3, 7)) == 210


# ---------------------------------------------------------------- LinearBiasInput


def test_linear_with_a_computed_bias():
    # x (5, 8), bias (24,) computed by the model: out (5, 24); params the weight only,
    # 8·24 = 192; MACs 5·8·24 = 960; FLOPs 2·960 + one add per output element, 5·24 = 120:
    # 2040; it keeps its input (the weight is a parameter)
    lb = LinearBiasInput(8, 24)
    ins = ((5, 8), (24,))
    out = lb.out_shape(ins)
    assert out == (5, 24)
    assert lb.params(ins) == 192
    assert lb.macs(ins, out) == 960
    assert lb.flops(ins, out) == 2040
    assert lb.saved(ins, out, 2) == ("in0",)
    # rank 3 (3, 5, 8): (3, 5, 24), MACs 3·5·8·24 = 2880; a (1, 24) bias broadcasts too
    ins3 = ((3, 5, 8), (1, 24))
    assert lb.out_shape(ins3) == (3, 5, 24)
    assert lb.macs(ins3, (3, 5, 24)) == 2880


def test_linear_with_a_computed_bias_refuses_by_name():
    lb = LinearBiasInput(8, 24)
    # wrong input features (x's last axis), right bias; then right x, a bias (2, 24)
    msg = r"^LinearBiasInput\(8, 24\) on 5x6 with a bias of shape 24$"
    with pytest.raises(ShapeError, match=msg):
        lb.out_shape(((5, 6), (24,)))
    with pytest.raises(
        ShapeError, match=r"^LinearBiasInput\(8, 24\) on 5x8 with a bias of shape 2x24$"
    ):
        lb.out_shape(((5, 8), (2, 24)))
    # the features are read from the last axis, not axis 1: (8, 3) has 8 at axis 0 only
    with pytest.raises(ShapeError, match="on 8x3 with"):
        lb.out_shape(((8, 3), (24,)))


# ---------------------------------------------------------------- LayerScale


def test_layer_scale_reads_the_channels_where_they_are():
    # channels first (C, H, W): C = 4 at axis 0; channels last (H, W, C): C = 4 at axis -1
    assert LayerScale(4).out_shape(((4, 2, 3),)) == (4, 2, 3)
    assert LayerScale(4, channels_last=True).out_shape(((2, 3, 4),)) == (2, 3, 4)
    # (2, 4, 3) has 4 at axis 1 and 3 last: channels last refuses it, naming axis and size
    with pytest.raises(
        ShapeError,
        match=r"^LayerScale.channels = 4 but the input's last axis has 3 \(shape 2x4x3\)$",
    ):
        LayerScale(4, channels_last=True).out_shape(((2, 4, 3),))
    with pytest.raises(
        ShapeError,
        match=r"^LayerScale.channels = 4 but the input's channels \(axis 0\) has 2 \(shape 2x4x3\)$",
    ):
        LayerScale(4).out_shape(((2, 4, 3),))
    # a scalar per sample has no channels: refused in words, not an IndexError
    with pytest.raises(ShapeError, match=r"^LayerScale.channels = 4 but the input is a scalar"):
        LayerScale(4, channels_last=True).out_shape(((),))


# ---------------------------------------------------------------- Pad


def test_pad_keeps_its_input_only_for_reflect_and_replicate():
    # reflect/replicate padding's backward gathers the gradient by the input's positions
    # (autograd keeps the input); constant and circular padding copy: nothing kept
    ins, out = ((2, 4, 4),), (2, 6, 6)
    for mode, kept in (("reflect", ("in0",)), ("replicate", ("in0",))):
        assert Pad((1, 1, 1, 1), mode=mode).saved(ins, out, 2) == kept, mode
    for mode in ("constant", "circular"):
        assert Pad((1, 1, 1, 1), mode=mode).saved(ins, out, 2) == (), mode


# ---------------------------------------------------------------- attention on folded rows


def test_attention_on_folded_sequences_counts_every_sequence():
    # (k=3, L=5, E=8): 3 sequences per sample, batch 2: 6 sequences of 5 tokens.
    # TimmAttention(8, 2), fused: input, q/k/v 3·6·5·8 = 720, output of attention 6·5·8 =
    # 240, log-sum-exp per head and query 6·2·5 = 60 (float32 accumulate)
    att = TimmAttention(8, 2)
    ins = ((3, 5, 8),)
    out = att.out_shape(ins)
    assert out == (3, 5, 8)
    kept = att.saved(ins, out, 2)
    assert _refs(kept) == ["in0"]
    assert _extras(kept) == [
        (720, None, "q, k, v (qkv output)", False),
        (240, None, "attention output (proj input)", False),
        (60, "acc", "log-sum-exp per head and query", False),
    ]
    # unfused: scaled q 240, k and v (matmul's contiguous copies) 240 each, weights
    # 6·2·5·5 = 300, the output of attention 240
    plain = TimmAttention(8, 2, fused=False)
    assert _extras(plain.saved(ins, out, 2)) == [
        (240, None, "scaled q", False),
        (240, None, "k (matmul's contiguous copy)", False),
        (300, None, "attention weights", False),
        (240, None, "v (matmul's contiguous copy)", False),
        (240, None, "attention output (proj input)", False),
    ]
    # nn.MultiheadAttention(8, 2): q/k/v of the in-projection 720, the attention output
    # (out_proj's input) 240, log-sum-exp 60; with need_weights: scaled q 240 and the
    # averaged-over-nothing weights 6·2·5·5 = 300 instead of the log-sum-exp
    mha = MultiheadAttention(8, 2)
    assert _extras(mha.saved(ins, out, 2)) == [
        (720, None, "q, k, v (in-projection)", False),
        (240, None, "attention output (out_proj input)", False),
        (60, "acc", "log-sum-exp per head and query", False),
    ]
    weighted = MultiheadAttention(8, 2, need_weights=True)
    assert _extras(weighted.saved(ins, out, 2)) == [
        (720, None, "q, k, v (in-projection)", False),
        (240, None, "scaled q", False),
        (300, None, "attention weights", False),
        (240, None, "attention output (out_proj input)", False),
    ]


def test_attention_reads_the_channels_from_the_last_axis():
    # (3, 8, 5): 8 at axis 1 but 5 channels last: refused, naming 5
    for layer, name in (
        (TimmAttention(8, 2), "TimmAttention.dim"),
        (MultiheadAttention(8, 2), "MultiheadAttention.embed_dim"),
    ):
        with pytest.raises(ShapeError, match=rf"^{name} = 8 but the tokens have 5 channels$"):
            layer.out_shape(((3, 8, 5),))


# ---------------------------------------------------------------- merges' messages


def test_merges_name_themselves_when_shapes_do_not_broadcast():
    for layer in (Add(), Mul(), Sub()):
        with pytest.raises(
            ShapeError, match=rf"^{layer.kind}: input 1 has shape 3, which does not broadcast to 4;"
        ):
            layer.out_shape(((4,), (3,)))
    with pytest.raises(ShapeError, match=r"^Sub takes two inputs, got 3$"):
        Sub().out_shape(((4,), (4,), (4,)))


# ---------------------------------------------------------------- words for kept tensors


def test_the_words_for_kept_tensors():
    # what autograd keeps beside inputs and outputs, in the words `memory --saved` shows:
    # max pooling's argmax indices (int64), batch norm's running statistics (module
    # buffers) and its batch mean and inverse std (float32 accumulate), layer norm's mean
    # and rstd per position, and a 'same'-padded even-kernel conv's padded copy of its input
    mp = MaxPool2d(2)
    assert _extras(mp.saved(((3, 4, 4),), (3, 2, 2), 2)) == [(2 * 12, 8, "argmax indices", False)]
    bn = BatchNorm2d(3)
    assert _extras(bn.saved(((3, 4, 4),), (3, 4, 4), 2)) == [
        (6, None, "running stats", True),
        (6, "acc", "batch mean/invstd", False),
    ]
    ln = LayerNorm(8)
    assert _extras(ln.saved(((5, 8),), (5, 8), 2)) == [(2 * 10, "acc", "mean/rstd", False)]
    # Conv2d(3, 3, 2, padding='same'): torch pads (0, 1) per axis and keeps the padded
    # (3, 5, 5) copy: 2·3·25 = 150 elements
    conv = Conv2d(3, 3, 2, padding="same")
    assert _extras(conv.saved(((3, 4, 4),), (3, 4, 4), 2)) == [
        (150, None, "padded input copy", False)
    ]


# ---------------------------------------------------------------- 1-D pools' import helpers


def _pool_call(op, inputs, layouts, args=(), kwargs=None):
    return TorchCall(op, "function", None, args, kwargs or {}, inputs, layouts, ())


def test_one_d_pools_import_sizes_given_as_ints_or_one_tuples():
    x = TensorArg(0)
    # F.avg_pool1d(x, 3, (2,), [1]) on (N, C=4, L=9): kernel 3, stride 2, padding 1
    call = _pool_call("torch.nn.functional.avg_pool1d", ((4, 9),), ("std",), (x, 3, (2,), [1]))
    assert AvgPool1d.from_torch(call) == AvgPool1d(3, 2, 1)
    # F.max_pool1d(x, (3,)): stride defaults to the kernel, padding 0, dilation 1
    call = _pool_call("torch.nn.functional.max_pool1d", ((4, 9),), ("std",), (x, (3,)))
    assert MaxPool1d.from_torch(call) == MaxPool1d(3, 3, 0)


def test_one_d_pools_refuse_what_they_cannot_import():
    x = TensorArg(0)
    # a (C, H, W) map is not a sequence: the message names the kind and the shape
    for kind in (AvgPool1d, MaxPool1d):
        call = _pool_call("f", ((4, 9, 9),), ("std",), (x, 3))
        with pytest.raises(
            UnsupportedError,
            match=rf"^{kind.__name__} needs an \(N, C, L\) tensor, got per-sample shape \(4, 9, 9\)$",
        ):
            kind.from_torch(call)
        # the right rank in another layout (channels last), or no tensor input at all
        with pytest.raises(UnsupportedError, match=rf"^{kind.__name__} needs an \(N, C, L\)"):
            kind.from_torch(_pool_call("f", ((4, 9),), ("nhwc",), (x, 3)))
        with pytest.raises(UnsupportedError, match=r"got per-sample shape \(\)$"):
            kind.from_torch(_pool_call("f", (), (), (x, 3)))
    # a size of two numbers, a float, a bool: not a 1-D size
    for bad, shown in (((3, 3), r"\(3, 3\)"), (2.5, "2.5"), (True, "True")):
        call = _pool_call("f", ((4, 9),), ("std",), (x, bad))
        with pytest.raises(
            UnsupportedError, match=rf"^1-D pooling kernel_size = {shown} is not an integer$"
        ):
            AvgPool1d.from_torch(call)
