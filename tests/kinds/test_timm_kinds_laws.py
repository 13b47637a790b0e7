"""Rules of the kinds added for timm (Unfold, Fold, Addcmul, Conv1d, Conv2dSame, StdConv2d,
BatchNorm1d, RMSNorm, RMSNorm2d, AdaptiveMaxPool2d, BlurPool2d, AvgPool1d, MaxPool1d, Resize)
on non-square cases, every figure derived by hand in a comment or by a stated law. Torch-free
and fast.

Written for the mutants that survived the torch-free tests (issue #16; docs/testing.md,
"Mutation testing"): these kinds were tested against torch only (tests/test_timm_modules.py).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from archcalc import ShapeError, SpecError, UnsupportedError
from archcalc.kinds import (
    AdaptiveMaxPool2d,
    Addcmul,
    AvgPool1d,
    BatchNorm1d,
    BlurPool2d,
    Conv1d,
    Conv2dSame,
    ConvTranspose2d,
    Extra,
    Fold,
    MaxPool1d,
    Resize,
    RMSNorm,
    RMSNorm2d,
    StdConv2d,
    Unfold,
)


def _win(n: int, k: int, s: int, lo: int, hi: int, d: int = 1) -> int:
    """torch's output length of a sliding window: floor((n + lo + hi - d(k-1) - 1) / s) + 1."""
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _saved(items: tuple) -> list:
    """Each kept tensor as (elements, itemsize, buffer, label) (the label is the stable
    name the memory report shows), an input or output as its name."""
    return [
        (x.elements, x.itemsize, x.buffer, x.what) if isinstance(x, Extra) else x for x in items
    ]


# ---------------------------------------------------------------- Unfold / Fold

# kernel (3, 2), dilation (1, 2), padding (1, 0), stride (2, 1) on a (2, 9, 8) map:
# grid height (9 + 2 - 2 - 1) // 2 + 1 = 5, width (8 - 2 - 1) // 1 + 1 = 6; 30 blocks
BLOCKS = {"kernel_size": (3, 2), "dilation": (1, 2), "padding": (1, 0), "stride": (2, 1)}
assert (_win(9, 3, 2, 1, 1), _win(8, 2, 1, 0, 0, 2)) == (5, 6)


def test_unfold_rules() -> None:
    u = Unfold(**BLOCKS)
    x = ((2, 9, 8),)
    # columns: C·kh·kw = 2·3·2 = 12 rows, 5·6 = 30 blocks
    assert u.out_shape(x) == (12, 30)
    assert u.grid(9, 8) == (5, 6)
    out = (12, 30)
    assert u.params(x) == 0 and u.buffers(x) == 0
    assert u.macs(x, out) == 0 and u.flops(x, out) == 0  # a copy
    # a convolution's field: extent d(k-1)+1 = 3 and 2·1+1 = 3, the stride, -padding
    assert u.geometry(x, out) == ((3, 2, -1), (3, 1, 0))
    assert u.taps() == (1, 2)
    assert u.saved(x, out, 3) == ()  # backward is col2im: sizes only
    assert u.is_view(True) is False and u.is_view(False) is False
    # the module docstring's case: (4, 9, 11), k 3, padding 1, stride 2: 4·9 rows,
    # ((9 + 2 - 3) // 2 + 1)·((11 + 2 - 3) // 2 + 1) = 5·6 blocks
    assert Unfold(3, padding=1, stride=2).out_shape(((4, 9, 11),)) == (36, 30)


def test_unfold_validation() -> None:
    with pytest.raises(SpecError, match="padding"):
        Unfold(3, padding=-1)
    with pytest.raises(SpecError, match="kernel_size"):
        Unfold(0)
    with pytest.raises(ShapeError, match=r"^Unfold needs a \(C, H, W\) feature map, got shape 4x9"):
        Unfold(3).out_shape(((4, 9),))


def test_unfold_wide_kernel() -> None:
    # kernel (2, 3), dilation (1, 2), padding (0, 2) on (1, 5, 7): height (5 - 1 - 1) + 1 = 4,
    # width (7 + 4 - 2·2 - 1) + 1 = 7; extents 2 and 2·2 + 1 = 5, starts 0 and -2
    u = Unfold((2, 3), dilation=(1, 2), padding=(0, 2))
    x = ((1, 5, 7),)
    assert u.out_shape(x) == (6, 28)
    assert u.geometry(x, (6, 28)) == ((2, 1, 0), (5, 1, -2))


