"""Question 2, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

import math
from fractions import Fraction

from _audit import claim, held, ours, same, sym, theirs

#: AlexNet's classifier by hand: (in + 1 bias)·out parameters
FC1, FC2, FC3 = (6 * 6 * 256 + 1) * 4096, (4096 + 1) * 4096, (4096 + 1) * 1000
GAP_FC = (256 + 1) * 1000


def test_fc_head_formula():
    C, H, W, N = sym("C", "H", "W", "N")
    (params,) = ours("fc-head-formula")
    assert same(params, C * H * W * N + N)  # a weight per feature and class, a bias per class
    assert claim("fc-head-formula").verdict == "agrees"


def test_gap_head_formula():
    C, N = sym("C", "N")
    (params,) = ours("gap-head-formula")
    assert same(params, C * N + N)
    assert claim("gap-head-formula").verdict == "agrees"


def test_head_training_memory():
    C, H, W, N = sym("C", "H", "W", "N")
    (values,) = ours("head-training-memory")
    # the Linear keeps its input (C·H·W flattened, or C means) and writes N scores
    assert same(values, (C * H * W + N, C + N))
    assert claim("head-training-memory").verdict == "agrees"


def test_alexnet_feature_map():
    # 224 → conv 11/4 pad 2: 55 → pool 3/2: 27 → conv 5 pad 2: 27 → pool: 13 → convs: 13 → pool: 6
    size = (224 + 2 * 2 - 11) // 4 + 1
    for _ in range(3):
        size = (size - 3) // 2 + 1
    assert size == 6
    assert ours("alexnet-feature-map") == [(256, size, size)]
    assert claim("alexnet-feature-map").verdict == "agrees"


def test_alexnet_fc1_params():
    assert ours("alexnet-fc1-params") == [FC1] == [37_752_832]
    assert theirs("alexnet-fc1-params") == [6 * 6 * 256 * 4096]
    assert claim("alexnet-fc1-params").verdict == "differs"


def test_alexnet_fc2_params():
    assert ours("alexnet-fc2-params") == [FC2]
    assert theirs("alexnet-fc2-params") == [4096 * 4096]
    assert claim("alexnet-fc2-params").verdict == "differs"


def test_alexnet_fc3_params():
    assert ours("alexnet-fc3-params") == [FC3]
    assert theirs("alexnet-fc3-params") == [4096 * 1000]
    assert claim("alexnet-fc3-params").verdict == "differs"


def test_alexnet_fc_total():
    assert ours("alexnet-fc-total") == [FC1 + FC2 + FC3] == [58_631_144]
    assert theirs("alexnet-fc-total") == [6 * 6 * 256 * 4096 + 4096 * 4096 + 4096 * 1000]
    assert "the 9,192 biases" in claim("alexnet-fc-total").reason  # 4096 + 4096 + 1000
    assert claim("alexnet-fc-total").verdict == "differs"


def test_alexnet_gap_params():
    assert ours("alexnet-gap-params") == [GAP_FC]
    assert theirs("alexnet-gap-params") == [256 * 1000]
    assert claim("alexnet-gap-params").verdict == "differs"


def test_alexnet_gap_reduction():
    cut = Fraction(FC1 + FC2 + FC3 - GAP_FC, FC1 + FC2 + FC3)  # 0.995616…
    assert ours("alexnet-gap-reduction") == [cut]
    assert abs(cut - Fraction("0.9956")) < Fraction(5, 100_000)
    assert claim("alexnet-gap-reduction").archcalc_value == "99.56%"
    assert claim("alexnet-gap-reduction").verdict == "agrees"


def test_gap_gradient_uniform():
    # g = (1/HW)·ΣF: every position's derivative is 1/(HW), one distinct value
    assert ours("gap-gradient-uniform") == [len({Fraction(1, 3 * 4)})]
    assert claim("gap-gradient-uniform").verdict == "agrees"


def test_gap_gradient_formula():
    # N = 2, w = (0, 1), F = 0, target c = 0: P = (1/2, 1/2);
    # ∂L/∂g = Σ_j w_j·(P_j − [j = c]) = 0·(−1/2) + 1·(1/2) = 1/2, spread over 2×2: 1/8 each;
    # the exam keeps only w_c = 0: 0 under either reading of ∂L/∂P_c
    assert ours("gap-gradient-formula") == [Fraction(1, 8), Fraction(1, 8)]
    assert theirs("gap-gradient-formula") == [0, 0]
    assert claim("gap-gradient-formula").verdict == "differs"


def test_gap_bottleneck():
    assert ours("gap-bottleneck") == [(6 * 6 * 256, 256, 1000)]
    assert claim("gap-bottleneck").verdict == "agrees"


def test_mutual_information_bound():
    # a deterministic Y = X uniform over 4 classes: I(X; Y) = H(Y) = log₂ 4 = 2 bits
    h = -sum(0.25 * math.log2(0.25) for _ in range(4))
    assert h == 2 == math.log2(4)
    assert ours("mutual-information-bound") == [True]
    assert "log₂ 1000 = 9.97 bits" in claim("mutual-information-bound").archcalc_value
    assert held("mutual-information-bound") == [True]
    assert claim("mutual-information-bound").verdict == "agrees"
