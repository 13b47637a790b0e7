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


def _taps_walk(k, s, p, d):
    """ConvTranspose2d's receptive-field step by walking every phase and tap: output j reads
    input i when j = i·s − p + d·t, t in [0, k); the extent is the widest phase's span of
    inputs, the start unit 0's first input (no tap: the formula's value past the kernel)."""
    extent = 1
    for phase in range(s):
        ts = [t for t in range(k) if (phase + p - d * t) % s == 0]
        if ts:
            extent = max(extent, d * (max(ts) - min(ts)) // s + 1)
    ts0 = [t for t in range(k) if (p - d * t) % s == 0]
    start = min((p - d * t) // s for t in ts0) if ts0 else -((d * (k - 1) - p) // s)
    return extent, start


def test_transposed_conv_geometry_closed_form_equals_the_walk():
    from archcalc import ConvTranspose2d

    for k in range(1, 9):
        for s in range(1, 9):
            for p in range(0, 9):
                for d in range(1, 6):
                    layer = ConvTranspose2d(1, 1, k, stride=s, padding=p, dilation=d)
                    (extent, stride, start), _ = layer.geometry(((1, 16, 16),), (1, 16, 16))
                    assert (extent, start) == _taps_walk(k, s, p, d), (k, s, p, d)
                    assert stride == Fraction(1, s)


def test_transposed_conv_of_a_huge_kernel_is_immediate():
    import time

    from archcalc import ConvTranspose2d

    t0 = time.perf_counter()
    m = sequential("ct", [ConvTranspose2d(3, 3, 100_000, stride=100_000)], input_shape=(3, 1, 1))
    rf = archcalc.summary(m).layers[0].rf
    # k = s: each output reads one input (taps 0 only in every phase): extent 1, start 0
    assert rf.size == (1, 1) and rf.offset == (0, 0) and rf.stride == (Fraction(1, 100_000),) * 2
    assert time.perf_counter() - t0 < 2
