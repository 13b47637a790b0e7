"""Question 4, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

from fractions import Fraction

from _audit import claim, held, ours, same, sym, theirs


def test_budget_formula():
    C, F, H, W = sym("C", "F", "H", "W")
    (macs,) = ours("budget-formula")
    assert same(macs, 3 * (C * C * F * F) * H * W)  # 3 layers of C·C·F² MACs per output pixel
    assert same(theirs("budget-formula")[0], 3 * C**2 * F**2 * H * W * C)
    assert claim("budget-formula").verdict == "differs"


def test_budget_tradeoff():
    C, F = sym("C", "F")
    assert same(ours("budget-tradeoff")[0], 3 * C**2 * F**2)
    assert claim("budget-tradeoff").verdict == "agrees"


def test_two_3x3_params():
    (C,) = sym("C")
    assert same(ours("two-3x3-params")[0], 2 * (3 * 3 * C * C))
    assert "2·C² + 18·C² + 2·C" not in claim("two-3x3-params").reason
    assert "18·C² + 2·C" in claim("two-3x3-params").reason  # with two biases of C
    assert claim("two-3x3-params").verdict == "agrees"


def test_one_5x5_params():
    (C,) = sym("C")
    assert same(ours("one-5x5-params")[0], 5 * 5 * C * C)
    assert "25·C² + C" in claim("one-5x5-params").reason
    assert claim("one-5x5-params").verdict == "agrees"


def test_two_3x3_saving():
    assert ours("two-3x3-saving") == [Fraction(25 - 18, 25)] == [Fraction(28, 100)]
    assert claim("two-3x3-saving").verdict == "agrees"


def test_two_3x3_rf():
    assert ours("two-3x3-rf") == [(1 + 2 * (3 - 1), 5)]
    assert claim("two-3x3-rf").verdict == "agrees"


def test_two_3x3_relus():
    assert ours("two-3x3-relus") == [(2, 1)]
    assert claim("two-3x3-relus").verdict == "agrees"


def test_rf_stack():
    (F,) = sym("F")
    (sizes,) = ours("rf-stack")
    assert same(sizes, tuple(1 + L * (F - 1) for L in (1, 2, 3)))
    assert claim("rf-stack").archcalc_value == "F, 2·F − 1, 3·F − 2"
    assert claim("rf-stack").verdict == "agrees"


def test_three_3x3_vs_7x7():
    assert ours("three-3x3-vs-7x7") == [(1 + 3 * 2, 7)]
    assert "27·C² vs 49·C²" in claim("three-3x3-vs-7x7").archcalc_value  # 3·9C², 49C²
    assert claim("three-3x3-vs-7x7").verdict == "agrees"


def test_params_linear_in_depth():
    C, F = sym("C", "F")
    assert same(ours("params-linear-in-depth")[0], 3 * F**2 * C**2)
    assert claim("params-linear-in-depth").verdict == "agrees"


def test_expressiveness_bound():
    C, F = sym("C", "F")
    exponent, depth_over_width = ours("expressiveness-bound")
    assert same(exponent, 3 * F**2 * C**2)
    # L·F²·C²: doubling L doubles it, doubling C quadruples it — 2/4
    assert depth_over_width == Fraction(2, 4)
    assert held("expressiveness-bound") == [True, False]
    assert claim("expressiveness-bound").verdict == "ambiguous"


def test_input_elements():
    assert ours("input-elements") == [224 * 224 * 3]
    assert claim("input-elements").verdict == "agrees"


def test_stride1_layer1():
    assert ours("stride1-layer1") == [(224 - 3 + 1) ** 2 * 64] == [3_154_176]
    assert claim("stride1-layer1").verdict == "agrees"


def test_stride1_layer2():
    assert ours("stride1-layer2") == [(222 - 3 + 1) ** 2 * 128] == [6_195_200]
    assert claim("stride1-layer2").verdict == "agrees"


def test_stride4_layer1():
    side = (224 - 3) // 4 + 1
    assert ours("stride4-layer1") == [side * side * 64] == [200_704]
    assert theirs("stride4-layer1") == [201_216]
    assert claim("stride4-layer1").verdict == "differs"


def test_stride4_layer2():
    assert ours("stride4-layer2") == [(56 - 3 + 1) ** 2 * 128] == [373_248]
    assert claim("stride4-layer2").verdict == "agrees"


def test_stride4_size():
    assert ours("stride4-size") == [(224 - 3) // 4 + 1]
    # a 3-pixel kernel every 4 pixels reads 3/4 of each axis: 1 − 9/16 = 7/16 never read
    assert "never reads 7/16 of the pixels" in claim("stride4-size").reason
    assert claim("stride4-size").verdict == "agrees"


LIVE1 = 224 * 224 * 3 + 222 * 222 * 64 + 220 * 220 * 128  # input + both outputs at layer 2
LIVE4 = 224 * 224 * 3 + 56 * 56 * 64 + 54 * 54 * 128


def test_stride1_peak():
    assert ours("stride1-peak") == [220 * 220 * 128, LIVE1]
    assert theirs("stride1-peak") == [6_200_000, 6_200_000]
    assert held("stride1-peak") == [True, False]  # 6,195,200 is 6.2M to one decimal
    assert claim("stride1-peak").verdict == "ambiguous"


def test_stride4_peak():
    assert ours("stride4-peak") == [54 * 54 * 128, LIVE4]
    assert theirs("stride4-peak") == [370_000, 370_000]
    assert held("stride4-peak") == [True, False]
    assert claim("stride4-peak").verdict == "ambiguous"


def test_stride4_reduction():
    largest = Fraction(220 * 220 * 128 - 54 * 54 * 128, 220 * 220 * 128)  # 93.98%
    live = Fraction(LIVE1 - LIVE4, LIVE1)  # 92.37%
    assert ours("stride4-reduction") == [largest, live]
    assert held("stride4-reduction") == [True, False]
    assert claim("stride4-reduction").verdict == "ambiguous"


def test_q4b_schedule():
    sizes, n = [], 224
    for i, s in enumerate((4, 2, 1, 2, 1, 2, 1, 1)):
        n = (n + 2 * (0 if i == 0 else 1) - 3) // s + 1  # layer 1 unpadded, then padding 1
        sizes.append(n)
    assert ours("q4b-schedule") == [tuple(sizes)] == [(56, 28, 28, 14, 14, 7, 7, 7)]
    assert claim("q4b-schedule").verdict == "agrees"


def test_q4b_memory_decay():
    positions, geometric = ours("q4b-memory-decay")
    assert positions == (56 * 56, 28 * 28, 14 * 14, 7 * 7)
    # the first layer at each size: 64·56², 128·28², 256·14², 512·7² — halving each time
    elems = [64 * 56**2, 128 * 28**2, 256 * 14**2, 512 * 7**2]
    assert {Fraction(b, a) for a, b in zip(elems, elems[1:])} == {Fraction(1, 2)}
    assert geometric is True
    assert claim("q4b-memory-decay").archcalc_value == " → ".join(f"{e:,}" for e in elems)
    assert claim("q4b-memory-decay").verdict == "agrees"


def test_resnet_resolution():
    assert ours("resnet-resolution") == [tuple(224 // 2**k for k in range(1, 6))]
    assert claim("resnet-resolution").verdict == "agrees"


def test_reduction_stages():
    # total stride 32 = 2⁵ and 224/32 = 7
    assert ours("reduction-stages") == [(5, 224 // 2**5)]
    assert claim("reduction-stages").verdict == "agrees"


def test_halving_removes():
    assert ours("halving-removes") == [1 - Fraction(56 * 56, 112 * 112)]
    assert claim("halving-removes").verdict == "agrees"


def test_resnet_widths():
    assert ours("resnet-widths") == [(64, 128, 256, 512)]
    # stage outputs 64·56², 128·28², 256·14², 512·7²
    assert "200,704 → 100,352 → 50,176 → 25,088" in claim("resnet-widths").reason
    assert claim("resnet-widths").verdict == "agrees"


def test_vgg_widths():
    assert ours("vgg-widths") == [(64, 128, 256, 512)]
    assert claim("vgg-widths").verdict == "agrees"


def test_separable_cost():
    H, W, Ci, Co, k = sym("H", "W", "C_in", "C_out", "k")
    (costs,) = ours("separable-cost")
    assert same(costs, (H * W * Ci * Co * k * k, H * W * Ci * k * k + H * W * Ci * Co))
    assert claim("separable-cost").verdict == "agrees"


def test_separable_ratio():
    Co, k = sym("C_out", "k")
    assert same(ours("separable-ratio")[0], (Co + k * k) / (Co * k * k))
    assert claim("separable-ratio").verdict == "agrees"


def test_separable_typical():
    # k = 3, C_in = C_out = C: 9·C² over 9·C + C² per pixel = 9C/(9 + C); ≥ 8 ⇔ C ≥ 72
    assert next(c for c in range(1, 200) if Fraction(9 * c, 9 + c) >= 8) == 72
    assert ours("separable-typical") == [
        tuple(Fraction(9 * c, 9 + c) for c in (128, 256, 512, 1024))
    ]
    assert "7.9× (C = 64)" in claim("separable-typical").archcalc_value  # 576/73
    assert claim("separable-typical").verdict == "agrees"


def test_mobilenet_tradeoff():
    assert ours("mobilenet-tradeoff") == []
    assert claim("mobilenet-tradeoff").verdict == "ambiguous"


def test_pruning_quantization():
    assert ours("pruning-quantization") == []
    # 4-byte weights: 2× smaller in float16, 4× in int8
    assert "2× (float16) to 4× (int8)" in claim("pruning-quantization").reason
    assert claim("pruning-quantization").verdict == "ambiguous"


def test_pruning_accuracy_loss():
    assert ours("pruning-accuracy-loss") == []
    assert claim("pruning-accuracy-loss").verdict == "ambiguous"