def test_fold_rules() -> None:
    f = Fold((9, 8), **BLOCKS)
    cols = ((12, 30),)
    # Fold inverts Unfold's shape: (12, 30) columns of 3·2 taps back to a (2, 9, 8) map
    assert f.out_shape(cols) == (2, 9, 8)
    # law: Fold of what Unfold makes of a map is that map's shape
    assert f.out_shape((Unfold(**BLOCKS).out_shape(((2, 9, 8),)),)) == (2, 9, 8)
    out = (2, 9, 8)
    assert f.params(cols) == 0 and f.buffers(cols) == 0 and f.macs(cols, out) == 0
    # one add per input element: 12·30 = 360
    assert f.flops(cols, out) == 360
    assert f.saved(cols, out, 4) == ()
    assert f.taps() == (1, 2)
    # law: col2im's field is a transposed convolution's of the same geometry
    t = ConvTranspose2d(1, 1, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    assert f.geometry(cols, out) == t.geometry(((1, 1, 1),), (1, 1, 1))
    assert f.geometry(cols, out) != ConvTranspose2d(1, 1, (3, 2)).geometry(((1, 1, 1),), (1, 1, 1))


def test_fold_validation() -> None:
    f = Fold((9, 8), **BLOCKS)
    with pytest.raises(ShapeError, match=r"Fold needs columns \(C·kh·kw, L\), got shape 12x30x1"):
        f.out_shape(((12, 30, 1),))
    # 15 rows are not a multiple of 3·2 (they are of 3/2); 31 columns are not 5·6 blocks
    with pytest.raises(ShapeError, match=r"are not \(C·3·2, 5·6\) blocks of a 9x8 map"):
        f.out_shape(((15, 30),))
    with pytest.raises(ShapeError, match="blocks of a 9x8 map"):
        f.out_shape(((12, 31),))
    # a symbolic channel count is not checked: C·6 rows fold to C channels
    c = sympy.Symbol("C", positive=True, integer=True)
    assert f.out_shape(((6 * c, 30),)) == (c, 9, 8)
    # nor a symbolic number of blocks
    n = sympy.Symbol("L", positive=True, integer=True)
    assert f.out_shape(((12, n),)) == (2, 9, 8)
    with pytest.raises(SpecError, match="output_size"):
        Fold((0, 8), 3)


# ---------------------------------------------------------------- Addcmul


def test_addcmul_rules() -> None:
    x = ((4, 1, 1), (4, 1, 1), (4, 9, 11))
    a = Addcmul()
    assert a.out_shape(x) == (4, 9, 11)
    out = (4, 9, 11)
    # value 1: a product and a sum per output element, 2·396 = 792
    assert a.flops(x, out) == 2 * 4 * 9 * 11
    # value 0.5: one more product, 3·396
    assert Addcmul(0.5).flops(x, out) == 3 * 4 * 9 * 11
    assert Addcmul(2.0).flops(x, out) == 3 * 4 * 9 * 11
    assert a.params(x) == 0 and a.macs(x, out) == 0
    assert a.saved(x, out, 2) == ("in1", "in2")
    # broadcast in any order: the big operand first
    assert a.out_shape(((4, 9, 11), (1, 1), (4, 1, 11))) == (4, 9, 11)


def test_addcmul_validation() -> None:
    with pytest.raises(ShapeError, match="Addcmul takes three inputs"):
        Addcmul().out_shape(((4, 9), (4, 9)))
    with pytest.raises(SpecError, match="value"):
        Addcmul("x")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="value"):
        Addcmul(True)
    with pytest.raises(
        ShapeError, match=r"^Addcmul: input 1 has shape 4x3, which does not broadcast"
    ):
        Addcmul().out_shape(((4, 2), (4, 3), (4, 3)))


# ---------------------------------------------------------------- Conv1d


def test_conv1d_rules() -> None:
    c = Conv1d(4, 6, 3, stride=2, padding=1)
    x = ((4, 11),)
    # L_out = (11 + 2 - 2 - 1) // 2 + 1 = 6
    assert c.out_shape(x) == (6, 6)
    out = (6, 6)
    # weight 6·4·3 = 72, bias 6
    assert c.params(x) == 78
    # 36 outputs · 4 · 3 taps = 432
    assert c.macs(x, out) == 432 and c.flops(x, out) == 864
    assert c.geometry(x, out) == ((3, 2, -1),)
    assert c.taps() == (1, 1)
    assert c.saved(x, out, 2) == ("in0",)
    # foreign rules, batch 2: fvcore N·MACs; ptflops N·(MACs + out); thop N·out·(C_in/g)·k;
    # torchinfo N·(weight + bias)·L_out
    assert c.count_fvcore(x, out, 2) == 864
    assert c.count_ptflops_hook(x, out, 2) == 2 * (432 + 36)
    assert c.count_ptflops_functional(x, out, 2) == 0
    assert c.count_thop(x, out, 2) == 2 * 36 * 4 * 3
    assert c.count_torchinfo(x, out, 2) == 2 * 78 * 6


def test_conv1d_grouped_dilated() -> None:
    c = Conv1d(4, 6, 3, dilation=2, groups=2, bias=False)
    x = ((4, 11),)
    # L_out = (11 - 2·2 - 1) // 1 + 1 = 7
    assert c.out_shape(x) == (6, 7)
    out = (6, 7)
    # weight 6·(4/2)·3 = 36, no bias
    assert c.params(x) == 36
    # 42 outputs · 2 · 3 = 252
    assert c.macs(x, out) == 252
    # extent 2·2 + 1 = 5, stride 1, no padding
    assert c.geometry(x, out) == ((5, 1, 0),)
    assert c.taps() == (2, 2)
    assert c.count_ptflops_hook(x, out, 1) == 252  # no bias: no add
    # symbolic groups: C_in/g as a fraction, 6·(4/g)·3 + 6
    g = sympy.Symbol("g", positive=True, integer=True)
    assert sympy.simplify(Conv1d(4, 6, 3, groups=g).params(x) - (72 / g + 6)) == 0


