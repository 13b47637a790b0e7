"""Torch-free laws of the tensor-plumbing kinds (archcalc/kinds/tensor.py): shapes derived by
hand (the derivation beside each value), the zero counts of the kinds that only move elements,
the receptive-field steps, what autograd keeps, and the validation errors. The same kinds are
measured against torch in tests/test_tensor_ops.py; these tests are what judges the mutants of
the kinds' rules (issue #16)."""

from __future__ import annotations

import re

import pytest

from archcalc import ShapeError, SpecError, UnsupportedError
from archcalc.kinds import (
    Assign,
    Cat,
    Constant,
    Conv2d,
    Expand,
    Index,
    Narrow,
    PadAxes,
    Param,
    Permute,
    PerRow,
    Repeat,
    Reshape,
    Roll,
    Select,
    Shared,
    Stack,
    TimmAttention,
)
from archcalc.kinds._base import TensorArg, TorchCall
from archcalc.kinds.tensor import (
    _batched,
    _getitem_chain,
    _ints,
    _keeps_last_two,
    _torch_to_sample,
    sample_axis,
)

SAME = ((1, 1, 0), (1, 1, 0))  # a unit sees what it saw: kernel 1, stride 1, no offset
COUNTS = (
    "count_fvcore",
    "count_flopcounter",
    "count_torchvision",
    "count_ptflops_hook",
    "count_ptflops_functional",
    "count_thop",
    "count_torchinfo",
)


def _zero_everywhere(layer, ins):
    """A kind that only moves elements: no params, no arithmetic under any convention,
    nothing saved for backward."""
    out = layer.out_shape(ins)
    assert layer.params(ins) == 0
    assert layer.buffers(ins) == 0
    assert layer.macs(ins, out) == 0
    assert layer.flops(ins, out) == 0
    assert layer.saved(ins, out, 3) == ()
    for c in COUNTS:
        assert getattr(layer, c)(ins, out, 3) == 0, c
    return out


# ---------------------------------------------------------------- Permute


def test_permute_shape_and_inverse():
    # output axis i is input axis dims[i]: (4, 5, 6) with (2, 0, 1) -> (6, 4, 5)
    p = Permute((2, 0, 1))
    assert _zero_everywhere(p, ((4, 5, 6),)) == (6, 4, 5)
    # the inverse permutation of (2, 0, 1) is (1, 2, 0): back to the input
    assert Permute((1, 2, 0)).out_shape(((6, 4, 5),)) == (4, 5, 6)
    assert Permute((0,)).out_shape(((7,),)) == (7,)
    assert p.is_view(True) and p.is_view(False)


def test_permute_errors_and_geometry():
    with pytest.raises(ShapeError, match=r"needs rank 3, got"):
        Permute((2, 0, 1)).out_shape(((4, 5),))
    with pytest.raises(ShapeError, match=r"needs rank 2"):
        Permute((1, 0)).out_shape(((4, 5, 6),))
    with pytest.raises(SpecError, match="must be a permutation of 0..rank-1"):
        Permute((0, 2))
    with pytest.raises(SpecError, match="must be a tuple of integers"):
        Permute(3)
    # keeps the last two (spatial) axes: (1, 0, 2, 3) on a rank-4 tensor
    assert Permute((1, 0, 2, 3)).geometry(((2, 3, 5, 7),), (3, 2, 5, 7)) == SAME
    assert Permute((0, 1)).geometry(((5, 7),), (5, 7)) == SAME
    for dims, out in (((0, 2, 1), (4, 6, 5)), ((1, 0), (5, 4)), ((2, 1, 0), (6, 5, 4))):
        with pytest.raises(UnsupportedError, match=r"not followed past Permute"):
            Permute(dims).geometry(((4, 5, 6)[: len(dims)],), out)
    with pytest.raises(
        UnsupportedError,
        match=r"^receptive fields are not followed past Permute\(0,\): "
        r"it moves the last two \(spatial\) axes$",
    ):
        Permute((0,)).geometry(((4,),), (4,))


# ---------------------------------------------------------------- Reshape


def test_reshape():
    # 12·7·7 = 588 = 3·4·49
    r = Reshape((3, 4, 49))
    assert _zero_everywhere(r, ((12, 7, 7),)) == (3, 4, 49)
    assert r.is_view(True)
    with pytest.raises(ShapeError, match=r"needs 588 elements, got"):
        r.out_shape(((12, 7, 8),))
    with pytest.raises(SpecError, match=r"must be >= 1"):
        Reshape((3, 0))
    # leading axes merged, last two kept: (2, 3, 5, 7) -> (6, 5, 7)
    assert Reshape((6, 5, 7)).geometry(((2, 3, 5, 7),), (6, 5, 7)) == SAME
    with pytest.raises(UnsupportedError, match=r"may mix the spatial axes"):
        Reshape((6, 35)).geometry(((6, 5, 7),), (6, 35))
    with pytest.raises(UnsupportedError, match=r"Reshape"):
        Reshape((210,)).geometry(((6, 5, 7),), (210,))
    with pytest.raises(UnsupportedError):
        Reshape((6, 5, 7)).geometry(((210,),), (6, 5, 7))


