"""Question 3, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

from fractions import Fraction

from _audit import claim, held, ours, theirs


def _out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _sizes(size: int) -> tuple[int, int, int, int]:
    """AlexNet's conv1, pool1, pool2 and pool3 sizes at ``size`` pixels (torch's floor rule)."""
    c1 = _out(size, 11, 4, 2)
    p1 = _out(c1, 3, 2, 0)
    p2 = _out(p1, 3, 2, 0)
    return c1, p1, p2, _out(p2, 3, 2, 0)


def _features_macs(size: int) -> int:
    c1, p1, p2, _ = _sizes(size)
    return (
        64 * c1**2 * 3 * 121
        + 192 * p1**2 * 64 * 25
        + 384 * p2**2 * 192 * 9
        + 256 * p2**2 * 384 * 9
        + 256 * p2**2 * 256 * 9
    )


def _alexnet_macs(size: int) -> int:
    """AlexNet's MACs with its FC layers as convolutions (6×6, then 1×1)."""
    head = _out(_sizes(size)[3], 6, 1, 0)
    return _features_macs(size) + head**2 * (4096 * 9216 + 4096 * 4096 + 1000 * 4096)


def _activation_bytes_224() -> int:
    """Every output of AlexNet at 224 (float32): conv, ReLU, pool maps; the 6×6 average pool's
    copy; Linear + ReLU outputs (flatten is a view, eval dropout an identity)."""
    c1, p1, p2, p3 = _sizes(224)
    elems = (
        2 * 64 * c1**2
        + 64 * p1**2
        + 2 * 192 * p1**2
        + 192 * p2**2
        + 2 * 384 * p2**2
        + 4 * 256 * p2**2
        + 2 * 256 * p3**2
        + 4 * 4096
        + 1000
    )
    return 4 * elems


def _activation_bytes_fcn_512() -> int:
    """--head conv at 512: no average pool; the classifier's maps are 10×10."""
    c1, p1, p2, p3 = _sizes(512)
    head = (p3 - 6 + 1) ** 2
    elems = (
        2 * 64 * c1**2
        + 64 * p1**2
        + 2 * 192 * p1**2
        + 192 * p2**2
        + 2 * 384 * p2**2
        + 4 * 256 * p2**2
        + 256 * p3**2
        + 4 * 4096 * head
        + 1000 * head
    )
    return 4 * elems


WINDOWS = len(range(0, 512 - 224 + 1, 32)) ** 2  # starts 0, 32, …, 288: 10 per axis


def test_fc_as_conv():
    # Linear(9216, 4096) and Conv2d(256, 4096, 6) on 6×6: (9216 + 1)·4096 params, 9216·4096 MACs
    assert ours("fc-as-conv") == [((9216 + 1) * 4096, 9216 * 4096)]
    assert theirs("fc-as-conv") == ours("fc-as-conv")
    assert claim("fc-as-conv").verdict == "agrees"


def test_fcn_output_same_size():
    assert _out(_sizes(224)[3], 6, 1, 0) == 1
    assert ours("fcn-output-same-size") == [(1, 1)]
    assert claim("fcn-output-same-size").verdict == "agrees"


def test_fcn_output_map():
    assert _sizes(512)[3] == 15 and _sizes(224)[3] == 6
    fmap, pixels = ours("fcn-output-map")
    assert fmap == pixels == (15 - 6 + 1, 15 - 6 + 1)
    assert theirs("fcn-output-map") == [(10, 10), (512 - 224 + 1, 512 - 224 + 1)]
    assert claim("fcn-output-map").verdict == "ambiguous"


def test_sliding_window_count():
    assert WINDOWS == 100
    assert ours("sliding-window-count") == [WINDOWS]
    assert theirs("sliding-window-count") == [9 * 9]
    assert claim("sliding-window-count").verdict == "differs"


def test_window_cost_order():
    assert _alexnet_macs(224) == 714_188_480
    count, growth = ours("window-cost-order")
    assert count == _alexnet_macs(224)
    assert theirs("window-cost-order")[0] == 3 * 224 * 224
    # 448: conv1 111, pools 55, 27 — the conv MACs grow a little over (448/224)² = 4
    assert growth == Fraction(_features_macs(448), _features_macs(224))
    assert theirs("window-cost-order")[1] == 4
    assert abs(growth - 4) <= Fraction(4, 10)  # within the declared 10%
    assert held("window-cost-order") == [False, True]
    assert claim("window-cost-order").verdict == "ambiguous"


def test_fcn_cost_formulas():
    # (H − h)(W − w)/s²·C·h·w over C·H·W = 9·9·224²/512²
    assert ours("fcn-cost-formulas") == [Fraction(9 * 9 * 224 * 224, 512 * 512)]
    assert theirs("fcn-cost-formulas") == [81]
    assert "= 15.5×" in claim("fcn-cost-formulas").archcalc_value
    assert claim("fcn-cost-formulas").verdict == "differs"


def test_fcn_speedup():
    speed = Fraction(WINDOWS * _alexnet_macs(224), _alexnet_macs(512))
    assert ours("fcn-speedup") == [speed]
    assert claim("fcn-speedup").archcalc_value == f"{float(speed):.2f}×" == "7.51×"
    assert claim("fcn-speedup").verdict == "differs"


def test_fcn_practical_speedup():
    assert ours("fcn-practical-speedup") == []  # a wall-clock figure: nothing to compute
    assert claim("fcn-practical-speedup").verdict == "ambiguous"


def test_sliding_window_memory():
    assert _activation_bytes_224() == 4_339_616
    assert ours("sliding-window-memory") == [WINDOWS * _activation_bytes_224()] == [433_961_600]
    assert theirs("sliding-window-memory") == [81 * _activation_bytes_224()]
    assert claim("sliding-window-memory").verdict == "differs"


def test_sliding_window_memory_ratio():
    ratio = Fraction(WINDOWS * _activation_bytes_224(), _activation_bytes_fcn_512())
    assert f"{float(ratio):.1f}" == "14.4" == claim("sliding-window-memory-ratio").archcalc_value
    assert ours("sliding-window-memory-ratio") == [ratio, ratio]
    exam81 = Fraction(81 * 224**2, 512**2)  # 15.50…
    right = Fraction(100 * 224**2, 512**2)  # 19.14…
    assert theirs("sliding-window-memory-ratio") == [exam81, right]
    # ≈ within 10%: |14.4 − 15.5|/15.5 = 7%; |14.4 − 19.1|/19.1 = 25%
    assert abs(ratio - exam81) <= exam81 / 10 and abs(ratio - right) > right / 10
    assert held("sliding-window-memory-ratio") == [True, False]
    assert claim("sliding-window-memory-ratio").verdict == "ambiguous"
