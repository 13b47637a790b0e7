"""Rules of the map kinds on non-square and symbolic cases, every figure derived by hand:
pools with unequal kernel/stride/padding/dilation per axis, BatchNorm2d, adaptive pooling,
Linear on tokens, grouped convolutions with a symbolic group count. Torch-free and fast.

Written for the mutants that survived the torch-free tests (docs/testing.md, "Mutation
testing"): square cases cannot tell the height's parameters from the width's.
"""

from __future__ import annotations

import pytest
import sympy

from archcalc import ShapeError, UnsupportedError
from archcalc.kinds import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Extra,
    Linear,
    MaxPool2d,
)


def _window(n: int, k: int, s: int, p: int, d: int = 1) -> int:
    """torch's output length of a sliding window: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _saved(items: tuple) -> list:
    return [(x.elements, x.itemsize, x.buffer) if isinstance(x, Extra) else x for x in items]


# a (2, 9, 8) map; height: kernel 3, stride 2, padding 1, dilation 1; width: kernel 1,
# stride 1, padding 0, dilation 2. Height 9 is chosen so that taking any one of the width's
# parameters for the height's changes the height: k 1 -> 6, s 1 -> 9, p 0 -> 4, d 2 -> 4.
X = ((2, 9, 8),)
HO = _window(9, 3, 2, 1)  # (9 + 2 - 2 - 1) // 2 + 1 = 5
WO = _window(8, 1, 1, 0, 2)  # (8 - 0 - 1) // 1 + 1 = 8
assert (HO, WO) == (5, 8)
assert 5 not in (
    _window(9, 1, 2, 1),
    _window(9, 3, 1, 1),
    _window(9, 3, 2, 0),
    _window(9, 3, 2, 1, 2),
)


def test_max_pool_per_axis() -> None:
    m = MaxPool2d((3, 1), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    assert m.out_shape(X) == (2, HO, WO)
    out = (2, HO, WO)
    # a max over kh·kw values is kh·kw - 1 comparisons: 3·1 - 1 = 2 per output
    assert m.flops(X, out) == 2 * 5 * 8 * (3 * 1 - 1)
    # autograd keeps the input and the argmax indices (int64, 8 bytes) of every output
    assert _saved(m.saved(X, out, 3)) == ["in0", (3 * (2 * 5 * 8), 8, False)]
    assert m.params(X) == 0


def test_avg_pool_per_axis() -> None:
    a = AvgPool2d((3, 1), stride=(2, 1), padding=(1, 0))
    out = (2, HO, _window(8, 1, 1, 0))
    assert a.out_shape(X) == out
    # kh·kw - 1 additions and 1 division per output: kh·kw = 3
    assert a.flops(X, out) == 2 * 5 * 8 * 3
    assert a.saved(X, out, 3) == ("in0",)


@pytest.mark.parametrize("kind", [MaxPool2d, AvgPool2d])
def test_pool_errors_name_the_axis(kind: type) -> None:
    # kernel extent 5 on a side of 4 (no padding)
    with pytest.raises(
        ShapeError,
        match=f"{kind.__name__}: kernel extent 5 is larger than the padded input height 4",
    ):
        kind((5, 1)).out_shape(((1, 4, 9),))
    with pytest.raises(
        ShapeError,
        match=f"{kind.__name__}: kernel extent 5 is larger than the padded input width 4",
    ):
        kind((1, 5)).out_shape(((1, 9, 4),))
    with pytest.raises(ShapeError, match=rf"{kind.__name__} needs a \(C, H, W\) feature map"):
        kind(2).out_shape(((4,),))


def test_adaptive_avg_pool() -> None:
    a = AdaptiveAvgPool2d((2, 3))
    assert a.out_shape(((4, 8, 9),)) == (4, 2, 3)
    # a local adaptive average keeps its input for backward; the global mean keeps nothing
    assert a.saved(((4, 8, 9),), (4, 2, 3), 2) == ("in0",)
    assert AdaptiveAvgPool2d(1).saved(((4, 8, 9),), (4, 1, 1), 2) == ()
    with pytest.raises(ShapeError, match=r"AdaptiveAvgPool2d needs a \(C, H, W\) feature map"):
        a.out_shape(((4, 8),))
    # a symbolic output size has no numeric windows, even on a numeric input
    g = sympy.Symbol("G", positive=True, integer=True)
    with pytest.raises(UnsupportedError, match="output size G on a symbolic input size"):
        AdaptiveAvgPool2d((g, 2)).geometry(((4, 8, 8),), (4, g, 2))


def test_batch_norm() -> None:
    b = BatchNorm2d(3)
    x = ((3, 4, 5),)
    assert b.out_shape(x) == (3, 4, 5)
    # inference: y = x·scale + shift per element (the statistics folded): 2 FLOPs each
    assert b.flops(x, (3, 4, 5)) == 2 * 3 * 4 * 5
    # saved: the input, the running mean and var (2C, module buffers: no new memory) and
    # the batch mean and invstd (2C, float32)
    assert _saved(b.saved(x, (3, 4, 5), 2)) == ["in0", (2 * 3, None, True), (2 * 3, "acc", False)]
    with pytest.raises(
        ShapeError, match="BatchNorm2d.num_features = 3 but the input has 4 channels"
    ):
        b.out_shape(((4, 4, 5),))
    with pytest.raises(ShapeError, match=r"BatchNorm2d needs a \(C, H, W\) feature map"):
        b.out_shape(((3, 4),))


def test_linear_on_tokens_vectors_and_maps() -> None:
    lin = Linear(4, 7)
    # tokens (L, C) = (5, 4): each of the 5 tokens maps 4 channels to 7
    assert lin.out_shape(((5, 4),)) == (5, 7)
    assert lin.macs(((5, 4),), (5, 7)) == 5 * 4 * 7
    assert lin.flops(((5, 4),), (5, 7)) == 2 * 5 * 4 * 7
    # a vector and a (C, H, W) map (channels first)
    assert lin.out_shape(((4,),)) == (7,)
    assert lin.out_shape(((4, 2, 3),)) == (7, 2, 3)
    assert lin.saved(((5, 4),), (5, 7), 2) == ("in0",)  # the weight's gradient needs x
    with pytest.raises(
        ShapeError, match=r"in_features = 4 but the input has 3 channels \(shape 5x3\)"
    ):
        lin.out_shape(((5, 3),))
    with pytest.raises(
        ShapeError, match=r"in_features = 4 but the input has 3 features \(shape 3\)"
    ):
        lin.out_shape(((3,),))
    with pytest.raises(
        ShapeError, match=r"in_features = 4 but the input has 3 channels \(shape 3x2x2\)"
    ):
        lin.out_shape(((3, 2, 2),))


def test_grouped_conv_macs_exact_and_symbolic() -> None:
    # 3x3 conv, 8 -> 8 channels, on a 5x5 map: 3x3 outputs, each (8 / groups)·9 MACs
    c = Conv2d(8, 8, 3, groups=2)
    macs = c.macs(((8, 5, 5),), (8, 3, 3))
    assert macs == 8 * 3 * 3 * (8 // 2) * 9
    assert type(macs) is int  # counts are exact Python ints
    g = sympy.Symbol("G", positive=True, integer=True)
    sym = Conv2d(8, 8, 3, groups=g).macs(((8, 5, 5),), (8, 3, 3))
    assert sympy.simplify(sym - 8 * 3 * 3 * 9 * 8 / g) == 0


@pytest.mark.parametrize(
    ("kernel", "copy"),
    [
        # 'same' padding of a kernel k is d(k-1) in all, left (k-1)//2, right the rest: a
        # height kernel of 4 pads 1 above and 2 below; torch pads a copy by the odd
        # remainder (1 row) and convolves that copy, which autograd keeps instead of the
        # input: batch 3 · 2 channels · (5 + 1) · 6
        ((4, 3), 3 * 2 * (5 + 1) * 6),
        # the same on the width: 3 · 2 · 5 · (6 + 1)
        ((3, 4), 3 * 2 * 5 * (6 + 1)),
    ],
)
def test_conv_same_padding_with_an_even_remainder_keeps_a_padded_copy(
    kernel: tuple[int, int], copy: int
) -> None:
    c = Conv2d(2, 3, kernel, padding="same")
    assert c.out_shape(((2, 5, 6),)) == (3, 5, 6)
    assert _saved(c.saved(((2, 5, 6),), (3, 5, 6), 3)) == [(copy, None, False)]


def test_conv_same_padding_symmetric_keeps_its_input() -> None:
    # an odd kernel pads equally on both sides: torch convolves the input itself
    assert Conv2d(2, 3, 3, padding="same").saved(((2, 5, 6),), (3, 5, 6), 3) == ("in0",)


def test_conv_errors_name_the_kind_and_axis() -> None:
    with pytest.raises(
        ShapeError, match="Conv2d: kernel extent 5 is larger than the padded input height 4"
    ):
        Conv2d(1, 1, (5, 1)).out_shape(((1, 4, 9),))
    with pytest.raises(
        ShapeError, match="Conv2d: kernel extent 5 is larger than the padded input width 4"
    ):
        Conv2d(1, 1, (1, 5)).out_shape(((1, 9, 4),))
    with pytest.raises(ShapeError, match=r"Conv2d needs a \(C, H, W\) feature map"):
        Conv2d(1, 1, 1).out_shape(((4,),))
    # padding counts on both sides: a height of 4 padded by 1 is 6 rows, under a 7-tall kernel
    with pytest.raises(
        ShapeError, match="Conv2d: kernel extent 7 is larger than the padded input height 6"
    ):
        Conv2d(1, 1, (7, 1), padding=(1, 0)).out_shape(((1, 4, 9),))


def test_grouped_conv_params_exact_and_symbolic() -> None:
    # weight: out · (in / groups) · kh · kw, bias: out
    c = Conv2d(8, 6, 3, groups=2)
    p = c.params(((8, 5, 5),))
    assert p == 6 * (8 // 2) * 9 + 6
    assert type(p) is int
    g = sympy.Symbol("G", positive=True, integer=True)
    sym = Conv2d(8, 6, 3, groups=g).params(((8, 5, 5),))
    assert sympy.simplify(sym - (6 * 8 * 9 / g + 6)) == 0


def test_a_symbolic_field_is_checked_only_where_sympy_decides() -> None:
    f = sympy.Symbol("F", positive=True, integer=True)
    lin = Linear(f, 4)
    # F may be 8: no error
    assert lin.out_shape(((8,),)) == (4,)
    assert lin.out_shape(((f,),)) == (4,)
    # F + 1 is certainly not F
    with pytest.raises(ShapeError, match="in_features = F but the input has F \\+ 1 features"):
        lin.out_shape(((f + 1,),))