def test_keeps_last_two():
    assert _keeps_last_two((2, 5, 7), (10, 5, 7))
    assert _keeps_last_two((5, 7), (5, 7))
    assert not _keeps_last_two((7,), (7,))
    assert not _keeps_last_two((5, 7), (7,))
    assert not _keeps_last_two((7,), (1, 7))
    assert not _keeps_last_two((5, 7), (7, 5))
    assert not _keeps_last_two((5, 7), (35, 7))


# ---------------------------------------------------------------- Narrow / Select


def test_narrow_shape():
    # start 0, stop 4, step 2 picks 0, 2: ceil((4 - 0) / 2) = 2 elements
    assert _zero_everywhere(Narrow(0, 0, 4, 2), ((6, 5),)) == (2, 5)
    # 1..3 of axis 1: 2 elements; 1, 4, 7 of 0..7 (step 3): ceil(7 / 3) = 3
    assert Narrow(1, 1, 3).out_shape(((4, 5, 6),)) == (4, 2, 6)
    assert Narrow(2, 1, 8, 3).out_shape(((4, 5, 8),)) == (4, 5, 3)
    assert Narrow(2, 0, 8).out_shape(((4, 5, 8),)) == (4, 5, 8)  # stop == size is allowed
    assert Narrow(0, 2, 5, 2).out_shape(((6,),)) == (2,)  # 2, 4
    assert Narrow(1, 0, 768).is_view(False)


def test_narrow_errors_and_geometry():
    with pytest.raises(ShapeError, match=r"Narrow.dim = 2 but the input is"):
        Narrow(2, 0, 1).out_shape(((4, 5),))
    with pytest.raises(ShapeError, match=r"Narrow.stop = 7 but axis 1 has 6"):
        Narrow(1, 0, 7).out_shape(((4, 6),))
    with pytest.raises(SpecError, match=r"must exceed start \(=3\)"):
        Narrow(0, 3, 3)
    with pytest.raises(SpecError, match=r"must be >= 1"):
        Narrow(0, 0, 2, 0)
    # axis 0 of a rank-3 tensor is not spatial; axes 1 and 2 are
    assert Narrow(0, 0, 2).geometry(((4, 5, 6),), (2, 5, 6)) == SAME
    for d, out in ((1, (4, 2, 6)), (2, (4, 5, 2))):
        with pytest.raises(
            UnsupportedError, match=rf"past Narrow on axis {d}: it crops a spatial axis$"
        ):
            Narrow(d, 0, 2).geometry(((4, 5, 6),), out)


def test_select():
    # axis 0 removed: (3, 12, 197, 64) -> (12, 197, 64)
    s = Select(0, 2)
    assert _zero_everywhere(s, ((3, 12, 197, 64),)) == (12, 197, 64)
    assert Select(1, 0).out_shape(((3, 4, 5),)) == (3, 5)
    assert Select(2, 4).out_shape(((3, 4, 5),)) == (3, 4)  # the last index of 5
    assert s.is_view(True)
    with pytest.raises(ShapeError, match=r"Select.dim = 2 but the input is"):
        Select(2, 0).out_shape(((3, 4),))
    with pytest.raises(ShapeError, match=r"Select.index = 5 but axis 2 has 5"):
        Select(2, 5).out_shape(((3, 4, 5),))
    assert Select(0, 0).geometry(((3, 4, 5),), (4, 5)) == SAME
    for d in (1, 2):
        with pytest.raises(
            UnsupportedError, match=rf"past Select on axis {d}: it removes a spatial axis$"
        ):
            Select(d, 0).geometry(((3, 4, 5),), (3, 4))


# ---------------------------------------------------------------- copies


def test_index():
    # the index tensor's shape replaces the axis: (4, 49) gathered on axis 1 by (49, 49)
    i = Index(1)
    assert _zero_everywhere(i, ((4, 49), (49, 49))) == (4, 49, 49)
    assert Index(0).out_shape(((169, 4), (49, 49))) == (49, 49, 4)
    assert Index(2).out_shape(((2, 3, 5), (7,))) == (2, 3, 7)
    assert not i.is_view(True)
    with pytest.raises(ShapeError, match=r"Index.dim = 2 but the table is"):
        Index(2).out_shape(((4, 5), (3,)))