def test_conv1d_same_and_valid() -> None:
    # 'same', k 4: total padding 1·3 = 3, (1, 2); the output keeps L = 10
    c = Conv1d(2, 2, 4, padding="same")
    x = ((2, 10),)
    assert c.pads() == (1, 2)
    assert c.out_shape(x) == (2, _win(10, 4, 1, 1, 2)) == (2, 10)
    out = (2, 10)
    assert c.geometry(x, out) == ((4, 1, -1),)
    # torch pads a copy by the odd remainder (2 - 1 = 1): batch 3 · 2 · (10 + 1)
    assert _saved(c.saved(x, out, 3)) == [(3 * 2 * 11, None, False, "padded input copy")]
    # fvcore: aten::_convolution_mode has no handle
    assert c.count_fvcore(x, out, 3) == 0
    # 'same', k 4, dilation 2: total 6, (3, 3): symmetric, the input itself is kept
    c2 = Conv1d(2, 2, 4, padding="same", dilation=2)
    assert c2.pads() == (3, 3)
    assert c2.saved(x, c2.out_shape(x), 3) == ("in0",)
    assert c2.geometry(x, (2, 10)) == ((7, 1, -3),)
    v = Conv1d(2, 2, 4, padding="valid")
    assert v.pads() == (0, 0)
    assert v.out_shape(x) == (2, 7)  # 10 - 3
    assert Conv1d(2, 2, 3, padding=2).pads() == (2, 2)


def test_conv1d_validation() -> None:
    with pytest.raises(SpecError, match="must be an integer, 'same' or 'valid'"):
        Conv1d(2, 2, 3, padding="full")
    with pytest.raises(SpecError, match=r"padding = 'same' needs stride 1 \(as in torch\)"):
        Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(SpecError, match=r"in_channels \(=5\) must be divisible by groups \(=2\)"):
        Conv1d(5, 6, 3, groups=2)
    with pytest.raises(SpecError, match=r"out_channels \(=5\) must be divisible by groups"):
        Conv1d(4, 5, 3, groups=2)
    with pytest.raises(SpecError, match="padding"):
        Conv1d(2, 2, 3, padding=-1)
    with pytest.raises(ShapeError, match="in_channels = 4 but the input has 5 channels"):
        Conv1d(4, 6, 3).out_shape(((5, 11),))
    with pytest.raises(ShapeError, match=r"^Conv1d needs a \(C, L\) sequence .* got shape 4x11x2$"):
        Conv1d(4, 6, 3).out_shape(((4, 11, 2),))
    # a kernel 5 wider than the 3 positions
    with pytest.raises(
        ShapeError, match="^Conv1d: kernel extent 5 is larger than the padded input length 3"
    ):
        Conv1d(2, 2, 5).out_shape(((2, 3),))


# ---------------------------------------------------------------- Conv2dSame / StdConv2d


def test_conv2d_same_rules() -> None:
    c = Conv2dSame(4, 6, (3, 5), stride=(2, 1), dilation=(1, 2))
    x = ((4, 10, 11),)
    # TF 'SAME': height ceil(10/2) = 5 units, total (5-1)·2 + 1·2 + 1 - 10 = 1 -> (0, 1);
    # width ceil(11/1) = 11 units, total 10 + 2·4 + 1 - 11 = 8 -> (4, 4)
    assert c.pads_on(x) == ((0, 1), (4, 4))
    assert c.out_shape(x) == (6, _win(10, 3, 2, 0, 1), _win(11, 5, 1, 4, 4, 2)) == (6, 5, 11)
    out = (6, 5, 11)
    # Conv2d's params and MACs: 6·4·3·5 + 6 = 366; 330 outputs · 4·15 taps
    assert c.params(x) == 366
    assert c.macs(x, out) == 330 * 60
    assert c.flops(x, out) == 2 * 330 * 60
    # extents 3 and 2·4 + 1 = 9; starts -top, -left
    assert c.geometry(x, out) == ((3, 2, 0), (9, 1, -4))
    # the padded copy: batch 2 · 4 · (10 + 1) · (11 + 8)
    assert _saved(c.saved(x, out, 2)) == [(2 * 4 * 11 * 19, None, False, "padded copy")]
    assert c.count_fvcore(x, out, 2) == 2 * 330 * 60
    assert c.count_ptflops_hook(x, out, 2) == 0 and c.count_thop(x, out, 2) == 0
    # the class docstring: 225 at stride 2 -> ceil(225/2) = 113
    assert Conv2dSame(3, 32, 3, stride=2).out_shape(((3, 225, 225),)) == (32, 113, 113)


