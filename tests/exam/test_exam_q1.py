"""Question 1, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

import math
from fractions import Fraction

from _audit import claim, held, ours, same, sym, theirs


def test_coord_channels():
    (C,) = sym("C")
    (channels,) = ours("coord-channels")
    assert same(channels, C + 2)  # C feature maps + the i/H and j/W maps
    assert same(theirs("coord-channels")[0], C + 2)
    assert claim("coord-channels").verdict == "agrees"


def test_coord_range():
    # 0-based i = 0 … 223 on a 224-pixel input: i/H runs 0 … 223/224, inside [0, 1], never 1
    inside, span = ours("coord-range")
    assert inside is True
    assert span == (0, Fraction(223, 224))
    assert theirs("coord-range") == [True, (0, 1)]
    assert held("coord-range") == [True, False]
    assert claim("coord-range").verdict == "ambiguous"


def test_conv_equivariance():
    # stride 1: equivariant; Q7(a)'s network: stem stride 2 and four stride-2 stages, 2·2⁴ = 32
    # = 224/7, so a shift by Δ = 1 pixel moves the output by 1/32 of a unit
    stride1, moved = ours("conv-equivariance")
    assert stride1 is True
    assert moved == Fraction(1, 2 * 2**4) == Fraction(7, 224)
    assert theirs("conv-equivariance")[1] == 1
    # a 1×1 stride-2 conv of a one-hot at (0, 0) of a 4×4: samples rows/cols 0, 2
    assert "Conv(X) = [[1, 0], [0, 0]]" in claim("conv-equivariance").counterexample
    assert "Conv(X shifted) = [[0, 0], [0, 0]]" in claim("conv-equivariance").counterexample
    assert claim("conv-equivariance").verdict == "ambiguous"


def test_coord_memory_factor():
    (C,) = sym("C")
    (factor,) = ours("coord-memory-factor")
    assert same(factor, (C + 2) / C)  # (C + 2)·H·W·4 bytes over C·H·W·4
    assert claim("coord-memory-factor").verdict == "agrees"


def test_coord_memory_256():
    (pair,) = ours("coord-memory-256")
    assert pair == (Fraction(258, 256), Fraction(2, 256))  # 1.0078125, 0.78125%
    (reading,) = claim("coord-memory-256").readings
    assert reading.exam == (Fraction("1.0078"), Fraction("0.0078"))
    assert reading.tolerance == Fraction(5, 100_000)  # half a unit of the 4th decimal
    assert claim("coord-memory-256").archcalc_value == "1.0078 (0.78%) = 129/128"
    assert claim("coord-memory-256").verdict == "agrees"


def test_coordconv_flops_factor():
    (C,) = sym("C")
    (factor,) = ours("coordconv-flops-factor")
    # a k×k conv costs k²·C_in·C_out·H·W MACs: C + 2 input channels instead of C
    assert same(factor, (C + 2) / C)
    assert claim("coordconv-flops-factor").verdict == "agrees"


def test_coord_overhead_small():
    deep, stem = ours("coord-overhead-small")
    assert deep == Fraction(2, 256)  # 258/256 − 1
    # the 7×7 stem: 7·7·5·64·112² MACs instead of 7·7·3·64·112²
    assert stem == Fraction(7 * 7 * 5 * 64 * 112**2, 7 * 7 * 3 * 64 * 112**2) - 1 == Fraction(2, 3)
    # 2/C < 1/100 ⇔ C > 200
    first = next(c for c in range(1, 1000) if Fraction(2, c) < Fraction(1, 100))
    assert first == 201
    assert f"C ≥ {first}" in claim("coord-overhead-small").archcalc_value
    assert "+66.7%" in claim("coord-overhead-small").archcalc_value
    assert held("coord-overhead-small") == [True, False]
    assert claim("coord-overhead-small").verdict == "ambiguous"


def _corner_image(r: int, shift: int) -> tuple[int, int]:
    """A single 1 at (0, 0) of an (r + δ)² image: unit (0, 0) before and after the shift."""
    n = r + shift
    x = [[int(i == j == 0) for j in range(n)] for i in range(n)]
    before = max(x[i][j] for i in range(r) for j in range(r))
    after = max(x[i + shift][j + shift] for i in range(r) for j in range(r))
    return before, after


def test_maxpool_shift_below_stride():
    # exact: the corner one leaves the window at δ = 1 (2×2, s = 2): 1 → 0
    assert _corner_image(2, 1) == (1, 0)
    exact, approximate = ours("maxpool-shift-below-stride")
    assert exact is False
    assert approximate is True  # the overlap condition (torch-checked in the property tests)
    assert theirs("maxpool-shift-below-stride") == [True, True]
    assert "X[0,0] = 1; MaxPool(X)[0,0] = 1 but MaxPool(X′)[0,0] = 0" in (
        claim("maxpool-shift-below-stride").counterexample
    )
    assert claim("maxpool-shift-below-stride").verdict == "ambiguous"


def test_maxpool_2x2_tolerance():
    # |δ| < 1 in whole pixels is δ = 0 (nothing moves); δ = 1 moves the corner one out
    assert _corner_image(2, 0) == (1, 1) and _corner_image(2, 1) == (1, 0)
    assert ours("maxpool-2x2-tolerance") == [True, False]
    assert claim("maxpool-2x2-tolerance").verdict == "ambiguous"


def test_maxpool_3x3_tolerance():
    # δ = 1 keeps rows/cols 1, 2 of 0, 1, 2: (3 − 1)/3 = 2/3 per axis, 4/9 of the window
    integer, one_pixel = ours("maxpool-3x3-tolerance")
    assert integer == (True, True)
    assert one_pixel is False and _corner_image(3, 1) == (1, 0)
    assert "keeps 2/3 of the rows and columns (4/9 of the window)" in (
        claim("maxpool-3x3-tolerance").archcalc_value
    )
    assert claim("maxpool-3x3-tolerance").verdict == "ambiguous"


def test_maxpool_overlap():
    adjacent, shifted = ours("maxpool-overlap")
    # windows [0, R) and [s, s + R) share R − s: 0 of 2 (2×2/2), 1 of 3 (3×3/2)
    assert adjacent == (Fraction(0, 2), Fraction(1, 3))
    assert theirs("maxpool-overlap")[0] == ((2 - 2) / Fraction(2), Fraction(3 - 2, 3))
    # a shift by δ = 1 keeps (R − δ)/R = 2/3, not (R − s)/R = 1/3
    assert shifted == Fraction(2, 3) and theirs("maxpool-overlap")[1] == Fraction(1, 3)
    assert claim("maxpool-overlap").verdict == "ambiguous"


def test_max_plus_constant():
    # max(a + ε, b + ε) = max(a, b) + ε for every a, b, ε: one ε never moves the argmax
    assert all(
        max(a + e, b + e) == max(a, b) + e for a in range(3) for b in range(3) for e in (-2, 2)
    )
    # per-element noise: (a, b) = (2, 1), ε = (0, 2) moves the argmax and breaks it; ε = (1, 0)
    # keeps it and the identity holds with ε_argmax = 1
    assert max(2 + 0, 1 + 2) != max(2, 1) + 0 and max(2 + 1, 1 + 0) == max(2, 1) + 1
    assert ours("max-plus-constant") == [False, True]
    assert "always" in claim("max-plus-constant").archcalc_value
    assert claim("max-plus-constant").verdict == "ambiguous"


def test_avg_plus_constant():
    assert Fraction(sum(v + 3 for v in (0, 1, 2, 2)), 4) == Fraction(5, 4) + 3
    assert ours("avg-plus-constant") == [True]
    assert claim("avg-plus-constant").verdict == "agrees"


def test_mae_l2_norm():
    # one error of (3, 4) pixels: ‖·‖₂ = 5; mean absolute error (3 + 4)/2 = 3.5; L1 norm 7
    assert math.hypot(3, 4) == 5
    assert theirs("mae-l2-norm") == [5, 5]
    assert ours("mae-l2-norm") == [Fraction(7, 2), 7]
    assert claim("mae-l2-norm").verdict == "differs"