def test_cat():
    # 1 + 196 = 197 tokens
    c = Cat(0)
    assert _zero_everywhere(c, ((1, 64), (196, 64))) == (197, 64)
    assert Cat(1).out_shape(((4, 2, 6), (4, 3, 6), (4, 1, 6))) == (4, 6, 6)  # 2 + 3 + 1
    assert Cat(2).out_shape(((4, 2, 6), (4, 2, 1))) == (4, 2, 7)
    assert not c.is_view(True)
    with pytest.raises(ShapeError, match=r"Cat: input 1 is"):
        Cat(0).out_shape(((4, 5), (4, 5, 6)))
    with pytest.raises(ShapeError, match=r"Cat: input 0 is"):
        Cat(2).out_shape(((4, 5), (4, 5)))
    with pytest.raises(ShapeError, match=r"Cat\(1\): input 1 is"):
        Cat(1).out_shape(((4, 2, 6), (4, 3, 7)))
    with pytest.raises(ShapeError, match=r"Cat\(0\): input 2 is"):
        Cat(0).out_shape(((1, 6), (2, 6), (3, 5)))


def test_stack():
    # three (4, 5) stacked on a new axis 0: (3, 4, 5)
    s = Stack(0)
    assert _zero_everywhere(s, ((4, 5), (4, 5), (4, 5))) == (3, 4, 5)
    assert Stack(1).out_shape(((4, 5), (4, 5))) == (4, 2, 5)
    assert Stack(2).out_shape(((4, 5), (4, 5))) == (4, 5, 2)  # the new last axis
    assert not s.is_view(True)
    with pytest.raises(ShapeError, match=r"Stack: input 1 is"):
        Stack(0).out_shape(((4, 5), (4, 6)))
    with pytest.raises(ShapeError, match=r"Stack: input 2 is"):
        Stack(0).out_shape(((4, 5), (4, 5), (4, 5, 1)))
    with pytest.raises(ShapeError, match=r"Stack.dim = 3 but the inputs are"):
        Stack(3).out_shape(((4, 5), (4, 5)))


def test_expand():
    e = Expand((4, 3, 5))
    assert _zero_everywhere(e, ((4, 1, 5),)) == (4, 3, 5)
    assert e.is_view(True)
    assert Expand((4, 3, 5)).out_shape(((4, 3, 5),)) == (4, 3, 5)
    with pytest.raises(ShapeError, match=r"does not broadcast to it"):
        Expand((4, 3, 5)).out_shape(((4, 2, 5),))
    with pytest.raises(ShapeError, match=r"does not broadcast"):
        Expand((4, 3, 5)).out_shape(((3, 5),))
    # a broadcast of the leading axis keeps the last two; of a spatial one does not
    assert Expand((3, 4, 5)).geometry(((1, 4, 5),), (3, 4, 5)) == SAME
    with pytest.raises(
        UnsupportedError, match=r"past Expand\(4, 3, 5\): it broadcasts a spatial axis$"
    ):
        Expand((4, 3, 5)).geometry(((4, 1, 5),), (4, 3, 5))


def test_repeat():
    # each axis times its repeat: (1·3, 49·1, 32·1)
    r = Repeat((3, 1, 1))
    assert _zero_everywhere(r, ((1, 49, 32),)) == (3, 49, 32)
    assert Repeat((2, 3)).out_shape(((4, 5),)) == (8, 15)
    assert not r.is_view(True)
    with pytest.raises(ShapeError, match=r"needs rank 3, got"):
        r.out_shape(((49, 32),))
    assert r.geometry(((1, 49, 32),), (3, 49, 32)) == SAME
    for reps in ((1, 2, 1), (1, 1, 2)):
        with pytest.raises(
            UnsupportedError, match=rf"past Repeat{re.escape(str(reps))}: it tiles a spatial axis$"
        ):
            Repeat(reps).geometry(((1, 4, 4),), (1, 4, 4))


def test_roll():
    r = Roll((-3, -3), (0, 1))
    assert _zero_everywhere(r, ((56, 56, 96),)) == (56, 56, 96)
    assert not r.is_view(True)
    with pytest.raises(ShapeError, match=r"Roll.dims = \(0, 3\) but the input is"):
        Roll((1, 1), (0, 3)).out_shape(((4, 5, 6),))
    assert Roll((1, 1), (0, 2)).out_shape(((4, 5, 6),)) == (4, 5, 6)
    with pytest.raises(SpecError, match=r"needs one shift per axis"):
        Roll((1,), (0, 1))
    with pytest.raises(SpecError, match=r"must be a tuple of integers"):
        Roll((1.5,), (0,))
    Roll((-2,), (0,))  # negative shifts are fine
    assert Roll((2,), (0,)).geometry(((4, 5, 6),), (4, 5, 6)) == SAME
    for dims in ((1,), (2,), (0, 2)):
        with pytest.raises(
            UnsupportedError, match=r"past Roll\(1,( 1)?\): it shifts a spatial axis cyclically$"
        ):
            Roll((1,) * len(dims), dims).geometry(((4, 5, 6),), (4, 5, 6))