def test_tf_same_never_negative() -> None:
    # k 1, stride 2 on 10: ceil(10/2) = 5 units need (5-1)·2 + 1 = 9 < 10: total 0, not -1
    c = Conv2dSame(1, 1, 1, stride=2)
    x = ((1, 10, 10),)
    assert c.pads_on(x) == ((0, 0), (0, 0))
    assert _saved(c.saved(x, (1, 5, 5), 1)) == [(100, None, False, "padded copy")]
    assert c.geometry(x, (1, 5, 5)) == ((1, 2, 0), (1, 2, 0))


def test_tf_same_symbolic() -> None:
    # a symbolic height: the total (ceil(H/2) - 1)·2 + 3 - H is kept as an expression (no
    # max with 0): 2 at H = 9, 1 at H = 10
    h = sympy.Symbol("H", positive=True, integer=True)
    (pt, pb), (pl, pr) = Conv2dSame(4, 6, 3, stride=2).pads_on(((4, h, 11),))
    assert (pl, pr) == (1, 1)
    assert (pt + pb).subs(h, 9) == 2 and (pt + pb).subs(h, 10) == 1


def test_conv2d_same_validation() -> None:
    with pytest.raises(SpecError, match="must be 'same'"):
        Conv2dSame(4, 6, 3, padding=1)
    with pytest.raises(ShapeError, match="in_channels = 4 but the input has 5 channels"):
        Conv2dSame(4, 6, 3).out_shape(((5, 9, 9),))
    with pytest.raises(SpecError, match="groups"):
        Conv2dSame(5, 6, 3, groups=2)
    with pytest.raises(ShapeError, match=r"^Conv2dSame needs a \(C, H, W\) feature map"):
        Conv2dSame(4, 6, 3).out_shape(((4, 9),))


def test_std_conv2d_same_gain() -> None:
    c = StdConv2d(4, 6, 3, stride=2, padding="same", gain=True)
    x = ((4, 9, 11),)
    # height ceil(9/2) = 5, total 4·2 + 3 - 9 = 2 -> (1, 1); width ceil(11/2) = 6,
    # total 5·2 + 3 - 11 = 2 -> (1, 1)
    assert c.out_shape(x) == (6, 5, 6)
    out = (6, 5, 6)
    # weight 6·4·9 = 216, bias 6, gain 6
    assert c.weight_numel() == 216
    assert c.params(x) == 228
    assert c.macs(x, out) == 180 * 36 and c.flops(x, out) == 2 * 180 * 36
    assert c.geometry(x, out) == ((3, 2, -1), (3, 2, -1))
    assert c.static() is False
    # padded copy 2·4·11·13; standardised weight 216; mean and invstd 2·6 (float32);
    # gain·scale 6
    assert _saved(c.saved(x, out, 2)) == [
        (2 * 4 * 11 * 13, None, False, "padded copy"),
        (216, None, False, "standardised weight"),
        (12, "acc", False, "weight mean/invstd"),
        (6, None, False, "gain·scale"),
    ]
    # fvcore: N·MACs + 5·weight numel (batch_norm with a weight, once per forward)
    assert c.count_fvcore(x, out, 2) == 2 * 180 * 36 + 5 * 216
    # torchinfo: (weight + bias)·N·H_out·W_out, the gain left out
    assert c.count_torchinfo(x, out, 2) == 222 * 2 * 30
    assert c.count_ptflops_hook(x, out, 2) == 0 and c.count_thop(x, out, 2) == 0
    assert c.count_ptflops_functional(x, out, 2) == 0


def test_std_conv2d_plain() -> None:
    c = StdConv2d(4, 6, (3, 1), padding=(1, 0), bias=False)
    x = ((4, 9, 11),)
    assert c.out_shape(x) == (6, 9, 11)
    out = (6, 9, 11)
    # weight 6·4·3·1 = 72, no bias, no gain
    assert c.params(x) == 72 == c.weight_numel()
    assert c.geometry(x, out) == ((3, 1, -1), (1, 1, 0))
    assert _saved(c.saved(x, out, 2)) == [
        "in0",
        (72, None, False, "standardised weight"),
        (12, "acc", False, "weight mean/invstd"),
    ]
    # fvcore without a gain: 4·weight numel
    assert c.count_fvcore(x, out, 2) == 2 * c.macs(x, out) + 4 * 72
    assert c.count_torchinfo(x, out, 1) == 72 * 99


def test_std_conv2d_static_same() -> None:
    # stride 1 and an even d(k-1) = 2: timm pads in the convolution, the input is kept
    c = StdConv2d(4, 6, 3, padding="same")
    x = ((4, 9, 11),)
    assert c.static() is True
    assert c.out_shape(x) == (6, 9, 11)
    assert _saved(c.saved(x, (6, 9, 11), 1))[0] == "in0"
    # k 2 at stride 1: d(k-1) = 1 is odd, pad_same pads (0, 1): a copy 4·10·12
    c2 = StdConv2d(4, 6, 2, padding="same")
    assert c2.static() is False
    assert c2.out_shape(x) == (6, 9, 11)
    assert _saved(c2.saved(x, (6, 9, 11), 1))[0] == (4 * 10 * 12, None, False, "padded copy")
    # one axis odd is enough: (3, 2)
    assert StdConv2d(4, 6, (3, 2), padding="same").static() is False
    assert StdConv2d(4, 6, (3, 3), stride=(1, 2), padding="same").static() is False


