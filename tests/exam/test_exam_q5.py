"""Question 5, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

from fractions import Fraction

from _audit import claim, held, ours, theirs


def test_layerwise_lr():
    # exam_q7a's five stages, η0 = 10^-3 for the last, ×0.1 per stage going back
    rates = tuple(Fraction(1, 10**k) for k in (7, 6, 5, 4, 3))
    assert ours("layerwise-lr") == [rates]
    assert theirs("layerwise-lr") == [rates]
    assert claim("layerwise-lr").archcalc_value.startswith("layer1: 10^-7, layer2: 10^-6")
    assert claim("layerwise-lr").verdict == "agrees"


def test_transferability_figures():
    assert ours("transferability-figures") == []
    assert claim("transferability-figures").verdict == "ambiguous"


def test_high_lr_disrupts():
    assert ours("high-lr-disrupts") == []
    assert claim("high-lr-disrupts").verdict == "ambiguous"


def test_lr_endpoints():
    # 5 stages at α = 0.1: η_1 = 10^-3·0.1⁴ = 10^-7; 3 layers: 10^-3·0.1² = 10^-5
    q7, three = ours("lr-endpoints")
    assert q7 == (Fraction(1, 1000) * Fraction(1, 10) ** 4, Fraction(1, 1000))
    assert three == (Fraction(1, 1000) * Fraction(1, 10) ** 2, Fraction(1, 1000))
    assert theirs("lr-endpoints") == [(Fraction(1, 10**5), Fraction(1, 10**3))] * 2
    # α^(L−1) = 1/100: L = 5 gives α = 10^(−1/2) = 0.316
    assert "L = 5: α = 0.316" in claim("lr-endpoints").archcalc_value
    assert held("lr-endpoints") == [False, True]
    assert claim("lr-endpoints").verdict == "ambiguous"