def test_pad_axes():
    # 196 + 1 before + 0 after = 197
    p = PadAxes((1,), (1,), (0,))
    assert _zero_everywhere(p, ((4, 196, 32),)) == (4, 197, 32)
    assert PadAxes((0, 2), (1, 2), (3, 4)).out_shape(((4, 5, 6),)) == (8, 5, 12)
    assert not p.is_view(True)
    with pytest.raises(ShapeError, match=r"PadAxes.axes = \(3,\) but the input is"):
        PadAxes((3,), (1,), (1,)).out_shape(((4, 5, 6),))
    with pytest.raises(SpecError, match="needs one pair per axis"):
        PadAxes((0, 1), (1,), (1, 1))
    with pytest.raises(SpecError, match="needs one pair per axis"):
        PadAxes((0,), (1,), (1, 1))
    with pytest.raises(SpecError, match="must not repeat an axis"):
        PadAxes((1, 1), (1, 1), (1, 1))
    # a pad of the spatial axes shifts unit 0's window back by the pad before it (as Pad):
    # rank 3, axes 1 (height) and 2 (width) padded before by 2 and 3
    g = PadAxes((1, 2), (2, 3), (0, 0)).geometry(((4, 5, 6),), (4, 7, 9))
    assert g == ((1, 1, -2), (1, 1, -3))
    assert PadAxes((0,), (1,), (2,)).geometry(((4, 5, 6),), (7, 5, 6)) == SAME


def test_assign():
    a = Assign((1, 2), (1, 1), (197, 197), (1, 1))
    assert _zero_everywhere(a, ((1, 197, 197), (1, 196, 196))) == (1, 197, 197)
    assert not a.is_view(True)
    # region 0:6:2 of axis 0 is 3 rows: a value of (3, 5) or a broadcast (1, 5) or (5,) fits
    b = Assign((0,), (0,), (6,), (2,))
    assert b.out_shape(((6, 5), (3, 5))) == (6, 5)
    assert b.out_shape(((6, 5), (1, 5))) == (6, 5)
    assert b.out_shape(((6, 5), (5,))) == (6, 5)
    with pytest.raises(ShapeError, match=r"a value of .* does not fit"):
        b.out_shape(((6, 5), (2, 5)))  # 2 rows into 3
    with pytest.raises(ShapeError, match=r"does not fit"):
        b.out_shape(((6, 5), (4, 5)))  # (6 - 0 + 1) // 2 = 3, not 4 (nor 6)
    with pytest.raises(ShapeError, match=r"does not fit"):
        b.out_shape(((6, 5), (1, 3, 5)))  # more axes than the region
    with pytest.raises(ShapeError, match=r"does not fit"):
        Assign((0,), (1,), (5,), (1,)).out_shape(((6, 5), (5, 5)))  # 1:5 is 4 rows
    with pytest.raises(ShapeError, match=r"takes a tensor and a value, got 3 inputs"):
        b.out_shape(((6, 5), (3, 5), (3, 5)))
    with pytest.raises(SpecError, match="needs one slice per axis"):
        Assign((0,), (0,), (6,), (1, 1))


# ---------------------------------------------------------------- sources


def _sees_no_input(layer, ins, out):
    """A parameter or constant sees no input position: the NO_INPUT marker, which the engine
    reads as 'no field' (a merge keeps its other inputs' field)."""
    import archcalc.kinds as k

    assert layer.geometry(ins, out) is k.NO_INPUT


def test_param_and_constant():
    p = Param((1, 768))
    ins = ((3, 224, 224),)
    assert p.out_shape(ins) == (1, 768)
    assert p.params(ins) == 768 and p.buffers(ins) == 0
    b = Param((49, 4), trainable=False)  # a buffer: 49·4 = 196 elements
    assert b.params(ins) == 0 and b.buffers(ins) == 196
    c = Constant((49, 49))
    assert c.out_shape(ins) == (49, 49)
    for layer in (p, b, c):
        out = layer.out_shape(ins)
        assert layer.macs(ins, out) == 0 and layer.flops(ins, out) == 0
        assert layer.saved(ins, out, 2) == ()
        assert layer.is_view(True)  # not an activation
        for cnt in COUNTS:
            assert getattr(layer, cnt)(ins, out, 2) == 0
        _sees_no_input(layer, ins, out)
    assert c.params(ins) == 0 and c.buffers(ins) == 0


# ---------------------------------------------------------------- PerRow / Shared