def test_std_conv2d_kernel_too_large() -> None:
    # an int padding: Conv2dSame's out_shape with StdConv2d's own padding; a 5-tap kernel
    # on 3 rows (unpadded) does not fit
    c = StdConv2d(4, 6, 5)
    msg = "^StdConv2d: kernel extent 5 is larger than the padded input {} 3"
    with pytest.raises(ShapeError, match=msg.format("height")):
        c.out_shape(((4, 3, 11),))
    with pytest.raises(ShapeError, match=msg.format("width")):
        c.out_shape(((4, 11, 3),))


def test_std_conv2d_validation() -> None:
    with pytest.raises(SpecError, match="must be > 0"):
        StdConv2d(4, 6, 3, eps=0.0)
    with pytest.raises(SpecError, match="must be an integer, a pair or 'same'"):
        StdConv2d(4, 6, 3, padding="valid")
    StdConv2d(4, 6, 3, eps=1e-9)


# ---------------------------------------------------------------- norms


def test_batch_norm1d_rules() -> None:
    b = BatchNorm1d(4)
    x = ((4, 7),)
    assert b.out_shape(x) == (4, 7)
    out = (4, 7)
    # weight and bias 2·4; running mean, var 2·4 + num_batches_tracked 1
    assert b.params(x) == 8 and b.buffers(x) == 9
    assert b.flops(x, out) == 2 * 28
    assert b.geometry(x, out) == ((1, 1, 0),)
    assert b.geometry(((4,),), (4,)) == ()
    assert _saved(b.saved(x, out, 3)) == [
        "in0",
        (8, None, True, "running stats"),
        (8, "acc", False, "batch mean/invstd"),
    ]
    assert b.count_torchinfo(x, out, 3) == 3 * 8
    assert b.count_fvcore(x, out, 3) == 2 * 3 * 28
    assert BatchNorm1d(384).out_shape(((384,),)) == (384,)


def test_batch_norm1d_folded() -> None:
    b = BatchNorm1d(256, folded=True)
    x = ((196, 256),)
    assert b.out_shape(x) == (196, 256)
    assert b.out_shape(((196, 256, 3),)) == (196, 256, 3)
    assert b.geometry(x, (196, 256)) == ((1, 1, 0),)
    # torch's batch is N·196: torchinfo counts the 512 parameters per row
    assert b.count_torchinfo(x, (196, 256), 2) == 2 * 512 * 196
    with pytest.raises(ShapeError, match=r"needs \(k, C\) or \(k, C, L\), got shape 256"):
        b.out_shape(((256,),))
    with pytest.raises(ShapeError, match="num_features = 256 but the input has 196 channels"):
        b.out_shape(((256, 196),))


def test_batch_norm1d_validation() -> None:
    with pytest.raises(
        ShapeError, match=r"needs a \(C,\) vector or a \(C, L\) sequence, got shape 4x7x5;"
    ):
        BatchNorm1d(4).out_shape(((4, 7, 5),))
    with pytest.raises(ShapeError, match="use BatchNorm2d on a"):
        BatchNorm1d(4).out_shape(((),))
    with pytest.raises(ShapeError, match="num_features = 4 but the input has 5 channels"):
        BatchNorm1d(4).out_shape(((5, 7),))
    with pytest.raises(ShapeError, match="num_features = 4 but the input has 5 channels"):
        BatchNorm1d(4).out_shape(((5,),))


def test_rms_norm_rules() -> None:
    r = RMSNorm(6, 1e-6)
    x = ((5, 6),)
    assert r.out_shape(x) == (5, 6)
    out = (5, 6)
    assert r.params(x) == 6 and r.buffers(x) == 0
    # square, sum, rstd product, weight product: 4·30
    assert r.flops(x, out) == 120
    # batch 3: the input, 3·5 rstd, 3·30 normalised input (float32)
    assert _saved(r.saved(x, out, 3)) == [
        "in0",
        (15, "acc", False, "rstd"),
        (90, "acc", False, "normalised input"),
    ]
    assert r.count_torchinfo(x, out, 3) == 18
    assert r.count_fvcore(x, out, 3) == 0
    n = RMSNorm(6, affine=False)
    assert n.params(x) == 0
    assert n.flops(x, out) == 90  # 3·30
    assert _saved(n.saved(x, out, 3)) == ["in0", (15, "acc", False, "rstd")]
    # rank 3: positions are every axis but the last, 2·5 = 10
    assert _saved(r.saved(((2, 5, 6),), (2, 5, 6), 1))[1] == (10, "acc", False, "rstd")


