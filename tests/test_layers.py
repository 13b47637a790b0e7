"""Layer rules against hand derivations (each expected value is written as its derivation)."""

from __future__ import annotations

import pytest

from archcalc import (
    AdaptiveAvgPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    ConvTranspose2d,
    CoordAugment,
    Flatten,
    Linear,
    MaxPool2d,
    Mul,
    ShapeError,
    SpecError,
    UnsupportedError,
)
from archcalc.kinds import LAYER_KINDS, layer_from_dict


def test_conv_shape_params_macs():
    c = Conv2d(3, 64, 11, stride=4, padding=2)
    # floor((224 + 2*2 - 11) / 4) + 1 = floor(217/4) + 1 = 55
    assert c.out_shape(((3, 224, 224),)) == (64, 55, 55)
    assert c.params(((3, 224, 224),)) == 64 * 3 * 11 * 11 + 64
    assert c.macs(((3, 224, 224),), (64, 55, 55)) == 64 * 55 * 55 * 3 * 11 * 11


def test_conv_non_square_dilation_groups():
    c = Conv2d(8, 16, (3, 5), stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=4, bias=False)
    # height: floor((10 + 2 - 2*(3-1) - 1)/1) + 1 = 8 ; width: floor((11 - 5)/2) + 1 = 4
    assert c.out_shape(((8, 10, 11),)) == (16, 8, 4)
    assert c.params(((8, 10, 11),)) == 16 * (8 // 4) * 3 * 5
    assert c.macs(((8, 10, 11),), (16, 8, 4)) == 16 * 8 * 4 * (8 // 4) * 3 * 5


@pytest.mark.parametrize(
    ("k", "d", "lo", "hi"), [(3, 1, 1, 1), (4, 1, 1, 2), (3, 2, 2, 2), (2, 3, 1, 2)]
)
def test_same_padding_split(k, d, lo, hi):
    # torch pads d*(k-1) in total, the smaller half on the top/left
    c = Conv2d(1, 1, k, padding="same", dilation=d)
    assert c.pads() == ((lo, hi), (lo, hi))
    assert c.out_shape(((1, 9, 7),)) == (1, 9, 7)


def test_same_padding_needs_stride_1():
    with pytest.raises(SpecError, match="'same' needs stride 1"):
        Conv2d(1, 1, 3, stride=2, padding="same")


def test_conv_transpose():
    t = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    # (16 - 1)*2 - 2*1 + (3 - 1) + 1 + 1 = 32
    assert t.out_shape(((8, 16, 16),)) == (4, 32, 32)
    assert t.params(((8, 16, 16),)) == 8 * 4 * 3 * 3 + 4
    # each of 8*16*16 inputs scatters into 4*3*3 outputs
    assert t.macs(((8, 16, 16),), (4, 32, 32)) == 8 * 16 * 16 * 4 * 9


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "expected"),
    [
        (6, 3, 2, 1, 4),  # ceil((6+2-3)/2)+1 = 4; last window starts at 6 < 6+1: kept
        (5, 2, 2, 1, 3),  # ceil((5+2-2)/2)+1 = 4; last window starts at 6 >= 5+1: dropped -> 3
        (112, 3, 2, 0, 56),  # ceil(109/2)+1 = 56 (GoogLeNet's first pool)
        (7, 3, 2, 0, 3),  # ceil(4/2)+1 = 3
    ],
)
def test_maxpool_ceil_mode(n, k, s, p, expected):
    assert MaxPool2d(k, s, padding=p, ceil_mode=True).out_shape(((1, n, n),)) == (
        1,
        expected,
        expected,
    )


def test_pool_padding_limit():
    with pytest.raises(SpecError, match="at most half"):
        MaxPool2d(2, 2, padding=2)


def test_avgpool_flops_and_maxpool_flops():
    a = AvgPool2d(2)
    assert a.flops(((3, 8, 8),), (3, 4, 4)) == 3 * 4 * 4 * (2 * 2)
    m = MaxPool2d(3, 2)
    assert m.flops(((3, 9, 9),), (3, 4, 4)) == 3 * 4 * 4 * (3 * 3 - 1)


def test_adaptive_windows_flops():
    # torch windows for 5 -> 3: [0,2), [1,4), [3,5): sizes 2, 3, 2 -> sum 7 per axis
    a = AdaptiveAvgPool2d(3)
    assert a.flops(((2, 5, 5),), (2, 3, 3)) == 2 * 7 * 7


def test_batchnorm_params_buffers():
    bn = BatchNorm2d(64)
    assert bn.params(((64, 8, 8),)) == 2 * 64
    assert bn.buffers(((64, 8, 8),)) == 2 * 64 + 1  # running mean, var, num_batches_tracked


