"""Exact per-phase receptive fields of windowed attention (engine/receptive.py: PhaseTable,
_table_of, _tables, _table_step, _from_tables, _merge_tables, _approx_window, RF.tables /
per_phase / holds_for) and the NO_INPUT rule, every figure derived by hand. Torch-free.

Notation, per axis (both axes of a square map behave alike): the model input's unit ``j``
sees pixel ``j``. A window attention of window ``w`` and shift ``s`` (torchvision's Swin:
windows start at the positions ``≡ s (mod w)``) makes unit ``j`` read the units
``base(j) … base(j) + w − 1`` with ``base(j) = j − ((j − s) mod w)``. A per-phase field of
period ``P`` lists, for ``r < P``, ``(offset_r, size_r)``: unit ``m·P + r`` sees pixels
``offset_r + m·P·stride … + size_r − 1``.

The reference derivations (Swin stage 1 with patch 4, window 7, shift 3) are in
tests/test_windows.py (which imports torch); the cases here are the same laws on an 8 × 8
map with window 2, small enough to enumerate every unit.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from archcalc import UnsupportedError
from archcalc.engine.graph import INPUT, Builder, sequential
from archcalc.engine.receptive import UNIT_RF, PhaseTable, clipped_boxes, receptive_fields
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import (
    Add,
    Constant,
    Conv2d,
    Matmul,
    Param,
    PartitionAttention,
    PatchMerging,
    ShiftedWindowAttention,
    Upsample,
)

C = 6
MAP = (C, 8, 8)


def _rfs(model):
    return receptive_fields(model, infer_shapes(model))


def _boxes(model):
    return clipped_boxes(model, infer_shapes(model))


def _w(shift: int = 0) -> ShiftedWindowAttention:
    return ShiftedWindowAttention(C, 2, 2, shift)


# ---------------------------------------------------------------- window chains


def test_plain_window_has_two_phases_of_the_same_region():
    # window 2, no shift: units 2m and 2m+1 share the window [2m, 2m+1]:
    # phase 0 -> (offset 0, size 2), phase 1 -> (offset 0, size 2) (unit 1 = m 0, r 1).
    # Period 2, shift 2 pixels per period: stride 2/2 = 1; largest size 2; offset of phase 0
    # is 0; not a single formula (unit 1 would be placed at 1 by offset + j·stride).
    rf = _rfs(sequential("w", [_w()], input_shape=MAP))["0"]
    assert rf.per_phase == (((0, 2), (0, 2)),) * 2
    assert rf.tables == (PhaseTable(2, 2, (0, 0), (1, 1)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((2, 2), (1, 1), (0, 0), (2, 2))
    assert rf.exact is False and rf.aligned is True
    assert rf.holds_for == (
        "every unit, per phase (RF.per_phase) of 2x2 phases; offset places phase 0 and size "
        "is the largest over the phases"
    )
    # the table itself: unit 5 = 2·2 + 1 sees [0 + 2·2, 1 + 2·2] = [4, 5]; unit -1 = -1·2 + 1
    # sees [-2, -1]
    t = rf.tables[0]
    assert t.region(5) == (4, 5) and t.region(-1) == (-2, -1)


def test_shifted_window_after_a_plain_one():
    # W-MSA: unit 2m and 2m+1 see [2m, 2m+1]. SW-MSA, shift 1: windows start at odd
    # positions, {2m−1, 2m} and {2m+1, 2m+2}:
    #   unit 2m   reads units 2m−1 (pixels [2m−2, 2m−1]) and 2m ([2m, 2m+1]): [2m−2, 2m+1]
    #   unit 2m+1 reads units 2m+1 ([2m, 2m+1]) and 2m+2 ([2m+2, 2m+3]):      [2m, 2m+3]
    # per phase: ((−2, 4), (0, 4)); largest size 4, offset −2, stride 1, 2 phases.
    m = sequential("ws", [_w(0), _w(1)], input_shape=MAP)
    rf = _rfs(m)["1"]
    assert rf.per_phase == (((-2, 4), (0, 4)),) * 2
    assert rf.tables == (PhaseTable(2, 2, (-2, 0), (1, 3)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((4, 4), (1, 1), (-2, -2), (2, 2))
    assert not rf.exact and "per phase" in rf.holds_for
    # the window's union: units −1, 0, 1 of that table: −1 = m −1, r 1 -> [0−2, 3−2] =
    # [−2, 1]; 0 -> [−2, 1]; 1 -> [0, 3]: together [−2, 3]; units 0..3 (two full cycles):
    # [−2, 1], [0, 3], [0, 3], [2, 5] -> [−2, 5]
    t = rf.tables[0]
    assert t.union(-1, 1, 3) == (-2, 3)
    assert t.union(0, 1, 4) == (-2, 5)
    assert t.union(0, 2, 3) == (-2, 5)  # units 0, 2, 4: [−2,1], [0,3], [2,5]


def test_conv_after_the_shifted_window():
    # 3×3 conv, padding 1 (k 3, s 1, a −1) on the SW-MSA field above:
    #   unit 2m   reads units 2m−1, 2m, 2m+1: [2m−2, 2m+1] ∪ [2m−2, 2m+1] ∪ [2m, 2m+3]
    #             = [2m−2, 2m+3]
    #   unit 2m+1 reads units 2m, 2m+1, 2m+2: [2m−2, 2m+1] ∪ [2m, 2m+3] ∪ [2m, 2m+3]
    #             = [2m−2, 2m+3]
    # both phases (−2, 6): the same region for units 2m and 2m+1, so still 2 phases (a
    # single formula would move by 1 per unit).
    m = sequential("wsc", [_w(0), _w(1), Conv2d(C, C, 3, padding=1)], input_shape=MAP)
    rf = _rfs(m)["2"]
    assert rf.per_phase == (((-2, 6), (-2, 6)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((6, 6), (1, 1), (-2, -2), (2, 2))
    assert rf.notes == ()


def test_conv_before_the_window():
    # 3×3 conv, stride 2, padding 1 on 8: 4 units, unit j sees [2j−1, 2j+1] (size 3,
    # stride 2, offset −1, one phase). Window 2 on the 4 units: units 2m, 2m+1 read units
    # 2m and 2m+1: [4m−1, 4m+3] for both -> per phase ((−1, 5), (−1, 5)); 4 pixels per
    # period of 2 units: stride 2.
    m = sequential("cw", [Conv2d(C, C, 3, stride=2, padding=1), _w()], input_shape=MAP)
    rfs = _rfs(m)
    conv = rfs["0"]
    assert (conv.size, conv.stride, conv.offset, conv.phases) == ((3, 3), (2, 2), (-1, -1), (1, 1))
    assert conv.tables is None and conv.per_phase is None and conv.exact
    assert conv.holds_for == "every unit"
    rf = rfs["1"]
    assert rf.per_phase == (((-1, 5), (-1, 5)),) * 2
    assert rf.tables == (PhaseTable(2, 4, (-1, -1), (3, 3)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((5, 5), (2, 2), (-1, -1), (2, 2))


def test_patch_merging_aligned_with_the_window_is_exact_again():
    # W-MSA window 2 then PatchMerging (2×2, stride 2): unit i reads units 2i, 2i+1, which
    # share the window [2i, 2i+1]: every unit sees [2i, 2i+1] -> one phase, size 2,
    # stride 2, offset 0; the table reduces to period 1 and is dropped (exact again).
    m = sequential("wm", [_w(), PatchMerging(C)], input_shape=MAP)
    rf = _rfs(m)["1"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((2, 2), (2, 2), (0, 0), (1, 1))
    assert rf.tables is None and rf.per_phase is None
    assert rf.exact and rf.holds_for == "every unit"


def test_patch_merging_after_the_shifted_window():
    # SW-MSA (after W-MSA): unit 2m sees [2m−2, 2m+1], unit 2m+1 sees [2m, 2m+3].
    # PatchMerging unit i reads units 2i, 2i+1: [2i−2, 2i+3]: one phase, size 6,
    # stride 2, offset −2.
    m = sequential("wsm", [_w(0), _w(1), PatchMerging(C)], input_shape=MAP)
    rf = _rfs(m)["2"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((6, 6), (2, 2), (-2, -2), (1, 1))
    assert rf.tables is None and rf.exact


def test_shifted_window_straight_on_the_input():
    # SW-MSA shift 1 on the input: unit 2m reads units 2m−1, 2m -> [2m−1, 2m];
    # unit 2m+1 reads 2m+1, 2m+2 -> [2m+1, 2m+2]. Per phase ((−1, 2), (1, 2)): with period
    # 2 and shift 2 this is [j−1, j] for j = 2m and [j, j+1] for j = 2m+1: no smaller
    # period (phase 1 − phase 0 = 2 ≠ 1), so 2 phases; size 2, offset −1.
    rf = _rfs(sequential("s", [_w(1)], input_shape=MAP))["0"]
    assert rf.per_phase == (((-1, 2), (1, 2)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((2, 2), (1, 1), (-1, -1), (2, 2))


def test_grid_partition_reads_every_block():
    # MaxViT grid attention, partition 2 on 8 units: 2 blocks of q = 4 units; unit j reads
    # units (j mod 4) and (j mod 4) + 4 of its period of 8: pixels [j mod 4, j mod 4 + 4].
    # Period 8 (the axis length), 8 pixels per period: stride 1; phase r: (r mod 4, 5).
    g = PartitionAttention(C, 3, 2, "grid", 1)
    rf = _rfs(sequential("g", [g], input_shape=MAP))["0"]
    per = tuple((r % 4, 5) for r in range(8))
    assert rf.per_phase == (per, per)
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((5, 5), (1, 1), (0, 0), (8, 8))


def test_window_partition_of_maxvit():
    # "window" partition 2: the same field as Swin's W-MSA window 2.
    w = PartitionAttention(C, 3, 2, "window", 1)
    rf = _rfs(sequential("p", [w], input_shape=MAP))["0"]
    assert rf.per_phase == (((0, 2), (0, 2)),) * 2 and rf.phases == (2, 2)


# ---------------------------------------------------------------- merges


def _branches(other):
    b = Builder("br", MAP)
    b.add("w", _w(), INPUT)
    b.add("c", other, INPUT)
    b.add("sum", Add(), "w", "c")
    return b.build()


def test_merge_with_a_wider_conv_reduces_to_one_phase():
    # window branch: units 2m, 2m+1 see [2m, 2m+1]; 3×3 conv (pad 1): unit j sees
    # [j−1, j+1]. Union: unit 2m -> [2m−1, 2m+1] ∪ [2m, 2m+1] = [2m−1, 2m+1];
    # unit 2m+1 -> [2m, 2m+2]: always [j−1, j+1]: one phase, size 3, offset −1, exact.
    rf = _rfs(_branches(Conv2d(C, C, 3, padding=1)))["sum"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((3, 3), (1, 1), (-1, -1), (1, 1))
    assert rf.tables is None and rf.exact and rf.aligned


def test_merge_with_a_pointwise_conv_keeps_the_phases():
    # 1×1 conv: unit j sees [j, j]. Union with the window: unit 2m -> [2m, 2m+1],
    # unit 2m+1 -> [2m, 2m+1]: the window's two phases ((0, 2), (0, 2)).
    rf = _rfs(_branches(Conv2d(C, C, 1)))["sum"]
    assert rf.per_phase == (((0, 2), (0, 2)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((2, 2), (1, 1), (0, 0), (2, 2))
    assert rf.aligned and not rf.global_context


def test_merge_of_two_windowed_branches():
    # W-MSA (phases (0,2), (0,2)) + SW-MSA on the input (phases (−1,2), (1,2)):
    # unit 2m -> [2m, 2m+1] ∪ [2m−1, 2m] = [2m−1, 2m+1] (offset −1, size 3);
    # unit 2m+1 -> [2m, 2m+1] ∪ [2m+1, 2m+2] = [2m, 2m+2] (offset 0, size 3):
    # that is [j−1, j+1] for every j: one phase, exact.
    rf = _rfs(_branches(_w(1)))["sum"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((3, 3), (1, 1), (-1, -1), (1, 1))
    assert rf.exact


def test_merge_of_a_window_and_a_coarser_branch_is_not_aligned():
    # 1×1 conv, stride 2, padding 4 on 8: (8 + 8 − 1) // 2 + 1 = 8 units, unit j sees
    # pixel 2j − 4 (stride 2) while the window's units step 1 pixel per unit: no exact
    # union per phase. The figures hold for unit 0: [0, 1] ∪ [−4, −4] = [−4, 1]: offset
    # −4, size 6; stride the larger, 2; phases lcm(2, 1) = 2; a note names the merge.
    rf = _rfs(_branches(Conv2d(C, C, 1, stride=2, padding=4)))["sum"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((6, 6), (2, 2), (-4, -4), (2, 2))
    assert rf.aligned is False and rf.tables is None and not rf.exact
    assert rf.holds_for == "unit 0 (the inputs of a merge have different strides)"
    assert rf.notes == ("sum: inputs have different strides; figures hold for unit 0",)


# ---------------------------------------------------------------- approximate fields


def test_symbolic_map_falls_back_to_the_approximate_field():
    # symbolic H, W: no exact table. Unit 0's window as one step: window 2, shift 1 (kept
    # on a symbolic axis): base(0) = 0 − ((0 − 1) mod 2) = −1, k = 2, s = 1: size
    # 1 + (2 − 1)·1 = 2, offset −1, stride 1, one phase; a note says so.
    h, w = sympy.symbols("H W", positive=True, integer=True)
    m = sequential("sym", [_w(1)], input_shape=(C, h, w))
    rf = _rfs(m)["0"]
    assert (rf.size, rf.stride, rf.offset) == ((2, 2), (1, 1), (-1, -1))
    assert rf.tables is None and rf.per_phase is None
    assert len(rf.notes) == 1 and rf.notes[0].startswith("0: windowed attention: approximate")
    assert "65536" in rf.notes[0]
    # by hand, units 2m and 2m+1 read different windows ([2m-1, 2m] and [2m+1, 2m+2]): two
    # phase classes per axis, so the figures hold for phase 0 only, not for every unit
    assert rf.phases == (2, 2) and not rf.exact
    assert rf.holds_for.startswith("phase 0 of 2x2")


def test_fractional_stride_falls_back_to_the_approximate_field():
    # ×2 nearest upsampling of 4 units: unit j sees pixel j // 2: size 1, stride 1/2,
    # offset 0, 2 phases (no integer table). Window 2 as the step (2, 1, 0):
    # size 1 + (2 − 1)·1/2 = 3/2 (the bound the formula gives), stride 1/2, offset 0,
    # phases 2 (a stride-1 step keeps them); the note names the approximation.
    m = sequential("up", [Upsample(scale_factor=2), _w()], input_shape=(C, 4, 4))
    rfs = _rfs(m)
    up = rfs["0"]
    assert (up.size, up.stride, up.offset, up.phases) == (
        (1, 1),
        (Fraction(1, 2),) * 2,
        (0, 0),
        (2, 2),
    )
    rf = rfs["1"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == (
        (Fraction(3, 2),) * 2,
        (Fraction(1, 2),) * 2,
        (0, 0),
        (2, 2),
    )
    assert rf.tables is None and not rf.exact
    assert any("windowed attention: approximate field" in n for n in rf.notes)


def test_more_phases_than_the_cap_fall_back_with_a_note():
    # windows 7, 11, 13, 17, 19 (shifts 3, 5, 5, 5, 5; all below their window): the period
    # of the chain is the lcm of the windows: 7·11·13·17 = 17017 after the fourth (kept:
    # ≤ 65536), 17017·19 = 323323 after the fifth (over the cap): approximate, with a note
    sizes = (7, 11, 13, 17, 19)
    chain = [ShiftedWindowAttention(8, 2, w, 5 if w > 7 else 3) for w in sizes]
    rfs = _rfs(sequential("cap", chain, input_shape=(8, 600, 600)))
    kept, over = rfs["3"], rfs["4"]
    assert kept.phases == (17017, 17017) and len(kept.per_phase[0]) == 17017
    assert kept.notes == ()
    assert over.tables is None and not over.exact
    assert over.notes == (
        "4: windowed attention: approximate field (symbolic, fractional or more than 65536 "
        "phases: no exact per-phase table)",
    )


# ---------------------------------------------------------------- NO_INPUT


def test_a_param_sees_no_input_and_a_merge_keeps_the_other_field():
    b = Builder("pos", MAP)
    b.add("pos", Param(MAP), INPUT)
    b.add("w", _w(), INPUT)
    b.add("sum", Add(), "w", "pos")
    b.add("sum2", Add(), "pos", "sum")  # the Param first: the same rule
    rfs = _rfs(b.build())
    assert rfs["pos"].sees_input is False and rfs["pos"].size == ()
    # x + pos_embed: the field of x, the very object
    assert rfs["sum"] is rfs["w"] and rfs["sum2"] is rfs["w"]
    assert rfs["sum"].per_phase == (((0, 2), (0, 2)),) * 2


def test_params_and_constants_alone_see_no_input():
    b = Builder("consts", MAP)
    b.add("p", Param(MAP), INPUT)
    b.add("k", Constant(MAP), INPUT)
    b.add("sum", Add(), "p", "k")
    b.add("out", Add(), "sum", INPUT)
    rfs = _rfs(b.build())
    assert rfs["sum"].sees_input is False and rfs["k"].sees_input is False
    # constants + x: the input's own (rank-free) field, every unit sees itself
    assert rfs["out"] is UNIT_RF and rfs["out"].sees_input


def test_a_layer_on_a_param_first_operand_is_refused_or_sees_nothing():
    b = Builder("pconv", MAP)
    b.add("p", Param(MAP), INPUT)
    b.add("c", Conv2d(C, C, 3, padding=1), "p")
    rfs = _rfs(b.build())
    assert rfs["c"].sees_input is False  # computed from a parameter only


def test_param_first_operand_of_a_fixed_arity_layer_is_refused():
    # Matmul (arity 2) follows its first operand's field; a Param first sees nothing: refused
    b = Builder("pm", MAP)
    b.add("p", Param(MAP), INPUT)
    b.add("m", Matmul(), "p", INPUT)
    with pytest.raises(UnsupportedError, match="first operand sees no input"):
        _rfs(b.build())


# ---------------------------------------------------------------- clipped boxes


def _axis(boxes, name):
    lo_h, hi_h, lo_w, hi_w = boxes[name]
    assert np.array_equal(lo_h, lo_w) and np.array_equal(hi_h, hi_w)  # square, same layers
    return lo_h.tolist(), hi_h.tolist()


def test_clipped_boxes_of_a_window_chain():
    # W-MSA window 2: units 2m, 2m+1 -> [2m, 2m+1]:
    #   lo 0 0 2 2 4 4 6 6, hi 1 1 3 3 5 5 7 7
    # SW-MSA shift 1 on the input: base(j) = j − ((j − 1) mod 2):
    #   j:    0   1  2  3  4  5  6  7
    #   base −1   1  1  3  3  5  5  7  ; window {base, base+1}, inside 0..7:
    #   0 -> {0}, 1,2 -> {1,2}, 3,4 -> {3,4}, 5,6 -> {5,6}, 7 -> {7}
    # SW-MSA after W-MSA: the same windows over the W-MSA boxes:
    #   0 -> unit 0 [0,1]; 1,2 -> [0,3]; 3,4 -> [2,5]; 5,6 -> [4,7]; 7 -> unit 7 [6,7]
    # out = s + ws: per unit the smaller lo and larger hi, which are ws's throughout
    b = Builder("boxes", MAP)
    b.add("w", _w(0), INPUT)
    b.add("s", _w(1), INPUT)
    b.add("ws", _w(1), "w")
    b.add("out", Add(), "s", "ws")
    boxes = _boxes(b.build())
    assert _axis(boxes, INPUT) == (list(range(8)), list(range(8)))
    assert _axis(boxes, "w") == ([0, 0, 2, 2, 4, 4, 6, 6], [1, 1, 3, 3, 5, 5, 7, 7])
    assert _axis(boxes, "s") == ([0, 1, 1, 3, 3, 5, 5, 7], [0, 2, 2, 4, 4, 6, 6, 7])
    assert _axis(boxes, "ws") == ([0, 0, 0, 2, 2, 4, 4, 6], [1, 3, 3, 5, 5, 7, 7, 7])
    assert _axis(boxes, "out") == _axis(boxes, "ws")


def test_clipped_boxes_of_a_strided_conv_then_a_window():
    # conv 3×3 stride 2 pad 1 on 8 -> 4: unit u reads 2u−1, 2u, 2u+1 inside 0..7:
    #   0 -> [0,1], 1 -> [1,3], 2 -> [3,5], 3 -> [5,7]
    # window 2 on 4 units: {0,1} -> [0,3], {2,3} -> [3,7]
    # PatchMerging on the 4 units (2×2 stride 2): unit i reads 2i, 2i+1 -> [0,3], [3,7]
    m = sequential(
        "cwb", [Conv2d(C, C, 3, stride=2, padding=1), _w(), PatchMerging(C)], input_shape=MAP
    )
    boxes = _boxes(m)
    assert _axis(boxes, "0") == ([0, 1, 3, 5], [1, 3, 5, 7])
    assert _axis(boxes, "1") == ([0, 0, 3, 3], [3, 3, 7, 7])
    assert _axis(boxes, "2") == ([0, 3], [3, 7])


def test_clipped_boxes_of_a_merge_with_a_param():
    # the Param has no box; the sum keeps the window's; the conv branch (3×3 pad 1:
    # [j−1, j+1] clipped: 0 -> [0,1], 7 -> [6,7]) united with the window's pairs:
    #   j:   0  1  2  3  4  5  6  7
    #   lo   0  0  1  2  3  4  5  6   (min of 2m-pair lo and j−1 clipped)
    #   hi   1  2  3  4  5  6  7  7
    b = Builder("bp", MAP)
    b.add("pos", Param(MAP), INPUT)
    b.add("w", _w(), INPUT)
    b.add("c", Conv2d(C, C, 3, padding=1), INPUT)
    b.add("wp", Add(), "w", "pos")
    b.add("sum", Add(), "wp", "c")
    boxes = _boxes(b.build())
    assert "pos" not in boxes
    assert _axis(boxes, "wp") == _axis(boxes, "w")
    assert _axis(boxes, "sum") == ([0, 0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7, 7])


def test_the_table_reduces_to_its_smallest_period():
    # period 4, shift 4 with every phase one pixel further: unit j sees [j, j+2]: period 1,
    # shift 1 (unit 4 = m 1, r 0 sees lo[0] + 4 = 4 both ways)
    t = PhaseTable(4, 4, (0, 1, 2, 3), (2, 3, 4, 5))
    assert t.reduced() == PhaseTable(1, 1, (0,), (2,))
    # period 4 whose halves repeat 2 pixels on: period 2, shift 2
    h = PhaseTable(4, 4, (0, 0, 2, 2), (1, 1, 3, 3))
    assert h.reduced() == PhaseTable(2, 2, (0, 0), (1, 1))
    # nothing smaller
    s = PhaseTable(2, 2, (-2, 0), (1, 3))
    assert s.reduced() is s
