"""Each kind's rules on asymmetric cases, every figure derived by hand (torch-free).

Written against the mutants that survived the torch-free tests (docs/testing.md): a rule that
read the height for the width, dropped a bias, changed a constant or named the wrong kind in
its error passed them. Inputs are non-square, strides and kernels differ per axis, and error
messages are matched, so each of those changes fails here without torch.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import archcalc
from archcalc import (
    ChannelShuffle,
    ConvTranspose2d,
    CoordAugment,
    GlobalAvgPool,
    LayerNorm2d,
    LayerScale,
    Linear,
    Mul,
    ShapeError,
    Slice,
    StochasticDepth,
    Upsample,
    sequential,
)
from archcalc.engine.memory import memory_report
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import GLOBAL, Extra

# ---------------------------------------------------------------- ConvTranspose2d


def test_conv_transpose_figures_per_axis():
    # 4 -> 6 channels, groups 2, kernel 3x2, stride 2x3, padding 1x0, output_padding 1x2
    t = ConvTranspose2d(
        4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2
    )
    ins = ((4, 5, 7),)
    # H: (5 - 1)·2 - 2·1 + 1·(3 - 1) + 1 + 1 = 10;  W: (7 - 1)·3 - 0 + 1·(2 - 1) + 2 + 1 = 22
    assert t.out_shape(ins) == (6, 10, 22)
    # weight in × out/groups × kh × kw = 4·3·3·2 = 72, bias 6
    assert t.params(ins) == 4 * 3 * 3 * 2 + 6
    no_bias = ConvTranspose2d(
        4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, bias=False
    )
    assert no_bias.params(ins) == 4 * 3 * 3 * 2
    # every input element is scattered into out/groups · kh · kw = 3·6 outputs
    assert t.macs(ins, (6, 10, 22)) == 4 * 5 * 7 * 3 * 3 * 2
    assert t.flops(ins, (6, 10, 22)) == 2 * 4 * 5 * 7 * 3 * 3 * 2
    assert t.saved(ins, (6, 10, 22), 2) == ("in0",)


def test_conv_transpose_smallest_output_and_errors():
    assert ConvTranspose2d(1, 1, 1).out_shape(((1, 1, 1),)) == (1, 1, 1)
    # 1 row, kernel 1, padding 1: (1 - 1)·1 - 2 + 0 + 0 + 1 = -1
    with pytest.raises(ShapeError, match=r"^ConvTranspose2d: output height would be -1; reduce"):
        ConvTranspose2d(1, 1, 1, padding=(1, 0)).out_shape(((1, 1, 1),))
    with pytest.raises(ShapeError, match=r"^ConvTranspose2d: output width would be -1; reduce"):
        ConvTranspose2d(1, 1, 1, padding=(0, 1)).out_shape(((1, 1, 1),))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d.in_channels = 4 but the input has 3"):
        ConvTranspose2d(4, 2, 3).out_shape(((3, 5, 5),))
    with pytest.raises(ShapeError, match=r"^ConvTranspose2d needs a \(C, H, W\) feature map"):
        ConvTranspose2d(4, 2, 3).out_shape(((4,),))


def _taps(k: int, s: int, p: int, d: int, j: int) -> list[int]:
    """Input rows output row j of a transposed conv reads: j = i·s - p + d·t, 0 <= t < k."""
    return [(j + p - d * t) // s for t in range(k) if (j + p - d * t) % s == 0]


@pytest.mark.parametrize(
    ("k", "s", "p", "d"),
    [(3, 2, 1, 1), (4, 2, 1, 1), (5, 3, 2, 1), (3, 3, 0, 2), (2, 1, 0, 1), (4, 3, 2, 1)],
)
def test_conv_transpose_geometry_against_its_taps(k, s, p, d):
    # per axis: (the widest output phase's span of inputs, stride 1/s, unit 0's first input);
    # the other axis is a plain 1-tap, stride-1 axis, so a swapped axis fails
    t = ConvTranspose2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1))
    out = t.out_shape(((1, 9, 9),))
    spans = [max(ts) - min(ts) + 1 for ts in (_taps(k, s, p, d, j) for j in range(s)) if ts]
    start = min(_taps(k, s, p, d, 0))
    assert t.geometry(((1, 9, 9),), out) == ((max(spans), Fraction(1, s), start), (1, 1, 0))
    # and transposed: the same numbers on the width
    tw = ConvTranspose2d(1, 1, (1, k), stride=(1, s), padding=(0, p), dilation=(1, d))
    assert (
        tw.geometry(((1, 9, 9),), tw.out_shape(((1, 9, 9),)))[1] == t.geometry(((1, 9, 9),), out)[0]
    )


# ---------------------------------------------------------------- Upsample


def test_upsample_shape_flops_geometry():
    up = Upsample((2, 3))
    assert up.out_shape(((2, 4, 5),)) == (2, 8, 15)
    assert up.flops(((2, 4, 5),), (2, 8, 15)) == 0  # nearest: a copy
    # nearest: output unit j reads input floor(j / s): one pixel, stride 1/s, from 0
    assert up.geometry(((2, 4, 5),), (2, 8, 15)) == (
        (1, Fraction(1, 2), 0),
        (1, Fraction(1, 3), 0),
    )
    bi = Upsample((2, 3), "bilinear")
    # 4 taps per output: 4 products + 3 sums = 7 per element of (2, 8, 15)
    assert bi.flops(((2, 4, 5),), (2, 8, 15)) == 7 * 2 * 8 * 15
    # half-pixel centres: unit 0 sits at (0 + 1/2)/s - 1/2 < 0, so it reads rows -1 and 0
    assert bi.geometry(((2, 4, 5),), (2, 8, 15)) == (
        (2, Fraction(1, 2), -1),
        (2, Fraction(1, 3), -1),
    )
    # bilinear at scale 1 is the identity: one pixel
    one = Upsample((1, 2), "bilinear")
    assert one.geometry(((2, 4, 5),), (2, 4, 10)) == ((1, 1, 0), (2, Fraction(1, 2), -1))
    with pytest.raises(ShapeError, match=r"^Upsample needs a \(C, H, W\) feature map"):
        up.out_shape(((8,),))


# ---------------------------------------------------------------- merges


def test_mul_figures():
    # a (C, 1, W) operand broadcasts over the height only
    assert Mul().out_shape(((4, 1, 1), (4, 5, 1))) == (4, 5, 1)
    ins3 = ((3, 4, 5),) * 3
    # n inputs: n - 1 products per output element
    assert Mul().flops(ins3, (3, 4, 5)) == 2 * 60
    assert Mul().flops(ins3[:2], (3, 4, 5)) == 60
    # three inputs run as two binary products: the first product (one map) is kept too
    assert Mul().saved(ins3, (3, 4, 5), 2) == (
        "in0",
        "in1",
        "in2",
        Extra(2 * 60, None, "partial products"),
    )
    assert Mul().saved(ins3[:2], (3, 4, 5), 2) == ("in0", "in1")


# ---------------------------------------------------------------- norms and the rest


def test_layernorm2d_figures():
    ln = LayerNorm2d(3)
    ins = ((3, 4, 5),)
    assert ln.params(ins) == 2 * 3
    # mean, centre, square, variance sum (1 each), normalise (2), affine (2) per element
    assert ln.flops(ins, (3, 4, 5)) == 8 * 60
    # a mean and a reciprocal std per position (batch·H·W = 2·4·5), in the accumulate dtype
    assert ln.saved(ins, (3, 4, 5), 2) == ("in0", Extra(2 * (2 * 4 * 5), "acc", "mean/rstd"))
    with pytest.raises(ShapeError, match=r"^LayerNorm2d.num_channels = 3 but the input has 4 "):
        ln.out_shape(((4, 5, 6),))


def test_layernorm2d_saved_bytes_in_a_model():
    # float16 activations keep their float32 statistics: conv input (3·4·5 halves) +
    # layernorm input (2·4·5 halves) + 2·(4·5) float32 statistics, at batch 1
    m = sequential("ln", [archcalc.Conv2d(3, 2, 1), LayerNorm2d(2)], input_shape=(3, 4, 5))
    s = archcalc.summary(m, dtype="float16")
    assert s.memory.saved_for_backward_bytes == 3 * 4 * 5 * 2 + 2 * 4 * 5 * 2 + 2 * 4 * 5 * 4


def test_stochastic_depth_figures():
    sd = StochasticDepth(0.2)
    # one noise value per sample
    assert sd.saved(((3, 4, 5),), (3, 4, 5), 3) == (Extra(3, None, "stochastic depth noise"),)
    assert StochasticDepth(0.0).saved(((3, 4, 5),), (3, 4, 5), 3) == ()
    assert sd.is_view(training=False) and not sd.is_view(training=True)
    assert StochasticDepth(0.0).is_view(training=True)


def test_linear_geometry_and_as_conv():
    lin = Linear(4, 6, bias=False)
    assert lin.geometry(((4, 3, 5),), (6, 3, 5)) == ((1, 1, 0), (1, 1, 0))
    assert lin.geometry(((4,),), (6,)) is GLOBAL
    assert lin.as_conv(None) == archcalc.Conv2d(4, 6, 1, bias=False)
    assert lin.as_conv((1, 2, 2)) == archcalc.Conv2d(1, 6, (2, 2), bias=False)


def test_shape_errors_name_the_kind():
    for layer, kind in [(CoordAugment(), "CoordAugment"), (GlobalAvgPool(), "GlobalAvgPool")]:
        with pytest.raises(ShapeError, match=rf"^{kind} needs a \(C, H, W\) feature map"):
            layer.out_shape(((3, 4),))
    with pytest.raises(
        ShapeError, match=r"^LayerScale.channels = 3 but the input.s channels \(axis 0\) has 4 "
    ):
        LayerScale(3).out_shape(((4, 5, 6),))
    assert CoordAugment().out_shape(((3, 4, 5),)) == (5, 4, 5)
    assert LayerScale(3).out_shape(((3, 4, 5),)) == (3, 4, 5)


def test_slice_and_shuffle():
    assert Slice(1, 3).out_shape(((5, 4, 6),)) == (2, 4, 6)
    assert Slice(2, 5).out_shape(((5, 4, 6),)) == (3, 4, 6)  # up to the last channel
    assert Slice(0, 2).out_shape(((5, 7),)) == (2, 7)
    with pytest.raises(ShapeError, match=r"^Slice.stop = 6 but the input has 5 channels"):
        Slice(0, 6).out_shape(((5, 4, 6),))
    assert Slice(1, 3).flops(((5, 4, 6),), (2, 4, 6)) == 0  # a view
    assert ChannelShuffle(2).flops(((4, 3, 3),), (4, 3, 3)) == 0  # a permutation


# ---------------------------------------------------------------- engine


def test_with_nodes_keeps_the_model_attributes():
    m = archcalc.zoo.get("resnet18")
    assert m.features is not None and m.description
    cut = [n.name for n in m.nodes].index(m.features) + 1  # up to the feature map
    sub = m.with_nodes(m.nodes[:cut])
    assert (sub.name, sub.input_shape, sub.features, sub.description) == (
        m.name,
        m.input_shape,
        m.features,
        m.description,
    )
    assert sub.output == m.features
    assert m.with_nodes(m.nodes[:cut], output=m.nodes[1].name).output == m.nodes[1].name
    renamed = m.with_nodes(m.nodes, name="x", features=None, description="d", input_shape=(3, 8, 8))
    assert (renamed.name, renamed.features, renamed.description, renamed.input_shape) == (
        "x",
        None,
        "d",
        (3, 8, 8),
    )


def test_memory_report_defaults():
    # batch 1, float32, the input not requiring grad: a ReLU before any parameter keeps nothing,
    # the conv keeps its input (the ReLU output, 2·3·3 floats)
    m = sequential("r", [archcalc.ReLU(), archcalc.Conv2d(2, 2, 1)], input_shape=(2, 3, 3))
    r = memory_report(m, infer_shapes(m))
    assert r.saved_for_backward_bytes == 2 * 3 * 3 * 4


# ---------------------------------------------------------------- exact clipped boxes


def _axis_sets(prev: list[set[int]], k: int, s: int, p: int, d: int, n_out: int) -> list[set[int]]:
    """Input pixels each output unit depends on, along one axis: unit u reads the previous
    map's units u·s - p + d·t (0 <= t < k) that lie inside it (padding reads nothing)."""
    return [
        set().union(*(prev[i] for t in range(k) if 0 <= (i := u * s - p + d * t) < len(prev)))
        for u in range(n_out)
    ]