def test_per_row_conv():
    # Conv2d(4 -> 6, 3x3, pad 1, bias): params 6·4·9 + 6 = 222; per row (4, 5, 5) -> (6, 5, 5),
    # MACs 6·25·4·9 = 5400; 3 rows share the weights: params 222, MACs 3·5400 = 16200
    conv = Conv2d(4, 6, 3, padding=1)
    pr = PerRow(conv)
    ins = ((3, 4, 5, 5),)
    out = pr.out_shape(ins)
    assert out == (3, 6, 5, 5)
    assert pr.params(ins) == 222
    assert pr.buffers(ins) == 0
    assert pr.macs(ins, out) == 16200
    row_in, row_out = ((4, 5, 5),), (6, 5, 5)
    assert pr.flops(ins, out) == 3 * conv.flops(row_in, row_out)
    # every foreign count: the tool runs the conv on the folded batch N·k = 2·3
    for c in COUNTS:
        assert getattr(pr, c)(ins, out, 2) == getattr(conv, c)(row_in, row_out, 6), c
    # a row is a map: the conv's step (kernel 3, stride 1, pad 1)
    assert pr.geometry(ins, out) == ((3, 1, -1), (3, 1, -1))
    assert pr.saved(ins, out, 2) == conv.saved(row_in, row_out, 6)
    assert not pr.is_view(True)
    assert PerRow(Permute((0, 1))).is_view(True)
    with pytest.raises(ShapeError, match=r"PerRow needs \(k, ...\) rows, got"):
        pr.out_shape(((4,),))
    with pytest.raises(SpecError, match="must be a layer of one input"):
        PerRow(Cat(0))
    with pytest.raises(UnsupportedError, match=r"past PerRow\(Permute\): its rows are not maps$"):
        PerRow(Permute((1, 0))).geometry(((3, 4, 5),), (3, 5, 4))


def test_per_row_buffers_and_saved_scale():
    # TimmAttention(8, 2) on rows of (L=5, E=8): params 4·64 + 8 (proj bias) = 264;
    # fused it keeps the input, q, k, v (3·B·L·E), the output (B·L·E) and h·L per sequence
    att = TimmAttention(8, 2)
    pr = PerRow(att)
    ins = ((3, 5, 8),)
    out = pr.out_shape(ins)
    assert out == (3, 5, 8)
    assert pr.params(ins) == 264
    saved = pr.saved(ins, out, 2)  # 2 samples of 3 rows: 6 sequences
    elements = [s.elements for s in saved if not isinstance(s, str)]
    assert elements == [3 * 6 * 5 * 8, 6 * 5 * 8, 6 * 2 * 5]
    with pytest.raises(UnsupportedError, match=r"PerRow\(TimmAttention\)"):
        pr.geometry(ins, out)
    # a BatchNorm-like inner with buffers: PerRow's buffers are the inner's, once
    from archcalc.kinds import BatchNorm2d

    bn = BatchNorm2d(4)
    assert PerRow(bn).buffers(((3, 4, 5, 5),)) == bn.buffers(((4, 5, 5),)) > 0


def test_nested_wrappers_read_their_shapes():
    # PerRow(PerRow(conv)) on (2, 3, 4, 5, 5): 2·3 = 6 rows of (4, 5, 5); the inner wrapper
    # reads the shapes it is given (an outer one passing a wrong one fails or changes a value)
    conv = Conv2d(4, 6, 3, padding=1)
    pp = PerRow(PerRow(conv))
    ins = ((2, 3, 4, 5, 5),)
    out = pp.out_shape(ins)
    assert out == (2, 3, 6, 5, 5)
    assert pp.params(ins) == 222  # 6·4·9 + 6, shared by every row
    assert pp.buffers(ins) == 0
    assert pp.macs(ins, out) == 6 * 5400  # 6·25·4·9 per row
    row_in, row_out = ((4, 5, 5),), (6, 5, 5)
    assert pp.flops(ins, out) == 6 * conv.flops(row_in, row_out)
    assert pp.geometry(ins, out) == ((3, 1, -1), (3, 1, -1))
    assert pp.saved(ins, out, 2) == conv.saved(row_in, row_out, 12)
    # Shared of a PerRow: the wrapped figures, params 0
    sp = Shared(PerRow(conv), "pos")
    ins2, out2 = ((3, 4, 5, 5),), (3, 6, 5, 5)
    assert sp.out_shape(ins2) == out2
    assert sp.params(ins2) == 0
    assert sp.macs(ins2, out2) == 3 * 5400
    assert sp.flops(ins2, out2) == 3 * conv.flops(row_in, row_out)
    assert sp.geometry(ins2, out2) == ((3, 1, -1), (3, 1, -1))
    assert sp.saved(ins2, out2, 2) == conv.saved(row_in, row_out, 6)
    # Dropout is a view in eval only: the wrappers ask their inner in the same mode
    from archcalc.kinds import Dropout

    for w in (PerRow(Dropout(0.1)), Shared(Dropout(0.1))):
        assert w.is_view(False) and not w.is_view(True)
    # PerRow needs rows: a rank-2 (k, L) input is the smallest
    assert PerRow(Permute((0,))).out_shape(((3, 4),)) == (3, 4)