def test_rms_norm_validation() -> None:
    with pytest.raises(
        ShapeError, match=r"normalized_shape = 6 but the last axis .* \(shape 6x5\)"
    ):
        RMSNorm(6).out_shape(((6, 5),))
    # the last axis, not the second: (2, 5, 6) normalises 6
    assert RMSNorm(6).out_shape(((2, 5, 6),)) == (2, 5, 6)
    with pytest.raises(ShapeError, match="the last axis of the input has 5"):
        RMSNorm(6).out_shape(((2, 6, 5),))
    with pytest.raises(
        SpecError,
        match=r"^RMSNorm\.eps = -1\.0: must be None \(torch's default\) or a number >= 0",
    ):
        RMSNorm(6, -1.0)
    with pytest.raises(SpecError, match="eps"):
        RMSNorm(6, True)
    RMSNorm(6, 0.0)
    RMSNorm(6, None)


def test_rms_norm2d_rules() -> None:
    r = RMSNorm2d(4)
    x = ((4, 9, 11),)
    assert r.out_shape(x) == (4, 9, 11)
    out = (4, 9, 11)
    assert r.params(x) == 4
    assert r.flops(x, out) == 4 * 396
    # batch 2: rstd per position 2·99, normalised input 2·396, in the activation dtype
    assert _saved(r.saved(x, out, 2)) == [
        "in0",
        (198, None, False, "rstd"),
        (792, None, False, "normalised input"),
    ]
    n = RMSNorm2d(4, affine=False)
    assert n.params(x) == 0 and n.flops(x, out) == 3 * 396
    assert _saved(n.saved(x, out, 2)) == ["in0", (198, None, False, "rstd")]
    with pytest.raises(ShapeError, match="num_channels = 4 but the input has 5 channels"):
        r.out_shape(((5, 9, 11),))
    with pytest.raises(SpecError, match="eps"):
        RMSNorm2d(4, -1e-6)
    with pytest.raises(ShapeError, match=r"^RMSNorm2d needs a \(C, H, W\) feature map"):
        r.out_shape(((4, 9),))


# ---------------------------------------------------------------- pools


def test_adaptive_max_pool() -> None:
    p = AdaptiveMaxPool2d((4, 3))
    x = ((4, 9, 11),)
    assert p.out_shape(x) == (4, 4, 3)
    out = (4, 4, 3)
    # windows [floor(i·n/o), ceil((i+1)·n/o)): height 9 -> 4: [0,3) [2,5) [4,7) [6,9),
    # sizes sum 12; width 11 -> 3: [0,4) [3,8) [7,11), sizes 4 + 5 + 4 = 13.
    # comparisons: (size - 1) per window: 4 channels · (12·13 - 4·3) = 576
    assert p.flops(x, out) == 576
    assert _saved(p.saved(x, out, 2)) == ["in0", (2 * 48, 8, False, "argmax indices")]
    assert p.count_ptflops_functional(x, out, 2) == 2 * 396
    assert p.count_thop(x, out, 2) == 0


def test_blur_pool_rules() -> None:
    b = BlurPool2d(4)
    x = ((4, 9, 11),)
    # pad (2 - 1 + 3 - 1) // 2 = 1: (9 + 2 - 3) // 2 + 1 = 5, (11 + 2 - 3) // 2 + 1 = 6
    assert b.pad() == 1
    assert b.out_shape(x) == (4, 5, 6)
    out = (4, 5, 6)
    assert b.params(x) == 0
    assert b.buffers(x) == 4 * 9
    assert BlurPool2d().buffers(x) == 9  # one filter expanded to every channel
    # 120 outputs · 3² taps
    assert b.macs(x, out) == 1080 and b.flops(x, out) == 2160
    assert b.geometry(x, out) == ((3, 2, -1), (3, 2, -1))
    # reflect: the input (of the pad), the padded copy 2·4·11·13, the filter (a buffer)
    assert _saved(b.saved(x, out, 2)) == [
        "in0",
        (2 * 4 * 11 * 13, None, False, "padded copy"),
        (36, None, True, "blur filter"),
    ]
    assert _saved(BlurPool2d(4, pad_mode="replicate").saved(x, out, 2))[0] == "in0"
    c = BlurPool2d(4, pad_mode="constant")
    assert _saved(c.saved(x, out, 2)) == [
        (2 * 4 * 11 * 13, None, False, "padded copy"),
        (36, None, True, "blur filter"),
    ]
    assert b.count_fvcore(x, out, 2) == 2 * 1080
    assert b.count_torchinfo(x, out, 2) == 0


