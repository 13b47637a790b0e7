"""Question 2: global average pooling against fully connected heads."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from archcalc import Flatten, GlobalAvgPool, Linear, summary

from ._claim import Claim, Reading, chain, formula, n, pct, symbols, sympy
from .counterexamples import gap_gradient_counterexample

__all__ = ["claims"]


#: AlexNet's classifier: (claim key, node, the exam's text, the exam's count)
FC_LAYERS = (
    ("alexnet-fc1-params", "classifier.1", "FC1: 6×6×256×4096", 37_748_736),
    ("alexnet-fc2-params", "classifier.4", "FC2: 4096×4096", 16_777_216),
    ("alexnet-fc3-params", "classifier.6", "FC3: 4096×1000", 4_096_000),
)


def claims() -> list[Claim]:
    return [*_formulas(), *_alexnet(), *_gradient(), *_bottleneck()]


def _formulas() -> list[Claim]:
    sp = sympy()
    C, H, W, N = symbols("C", "H", "W", "N")
    fc = chain("fc_head", [Flatten(), Linear(C * H * W, N)], (C, H, W))
    gap = chain("gap_head", [GlobalAvgPool(), Flatten(), Linear(C, N)], (C, H, W))
    fc_mem = sp.factor((fc.memory.saved_for_backward_bytes + fc.layers[-1].activation_bytes) / 4)
    gap_mem = sp.factor((gap.memory.saved_for_backward_bytes + gap.layers[-1].activation_bytes) / 4)
    alex = summary("alexnet")
    feat = alex.layer(alex.model.features or "features.12").output_shape
    return [
        Claim(
            question=2,
            part="a",
            key="fc-head-formula",
            claim="FC head: (H·W·C)·N weights + N biases = (H·W·C + 1)·N parameters",
            exam_value="(H·W·C + 1)·N",
            archcalc_value=formula(sp.factor(fc.params)),
            readings=(Reading(name="as written", exam=(H * W * C + 1) * N, archcalc=fc.params),),
            reason="one weight per input feature and output, one bias per output",
            how="Flatten + Linear(C·H·W, N) on C×H×W (symbols): params",
        ),
        Claim(
            question=2,
            part="a",
            key="gap-head-formula",
            claim="GAP head: 0 parameters for the pooling, C·N + N for the classifier = (C + 1)·N",
            exam_value="(C + 1)·N",
            archcalc_value=formula(sp.factor(gap.params)),
            readings=(Reading(name="as written", exam=(C + 1) * N, archcalc=gap.params),),
            reason="global average pooling has no parameters",
            how="GlobalAvgPool + Flatten + Linear(C, N) on C×H×W (symbols): params",
        ),
        Claim(
            question=2,
            part="a",
            key="head-training-memory",
            claim="Training memory per sample: FC stores H·W·C + N values, GAP stores C + N",
            exam_value="H·W·C + N; C + N",
            archcalc_value=f"{formula(fc_mem)}; {formula(gap_mem)}",
            readings=(
                Reading(name="FC; GAP", exam=(H * W * C + N, C + N), archcalc=(fc_mem, gap_mem)),
            ),
            reason="the Linear keeps its input for backward (the flattened map, or the C "
            "averages: the mean keeps nothing) and writes N scores — for a one-layer head",
            how="the two heads above, float32: (saved-for-backward bytes + output bytes)/4",
        ),
        Claim(
            question=2,
            part="a",
            key="alexnet-feature-map",
            claim="AlexNet's last feature map is 6×6×256 (then 4096 → 4096 → 1000)",
            exam_value="6×6×256",
            archcalc_value=f"{feat[1]}×{feat[2]}×{feat[0]}",
            readings=(Reading(name="C, H, W", exam=(256, 6, 6), archcalc=tuple(feat)),),
            reason="torchvision's AlexNet at 224×224",
            how="summary('alexnet'): output shape of its features node",
        ),
    ]


def _alexnet() -> list[Claim]:
    alex = summary("alexnet")
    out: list[Claim] = []
    total_biases = 0
    for key, node, text, exam in FC_LAYERS:
        row = alex.layer(node)
        fin, fout = alex.layer(row.inputs[0]).output_shape[0], row.output_shape[0]
        weights = Linear(fin, fout, bias=False).params(((fin,),))
        biases = row.params - weights
        total_biases += biases
        out.append(
            Claim(
                question=2,
                part="a",
                key=key,
                claim=f"{text} = {n(exam)} parameters",
                exam_value=exam,
                archcalc_value=row.params,
                readings=(Reading(name="parameters", exam=exam, archcalc=row.params),),
                reason=f"counts the {n(weights)} weights and leaves out the {n(biases)} biases "
                "its own formula (H·W·C + 1)·N includes",
                how=f"summary('alexnet').layer('{node}').params",
            )
        )
    head_fc = sum(alex.layer(node).params for _, node, _, _ in FC_LAYERS)
    gapnet = summary("alexnet", head="gap")
    gap_fc = gapnet.layer("gap.fc").params
    cut = Fraction(head_fc - gap_fc, head_fc)
    whole = Fraction(alex.params - gapnet.params, alex.params)
    out += [
        Claim(
            question=2,
            part="a",
            key="alexnet-fc-total",
            claim="Total FC parameters: 58,621,952",
            exam_value=58_621_952,
            archcalc_value=head_fc,
            readings=(Reading(name="parameters", exam=58_621_952, archcalc=head_fc),),
            reason=f"the sum of the three weight counts is right; the {n(total_biases)} biases "
            "are missing",
            how="summary('alexnet'): params of classifier.1 + classifier.4 + classifier.6",
        ),
        Claim(
            question=2,
            part="a",
            key="alexnet-gap-params",
            claim="GAP alternative: 256×1000 = 256,000 parameters",
            exam_value=256_000,
            archcalc_value=gap_fc,
            readings=(Reading(name="parameters", exam=256_000, archcalc=gap_fc),),
            reason="leaves out the 1,000 biases of its own (C + 1)·N",
            how="summary('alexnet', head='gap').layer('gap.fc').params",
        ),
        Claim(
            question=2,
            part="a",
            key="alexnet-gap-reduction",
            claim="Reduction: (58,621,952 − 256,000)/58,621,952 = 99.56%",
            exam_value="99.56%",
            archcalc_value=pct(cut),
            readings=(
                Reading(
                    name="to the 2 decimals shown",
                    exam=Fraction("0.9956"),
                    archcalc=cut,
                    tolerance=Fraction("0.00005"),
                ),
            ),
            reason=f"the biases cancel out at this precision; of the whole network's "
            f"{n(alex.params)} parameters the GAP head saves {pct(whole)}",
            how="summary('alexnet') vs summary('alexnet', head='gap'): head params",
        ),
    ]
    return out


def _gap_derivative(height: int, width: int) -> set[Fraction]:
    """The change of the GAP output when one position of an ``height``×``width`` map grows by 1,
    at every position (exact means of a zero map)."""
    cells = list(itertools.product(range(height), range(width)))
    steps = set()
    for cell in cells:
        bumped = [Fraction(int(c == cell)) for c in cells]
        steps.add(sum(bumped, Fraction(0)) / len(cells))
    return steps


def _gradient() -> list[Claim]:
    uniform = _gap_derivative(3, 4)
    cx = gap_gradient_counterexample()
    return [
        Claim(
            question=2,
            part="b",
            key="gap-gradient-uniform",
            claim="All spatial locations (x, y) of channel k receive the same gradient",
            exam_value="the same at every (x, y)",
            archcalc_value="the same at every (x, y)" if len(uniform) == 1 else "not uniform",
            readings=(
                Reading(
                    name="∂g_k/∂F_k(x, y) over a 3×4 map: distinct values",
                    exam=1,
                    archcalc=len(uniform),
                ),
            ),
            reason="the mean weighs every position by 1/(HW), so its gradient is spread evenly",
            how="exact derivative of the mean at each position; torch autograd through GAP → "
            "Linear → cross-entropy (tests/test_exam_properties.py)",
        ),
        Claim(
            question=2,
            part="b",
            key="gap-gradient-formula",
            claim="∂L/∂F_k(x, y) = w_{k,c}/(HW) · ∂L/∂P(y = c|x)",
            exam_value="w_{k,c}/(HW)·∂L/∂P_c",
            archcalc_value="(1/HW)·Σ_j w_{k,j}·∂L/∂s_j",
            readings=(
                Reading(name="∂L/∂P_c read as ∂L/∂s_c", exam=cx.exam, archcalc=cx.gradient),
                Reading(name="∂L/∂P_c as written", exam=cx.exam_literal, archcalc=cx.gradient),
            ),
            reason="every class score depends on g_k, so the gradient sums over all N classes "
            "(and differentiates the scores, not the probability)",
            how="exact search over small GAP → Linear → cross-entropy cases (torch re-check)",
            counterexample=str(cx),
        ),
    ]


def _entropy(p: list[Fraction]) -> float:
    return -sum(float(x) * math.log2(x) for x in p if x)


def _mutual_information_bound() -> bool:
    """``I(X; Y) ≤ H(Y) ≤ log₂ N`` on every joint distribution of 2 inputs × N ≤ 3 classes with
    probabilities in sixths (float entropies, a 1e-12 slack)."""
    for classes in (1, 2, 3):
        cells = 2 * classes
        for counts in itertools.product(range(7), repeat=cells):
            if sum(counts) != 6:
                continue
            joint = [Fraction(c, 6) for c in counts]
            px = [sum(joint[i * classes : (i + 1) * classes], Fraction(0)) for i in range(2)]
            py = [joint[j] + joint[classes + j] for j in range(classes)]
            info = _entropy(px) + _entropy(py) - _entropy(joint)
            hy = _entropy(py)
            if not info <= hy + 1e-12 or not hy <= math.log2(classes) + 1e-12:
                return False
    return True


def _bottleneck() -> list[Claim]:
    alex = summary("alexnet")
    gapnet = summary("alexnet", head="gap")
    shapes = [gapnet.layer(name).output_shape for name in ("gap.flatten", "gap.fc")]
    flat = alex.layer("flatten").output_shape[0]
    bits = math.log2(shapes[1][0])
    return [
        Claim(
            question=2,
            part="c",
            key="gap-bottleneck",
            claim="Information bottleneck H×W×C → C → N",
            exam_value="9216 → 256 → 1000 for AlexNet",
            archcalc_value=f"{flat} → {shapes[0][0]} → {shapes[1][0]}",
            readings=(
                Reading(
                    name="AlexNet's widths",
                    exam=(9216, 256, 1000),
                    archcalc=(flat, shapes[0][0], shapes[1][0]),
                ),
            ),
            reason="the FC head sees the flattened map, the GAP head one average per channel",
            how="summary('alexnet') and summary('alexnet', head='gap'): flatten and gap shapes",
        ),
        Claim(
            question=2,
            part="c",
            key="mutual-information-bound",
            claim="Mutual information bound: I(X; Y) ≤ H(Y) ≤ log₂ N",
            exam_value="I(X; Y) ≤ H(Y) ≤ log₂ N",
            archcalc_value=f"holds on every joint distribution tried; log₂ {shapes[1][0]} = "
            f"{bits:.2f} bits for AlexNet's classes",
            readings=(
                Reading(
                    name="2 inputs × N ≤ 3 classes, probabilities in sixths",
                    exam=True,
                    archcalc=_mutual_information_bound(),
                ),
            ),
            reason="true for any discrete Y of N values, but it bounds both heads alike: it "
            "says nothing about what GAP loses against an FC head",
            how="exact enumeration of small joint distributions (entropies in floats)",
        ),
    ]