def test_per_row_attention_macs():
    # TimmAttention(E=8, h=2) on a row of L=5 tokens: qkv 3·L·E·E = 960, q·kᵀ L·L·E = 200,
    # weights·v L·L·E = 200, proj L·E·E = 320: 1680 MACs; 3 rows: 5040
    att = TimmAttention(8, 2)
    ins = ((3, 5, 8),)
    assert PerRow(att).macs(ins, (3, 5, 8)) == 5040
    assert PerRow(att).flops(ins, (3, 5, 8)) == 3 * att.flops(((5, 8),), (5, 8))
    assert Shared(att).macs(((5, 8),), (5, 8)) == 1680
    assert Shared(att).flops(((5, 8),), (5, 8)) == att.flops(((5, 8),), (5, 8))


def test_shared():
    # CoaT's position encoding called again: no params (counted at its first call), the
    # rest the inner's: depthwise 3x3 on (4, 5, 5): MACs 4·25·9 = 900
    conv = Conv2d(4, 4, 3, padding=1, groups=4)
    sh = Shared(conv, "cpe")
    ins = ((4, 5, 5),)
    out = sh.out_shape(ins)
    assert out == (4, 5, 5)
    assert sh.params(ins) == 0 and sh.buffers(ins) == 0
    assert sh.macs(ins, out) == 900
    assert sh.flops(ins, out) == conv.flops(ins, out) > 0
    for c in COUNTS:
        assert getattr(sh, c)(ins, out, 2) == getattr(conv, c)(ins, out, 2), c
    assert sh.geometry(ins, out) == ((3, 1, -1), (3, 1, -1))
    assert sh.saved(ins, out, 2) == conv.saved(ins, out, 2)
    assert not sh.is_view(True)
    assert Shared(Permute((0, 1))).is_view(True)
    att = TimmAttention(8, 2)
    s2 = Shared(att)
    assert s2.saved(((5, 8),), (5, 8), 2) == att.saved(((5, 8),), (5, 8), 2)
    with pytest.raises(SpecError, match="must be a layer of one input"):
        Shared(Cat(0))


# ---------------------------------------------------------------- helpers


def _call(inputs, layouts, args=(), kwargs=None, op="Tensor.x", output=(), **kw):
    return TorchCall(op, "method", None, args, kwargs or {}, inputs, layouts, output, **kw)


def test_sample_axis():
    # "std": torch (N, a, b, c): dim 1 is per-sample axis 0, dim -1 axis 2, dim 0 the batch
    c = _call(((4, 5, 6),), ("std",))
    assert [sample_axis(c, 0, d) for d in (1, 2, 3, -1, -3)] == [0, 1, 2, 2, 0]
    for d in (0, -4):
        with pytest.raises(UnsupportedError, match=r"along the batch axis \(dim"):
            sample_axis(c, 0, d)
    with pytest.raises(UnsupportedError, match="is not an axis"):
        sample_axis(c, 0, True)
    with pytest.raises(UnsupportedError, match="is not an axis"):
        sample_axis(c, 0, 1.0)
    # "const": no batch axis, dims are the tensor's own
    k = _call(((4, 5),), ("const",))
    assert [sample_axis(k, 0, d) for d in (0, 1, -1)] == [0, 1, 1]
    assert sample_axis(_call(((),), ("const",)), 0, 0) == 0  # a scalar: modulo 1
    assert sample_axis(_call(((4,), (3,)), ("const", "std")), 0, -1) == 0  # modulo rank 1
    # "fold": the batch folded into axis 0, per-sample axes are torch's
    f = _call(((3, 5, 6),), ("fold",))
    assert [sample_axis(f, 0, d) for d in (1, 2, -1)] == [1, 2, 2]
    with pytest.raises(
        UnsupportedError, match="^an operation along the axis the batch is folded into$"
    ):
        sample_axis(f, 0, 0)
    f1 = _call(((3, 5, 6),), ("fold@1",))
    assert [sample_axis(f1, 0, d) for d in (0, 2)] == [0, 2]
    with pytest.raises(UnsupportedError, match="folded into"):
        sample_axis(f1, 0, 1)
    # "nhwc": torch (N, H, W, C) of (C, H, W): dim 3 is C (0), dims 1, 2 are H, W
    n = _call(((3, 5, 6),), ("nhwc",))
    assert [sample_axis(n, 0, d) for d in (1, 2, 3, -1)] == [1, 2, 0, 0]
    with pytest.raises(UnsupportedError, match="batch axis"):
        sample_axis(n, 0, 0)
    # "batch@1": torch (a, N, b): dim 0 is axis 0, dim 2 axis 1
    b = _call(((4, 5),), ("batch@1",))
    assert [sample_axis(b, 0, d) for d in (0, 2, -1)] == [0, 1, 1]
    with pytest.raises(UnsupportedError, match="batch axis"):
        sample_axis(b, 0, 1)
    with pytest.raises(UnsupportedError, match="on a bcast tensor"):
        sample_axis(_call(((4, 5),), ("bcast",)), 0, 1)
    # input 1's layout is the one read
    two = _call(((4, 5), (4, 5)), ("const", "std"))
    assert sample_axis(two, 1, 1) == 0 and sample_axis(two, 0, 1) == 1