def test_blur_pool_other_sizes() -> None:
    # filt 5, stride 3: pad (3 - 1 + 5 - 1) // 2 = 3; (9 + 6 - 5) // 3 + 1 = 4,
    # (11 + 6 - 5) // 3 + 1 = 5
    b = BlurPool2d(4, filt_size=5, stride=3)
    x = ((4, 9, 11),)
    assert b.pad() == 3
    assert b.out_shape(x) == (4, 4, 5)
    assert b.geometry(x, (4, 4, 5)) == ((5, 3, -3), (5, 3, -3))
    assert b.macs(x, (4, 4, 5)) == 80 * 25
    assert _saved(b.saved(x, (4, 4, 5), 1))[1] == (4 * 15 * 17, None, False, "padded copy")
    with pytest.raises(ShapeError, match="BlurPool2d.channels = 5 but the input has 4"):
        BlurPool2d(5).out_shape(x)
    BlurPool2d().out_shape(x)  # no channels: any input
    with pytest.raises(SpecError, match="filt_size"):
        BlurPool2d(4, filt_size=1)
    with pytest.raises(ShapeError, match=r"^BlurPool2d needs a \(C, H, W\) feature map"):
        BlurPool2d(4).out_shape(((4, 9),))
    # filt 4 at stride 1: pad (0 + 3) // 2 = 1; a 1-row map padded to 3 rows < 4
    b4 = BlurPool2d(4, filt_size=4, stride=1)
    with pytest.raises(
        ShapeError, match="^BlurPool2d: kernel extent 4 is larger than the padded input height 3"
    ):
        b4.out_shape(((4, 1, 11),))
    with pytest.raises(
        ShapeError, match="^BlurPool2d: kernel extent 4 is larger than the padded input width 3"
    ):
        b4.out_shape(((4, 11, 1),))


def test_avg_pool1d_rules() -> None:
    p = AvgPool1d(3, 2, padding=1, ceil_mode=True)
    x = ((4, 12),)
    # ceil((12 + 2 - 3) / 2) + 1 = 7; the last window starts at 6·2 - 1 = 11 < 12: kept
    assert p.out_shape(x) == (4, 7)
    assert AvgPool1d(3, 2, padding=1).out_shape(x) == (4, 6)  # floor: 5 + 1
    out = (4, 7)
    assert p.params(x) == 0
    # k per output: 28·3
    assert p.flops(x, out) == 84
    assert p.geometry(x, out) == ((3, 2, -1),)
    assert p.taps() == (1, 1)
    assert p.saved(x, out, 2) == ("in0",)
    assert p.count_ptflops_hook(x, out, 2) == 2 * 48
    assert p.count_ptflops_functional(x, out, 2) == 2 * 48
    assert p.count_thop(x, out, 2) == 2 * 28
    # stride defaults to the kernel: 196 / 4 = 49
    assert AvgPool1d(4).stride == 4
    assert AvgPool1d(4).out_shape(((96, 196),)) == (96, 49)


def test_max_pool1d_rules() -> None:
    p = MaxPool1d(3, 2, padding=1, dilation=2)
    x = ((8, 10),)
    # (10 + 2 - 2·2 - 1) // 2 + 1 = 4
    assert p.out_shape(x) == (8, 4)
    out = (8, 4)
    # k - 1 comparisons per output: 32·2
    assert p.flops(x, out) == 64
    assert p.geometry(x, out) == ((5, 2, -1),)
    assert p.taps() == (2, 2)
    assert _saved(p.saved(x, out, 3)) == ["in0", (96, 8, False, "argmax indices")]
    assert p.count_thop(x, out, 3) == 0
    assert p.count_ptflops_hook(x, out, 3) == 3 * 80
    assert MaxPool1d(3, 2, padding=1).out_shape(x) == (8, 5)  # (10 + 2 - 3) // 2 + 1


def test_pool1d_validation() -> None:
    with pytest.raises(SpecError, match=r"must be at most half the kernel size 3 \(padding <= 1\)"):
        AvgPool1d(3, padding=2)
    AvgPool1d(4, padding=2)  # 2·2 = 4: allowed
    with pytest.raises(SpecError, match="dilation"):
        MaxPool1d(3, dilation=0)
    with pytest.raises(SpecError, match="stride"):
        MaxPool1d(3, stride=0)
    with pytest.raises(
        ShapeError,
        match=r"^AvgPool1d needs a \(C, L\) sequence \(torch's \(N, C, L\)\), got shape 4x9x9$",
    ):
        AvgPool1d(3).out_shape(((4, 9, 9),))
    with pytest.raises(
        ShapeError, match="^MaxPool1d: kernel extent 3 is larger than the padded input length 2"
    ):
        MaxPool1d(3).out_shape(((4, 2),))


# ---------------------------------------------------------------- Resize


def test_resize_bicubic_size() -> None:
    r = Resize(size=(12, 7), mode="bicubic")
    x = ((4, 9, 11),)
    assert r.out_shape(x) == (4, 12, 7)
    out = (4, 12, 7)
    assert r.params(x) == 0 and r.saved(x, out, 2) == ()
    # 16 taps: 16 products, 15 adds = 31 per output, 4·84 outputs
    assert r.flops(x, out) == 31 * 336
    # height: ratio 9/12 = 3/4, unit 0 at 3/8 - 1/2 = -1/8: floor -1, one more before (cubic)
    # width: ratio 11/7, unit 0 at 11/14 - 1/2 = 2/7: floor 0, minus 1
    assert r.geometry(x, out) == ((4, Fraction(3, 4), -2), (4, Fraction(11, 7), -1))
    # fvcore has no upsample_bicubic2d handle; thop counts modules only
    assert r.count_fvcore(x, out, 2) == 0
    assert r.count_thop(x, out, 2) == 0 and r.count_ptflops_hook(x, out, 2) == 0
    assert r.count_ptflops_functional(x, out, 2) == 2 * 336
    u = Resize(size=(12, 7), mode="bicubic", op="upsample")
    assert u.count_thop(x, out, 2) == 2 * 336 * 259
    assert u.count_ptflops_hook(x, out, 2) == 336