def test_linear_on_map_acts_on_channels():
    lin = Linear(96, 384)
    assert lin.out_shape(((96, 56, 56),)) == (384, 56, 56)
    assert lin.macs(((96, 56, 56),), (384, 56, 56)) == 96 * 56 * 56 * 384


def test_merges():
    assert Concat().out_shape(((3, 4, 4), (5, 4, 4))) == (8, 4, 4)
    assert Add().out_shape(((3, 4, 4), (3, 4, 4))) == (3, 4, 4)
    assert Mul().out_shape(((3, 4, 4), (3, 1, 1))) == (3, 4, 4)
    with pytest.raises(ShapeError, match="input 1 has shape 3x4x5"):
        Add().out_shape(((3, 4, 4), (3, 4, 5)))
    with pytest.raises(ShapeError, match="equal height and width"):
        Concat().out_shape(((3, 4, 4), (3, 2, 2)))
    with pytest.raises(ShapeError, match="does not broadcast"):
        Mul().out_shape(((3, 4, 4), (2, 1, 1)))


def test_coord_augment():
    assert CoordAugment().out_shape(((3, 32, 32),)) == (3 + 2, 32, 32)


def test_flatten():
    assert Flatten().out_shape(((256, 6, 6),)) == (256 * 6 * 6,)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"kernel_size": 0}, r"kernel_size = 0: must be >= 1"),
        ({"stride": 0}, r"stride = 0: must be >= 1"),
        ({"groups": 2, "in_channels": 3}, r"in_channels \(=3\) must be divisible by groups \(=2\)"),
        ({"padding": "full"}, r"padding = 'full'"),
        ({"kernel_size": (3, 3, 3)}, r"pair"),
        ({"kernel_size": 2.5}, r"must be an integer"),
    ],
)
def test_conv_validation(kw, match):
    args = {"in_channels": 4, "out_channels": 4, "kernel_size": 3} | kw
    with pytest.raises(SpecError, match=match):
        Conv2d(**args)


def test_kernel_larger_than_input():
    with pytest.raises(
        ShapeError, match="kernel extent 7 is larger than the padded input height 5"
    ):
        Conv2d(1, 1, 7).out_shape(((1, 5, 5),))


def test_layer_from_dict_errors():
    with pytest.raises(SpecError, match="unknown layer kind"):
        layer_from_dict({"kind": "Conv3d"})
    with pytest.raises(SpecError, match="unknown field"):
        layer_from_dict({"kind": "ReLU", "inplace": True})
    with pytest.raises(SpecError, match="required fields: in_channels, out_channels, kernel_size"):
        layer_from_dict({"kind": "Conv2d"})


@pytest.mark.parametrize("kind", sorted(LAYER_KINDS))
def test_every_kind_covers_every_quantity(kind):
    """Each registered kind answers every quantity (no silent default of zero for FLOPs or
    saved tensors: those have no base-class default), on its registry example."""
    cls = LAYER_KINDS[kind]
    layer, ins = cls.example()
    out = layer.out_shape(ins)
    assert isinstance(layer.flops(ins, out), int)
    assert isinstance(layer.params(ins), int)
    assert isinstance(layer.saved(ins, out, 1), tuple)
    if cls.arity == 1:
        try:
            layer.geometry(ins, out)
        except UnsupportedError as e:  # a field declined by name (a Param sees no input)
            assert str(e).strip()
    assert layer_from_dict(layer.to_dict()) == layer


def _torch_ceil_rule(n, k, s, p, d):
    # torch's pooling_output_shape with ceil_mode: ceil, then drop a window that starts in the
    # right padding
    span = n + 2 * p - d * (k - 1) - 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return out


def test_ceil_mode_matches_torch_rule_exhaustively():
    for n in range(1, 30):
        for k in range(1, 5):
            for s in range(1, 4):
                for d in (1, 2):
                    for p in range(0, k // 2 + 1):  # torch: padding <= kernel_size // 2
                        if n + 2 * p < d * (k - 1) + 1:
                            continue
                        pool = MaxPool2d(k, s, padding=p, dilation=d, ceil_mode=True)
                        assert pool.out_shape(((1, n, n),))[1] == _torch_ceil_rule(n, k, s, p, d)


def test_symbolic_ceil_mode_stack_substitutes():
    import sympy

    from archcalc import sequential, summary, symbol

    m = sequential("p", [MaxPool2d(3, 2, ceil_mode=True)] * 4, input_shape=(1, 64, 64))
    sym = summary(m, input="1xHxW")
    for h in (31, 40, 64, 65, 101):
        num = summary(m, input=(1, h, h))
        assert sympy.sympify(sym.output_shape[1]).subs(symbol("H"), h) == num.output_shape[1]