def test_batched_and_torch_to_sample():
    assert _batched(_call(((4,), (4,)), ("const", "std"))) == 1
    assert _batched(_call(((4,), (4,)), ("std", "const"))) == 0
    assert _batched(_call(((4,), (4,)), ("const", "const"))) == 0
    assert [_torch_to_sample("std", t) for t in (0, 1, 2)] == [None, 0, 1]
    assert [_torch_to_sample("const", t) for t in (0, 1)] == [0, 1]
    assert [_torch_to_sample("fold", t) for t in (0, 1, 2)] == [None, 1, 2]
    assert [_torch_to_sample("fold@1", t) for t in (0, 1, 2)] == [0, None, 2]
    assert [_torch_to_sample("batch@1", t) for t in (0, 1, 2)] == [0, None, 1]


def test_ints_messages():
    # the message is "Kind.field = value: reason"; a wrong type is a TypeError too
    for args, msg in (
        ((3,), r"^K\.f = 3: must be a tuple of integers$"),
        (((1, True), None), r"^K\.f = \(1, True\): must be a tuple of integers$"),
    ):
        with pytest.raises(TypeError, match=msg) as e:
            _ints("K", "f", *args)
        assert isinstance(e.value, SpecError)
    with pytest.raises(SpecError, match=r"^K\.f = -1: must be >= 0$"):
        _ints("K", "f", (1, -1))


def test_ints():
    assert _ints("K", "f", [1, 2]) == (1, 2)
    assert _ints("K", "f", (0,)) == (0,)
    assert _ints("K", "f", (-1, 2), None) == (-1, 2)
    with pytest.raises(SpecError, match=r"K.f.*must be a tuple of integers"):
        _ints("K", "f", 3)
    with pytest.raises(SpecError, match="must be a tuple of integers"):
        _ints("K", "f", (1, True), None)
    with pytest.raises(SpecError, match="must be a tuple of integers"):
        _ints("K", "f", (1, "2"), None)
    with pytest.raises(SpecError, match=r"must be >= 0"):
        _ints("K", "f", (1, -1))
    with pytest.raises(SpecError, match=r"must be >= 1"):
        _ints("K", "f", (1, 0), 1)


def _getitem(shape, key, layout="std", output=()):
    return _getitem_chain(_call((shape,), (layout,), (TensorArg((2, *shape)), key), output=output))


def test_getitem_chain():
    # x[:, 1:3] of (N, 4, 5): axis 0 narrowed to 1..3
    assert _getitem((4, 5), (slice(None), slice(1, 3))) == Narrow(0, 1, 3)
    # x[:, :, 0] of (N, 4, 5): Select axis 1, index 0
    assert _getitem((4, 5), (slice(None), slice(None), 0)) == Select(1, 0)
    # x[..., -1] picks index 4 of the last axis (5 elements)
    assert _getitem((4, 5), (Ellipsis, -1)) == Select(1, 4)
    # x[:, 0, 1:4:2]: Select axis 0, then the old axis 1 is axis 0: 1, 3 -> Narrow(0, 1, 4, 2)
    assert _getitem((4, 5), (slice(None), 0, slice(1, 4, 2))) == (
        Select(0, 0),
        Narrow(0, 1, 4, 2),
    )
    # x[:, 1:, 1:] of (N, 4, 5): the second narrow sees the first's result (3 rows)
    assert _getitem((4, 5), (slice(None), slice(0, 4, 2), slice(1, None))) == (
        Narrow(0, 0, 4, 2),
        Narrow(1, 1, 5),
    )
    # the whole tensor: nothing
    assert _getitem((4, 5), (slice(None),)) is None
    assert _getitem((4, 5), slice(None)) is None
    assert _getitem((4, 5), (Ellipsis,)) is None
    # new axes: a Reshape to torch's output
    assert _getitem((4, 5), (slice(None), None), output=(1, 4, 5)) == Reshape((1, 4, 5))
    # a constant: axis 0 is the tensor's own
    assert _getitem((4, 5), 1, layout="const") == Select(0, 1)
    assert _getitem((4, 5), (slice(None), 2), layout="fold") == Select(1, 2)
    assert _getitem((4, 5), (1, slice(None)), layout="batch@1") == Select(0, 1)