def test_resize_bilinear() -> None:
    x = ((4, 9, 11),)
    r = Resize(size=(3, 2), mode="bilinear")
    out = r.out_shape(x)
    assert out == (4, 3, 2)
    assert r.flops(x, out) == 7 * 24  # 4 products, 3 adds
    # height ratio 3, unit 0 at 1.5 - 0.5 = 1; width 11/2, at 11/4 - 1/2 = 9/4: floor 2
    assert r.geometry(x, out) == ((2, Fraction(3), 1), (2, Fraction(11, 2), 2))
    assert r.count_fvcore(x, out, 2) == 2 * 24 * 4
    a = Resize(size=(12, 1), mode="bilinear", align_corners=True)
    # align_corners: ratio (n-1)/(o-1) = 8/11, unit 0 at 0; one output: ratio 0
    assert a.geometry(x, (4, 12, 1)) == ((2, Fraction(8, 11), 0), (2, Fraction(0), 0))
    assert (
        Resize(scale_factor=2.0, mode="bilinear", op="upsample").count_thop(x, (4, 18, 22), 1)
        == 11 * 4 * 18 * 22
    )


def test_resize_nearest() -> None:
    x = ((4, 9, 11),)
    r = Resize(scale_factor=1.5)
    # floor(9·1.5) = 13, floor(11·1.5) = 16
    assert r.out_shape(x) == (4, 13, 16)
    out = (4, 13, 16)
    assert r.flops(x, out) == 0
    # ratio 1/1.5 = 2/3, unit 0 samples at 0
    assert r.geometry(x, out) == ((1, Fraction(2, 3), 0), (1, Fraction(2, 3), 0))
    assert r.count_fvcore(x, out, 2) == 2 * 4 * 13 * 16
    # ptflops with a scale: input numel·scale², truncated: 2·396·2.25 = 1782 (an int)
    v = r.count_ptflops_functional(x, out, 2)
    assert v == 1782 and isinstance(v, int)
    # a symbolic batch: the product stays an expression, N·396·2.25 = 891·N
    n = sympy.Symbol("N", positive=True, integer=True)
    assert sympy.simplify(r.count_ptflops_functional(x, out, n) - 891 * n) == 0
    e = Resize(size=(3, 2), mode="nearest-exact")
    # unit 0 at r/2: height 3/2 -> 1, width 11/4 -> 2
    assert e.geometry(x, (4, 3, 2)) == ((1, Fraction(3), 1), (1, Fraction(11, 2), 2))
    assert e.count_fvcore(x, (4, 3, 2), 1) == 0
    # at r/2, not r/2 - 1/2 as the linear modes: height 9 -> 4, r = 9/4, unit 0 at 9/8 -> 1
    # (9/8 - 1/2 = 5/8 would give 0); width 11 -> 2 as above
    assert e.geometry(x, (4, 4, 2)) == ((1, Fraction(9, 4), 1), (1, Fraction(11, 2), 2))


def test_resize_validation() -> None:
    with pytest.raises(SpecError, match="give exactly one of size and scale_factor"):
        Resize(size=(4, 4), scale_factor=2.0)
    with pytest.raises(SpecError, match="give exactly one of size and scale_factor"):
        Resize()
    with pytest.raises(SpecError, match=r"must be a positive number \(or None\)"):
        Resize(scale_factor=-1.0)
    with pytest.raises(SpecError, match="scale_factor"):
        Resize(scale_factor=True)
    with pytest.raises(SpecError, match="applies to bilinear and bicubic only"):
        Resize(size=4, align_corners=True)
    h = sympy.Symbol("H", positive=True, integer=True)
    with pytest.raises(UnsupportedError, match="a non-integer scale of a symbolic size"):
        Resize(scale_factor=1.5).out_shape(((4, h, 11),))
    with pytest.raises(UnsupportedError, match="a non-integer scale of a symbolic size"):
        Resize(scale_factor=1.5).out_shape(((4, 11, h),))
    with pytest.raises(ShapeError, match=r"^Resize needs a \(C, H, W\) feature map"):
        Resize(scale_factor=1.5).out_shape(((4, 11),))
    with pytest.raises(UnsupportedError, match="receptive field of a symbolic size"):
        Resize(size=(3, 2)).geometry(((4, h, 11),), (4, 3, 2))
    # a size: the output's size, whatever the (symbolic) input
    assert Resize(size=(3, 2)).out_shape(((4, h, 11),)) == (4, 3, 2)
