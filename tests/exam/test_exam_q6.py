"""Question 6, claim by claim: archcalc's values against hand derivations, and the verdicts."""

from __future__ import annotations

from fractions import Fraction

from _audit import claim, held, ours, theirs

#: AlexNet's forward MACs at 224 (convs 11/4, 5, 3, 3, 3 at 55, 27, 13, 13, 13; three FCs)
FORWARD = (
    64 * 55**2 * 3 * 121
    + 192 * 27**2 * 64 * 25
    + 384 * 13**2 * 192 * 9
    + 256 * 13**2 * 384 * 9
    + 256 * 13**2 * 256 * 9
    + 9216 * 4096
    + 4096 * 4096
    + 4096 * 1000
)
#: AlexNet's parameters: convs (k²·C_in + 1)·C_out, FCs (in + 1)·out
PARAMS = (
    (121 * 3 + 1) * 64
    + (25 * 64 + 1) * 192
    + (9 * 192 + 1) * 384
    + (9 * 384 + 1) * 256
    + (9 * 256 + 1) * 256
    + (9216 + 1) * 4096
    + (4096 + 1) * 4096
    + (4096 + 1) * 1000
)
#: what autograd keeps for a training step of AlexNet at 224 (float32, pool indices int64):
#: conv1's input, ReLU outputs (which the next conv/pool reads), conv inputs after pools, pool
#: indices, the average pool's input, the dropout masks and outputs (float32), fc inputs
SAVED = (
    4 * 3 * 224**2  # conv1's input
    + 4 * 64 * 55**2  # relu1 (pool1 reads it)
    + 8 * 64 * 27**2  # pool1 indices
    + 4 * 64 * 27**2  # conv2's input
    + 4 * 192 * 27**2  # relu2
    + 8 * 192 * 13**2  # pool2 indices
    + 4 * 192 * 13**2  # conv3's input
    + 4 * (384 + 256 + 256) * 13**2  # relu3..5 (conv4, conv5, pool3 read them)
    + 8 * 256 * 6**2  # pool3 indices
    + 4 * 256 * 6**2  # the average pool's input
    + 2 * 4 * 9216  # dropout 1: mask and output (fc1's input)
    + 4 * 4096  # relu6
    + 2 * 4 * 4096  # dropout 2: mask and output (fc2's input)
    + 4 * 4096  # relu7 (fc3's input)
)
INPUT = 4 * 3 * 224**2
#: inference peak: the input plus relu1's input and output (the largest pair)
PEAK = INPUT + 2 * 4 * 64 * 55**2


def test_ig_steps():
    assert ours("ig-steps") == [(50, 300)] and theirs("ig-steps") == [(20, 300)]
    assert claim("ig-steps").verdict == "differs"


def test_occlusion_resolution():
    # 224²/32² = 49; stride 32: (224 − 32)//32 + 1 = 7 per axis; stride 1: 193 per axis
    assert theirs("occlusion-resolution") == [Fraction(224**2, 32**2)] * 2 == [49, 49]
    assert ours("occlusion-resolution") == [7 * 7, 193 * 193]
    assert held("occlusion-resolution") == [True, False]
    assert claim("occlusion-resolution").verdict == "ambiguous"


def test_gradient_cost():
    assert FORWARD == 714_188_480
    # backward to the input mirrors the forward (F); weight gradients another F
    assert ours("gradient-cost") == [Fraction(2 * FORWARD, FORWARD), Fraction(3 * FORWARD, FORWARD)]
    assert f"{2 * FORWARD:,} MACs" in claim("gradient-cost").archcalc_value
    assert claim("gradient-cost").verdict == "ambiguous"


def test_ig_cost():
    # m·(F + F) over one gradient (F + F): m
    assert ours("ig-cost") == [(50, 300)]
    assert theirs("ig-cost") == [(50, 600)]
    assert claim("ig-cost").verdict == "differs"


def test_occlusion_windows():
    per_axis = len(range(0, 224 - 32 + 1, 8))  # 25
    assert ours("occlusion-windows") == [per_axis**2] == [625]
    assert theirs("occlusion-windows") == [Fraction(224 - 32, 8) ** 2] == [576]
    # the smallest case: H = W = 1, w = 1, s = 1: one window, the formula gives 0
    assert (
        claim("occlusion-windows").counterexample
    ) == "H = W = 1, w = 1, s = 1: 1 window, the formula gives 0"
    assert claim("occlusion-windows").verdict == "differs"


def test_occlusion_cost():
    assert ours("occlusion-cost") == [(625 + 1) * FORWARD]  # N windows + the clean pass
    assert theirs("occlusion-cost") == [625 * FORWARD]
    assert claim("occlusion-cost").verdict == "agrees"  # 1/625 = 0.16% < the declared 1%


def test_table_ig_runtime():
    assert ours("table-ig-runtime") == [100]
    assert claim("table-ig-runtime").verdict == "agrees"


def test_table_occlusion_runtime():
    # (N + 1)·F over 2F for N = 53², 25², 13² (w = 16/s = 4, 32/8, 32/16)
    expected = [Fraction(n * n + 1, 2) for n in ((224 - 16) // 4 + 1, 25, (224 - 32) // 16 + 1)]
    assert expected == [1405, 313, 85]
    assert ours("table-occlusion-runtime") == expected
    assert held("table-occlusion-runtime") == [True, False, False]  # within 50% of 1000
    assert claim("table-occlusion-runtime").verdict == "ambiguous"


def test_table_memory():
    assert SAVED == 3_741_184
    assert ours("table-memory") == [1, Fraction(PEAK, SAVED + INPUT)]
    assert f"gradient {SAVED + INPUT:,} B" in claim("table-memory").archcalc_value
    assert claim("table-memory").verdict == "ambiguous"


def test_table_quality():
    assert ours("table-quality") == []
    assert claim("table-quality").verdict == "ambiguous"


def test_gradient_space():
    assert PARAMS == 61_100_840
    weights = 4 * PARAMS
    assert ours("gradient-space") == [SAVED + INPUT, weights + SAVED + INPUT]
    assert theirs("gradient-space") == [weights, weights]
    assert held("gradient-space") == [False, True]
    assert claim("gradient-space").verdict == "ambiguous"


def test_occlusion_space():
    weights = 4 * PARAMS
    assert ours("occlusion-space") == [weights + 32 * PEAK]  # one weight copy, 32 windows' peak
    assert theirs("occlusion-space") == [32 * weights]
    assert claim("occlusion-space").verdict == "differs"