def test_getitem_chain_errors():
    with pytest.raises(UnsupportedError, match="indexing a nhwc tensor"):
        _getitem((3, 4, 5), (slice(None),), layout="nhwc")
    with pytest.raises(UnsupportedError, match="takes slices, integers, None"):
        _getitem((4, 5), (slice(None), 1.5))
    with pytest.raises(UnsupportedError, match="takes slices, integers, None"):
        _getitem((4, 5), (slice(None), True))
    with pytest.raises(UnsupportedError, match=r"of a rank-3 tensor"):
        _getitem((4, 5), (Ellipsis, 0, Ellipsis))
    with pytest.raises(UnsupportedError, match=r"of a rank-3 tensor"):
        _getitem((4, 5), (slice(None),) * 4)
    with pytest.raises(UnsupportedError, match="picks along the batch axis"):
        _getitem((4, 5), (0,))
    with pytest.raises(UnsupportedError, match=r"index 4 of an axis of 4"):
        _getitem((4, 5), (slice(None), 4))
    with pytest.raises(UnsupportedError, match=r"index -5 of an axis of 4"):
        _getitem((4, 5), (slice(None), -5))
    with pytest.raises(UnsupportedError, match=r"the slice .* of an axis of 4"):
        _getitem((4, 5), (slice(None), slice(3, 1)))
    with pytest.raises(UnsupportedError, match=r"the slice"):
        _getitem((4, 5), (slice(None), slice(None, None, -1)))
    assert _getitem((4, 5), (slice(None), slice(2, 3))) == Narrow(0, 2, 3)  # one element
    with pytest.raises(UnsupportedError, match=r"the slice"):
        _getitem((4, 5), (slice(None), slice(2, 2)))  # empty
    # -4 is index 0 of an axis of 4 (the lowest allowed)
    assert _getitem((4, 5), (slice(None), -4)) == Select(0, 0)


def test_getitem_chain_more():
    # x[:, 0, 0, 1:3] of (N, 4, 5, 6): two selects remove axes 0 and 1 (each then axis 0),
    # the narrow is on what is left: old axis 2, now axis 0
    assert _getitem((4, 5, 6), (slice(None), 0, 0, slice(1, 3))) == (
        Select(0, 0),
        Select(0, 0),
        Narrow(0, 1, 3),
    )
    # a new axis then a slice: the narrow of per-sample axis 0, then the Reshape to torch's
    # output (N, 1, 2, 5)
    assert _getitem((4, 5), (slice(None), None, slice(1, 3)), output=(1, 2, 5)) == (
        Narrow(0, 1, 3),
        Reshape((1, 2, 5)),
    )
    # the key given by name
    call = _call(((4, 5),), ("std",), (TensorArg((2, 4, 5)),), {"indices": (slice(None), 1)})
    assert _getitem_chain(call) == Select(0, 1)


def test_rule_factories():
    # the count rules PerRow and Shared build (at class creation) from these factories: the
    # inner's count of a row at batch N·k, and the inner's count as is. Called here directly,
    # on a wrapper around a wrapper (whose count reads the shapes it is given).
    from archcalc.kinds.tensor import _rule, _shared_rule

    conv = Conv2d(4, 6, 3, padding=1)
    row_in, row_out = ((4, 5, 5),), (6, 5, 5)
    rule = _rule("count_fvcore", "the doc")
    assert rule.__doc__ == "the doc" and rule.short == "inner at batch N·k"
    pp = PerRow(PerRow(conv))
    # 2 samples of 2·3 rows: the conv's count at batch 12
    got = rule(pp, ((2, 3, 4, 5, 5),), (2, 3, 6, 5, 5), 2)
    assert got == conv.count_fvcore(row_in, row_out, 12) == 12 * 5400
    shared = _shared_rule("count_thop")
    assert shared.__doc__ == "the inner layer's count (the tool counts each call of the module)"
    assert shared.short == "inner"
    sp = Shared(PerRow(conv))
    assert shared(sp, ((3, 4, 5, 5),), (3, 6, 5, 5), 2) == conv.count_thop(row_in, row_out, 6)


def test_per_row_passes_a_row_to_params_and_buffers():
    # no kind's params or buffers depend on the input's shape, so a test-only layer (not a
    # registered kind, not a subclass of one) whose counts read the shape it is asked about
    # shows what PerRow passes: a row
    from dataclasses import dataclass

    from archcalc.kinds._base import Layer

    @dataclass(frozen=True)
    class _ShapeProbe(Layer):
        def out_shape(self, ins):
            return ins[0]

        def params(self, ins):
            return ins[0][0] * 100 + len(ins[0])

        def buffers(self, ins):
            return ins[0][0] * 10 + len(ins[0])

    probe = _ShapeProbe()
    assert probe.out_shape(((4, 5),)) == (4, 5)
    assert PerRow(probe).out_shape(((3, 4, 5),)) == (3, 4, 5)
    # rows of (4, 5): 4·100 + rank 2 = 402; 4·10 + 2 = 42
    assert PerRow(probe).params(((3, 4, 5),)) == 402
    assert PerRow(probe).buffers(((3, 4, 5),)) == 42
