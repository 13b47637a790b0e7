"""Laws and hand-derived figures of the engine (clipped boxes, saved bytes, errors located,
input shapes) and of the broadcasting kinds' shape rules. Torch-free and fast.

Written for the mutants that survived the torch-free tests (docs/testing.md, "Mutation
testing"); every expected value is derived in a comment, not taken from archcalc's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
import sympy

from archcalc import (
    AdaptiveAvgPool2d,
    Add,
    Builder,
    ChannelShuffle,
    Concat,
    Conv2d,
    GroupNorm,
    Layer,
    LayerNorm,
    Model,
    Mul,
    OptionError,
    ReLU,
    ShapeError,
    Sub,
    UnsupportedError,
    Upsample,
    sequential,
    symbol,
)
from archcalc.engine.graph import INPUT, Node, locate
from archcalc.engine.memory import itemsize, saved_by_node
from archcalc.engine.receptive import RF, _axes, clipped_boxes, receptive_fields
from archcalc.engine.shapes import infer_shapes, resolve_input
from archcalc.engine.walk import walk


def _lists(boxes: tuple) -> list[list[int]]:
    return [[int(v) for v in a] for a in boxes]


# ---------------------------------------------------------------- clipped boxes


def test_clipped_boxes_of_a_global_layer_on_a_non_square_map() -> None:
    # a 3x3 conv without padding on a 5x7 map: 3x5 units, unit (i, j) reads rows i..i+2 and
    # columns j..j+2; GroupNorm's statistics span the whole map (a global layer), so each of
    # its 3x5 units sees the union: rows 0..4, columns 0..6
    m = sequential("g", [Conv2d(1, 2, 3), GroupNorm(1, 2)], input_shape=(1, 5, 7))
    shapes = infer_shapes(m)
    names = [n.name for n in m.nodes]
    boxes = clipped_boxes(m, shapes)
    assert _lists(boxes[names[0]]) == [[0, 1, 2], [2, 3, 4], [0, 1, 2, 3, 4], [2, 3, 4, 5, 6]]
    assert _lists(boxes[names[1]]) == [[0] * 3, [4] * 3, [0] * 5, [6] * 5]


def test_clipped_boxes_need_numeric_sizes() -> None:
    m = sequential("s", [Conv2d(1, 1, 3)], input_shape=(1, 8, 8))
    with pytest.raises(
        UnsupportedError, match="^clipped receptive-field boxes need a numeric input size$"
    ):
        clipped_boxes(m, infer_shapes(m, "1xHxW"))


def test_clipped_boxes_of_an_adaptive_pool() -> None:
    # adaptive average pooling of a 4x6 map to 2x2: output unit i covers input
    # floor(i·n/2) .. ceil((i+1)·n/2) - 1 (torch's adaptive windows): rows 0..1, 2..3;
    # columns 0..2, 3..5
    m = sequential("a", [AdaptiveAvgPool2d(2)], input_shape=(1, 4, 6))
    boxes = clipped_boxes(m, infer_shapes(m))
    assert _lists(boxes[m.nodes[0].name]) == [[0, 2], [1, 3], [0, 3], [2, 5]]


# ---------------------------------------------------------------- saved bytes


@pytest.mark.parametrize("frozen", [False, True])
def test_saved_by_node_reads_the_input_shapes(frozen: bool) -> None:
    # LayerNorm over 6 channels of 5 tokens, batch 2, float32, trainable: autograd keeps its
    # input (2·5·6 floats = 240 B) and a float32 mean and rstd per token (2·(2·5)·4 = 80 B)
    m = sequential("ln", [LayerNorm(6)], input_shape=(5, 6))
    shapes = infer_shapes(m)
    trainable = (lambda n: True) if frozen else None  # the same: LayerNorm has parameters
    sw = saved_by_node(m, shapes, 2, 4, trainable)
    assert sw.total == 2 * 5 * 6 * 4 + 2 * (2 * 5) * 4
    # frozen and on a path that needs no gradient: nothing is kept
    assert saved_by_node(m, shapes, 2, 4, lambda n: False).total == 0


# ---------------------------------------------------------------- errors and shapes


def test_locate_keeps_a_place_already_named() -> None:
    node = Node("conv", Conv2d(1, 1, 1), ("input",))
    # an error that names its layer by index only, or by name only, keeps that place
    e = locate(ShapeError("bad", layer_index=7), 2, node)
    assert (e.layer_index, e.layer_name) == (7, None)
    e = locate(ShapeError("bad", layer_name="head"), 2, node)
    assert (e.layer_index, e.layer_name) == (None, "head")
    # one that names none gets the node's
    e = locate(ShapeError("bad"), 2, node)
    assert (e.layer_index, e.layer_name, e.kind) == (2, "conv", "Conv2d")


def test_resolve_input_names_the_default_shape() -> None:
    m = sequential("c", [Conv2d(3, 4, 1)], input_shape=(3, 8, 8))
    with pytest.raises(Exception, match=r"takes a rank-3 input \(3x8x8\)"):
        resolve_input(m, (1, 2, 3, 4))


def test_mul_broadcasts_to_the_full_operand() -> None:
    # a (4, 1, 1) gate times a (4, H, W) map is a (4, H, W) map, in any order, with
    # symbolic sizes too (the full operand is the one whose spatial sizes are not all 1)
    h, w = sympy.symbols("H W", positive=True, integer=True)
    assert Mul().out_shape(((4, 1, 1), (4, h, w))) == (4, h, w)
    assert Mul().out_shape(((4, h, w), (4, 1, 1))) == (4, h, w)
    # a vector does not broadcast to a map: the error names the map as the target
    with pytest.raises(ShapeError, match="input 1 has shape 5, which does not broadcast to 4x8x8"):
        Mul().out_shape(((4, 8, 8), (5,)))


def test_sub_needs_equal_shapes() -> None:
    assert Sub().out_shape(((2, 3), (2, 3))) == (2, 3)
    # unequal ranks whose leading sizes agree are still unequal shapes
    with pytest.raises(ShapeError, match="Sub: input 1 has shape 2x3x4"):
        Sub().out_shape(((2, 3), (2, 3, 4)))


def test_channel_shuffle_needs_divisible_channels() -> None:
    assert ChannelShuffle(2).out_shape(((4, 2, 2),)) == (4, 2, 2)
    with pytest.raises(ShapeError, match="groups = 3 does not divide the 4 channels"):
        ChannelShuffle(3).out_shape(((4, 2, 2),))


# ---------------------------------------------------------------- the walk


def test_walk_a_layer_object_used_at_two_shapes() -> None:
    # one ReLU object after two convs: its figures are its own at each shape. 3x3 convs
    # without padding on 7x7: 5x5, then 3x3; a ReLU does one comparison per element
    r = ReLU()
    m = sequential("shared", [Conv2d(1, 2, 3), r, Conv2d(2, 2, 3), r], input_shape=(1, 7, 7))
    figs = walk(m).figures
    assert [f.shape for f in figs.values()] == [(2, 5, 5), (2, 5, 5), (2, 3, 3), (2, 3, 3)]
    assert (figs["1"].flops, figs["3"].flops) == (2 * 5 * 5, 2 * 3 * 3)


def test_walk_two_merges_of_the_same_inputs() -> None:
    # Add and Concat of the same two (2, 4, 4) tensors: (2, 4, 4) and (4, 4, 4); both
    # concatenated: (6, 4, 4)
    b = Builder("two", (2, 4, 4))
    b.add("a", Conv2d(2, 2, 1), INPUT)
    b.add("b", Conv2d(2, 2, 3, padding=1), INPUT)
    b.add("sum", Add(), "a", "b")
    b.add("cat", Concat(), "a", "b")
    b.add("out", Concat(), "sum", "cat")
    figs = walk(b.build()).figures
    assert (figs["sum"].shape, figs["cat"].shape) == ((2, 4, 4), (4, 4, 4))
    assert figs["out"].shape == (6, 4, 4)
    assert figs["sum"].flops == 2 * 4 * 4  # one addition per output element


def test_walk_reports_a_receptive_field_gap_and_keeps_the_rest() -> None:
    # a symbolic upsampling scale has no receptive-field step: the walk names the layer in
    # its gap, gives no fields, and still counts: a 1x1 conv 1 -> 1 on 4x6 is 24 MACs
    s = symbol("S")
    m = sequential("up", [Conv2d(1, 1, 1), Upsample(scale_factor=s)], input_shape=(1, 4, 6))
    w = walk(m)
    assert w.rfs is None
    assert w.rf_gap is not None
    assert "layer 1 '1' (Upsample)" in w.rf_gap and "symbolic scale" in w.rf_gap
    assert w.figures["0"].macs == 4 * 6


def _residual(second: Layer) -> Model:
    b = Builder("res", (2, 4, 4))
    b.add("c", Conv2d(2, 2, 3, padding=1), INPUT)
    b.add("d", second, "c")
    b.add("sum", Add(), "c", "d")
    return b.build()


def test_walk_fields_of_global_and_local_summands() -> None:
    # GroupNorm's statistics span the map: added to its own input (same shape), every unit
    # of the sum sees the whole input
    m = _residual(GroupNorm(1, 2))
    assert walk(m).rfs["sum"].is_global
    assert receptive_fields(m, infer_shapes(m))["sum"].is_global
    # two local summands of equal strides: a local field, aligned, no global context; the
    # sum of a 3x3 and a 3x3 after it sees 5x5 (offset -2: padding 1 twice)
    w = walk(_residual(Conv2d(2, 2, 3, padding=1))).rfs["sum"]
    assert (w.is_global, w.global_context, w.aligned) == (False, False, True)
    assert (w.size, w.stride, w.offset) == ((5, 5), (1, 1), (-2, -2))


def test_a_merge_keeps_its_inputs_notes_then_adds_its_own() -> None:
    # a 7x7 map pooled adaptively to 3x3 (unequal windows: a note) added to a stride-2 conv
    # (stride 2 against 7/3): misaligned, and the merge adds its note after the pool's
    b = Builder("n", (1, 7, 7))
    b.add("ad", AdaptiveAvgPool2d(3), INPUT)
    b.add("cv", Conv2d(1, 1, 3, stride=2), INPUT)
    b.add("sum", Add(), "ad", "cv")
    rfs = walk(b.build()).rfs
    pool_notes = rfs["ad"].notes
    assert len(pool_notes) == 1
    notes = rfs["sum"].notes
    assert notes[: len(pool_notes)] == pool_notes
    assert len(notes) == 2 and notes[1].startswith("sum: inputs have different strides")
    assert rfs["sum"].aligned is False and rfs["cv"].notes == ()


def test_sequential_keeps_its_features_name() -> None:
    m = sequential("f", [Conv2d(1, 2, 1), ReLU()], input_shape=(1, 2, 2), features="0")
    assert m.features == "0"


def test_a_layer_adds_its_note_to_its_inputs_notes() -> None:
    # two adaptive pools with unequal windows (7 -> 3, then 3 -> 2): each adds a note, and
    # the second keeps the first's
    m = sequential("aa", [AdaptiveAvgPool2d(3), AdaptiveAvgPool2d(2)], input_shape=(1, 7, 7))
    rfs = walk(m).rfs
    first = rfs["0"].notes
    assert len(first) == 1 and first[0].startswith("0: adaptive windows of unequal size")
    second = rfs["1"].notes
    assert second[:1] == first
    assert len(second) == 2 and second[1].startswith("1: adaptive windows of unequal size")


def test_a_field_of_another_rank_is_refused_by_name() -> None:
    one_axis = RF((3,), (1,), (-1,))
    with pytest.raises(
        UnsupportedError, match="receptive field of 1 axes meets a layer of 2 spatial axes"
    ):
        _axes(one_axis, 2)


@pytest.mark.parametrize(
    ("given", "value", "reason"),
    [
        # a negative size written as text is read as a number, then refused as one
        ("3x-2x4", -2, "size 1 must be a positive integer"),
        # neither a number nor a name
        ("3x2.5x4", "2.5", "size 1 must be a positive integer or a symbol name like H"),
        # a float, a zero
        ((3, 2.5, 4), 2.5, "size 1 must be a positive integer"),
        ((3, 0, 4), 0, "size 1 must be a positive integer"),
    ],
)
def test_resolve_input_refuses_a_bad_size_by_name(
    given: object, value: object, reason: str
) -> None:
    m = sequential("c", [Conv2d(3, 4, 1)], input_shape=(3, 8, 8))
    with pytest.raises(OptionError) as e:
        resolve_input(m, given)  # type: ignore[arg-type]
    assert (e.value.argument, e.value.value, e.value.reason) == ("input", value, reason)


def test_itemsize_lists_the_valid_dtypes() -> None:
    with pytest.raises(OptionError) as e:
        itemsize("float7")
    assert e.value.argument == "dtype" and e.value.value == "float7"
    assert set(e.value.valid) == {"float64", "float32", "float16", "bfloat16", "int8", "float8"}


_MAP = sequential("c", [Conv2d(3, 4, 1)], input_shape=(3, 8, 8))
_TOKENS = sequential("t", [LayerNorm(6)], input_shape=(5, 6))


@pytest.mark.parametrize(
    ("model", "given", "want"),
    [
        (_MAP, None, (3, 8, 8)),  # the model's default
        (_MAP, "3X7x6", (3, 7, 6)),  # x or X between sizes
        (_MAP, " 3x7x6 ", (3, 7, 6)),
        (_MAP, "7x6", (3, 7, 6)),  # a map's spatial sizes keep its channels
        (_MAP, 7, (3, 7, 7)),  # one size is square
        (_MAP, [3, 7, 6], (3, 7, 6)),
        (_TOKENS, (9, 6), (9, 6)),
    ],
)
def test_resolve_input_forms(model: Model, given: object, want: tuple) -> None:
    assert resolve_input(model, given) == want  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "given", "reason"),
    [
        (_MAP, "3xx8", "write the sizes separated by x, e.g. 3x224x224 (or 224x224 for a map)"),
        (_MAP, 2.5, "must be a shape (a tuple of sizes), a string like '3x224x224' or an int"),
        (_MAP, True, "must be a shape (a tuple of sizes), a string like '3x224x224' or an int"),
        (
            _MAP,
            (1, 2, 3, 4),
            "model 'c' takes a rank-3 input (3x8x8); give CxHxW, HxW or one size (got 4 sizes)",
        ),
        (_TOKENS, 9, "model 't' takes a rank-2 input (5x6); give every size (got 1 sizes)"),
    ],
)
def test_resolve_input_refuses_a_bad_shape_by_name(
    model: Model, given: object, reason: str
) -> None:
    with pytest.raises(OptionError) as e:
        resolve_input(model, given)  # type: ignore[arg-type]
    assert (e.value.argument, e.value.value, e.value.reason) == ("input", given, reason)


@dataclass(frozen=True)
class _CountingReLU(ReLU):
    """A ReLU that counts how often the walk asks for its geometry and saved tensors."""

    calls: ClassVar[dict[str, int]] = {}

    def geometry(self, ins: Any, out: Any) -> Any:
        self.calls["geometry"] = self.calls.get("geometry", 0) + 1
        return ReLU.geometry(self, ins, out)

    def saved(self, ins: Any, out: Any, batch: Any) -> Any:
        self.calls["saved"] = self.calls.get("saved", 0) + 1
        return ReLU.saved(self, ins, out, batch)


def test_the_walk_asks_once_per_spec_and_shapes() -> None:
    # one ReLU object used three times at the same (2, 4, 4) shape: the walk computes its
    # receptive-field step and its saved tensors once and reuses them (its memo)
    r = _CountingReLU()
    _CountingReLU.calls.clear()
    layers = [Conv2d(2, 2, 1), r, Conv2d(2, 2, 1), r, Conv2d(2, 2, 1), r]
    w = walk(sequential("memo", layers, input_shape=(2, 4, 4)))
    assert _CountingReLU.calls == {"geometry": 1, "saved": 1}
    # and the figures are the ReLU's own: 2·4·4 comparisons each
    assert [w.figures[n].flops for n in ("1", "3", "5")] == [2 * 4 * 4] * 3
