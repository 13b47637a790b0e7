"""The engine's receptive-field, memory, graph and walk rules, every figure derived by hand.

Written against the mutants that survived the torch-free tests (docs/testing.md, "Mutation
testing"): the squeeze-excitation gate, global branches and symbolic sizes of
``clipped_boxes``; the notes, alignment and phases of a merge; the defaults and the
``trainable`` argument of the saved-bytes walk; ``Builder``'s names and ``Model.trunk``;
the walk's arguments. Torch-free and fast.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from archcalc import (
    AdaptiveAvgPool2d,
    Add,
    Builder,
    Concat,
    Conv2d,
    Flatten,
    Linear,
    Mul,
    ReLU,
    ShapeError,
    Sigmoid,
    UnsupportedError,
    Upsample,
    sequential,
)
from archcalc.engine.graph import INPUT
from archcalc.engine.memory import memory_report, saved_by_node, saved_for_backward
from archcalc.engine.receptive import (
    _lcm,
    _period,
    _same,
    clipped_boxes,
    receptive_fields,
)
from archcalc.engine.shapes import infer_shapes
from archcalc.engine.walk import walk


def _rfs(b: Builder, output: str) -> dict:
    m = b.build(output=output)
    return receptive_fields(m, infer_shapes(m))


# ---------------------------------------------------------------- squeeze-excitation gate


def _se() -> Builder:
    b = Builder("se", (4, 8, 8))
    b.add("c", Conv2d(4, 4, 3, padding=1), INPUT)  # rows i-1..i+1
    b.add("gap", AdaptiveAvgPool2d(1))  # (4, 1, 1), sees everything
    b.add("fc", Conv2d(4, 4, 1))
    b.add("gate", Sigmoid())
    b.add("se", Mul(), "c", "gate")  # (4, 8, 8) * (4, 1, 1)
    b.add("after", Conv2d(4, 4, 3, padding=1))  # rows i-2..i+2
    b.add("res", Add(), "after", "c")
    return b


def test_se_gate_keeps_the_local_field_and_sets_global_context():
    b = _se()
    rfs = _rfs(b, "res")
    assert rfs["gap"].is_global and rfs["fc"].is_global and rfs["gate"].is_global
    c = rfs["c"]
    assert (c.size, c.stride, c.offset, c.global_context) == ((3, 3), (1, 1), (-1, -1), False)
    # the gate is (4, 1, 1), not the output's shape: the local field of c, plus global context
    se = rfs["se"]
    assert not se.is_global and se.global_context and se.aligned
    assert (se.size, se.stride, se.offset, se.phases) == ((3, 3), (1, 1), (-1, -1), (1, 1))
    # a 3x3 conv after it: 3 + 2 = 5, offset -1 - 1 = -2; the context stays
    after = rfs["after"]
    assert (after.size, after.offset, after.global_context) == ((5, 5), (-2, -2), True)
    # a merge with a field without context: union [-2, 3) of [-2, 3) and [-1, 2); context kept
    res = rfs["res"]
    assert (res.size, res.offset, res.global_context, res.aligned) == ((5, 5), (-2, -2), True, True)


def test_global_summand_of_the_output_shape_is_global():
    b = _se()
    b.add("up", Upsample(8), "gap")  # (4, 8, 8), every unit sees the whole input
    b.add("whole", Add(), "c", "up")
    assert _rfs(b, "whole")["whole"].is_global
    # two global (4, 1, 1) tensors concatenated to (8, 1, 1): no local input, global
    b.add("cat", Concat(), "gap", "gate")
    cat = _rfs(b, "cat")["cat"]
    assert cat.is_global and cat.size == (None, None)


def test_clipped_boxes_through_an_se_gate():
    m = _se().build()
    boxes = clipped_boxes(m, infer_shapes(m))

    def rows(r: int) -> tuple[list[int], list[int]]:
        return [max(i - r, 0) for i in range(8)], [min(i + r, 7) for i in range(8)]

    for name, r in (("c", 1), ("se", 1), ("after", 2), ("res", 2)):
        lo_h, hi_h, lo_w, hi_w = boxes[name]
        assert (list(lo_h), list(hi_h)) == rows(r), name
        assert (list(lo_w), list(hi_w)) == rows(r), name
    # the pooled map: one unit whose box is the whole input, rows 0..7 and columns 0..7
    for name in ("gap", "fc", "gate"):
        assert [list(a) for a in boxes[name]] == [[0], [7], [0], [7]], name


def test_clipped_boxes_of_units_that_read_only_padding():
    # 1x1 conv, stride 3, padding 1, on 2 columns: 2 output units read positions -1 and 2,
    # both outside 0..1: every unit reads padding only (-1)
    m = sequential("pad", [Conv2d(1, 1, 1, stride=3, padding=1), AdaptiveAvgPool2d(1)], (1, 2, 2))
    boxes = clipped_boxes(m, infer_shapes(m))
    assert [list(a) for a in boxes["0"]] == [[-1, -1]] * 4
    assert [list(a) for a in boxes["1"]] == [[-1]] * 4


def test_clipped_boxes_of_a_merge_with_padding_units():
    # input 4 wide. p: 1x1 conv, padding 2 -> 8 units, unit u reads u-2 (inside for u = 2..5).
    # q: 3x3 conv, padding 3 -> 4 + 6 - 3 + 1 = 8 units, unit u reads u-3..u-1 clipped to 0..3.
    b = Builder("padmerge", (1, 4, 4))
    b.add("p", Conv2d(1, 1, 1, padding=2), INPUT)
    b.add("q", Conv2d(1, 1, 3, padding=3), INPUT)
    b.add("sum", Add(), "p", "q")
    m = b.build()
    boxes = clipped_boxes(m, infer_shapes(m))
    q_lo, q_hi = [-1, 0, 0, 0, 1, 2, 3, -1], [-1, 0, 1, 2, 3, 3, 3, -1]
    assert (list(boxes["q"][0]), list(boxes["q"][1])) == (q_lo, q_hi)
    p = [-1, -1, 0, 1, 2, 3, -1, -1]
    assert (list(boxes["p"][0]), list(boxes["p"][1])) == (p, p)
    # union per unit, ignoring a branch that reads padding only: u=0 none, u=2 {0} ∪ 0..1, ...
    lo = [-1, 0, 0, 0, 1, 2, 3, -1]
    hi = [-1, 0, 1, 2, 3, 3, 3, -1]
    for ax in range(2):
        assert (list(boxes["sum"][2 * ax]), list(boxes["sum"][2 * ax + 1])) == (lo, hi)


def test_clipped_boxes_refusals_and_other_ranks():
    m = sequential("v", [Conv2d(2, 2, 3), Flatten(), Linear(2 * 4 * 4, 3)], (2, 6, 6))
    boxes = clipped_boxes(m, infer_shapes(m))
    assert set(boxes) == {INPUT, "0"}  # vectors have no (H, W) box
    assert [list(a) for a in boxes[INPUT]] == [list(range(6))] * 4
    with pytest.raises(UnsupportedError, match="numeric input size"):
        clipped_boxes(m, infer_shapes(m, "2xHxW"))
    b = _se()
    b.add("up", Upsample(8), "gap")
    m = b.build(output="up")
    with pytest.raises(UnsupportedError, match="up: fractional stride; no clipped boxes"):
        clipped_boxes(m, infer_shapes(m))


# ---------------------------------------------------------------- merges: alignment, notes


def _misaligned() -> Builder:
    # a: 1x1, stride 1: size 1, offset 0, stride 1, 8 units.
    # b: 3x3, stride 2, padding 5: (8 + 10 - 3) // 2 + 1 = 8 units, size 3, offset -5, stride 2.
    b = Builder("mis", (1, 8, 8))
    b.add("a", Conv2d(1, 1, 1), INPUT)
    b.add("b", Conv2d(1, 1, 3, stride=2, padding=5), INPUT)
    b.add("add", Add(), "a", "b")
    return b


def test_merge_of_unequal_strides_is_not_aligned():
    rf = _rfs(_misaligned(), "add")["add"]
    assert rf.aligned is False and rf.exact is False
    # unit 0: union of [0, 1) and [-5, -2): from -5 to 1, size 6; the larger stride, 2
    assert (rf.size, rf.offset, rf.stride, rf.phases) == ((6, 6), (-5, -5), (2, 2), (1, 1))
    assert rf.notes == ("add: inputs have different strides; figures hold for unit 0",)
    assert rf.holds_for == "unit 0 (the inputs of a merge have different strides)"


def test_merge_after_a_misaligned_one_adds_no_second_note():
    b = _misaligned()
    b.add("c", Conv2d(1, 1, 1), INPUT)
    b.add("add2", Add(), "add", "c")
    rf = _rfs(b, "add2")["add2"]
    # strides 2 and 1 again, but one input is already misaligned: one note, the first merge's
    assert rf.aligned is False
    assert rf.notes == ("add: inputs have different strides; figures hold for unit 0",)


def test_merge_of_equal_strides_is_aligned():
    b = Builder("al", (1, 8, 8))
    b.add("a", Conv2d(1, 1, 3, padding=1), INPUT)  # size 3, offset -1
    b.add("b", Conv2d(1, 1, (1, 5), padding=(0, 2)), INPUT)  # size (1, 5), offset (0, -2)
    b.add("add", Add(), "a", "b", INPUT)
    rf = _rfs(b, "add")["add"]
    # rows: [-1, 2) ∪ [0, 1) ∪ [0, 1) = [-1, 2); columns [-1, 2) ∪ [-2, 3) ∪ [0, 1) = [-2, 3)
    assert (rf.size, rf.offset, rf.stride, rf.aligned) == ((3, 5), (-1, -2), (1, 1), True)
    assert rf.notes == () and rf.holds_for == "every unit"


def test_upsample_note_once_after_a_merge_and_phases():
    b = Builder("up", (1, 6, 6))
    b.add("s", Conv2d(1, 1, 1, stride=2), INPUT)  # stride 2, 3 units
    b.add("u", Upsample(2))  # stride 1, units 2m and 2m+1 read the same input: 2 phases
    b.add("l", Conv2d(1, 1, 1), "u")
    b.add("r", Conv2d(1, 1, 3, padding=1), "u")  # size 1 + 2·1 = 3, offset -1
    b.add("add", Add(), "l", "r")
    rfs = _rfs(b, "add")
    rf = rfs["add"]
    assert rfs["u"].phases == (2, 2) and rfs["u"].stride == (Fraction(1), Fraction(1))
    assert rf.notes == ("u: fractional stride; size is the largest over output phases",)
    assert rf.phases == (2, 2) and rf.aligned and not rf.exact
    assert rf.holds_for.startswith("phase 0 of 2x2 ")


def test_three_branch_phases():
    # upsampled by 2, 3 and 4 after strides 2, 3 and 4: 2, 3 and 4 phases; the sum lcm = 12
    b = Builder("three", (1, 12, 12))
    for k in (2, 3, 4):
        b.add(f"s{k}", Conv2d(1, 1, 1, stride=k), INPUT)
        b.add(f"u{k}", Upsample(k))
    b.add("add", Add(), "u2", "u3", "u4")
    rf = _rfs(b, "add")["add"]
    assert rf.phases == (12, 12) and rf.stride == (1, 1) and rf.aligned


def test_merge_helpers():
    h = sympy.Symbol("H", positive=True)
    assert _same(2, 2) and not _same(2, 3)
    assert _same(h / 2, h / 2) and not _same(h / 2, h / 3) and not _same(h, 2)
    assert _lcm([3, 5]) == 15 and _lcm([4, 6]) == 12 and _lcm([2, 3, 4]) == 12
    assert _lcm([h, 2]) == h and _lcm([2, h]) == 2  # symbolic: the first branch's count
    # phases p after stride a/b: p·b / gcd(a, p·b)
    assert _period(1, 2) == 1 and _period(1, Fraction(1, 2)) == 2
    assert _period(2, 2) == 1 and _period(4, 2) == 2 and _period(3, Fraction(1, 2)) == 6
    assert _period(2, Fraction(3, 2)) == 4  # 2·2 / gcd(3, 4)
    assert _period(h, 2) == h and _period(2, h) == 2


# ---------------------------------------------------------------- saved bytes


def _chain() -> tuple:
    # input (2, 3, 3): every tensor is 18 floats = 72 bytes at float32
    m = sequential("m", [ReLU(), Conv2d(2, 2, 1), ReLU(), Conv2d(2, 2, 1)], input_shape=(2, 3, 3))
    return m, infer_shapes(m)


def test_saved_defaults_and_trainable():
    m, shapes = _chain()
    # defaults: "0" needs no grad (no parameters, input without grad); "1" (parameters) keeps
    # its input, 0's output; "2" keeps its output; "3" keeps 2's output, already kept
    sw = saved_by_node(m, shapes, 1, 4)
    assert sw.per_node == {"1": 72, "2": 72} and sw.total == 144
    assert saved_for_backward(m, shapes, 1, 4) == 144
    assert saved_for_backward(m, shapes, 3, 2) == 144 * 3 // 2
    # only "3" trains: "1" and "2" need no grad; "3" keeps its input
    only3 = saved_by_node(m, shapes, 1, 4, trainable=lambda n: n.name == "3")
    assert only3.per_node == {"3": 72}
    assert saved_for_backward(m, shapes, 1, 4, lambda n: n.name == "3") == 72
    assert saved_for_backward(m, shapes, 1, 4, lambda n: False) == 0
    # the input requires grad: "0" keeps its output, which "1" needs too (counted once)
    grad = saved_by_node(m, shapes, 1, 4, input_requires_grad=True)
    assert grad.per_node == {"0": 72, "2": 72}
    assert saved_for_backward(m, shapes, 1, 4, None, True) == 144
    # frozen everywhere but the input requires grad: every ReLU keeps its output, the convs
    # their inputs (kept already)
    assert saved_for_backward(m, shapes, 1, 4, lambda n: False, True) == 144


def test_memory_report_defaults_and_input_grad():
    # two ReLUs then a conv: by default only the conv keeps (its input, 72 B); with the input
    # requiring grad each ReLU keeps its own output: 144 B
    m = sequential("r", [ReLU(), ReLU(), Conv2d(2, 2, 1)], input_shape=(2, 3, 3))
    shapes = infer_shapes(m)
    r = memory_report(m, shapes)
    assert (r.dtype, r.batch) == ("float32", 1)
    assert r.input_bytes == 72 and r.activations_bytes == 3 * 72
    # input always live; each layer's input and output live together: 72 + 72 + 72
    assert r.peak_inference_bytes == 216
    assert r.saved_for_backward_bytes == 72
    assert memory_report(m, shapes, input_requires_grad=True).saved_for_backward_bytes == 144
    r3 = memory_report(m, shapes, batch=3, dtype="float64")
    assert (r3.input_bytes, r3.saved_for_backward_bytes) == (18 * 3 * 8, 18 * 3 * 8)
    assert r.outputs["1"] == (18, 72)


# ---------------------------------------------------------------- the walk


def test_walk_arguments():
    m = sequential("r", [ReLU(), ReLU(), Conv2d(2, 2, 1)], input_shape=(2, 3, 3))
    w = walk(m)
    assert (w.memory.dtype, w.memory.batch, w.memory.saved_for_backward_bytes) == ("float32", 1, 72)
    assert walk(m, input_requires_grad=True).memory.saved_for_backward_bytes == 144
    assert walk(m, trainable=lambda n: False).memory.saved_for_backward_bytes == 0
    assert (
        walk(m, trainable=lambda n: False, input_requires_grad=True).memory.saved_for_backward_bytes
        == 144
    )
    w2 = walk(m, batch=2, dtype="float64")
    assert w2.memory.saved_for_backward_bytes == 18 * 2 * 8
    assert w2.memory.peak_inference_bytes == 3 * 18 * 2 * 8
    w5 = walk(m, input_shape=(2, 5, 5))
    assert w5.shapes == {INPUT: (2, 5, 5), "0": (2, 5, 5), "1": (2, 5, 5), "2": (2, 5, 5)}
    assert w5.memory.saved_for_backward_bytes == 2 * 25 * 4
    # figures: conv 2·2 + 2 parameters, 18 outputs × 2 inputs MACs; equal ReLUs share figures
    f = w.figures
    assert (f["2"].params, f["2"].buffers, f["2"].macs) == (6, 0, 36)
    assert f["0"] is f["1"] and (f["0"].params, f["0"].macs) == (0, 0)
    assert list(w.rfs) == [INPUT, "0", "1", "2"] and w.rfs["2"].size == (1, 1)
    assert w.rf_gap is None


def test_walk_fields_and_errors():
    m = sequential(
        "f",
        [Conv2d(2, 2, 3, padding=1), ReLU(), Conv2d(2, 2, 3, stride=2)],
        input_shape=(2, 7, 7),
    )
    w = walk(m)
    # 3, then 3 + 2·1 = 5 at stride 2; offset -1, then -1 + 0
    rf = w.rfs["2"]
    assert (rf.size, rf.stride, rf.offset) == ((5, 5), (2, 2), (-1, -1))
    assert w.rfs["1"] is w.rfs["0"]  # a pointwise layer shares its input's field
    assert w.shapes["2"] == (2, 3, 3)  # (7 - 3) // 2 + 1
    bad = sequential("bad", [ReLU(), Conv2d(3, 2, 1)], input_shape=(2, 4, 4))
    with pytest.raises(ShapeError) as e:
        walk(bad)
    assert (e.value.layer_index, e.value.layer_name) == (1, "1")


# ---------------------------------------------------------------- graph


def test_builder_names_and_defaults():
    b = Builder("n")
    assert b.input_shape == (3, 224, 224) and b.description == "" and b.last == INPUT
    assert b.seq("stem", [Conv2d(3, 8, 3), ("act", ReLU())]) == "stem.act"
    assert b.seq("", [ReLU()]) == "0"
    assert b.seq("br", [ReLU()], x="stem.0") == "br.0"
    assert b.add("sum", Add(), "br.0", "0", via="method") == "sum"
    assert b.last == "sum"
    m = b.build(features="stem.0")
    got = [(n.name, n.inputs, n.via) for n in m.nodes]
    assert got == [
        ("stem.0", (INPUT,), "module"),
        ("stem.act", ("stem.0",), "module"),
        ("0", ("stem.act",), "module"),
        ("br.0", ("stem.0",), "module"),
        ("sum", ("br.0", "0"), "method"),
    ]
    assert (m.name, m.output, m.features, m.input_shape, m.description) == (
        "n",
        "sum",
        "stem.0",
        (3, 224, 224),
        "",
    )
    assert b.build(output="stem.act").output == "stem.act"
    assert b.build().features is None
    d = Builder("d", [1, 4, 4], "text")
    d.add("r", ReLU())
    dm = d.build()
    assert (dm.input_shape, dm.description, dm.nodes[0].inputs) == ((1, 4, 4), "text", (INPUT,))


def test_trunk_and_index():
    # a <- input, b <- a, s <- (b, input), t <- s: the skip from the input jumps over a and b
    b = Builder("t", (2, 4, 4))
    b.add("a", Conv2d(2, 2, 1), INPUT)
    b.add("b", ReLU())
    b.add("s", Add(), "b", INPUT)
    b.add("t", ReLU())
    m = b.build()
    assert m.trunk() == ["s", "t"]
    assert m.index == {"a": 0, "b": 1, "s": 2, "t": 3, INPUT: -1}
    # a skip from a over b: a, s and t are on every path
    b2 = Builder("t2", (2, 4, 4))
    b2.add("a", Conv2d(2, 2, 1), INPUT)
    b2.add("b", ReLU())
    b2.add("s", Add(), "b", "a")
    assert b2.build().trunk() == ["a", "s"]
    assert sequential("c", [ReLU(), ReLU()], input_shape=(1, 2, 2)).trunk() == ["0", "1"]
