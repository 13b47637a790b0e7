"""Misaligned merges and the phases of upsampled fields, as data (issue 16 item 4)."""

from __future__ import annotations

from fractions import Fraction

import archcalc
from archcalc import Add, Builder, Conv2d, Upsample, sequential


def test_merge_of_equal_strides_is_aligned():
    b = Builder("eq", (1, 16, 16))
    b.add("s1", Conv2d(1, 1, 1, stride=2), "input")  # stride 2
    b.add("s2", Conv2d(1, 1, 2, stride=2), "input")  # stride 2
    b.add("add", Add(), "s1", "s2")
    rf = archcalc.summary(b.build()).rf
    assert rf.aligned and rf.exact and rf.stride == (2, 2)


def test_merge_of_unequal_strides_is_misaligned():
    # 16 wide: a 1x1 stride-2 conv gives (16 - 1)//2 + 1 = 8; a 1x1 stride-3 conv with
    # padding 3 gives (16 + 6 - 1)//3 + 1 = 8 too, but steps 3 input pixels per unit
    b = Builder("mis", (1, 16, 16))
    b.add("s2", Conv2d(1, 1, 1, stride=2), "input")
    b.add("s3", Conv2d(1, 1, 1, stride=3, padding=3), "input")
    b.add("add", Add(), "s2", "s3")
    s = archcalc.summary(b.build())
    assert s.layer("add").output_shape == (1, 8, 8)
    rf = s.rf
    assert rf.aligned is False and rf.exact is False
    d = s.to_dict()["receptive_field"]
    assert d["aligned"] is False and d["holds_for"].startswith("unit 0")


def test_upsampled_field_has_phases():
    # stride-2 conv then nearest x2: units 2m and 2m+1 both read conv unit m, so the field
    # repeats every 2 units (2 phases), although the stride is 2 * 1/2 = 1
    m = sequential("up", [Conv2d(1, 1, 2, stride=2), Upsample(2)], input_shape=(1, 8, 8))
    s = archcalc.summary(m)
    rf = s.rf
    assert rf.stride == (Fraction(1), Fraction(1)) and rf.phases == (2, 2)
    assert not rf.exact and rf.aligned
    d = s.to_dict()
    assert d["receptive_field"]["phases"] == [2, 2]
    assert d["receptive_field"]["exact"] is False
    assert "phase 0 of 2x2" in d["receptive_field"]["holds_for"]
    assert d["layers"][1]["receptive_field"]["phases"] == [2, 2]
    # a plain conv's field holds for every unit
    assert s.layers[0].rf.phases == (1, 1) and s.layers[0].rf.exact


def test_a_stride_equal_to_the_upsampling_brings_one_phase_back():
    # nearest x2 then a 1x1 stride-2 conv: output unit j reads upsampled unit 2j = input j
    m = sequential("back", [Upsample(2), Conv2d(1, 1, 1, stride=2)], input_shape=(1, 8, 8))
    rf = archcalc.summary(m).rf
    assert rf.phases == (1, 1) and rf.exact and rf.stride == (1, 1) and rf.size == (1, 1)
