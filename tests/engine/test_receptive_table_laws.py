"""Laws of the exact per-phase receptive-field tables (engine/receptive.py: PhaseTable.union,
PhaseTable.reduced, _table_of, _table_step, _merge_tables) and of what a field carries
through them (notes, global context, whole-number figures), every figure derived by hand.
Torch-free. Written for the mutants of engine.receptive that tests/engine/
test_window_field_laws.py left alive (docs/testing.md, "Mutation testing").

Notation as in test_window_field_laws.py: per axis, unit ``j = m·P + r`` of a table of period
``P`` and shift ``S`` sees input positions ``lo[r] + m·S … hi[r] + m·S``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from archcalc.engine.graph import INPUT, Builder, sequential
from archcalc.engine.receptive import (
    RF,
    PhaseTable,
    _merge_tables,
    _table_of,
    _table_step,
    clipped_boxes,
    receptive_fields,
)
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import (
    AdaptiveAvgPool2d,
    Add,
    Conv2d,
    Mul,
    Pad,
    PartitionAttention,
    Reshape,
    ShiftedWindowAttention,
    Upsample,
)
from archcalc.kinds.window import Windows

C = 6
MAP = (C, 8, 8)
CAP = 65536  # the most phases a field keeps exactly (receptive._MAX_PERIOD)


def _rfs(model):
    return receptive_fields(model, infer_shapes(model))


def _whole(rf: RF) -> None:
    """Every figure of an exact table field is a Python int (not 2.0, not Fraction(2))."""
    for v in (*rf.size, *rf.stride, *rf.offset, *rf.phases):
        assert type(v) is int, (v, rf)
    for t in rf.tables or ():
        assert all(type(v) is int for v in (t.period, t.shift, *t.lo, *t.hi)), t


# the grid partition of test_window_field_laws.test_grid_partition_reads_every_block: 2
# blocks of 4 on 8 units; unit j reads units (j mod 4) and (j mod 4) + 4 of its period:
# pixels [j mod 4, j mod 4 + 4]; period 8, 8 pixels per period
GRID = PhaseTable(8, 8, tuple(r % 4 for r in range(8)), tuple(r % 4 + 4 for r in range(8)))


# ---------------------------------------------------------------- PhaseTable.union


def test_union_of_a_run_whose_middle_unit_reaches_furthest():
    # the grid's regions do not grow with the unit: unit 3 sees [3, 7], unit 4 sees [0, 4]
    # (the next block's first position): the run 3, 4 sees [0, 7] -- not [3, 4], what its
    # first unit's start and its last unit's end would give
    assert GRID.region(3) == (3, 7) and GRID.region(4) == (0, 4)
    assert GRID.union(3, 1, 2) == (0, 7)
    # units 2..6: [2,6] [3,7] [0,4] [1,5] [2,6] -> [0, 7]
    assert GRID.union(2, 1, 5) == (0, 7)
    # units 6..9 cross a period: [2,6] [3,7], then unit 8 = 1·8 + 0 -> [0+8, 4+8], unit 9 ->
    # [9, 13]: [2, 13]
    assert GRID.union(6, 1, 4) == (2, 13)
    # every second unit from 1, 3 of them: units 1, 3, 5 -> [1,5] [3,7] [1,5] -> [1, 7]
    assert GRID.union(1, 2, 3) == (1, 7)


def test_union_of_a_billion_units_is_exact():
    # units 0 .. 10^9 - 1: the lowest start is 0 (unit 0); the highest end is the last
    # unit's, 10^9 - 1 = 124,999,999·8 + 7: hi[7] + 124,999,999·8 = 7 + 999,999,992
    assert GRID.union(0, 1, 10**9) == (0, 999_999_999)


def test_the_model_builds_the_grid_table():
    g = PartitionAttention(C, 3, 2, "grid", 1)
    rf = _rfs(sequential("g", [g], input_shape=MAP))["0"]
    assert rf.tables == (GRID, GRID)
    _whole(rf)


# ---------------------------------------------------------------- PhaseTable.reduced


def test_reduced_finds_a_period_past_a_non_divisor():
    # period 8, shift 8: units 4..7 see [4, 7], units 0..3 see [0, 3]: units 4..7 are units
    # 0..3 moved 4 positions, so period 4 with 4 positions per period describes it. Not
    # period 1 (unit 1 sees [0, 3], not [1, 4]) nor 2 (unit 2 sees [0, 3], not [2, 5]). The
    # search passes 3, which does not divide 8, on its way to 4.
    t = PhaseTable(8, 8, (0, 0, 0, 0, 4, 4, 4, 4), (3, 3, 3, 3, 7, 7, 7, 7))
    r = t.reduced()
    assert r == PhaseTable(4, 4, (0, 0, 0, 0), (3, 3, 3, 3))
    assert type(r.shift) is int


def test_reduced_keeps_a_prime_period():
    # period 3, shift 3: units 0, 1, 2 see [0,0] [0,0] [2,2]; unit 3 (= 1·3 + 0) sees [3, 3].
    # No smaller period: with period 2 unit 3 would see unit 1's region moved 2, [2, 2].
    # (A check of only the units inside one period would accept 2: lo[2] - lo[0] = 2.)
    t = PhaseTable(3, 3, (0, 0, 2), (0, 0, 2))
    assert t.reduced() == t


def test_reduced_needs_both_ends_to_repeat():
    # period 2, shift 2: unit 0 sees [0, 1], unit 1 sees [1, 3]. The starts repeat with
    # period 1 (0, 1, 2, 3, ...: one position per unit) but the ends do not (1, 3, 3, 5):
    # period 2 stays
    t = PhaseTable(2, 2, (0, 1), (1, 3))
    assert t.reduced() == t


# ---------------------------------------------------------------- _table_of


def test_table_of_one_formula():
    # size 3, stride 2, offset -1, one phase: unit j sees [-1 + 2j, 1 + 2j]
    assert _table_of(3, 2, -1, 1) == PhaseTable(1, 2, (-1,), (1,))
    # two phases: no single formula describes every unit, no table
    assert _table_of(5, 1, 0, 2) is None
    # a fractional stride (after upsampling) or a symbolic figure: no integer table
    assert _table_of(3, Fraction(1, 2), 0, 1) is None
    assert _table_of(sympy.Symbol("k", positive=True, integer=True), 1, 0, 1) is None


# ---------------------------------------------------------------- the cap, exactly


def test_a_window_of_exactly_the_cap_is_kept():
    # one window of 65,536 units on an axis of 65,536 (period 65,536, no shift), after the
    # unit field (period 1): every unit reads units 0 .. 65,535, so phase r sees [0, 65535]
    # for every r < 65,536 and the table moves 65,536 positions per period. 65,536 phases
    # is the cap: kept, not dropped
    unit = PhaseTable(1, 1, (0,), (0,))
    t = _table_step(unit, Windows(CAP, 0, CAP), 1)
    assert t is not None
    assert (t.period, t.shift) == (CAP, CAP)
    assert t.lo == (0,) * CAP and t.hi == (CAP - 1,) * CAP
    assert type(t.shift) is int


def test_a_merge_of_exactly_the_cap_is_kept_and_one_more_is_not():
    # the table above merged with a one-phase field seeing position j (a 1×1 conv): the
    # lcm of the periods is 65,536, at the cap: kept; unit j's union with [j, j] is the
    # window's own region (j lies inside it)
    unit = PhaseTable(1, 1, (0,), (0,))
    big = _table_step(unit, Windows(CAP, 0, CAP), 1)
    assert big is not None
    wide = RF((CAP,), (1,), (0,), phases=(CAP,), tables=(big,))
    point = RF((1,), (1,), (0,), phases=(1,))
    merged = _merge_tables([wide, point], 1)
    assert merged is not None
    (t,) = merged
    assert (t.period, t.shift, t.lo[:2], t.hi[:2]) == (CAP, CAP, (0, 0), (CAP - 1, CAP - 1))
    assert type(t.shift) is int
    # with a 3-phase table instead of the point: lcm(65536, 3) = 196,608 phases, over the
    # cap: no table (the merge falls back to the approximate figures)
    three = RF((1,), (1,), (0,), phases=(3,), tables=(PhaseTable(3, 3, (0, 1, 2), (0, 1, 2)),))
    assert _merge_tables([wide, three], 1) is None


# ---------------------------------------------------------------- integer steps on tables


def test_a_stride_that_does_not_divide_the_period():
    # window 2 (no shift) on 8 units, then a 1×1 conv of stride 3: output unit j reads
    # window unit 3j, whose window is [2·floor(3j/2), 2·floor(3j/2) + 1]: j = 0 -> [0, 1],
    # j = 1 -> [2, 3], j = 2 -> [6, 7], j = 3 -> [8, 9]. Phase 0 (j = 2m): [6m, 6m + 1];
    # phase 1 (j = 2m + 1): [6m + 2, 6m + 3]. Period 2, 6 positions per period: stride 3;
    # sizes 2, offsets 0 and 2; no smaller period (unit 1 is not unit 0 moved 3).
    m = sequential(
        "s3", [ShiftedWindowAttention(C, 2, 2, 0), Conv2d(C, C, 1, stride=3)], input_shape=MAP
    )
    rf = _rfs(m)["1"]
    assert rf.tables == (PhaseTable(2, 6, (0, 2), (1, 3)),) * 2
    assert rf.per_phase == (((0, 2), (2, 2)),) * 2
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((2, 2), (3, 3), (0, 0), (2, 2))
    _whole(rf)


def test_upsampling_after_a_window_falls_back():
    # window 2 on 8 units (2 phases, exact table), then ×2 nearest upsampling: a fractional
    # stride, no integer table. Upsampled unit j reads window unit j // 2, which sees
    # [2·floor(j/4), 2·floor(j/4) + 1]: units 4m .. 4m + 3 all see [2m, 2m + 1]. The
    # approximate field: size 2 + (1 - 1)·1 = 2, offset 0, stride 1·1/2 = 1/2 (unit 4m is
    # placed at 4m/2 = 2m, right for phase 0), phases 2·2 = 4 (units 4m + 1 .. 4m + 3 start
    # at 2m, not at 2m + r/2); the upsampling's note
    m = sequential(
        "wu", [ShiftedWindowAttention(C, 2, 2, 0), Upsample(scale_factor=2)], input_shape=MAP
    )
    rf = _rfs(m)["1"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == (
        (2, 2),
        (Fraction(1, 2),) * 2,
        (0, 0),
        (4, 4),
    )
    assert rf.tables is None and not rf.exact
    assert rf.notes == ("1: fractional stride; size is the largest over output phases",)


def test_a_grid_window_after_upsampling_spans_its_dilated_taps():
    # 4 units upsampled ×2 to 8 (unit j sees pixel j // 2: size 1, stride 1/2, 2 phases),
    # then grid attention of 2 blocks of 4: unit u reads upsampled units u mod 4 and
    # u mod 4 + 4, pixels (u mod 4) // 2 and (u mod 4) // 2 + 2: 3 pixels from
    # (u mod 4) // 2. No integer table (fractional stride): unit 0's window as one step of
    # extent (2 - 1)·4 + 1 = 5 (two taps 4 apart), stride 1, start 0:
    # size 1 + (5 - 1)·1/2 = 3, offset 0, stride 1/2; phases lcm(2, 8) = 8 (the grid's
    # period is the axis length)
    m = sequential(
        "ug",
        [Upsample(scale_factor=2), PartitionAttention(C, 3, 2, "grid", 1)],
        input_shape=(C, 4, 4),
    )
    rf = _rfs(m)["1"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == (
        (3, 3),
        (Fraction(1, 2),) * 2,
        (0, 0),
        (8, 8),
    )
    assert rf.tables is None


# ---------------------------------------------------------------- notes and global context


def _gated_padded():
    """window 2 -> SE-style gate (global average, multiplied in) -> reflect pad 1 -> 3×3
    conv (no padding) -> + the window branch -> ×2 upsampling."""
    b = Builder("gp", MAP)
    b.add("w", ShiftedWindowAttention(C, 2, 2, 0), INPUT)
    b.add("g", AdaptiveAvgPool2d(1), "w")
    b.add("x", Mul(), "w", "g")
    b.add("p", Pad((1, 1, 1, 1), mode="reflect"), "x")
    b.add("c", Conv2d(C, C, 3), "p")
    b.add("sum", Add(), "c", "w")
    b.add("up", Upsample(scale_factor=2), "sum")
    return b.build()


PAD_NOTE = (
    "p: reflect padding: border units also see the mirrored rows (inside the clipped box "
    "when the padding is at most half of the next window)"
)


def test_a_gate_on_a_windowed_field_keeps_the_table_and_adds_global_context():
    # the gate's (C, 1, 1) branch is global: every unit also sees the whole image; the local
    # field is the window's (period 2: both phases see [2m, 2m + 1])
    rf = _rfs(_gated_padded())["x"]
    assert rf.tables == (PhaseTable(2, 2, (0, 0), (1, 1)),) * 2
    assert rf.global_context is True and rf.notes == ()
    _whole(rf)


def test_a_noted_step_on_a_table_keeps_the_note_and_the_context():
    # padded unit j reads gated unit j - 1: j = 2m -> unit 2m - 1 -> [2m - 2, 2m - 1];
    # j = 2m + 1 -> unit 2m -> [2m, 2m + 1]: offsets -2 and 0, size 2, period 2, stride 1;
    # the reflect pad's note (border units also see mirrored rows) and the gate's context
    rfs = _rfs(_gated_padded())
    p = rfs["p"]
    assert p.tables == (PhaseTable(2, 2, (-2, 0), (-1, 1)),) * 2
    assert p.notes == (PAD_NOTE,)
    assert p.global_context is True
    # the 3×3 conv reads padded units j .. j + 2 = gated units j - 1 .. j + 1:
    # j = 0 -> [-2,-1] ∪ [0,1] ∪ [0,1] = [-2, 1]; j = 1 -> [0,1] ∪ [0,1]... units 0, 1, 2 ->
    # [0,1] ∪ [0,1] ∪ [2,3] = [0, 3]; j = 2 (= 1·2 + 0) -> units 1, 2, 3 -> [0, 3] = [-2, 1]
    # moved 2: period 2, offsets -2 and 0, size 4 both
    c = rfs["c"]
    assert c.per_phase == (((-2, 4), (0, 4)),) * 2
    assert (c.size, c.stride, c.offset) == ((4, 4), (1, 1), (-2, -2))
    assert c.notes == (PAD_NOTE,) and c.global_context is True
    _whole(c)


def test_a_merge_of_tables_keeps_every_inputs_notes_and_context():
    # conv branch (phases [-2, 1], [0, 3]) + window branch ([0, 1], [0, 1]): unions [-2, 1]
    # and [0, 3], the conv's table; the conv branch's note (the window branch has none, and
    # a note seen twice is kept once) and its global context
    rf = _rfs(_gated_padded())["sum"]
    assert rf.tables == (PhaseTable(2, 2, (-2, 0), (1, 3)),) * 2
    assert rf.notes == (PAD_NOTE,)
    assert rf.global_context is True and rf.aligned is True
    _whole(rf)


def test_a_merge_of_two_noted_tables_keeps_the_note_once():
    b = Builder("twice", MAP)
    b.add("w", ShiftedWindowAttention(C, 2, 2, 0), INPUT)
    b.add("p", Pad((1, 1, 1, 1), mode="reflect"), "w")
    b.add("c", Conv2d(C, C, 1), "p")
    b.add("sum", Add(), "p", "c")
    rf = _rfs(b.build())["sum"]
    # both inputs carry the pad's note (the 1×1 conv adds none): one copy; no gate here
    assert rf.notes == (PAD_NOTE,)
    assert rf.global_context is False
    assert rf.tables == (PhaseTable(2, 2, (-2, 0), (-1, 1)),) * 2


def test_a_fractional_step_after_a_table_keeps_notes_and_context():
    # from the merge (size 4, stride 1, offset -2, 2 phases), ×2 nearest upsampling: unit j
    # reads merged unit j // 2: size 4, offset -2, stride 1/2, phases 2·2 = 4; the earlier
    # note, then the upsampling's; the gate's context stays
    rf = _rfs(_gated_padded())["up"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == (
        (4, 4),
        (Fraction(1, 2),) * 2,
        (-2, -2),
        (4, 4),
    )
    assert rf.notes == (PAD_NOTE, "up: fractional stride; size is the largest over output phases")
    assert rf.global_context is True and rf.tables is None


# ---------------------------------------------------------------- a layer reading its output


def test_a_reshape_that_keeps_the_map_keeps_the_field_and_the_boxes():
    # Reshape's geometry compares its input's last two axes with its output's: (6, 8, 8) ->
    # (6, 8, 8) keeps the map. Two 3×3 convs (padding 1) around it: size 1 + 2·2 = 5,
    # offset -2, stride 1; clipped boxes after the reshape are the first conv's:
    # unit i sees rows max(i - 1, 0) .. min(i + 1, 7)
    m = sequential(
        "rs",
        [Conv2d(C, C, 3, padding=1), Reshape((C, 8, 8)), Conv2d(C, C, 3, padding=1)],
        input_shape=MAP,
    )
    rf = _rfs(m)["2"]
    assert (rf.size, rf.stride, rf.offset) == ((5, 5), (1, 1), (-2, -2))
    boxes = clipped_boxes(m, infer_shapes(m))["1"]
    i = np.arange(8)
    for lo, hi in (boxes[:2], boxes[2:]):
        assert lo.tolist() == np.maximum(i - 1, 0).tolist()
        assert hi.tolist() == np.minimum(i + 1, 7).tolist()
