"""A sliding window against one FCN pass (exam Q3(b)) and the cost of saliency maps (exam Q6),
derived by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest
from _design_data import ALEXNET_MACS

import archcalc
from archcalc import OptionError
from archcalc.design import explain_cost, fcn_cost, windows

# ================================================================ FCN vs sliding window (Q3b)


def test_fcn_alexnet_512():
    r = fcn_cost("alexnet", 512, 224, 32)
    # floor((512 − 224)/32) + 1 = 10 per axis (the exam counts 9: it drops the window at 0)
    assert r.windows_hw == (10, 10) and r.windows == 100
    assert r.macs_window == ALEXNET_MACS
    assert r.macs_sliding == 100 * ALEXNET_MACS
    # at 512: conv1 floor((512 + 4 − 11)/4) + 1 = 127, pools to 63, 31, 15; the FC head as
    # convs: 6×6 kernel → 10×10, then two 1×1
    fcn = (
        64 * 127**2 * 3 * 121
        + 192 * 63**2 * 64 * 25
        + 384 * 31**2 * 192 * 9
        + 256 * 31**2 * 384 * 9
        + 256 * 31**2 * 256 * 9
        + 4096 * 10**2 * 256 * 36
        + 4096 * 10**2 * 4096
        + 1000 * 10**2 * 4096
    )
    assert r.macs_fcn == fcn
    assert r.speedup == Fraction(100 * ALEXNET_MACS, fcn)
    assert r.fcn_output == (1000, 10, 10) and r.fcn_stride == (32, 32) and r.same_grid
    # one window's peak: the input (held throughout), conv1's output and its ReLU's
    assert r.peak_window_bytes == (3 * 224**2 + 2 * 64 * 55**2) * 4
    assert r.peak_sliding_batched_bytes == 100 * r.peak_window_bytes


def test_fcn_errors_and_windows():
    assert windows(512, 224, 32) == 10 and windows(224, 224, 1) == 1
    with pytest.raises(OptionError, match="window = 600x600: larger than the input 512x512"):
        fcn_cost("alexnet", 512, 600, 32)
    with pytest.raises(OptionError, match="stride = 'x'"):
        fcn_cost("alexnet", 512, 224, "x")


# ================================================================ saliency cost (Q6)


def test_explain_cost_alexnet():
    r = explain_cost("alexnet", "all", steps=20, window=32, stride=16)
    s = archcalc.summary("alexnet")
    sv, inp, peak = (
        s.memory.saved_for_backward_bytes,
        3 * 224**2 * 4,
        s.memory.peak_inference_bytes,
    )
    assert s.memory.input_bytes == inp
    g, ig, occ, cam = (
        r.method(m) for m in ("gradient", "integrated-gradients", "occlusion", "cam")
    )
    assert (g.forward_passes, g.backward_passes, g.macs) == (1, 1, 2 * ALEXNET_MACS)
    assert g.memory_bytes == sv + inp
    assert (ig.forward_passes, ig.backward_passes, ig.macs) == (20, 20, 40 * ALEXNET_MACS)
    assert ig.memory_bytes == sv + 2 * inp and ig.memory_batched_bytes == 20 * (sv + inp) + inp
    # (224 − 32)//16 + 1 = 13 positions per axis, 169 occluded passes and the clean one
    assert r.windows_hw == (13, 13)
    assert (occ.forward_passes, occ.backward_passes, occ.macs) == (170, 0, 170 * ALEXNET_MACS)
    assert occ.memory_bytes == peak + 169 * 4
    # CAM: one pass plus 256 maps of 6×6 weighted for one class
    assert cam.macs == ALEXNET_MACS + 256 * 6 * 6
    assert cam.memory_bytes == peak + 6 * 6 * 4


def test_explain_cost_errors():
    with pytest.raises(OptionError, match="method = 'lime': must be one of gradient"):
        explain_cost("alexnet", "lime")
    with pytest.raises(OptionError, match="window = 300x300: larger than the input 224x224"):
        explain_cost("alexnet", "occlusion", window=300)
    with pytest.raises(OptionError, match="steps = 0"):
        explain_cost("alexnet", "integrated-gradients", steps=0)
    # the window only matters to occlusion
    assert explain_cost("alexnet", "gradient", window=300).windows_hw is None