def _box(sets: list[set[int]]) -> tuple[list[int], list[int]]:
    return [min(x) if x else -1 for x in sets], [max(x) if x else -1 for x in sets]


#: (layer, (k, s, p, d) per axis) chains; shapes 13x11 so that both axes differ
_CHAINS = {
    "strided_dilated": [
        (
            archcalc.Conv2d(1, 2, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
            ((3, 2, 1, 1), (2, 1, 0, 2)),
        ),
        (archcalc.ReLU(), ((1, 1, 0, 1), (1, 1, 0, 1))),
        (
            archcalc.MaxPool2d(3, 2, padding=1, ceil_mode=True, dilation=2),
            ((3, 2, 1, 2), (3, 2, 1, 2)),
        ),
    ],
    "pools": [
        (
            archcalc.AvgPool2d((2, 3), (3, 2), padding=1, ceil_mode=True),
            ((2, 3, 1, 1), (3, 2, 1, 1)),
        ),
        (archcalc.Conv2d(1, 1, (1, 3), stride=(1, 2)), ((1, 1, 0, 1), (3, 2, 0, 1))),
    ],
    "padding_only_units": [
        (archcalc.Conv2d(1, 1, 3, padding=(3, 2)), ((3, 1, 3, 1), (3, 1, 2, 1))),
    ],
}


@pytest.mark.parametrize("chain", list(_CHAINS), ids=list(_CHAINS))
def test_clipped_boxes_of_chains_against_every_tap(chain):
    from archcalc.engine.receptive import clipped_boxes

    m = sequential(chain, [layer for layer, _ in _CHAINS[chain]], input_shape=(1, 13, 11))
    shapes = infer_shapes(m)
    boxes = clipped_boxes(m, shapes)
    rows = [{i} for i in range(13)]
    cols = [{j} for j in range(11)]
    for node, (_, (ah, aw)) in zip(m.nodes, _CHAINS[chain], strict=True):
        _, oh, ow = shapes[node.name]
        rows, cols = _axis_sets(rows, *ah, oh), _axis_sets(cols, *aw, ow)
        lo_h, hi_h, lo_w, hi_w = boxes[node.name]
        assert (list(lo_h), list(hi_h)) == _box(rows), node.name
        assert (list(lo_w), list(hi_w)) == _box(cols), node.name


def test_clipped_boxes_of_a_merge_are_the_union():
    from archcalc import Add, Builder, Concat
    from archcalc.engine.receptive import clipped_boxes

    b = Builder("merge", (1, 9, 8))
    b.add("tall", archcalc.Conv2d(1, 1, (3, 1), padding=(1, 0)), "input")  # rows i-1..i+1
    b.add("wide", archcalc.Conv2d(1, 1, (1, 5), padding=(0, 2)), "input")  # cols j-2..j+2
    b.add("add", Add(), "tall", "wide")
    b.add("cat", Concat(), "add", "tall")
    m = b.build(output="cat")
    lo_h, hi_h, lo_w, hi_w = clipped_boxes(m, infer_shapes(m))["add"]
    assert list(lo_h) == [max(i - 1, 0) for i in range(9)]
    assert list(hi_h) == [min(i + 1, 8) for i in range(9)]
    assert list(lo_w) == [max(j - 2, 0) for j in range(8)]
    assert list(hi_w) == [min(j + 2, 7) for j in range(8)]
    cat = clipped_boxes(m, infer_shapes(m))["cat"]
    assert all(list(a) == list(b) for a, b in zip(cat, (lo_h, hi_h, lo_w, hi_w), strict=True))


# ---------------------------------------------------------------- more survivors


def test_pad_figures():
    from archcalc.kinds import Pad

    # (left, right, top, bottom) as F.pad takes it; a negative value crops
    p = Pad((1, 2, 3, -1))
    assert p.out_shape(((2, 5, 6),)) == (2, 5 + 3 - 1, 6 + 1 + 2)
    assert p.flops(((2, 5, 6),), (2, 7, 9)) == 0  # a copy
    # output row i is input row i - top, column j is input column j - left
    assert p.geometry(((2, 5, 6),), (2, 7, 9)) == ((1, 1, -3), (1, 1, -1))
    assert Pad((0, 0, -4, 0)).out_shape(((2, 5, 6),)) == (2, 1, 6)  # one row left
    assert Pad((-5, 0, 0, 0)).out_shape(((2, 5, 6),)) == (2, 5, 1)  # one column left
    with pytest.raises(ShapeError, match=r"^Pad.pad = \(0, 0, -5, 0\) crops the 5x6 map to"):
        Pad((0, 0, -5, 0)).out_shape(((2, 5, 6),))
    with pytest.raises(ShapeError, match=r"crops the 5x6 map to nothing"):
        Pad((-6, 0, 0, 0)).out_shape(((2, 5, 6),))
    with pytest.raises(ShapeError, match=r"^Pad needs a \(C, H, W\) feature map"):
        p.out_shape(((2, 5),))


def test_adaptive_pool_geometry_and_flops_per_axis():
    from archcalc import AdaptiveAvgPool2d

    pool = AdaptiveAvgPool2d((4, 3))
    ins = ((2, 8, 7),)
    # height 8 -> 4: windows [2i, 2i + 2), width 7, 3 disjoint 2 apart; width 7 -> 3: windows
    # [floor(7i/3), ceil(7(i+1)/3)) = [0, 3), [2, 5), [4, 7): 3 wide, 7/3 apart
    assert pool.geometry(ins, (2, 4, 3)) == ((2, 2, 0), (3, Fraction(7, 3), 0))
    assert all(type(v) is int for v in pool.geometry(ins, (2, 4, 3))[0])
    # one add per window element: sum of window sizes, 4·2 = 8 rows by 3·3 = 9 columns
    assert pool.flops(ins, (2, 4, 3)) == 2 * 8 * 9
    for n, o, widest in [(5, 3, 3), (6, 4, 2), (10, 4, 3)]:
        # [0, 2), [1, 4), [3, 5);  [0, 2), [1, 3), [3, 5), [4, 6);  [0, 3), [2, 5), [5, 8), [7, 10)
        g = AdaptiveAvgPool2d((o, 1)).geometry(((1, n, 1),), (1, o, 1))[0]
        assert g == (widest, Fraction(n, o), 0)


def test_zero_flop_kinds_and_merges():
    from archcalc import Add, Concat, Flatten

    ins3 = ((2, 3, 4),) * 3
    assert Add().flops(ins3, (2, 3, 4)) == 2 * 24  # n - 1 sums per element
    assert Add().flops(ins3[:2], (2, 3, 4)) == 24
    assert Concat().flops(ins3, (6, 3, 4)) == 0
    assert Concat().out_shape(((2, 3, 4), (5, 3, 4), (1, 3, 4))) == (8, 3, 4)
    with pytest.raises(ShapeError, match=r"input 2"):
        Concat().out_shape(((2, 3, 4), (5, 3, 4), (1, 3, 5)))
    assert Flatten().flops(((2, 3, 4),), (24,)) == 0
    assert CoordAugment().flops(((2, 3, 4),), (4, 3, 4)) == 0
    # a linear layer: one multiply and one add per MAC; MACs = in · out per position
    assert Linear(4, 6).flops(((4, 3, 5),), (6, 3, 5)) == 2 * 4 * 3 * 5 * 6


def test_dropout_rules():
    from archcalc import Dropout

    assert Dropout(0.3).saved(((3, 4, 5),), (3, 4, 5), 2) == (Extra(2 * 60, None, "dropout noise"),)
    assert Dropout(0.0).saved(((3, 4, 5),), (3, 4, 5), 2) == ()
    assert Dropout(0.3).is_view(training=False)
    assert not Dropout(0.3).is_view(training=True)
    assert Dropout(0.0).is_view(training=True)
    assert not Dropout(1.0).is_view(training=True)


def test_symbolic_sizes_have_no_field_geometry():
    from archcalc import AdaptiveAvgPool2d, UnsupportedError
    from archcalc.engine.shapes import symbol

    n = symbol("N")
    assert n.is_positive and n.is_integer
    with pytest.raises(UnsupportedError, match=r"^ConvTranspose2d: receptive field with symbolic"):
        ConvTranspose2d(1, 1, 3, stride=n).geometry(((1, 5, 5),), (1, 5, 5))
    with pytest.raises(UnsupportedError, match=r"^Upsample: receptive field with a symbolic scale"):
        Upsample(n).geometry(((1, 5, 5),), (1, 5, 5))
    with pytest.raises(UnsupportedError, match=r"^AdaptiveAvgPool2d: receptive field of output"):
        AdaptiveAvgPool2d(3).geometry(((1, n, 5),), (1, 3, 3))


def test_field_types_stay_integers():
    t = ConvTranspose2d(1, 1, (4, 3), stride=(2, 3), padding=(1, 2), dilation=(2, 1))
    out = t.out_shape(((1, 9, 9),))
    for extent, _, start in t.geometry(((1, 9, 9),), out):
        assert type(extent) is int and type(start) is int


def test_merged_phases_are_the_lcm():
    from archcalc import Add, Builder, Conv2d

    # unit u of branch a reads input 3·floor(u/3) (stride 3, then x3): its field repeats every
    # 3 units; branch b's every 2; their sum every lcm(3, 2) = 6, at stride 3·(1/3) = 2·(1/2) = 1
    b = Builder("phases", (1, 12, 12))
    b.add("a", Conv2d(1, 1, 1, stride=3), "input")
    b.add("a_up", Upsample(3))
    b.add("b", Conv2d(1, 1, 1, stride=2), "input")
    b.add("b_up", Upsample(2))
    b.add("add", Add(), "a_up", "b_up")
    rf = archcalc.summary(b.build()).rf
    assert rf.phases == (6, 6) and rf.stride == (1, 1) and rf.aligned


def test_errors_name_the_layer_and_the_model():
    from archcalc import Conv2d, SpecError

    m = sequential("t", [Conv2d(3, 4, 1), Conv2d(5, 2, 1)], input_shape=(3, 8, 8))
    assert m.name == "t"
    with pytest.raises(ShapeError) as e:
        infer_shapes(m)
    assert (e.value.layer_index, e.value.layer_name) == (1, m.nodes[1].name)
    with pytest.raises(SpecError, match=r"^model 't' has no layer 'nope'"):
        m.node("nope")
