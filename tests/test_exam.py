"""The exam audit (issue 4): its inventory, the figures it computes against hand derivations,
the `archcalc exam` command and the committed docs/exam.md."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archcalc import OptionError
from archcalc.cli.exam import register
from archcalc.exam import (
    QUESTIONS,
    VERDICTS,
    audit,
    conv_shift_counterexample,
    exam_markdown,
    gap_gradient_counterexample,
    layer_rates,
    maxpool_shift_counterexample,
    window_count,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
CLAIMS = {c.key: c for c in audit()}

#: every claim of the seven answers, by question, as read off the exam (issue 4: none skipped)
INVENTORY = {
    1: {
        "coord-channels", "coord-range", "conv-equivariance", "coord-memory-factor",
        "coord-memory-256", "coordconv-flops-factor", "coord-overhead-small",
        "maxpool-shift-below-stride", "maxpool-2x2-tolerance", "maxpool-3x3-tolerance",
        "maxpool-overlap", "max-plus-constant", "avg-plus-constant", "mae-l2-norm",
    },
    2: {
        "fc-head-formula", "gap-head-formula", "head-training-memory", "alexnet-feature-map",
        "alexnet-fc1-params", "alexnet-fc2-params", "alexnet-fc3-params", "alexnet-fc-total",
        "alexnet-gap-params", "alexnet-gap-reduction", "gap-gradient-uniform",
        "gap-gradient-formula", "gap-bottleneck", "mutual-information-bound",
    },
    3: {
        "fc-as-conv", "fcn-output-same-size", "fcn-output-map", "sliding-window-count",
        "fcn-speedup", "fcn-practical-speedup", "sliding-window-memory",
        "sliding-window-memory-ratio", "window-cost-order", "fcn-cost-formulas",
    },
    4: {
        "budget-formula", "budget-tradeoff", "two-3x3-params", "one-5x5-params",
        "two-3x3-saving", "two-3x3-rf", "two-3x3-relus", "rf-stack", "three-3x3-vs-7x7",
        "params-linear-in-depth", "expressiveness-bound", "input-elements", "stride1-layer1",
        "stride1-layer2", "stride4-layer1", "stride4-layer2", "stride4-size", "stride1-peak",
        "stride4-peak", "stride4-reduction", "q4b-schedule", "q4b-memory-decay",
        "resnet-resolution", "reduction-stages", "halving-removes", "resnet-widths",
        "vgg-widths", "separable-cost", "separable-ratio", "separable-typical",
        "mobilenet-tradeoff", "pruning-quantization", "pruning-accuracy-loss",
    },
    5: {"layerwise-lr", "transferability-figures", "high-lr-disrupts", "lr-endpoints"},
    6: {
        "gradient-cost", "ig-cost", "occlusion-windows", "occlusion-cost", "table-ig-runtime",
        "table-occlusion-runtime", "table-memory", "table-quality", "ig-steps",
        "occlusion-resolution", "gradient-space", "occlusion-space",
    },
    7: {
        "q7-coords", "q7-stem-shape", "q7-stages", "q7-gap", "q7-stem-params",
        "q7-backbone-params", "q7-fc-params", "q7-total-params", "q7-input-memory",
        "q7-feature-maps", "q7-peak", "q7-batch32", "q7-conv-flops", "q7-total-flops",
        "q7-augmentation-cost", "q7-gap-cost", "q7-layer-rates", "q7-early-overhead",
        "q7-small-images",
    },
}  # fmt: skip


def claim(key):
    return CLAIMS[key]


# ----------------------------------------------------------------------------- inventory


def test_every_claim_of_every_question_is_audited_once():
    assert len(CLAIMS) == len(audit()), "claim keys must be unique"
    for q, keys in INVENTORY.items():
        assert {c.key for c in audit(q)} == keys
        assert all(c.question == q for c in audit(q))
    assert [c.key for q in QUESTIONS for c in audit(q)] == [c.key for c in audit()]


def test_claims_are_well_formed():
    for c in audit():
        assert c.verdict in VERDICTS
        assert c.claim and c.how
        assert c.part in ("a", "b", "c")
        if c.verdict != "agrees":
            assert c.reason, c.key
        d = c.to_dict()
        for k in ("question", "claim", "exam_value", "archcalc_value", "verdict", "reason"):
            assert k in d
        json.dumps(d)


def test_bad_question_is_an_option_error():
    for bad in (0, 8, 9, -1, True, "2"):
        with pytest.raises(OptionError, match=r"--question = .*: must be 1 to 7"):
            audit(bad)


# ----------------------------------------------------------------------------- Q2 figures


def test_alexnet_fc_figures_against_hand_counts():
    fc1, fc2, fc3 = (6 * 6 * 256 + 1) * 4096, (4096 + 1) * 4096, (4096 + 1) * 1000
    assert claim("alexnet-fc1-params").archcalc_value == fc1 == 37_752_832
    assert claim("alexnet-fc1-params").exam_value == 6 * 6 * 256 * 4096
    assert claim("alexnet-fc2-params").archcalc_value == fc2
    assert claim("alexnet-fc3-params").archcalc_value == fc3
    assert claim("alexnet-fc-total").archcalc_value == fc1 + fc2 + fc3
    assert claim("alexnet-gap-params").archcalc_value == (256 + 1) * 1000
    # (head_fc − head_gap)/head_fc = 58,374,144/58,631,144 = 0.995617…
    cut = Fraction(fc1 + fc2 + fc3 - 257_000, fc1 + fc2 + fc3)
    assert f"{float(cut) * 100:.2f}%" == "99.56%" == claim("alexnet-gap-reduction").archcalc_value
    assert claim("alexnet-gap-reduction").verdict == "agrees"


def test_gap_gradient_counterexample_by_hand():
    # N = 2, w = (0, 1), F = 0: P = (1/2, 1/2); ∂L/∂g = 0·(1/2 − 1) + 1·(1/2) = 1/2, spread over
    # the 2×2 positions: 1/8 each. The exam keeps only w_c = 0: 0.
    cx = gap_gradient_counterexample()
    assert (cx.classes, cx.weights, cx.target) == (2, (0, 1), 0)
    assert cx.gradient == Fraction(1, 8)
    assert cx.exam == 0 and cx.exam_literal == 0
    assert claim("gap-gradient-formula").counterexample == str(cx)


# ----------------------------------------------------------------------------- Q1 figures


def test_coordinate_figures():
    assert claim("coord-memory-256").archcalc_value.endswith("= 129/128")  # 258/256
    assert claim("coordconv-flops-factor").archcalc_value == "(C + 2)/C"
    # 2/C < 1/100 first at C = 201; the RGB stem: 5/3 of the MACs, +66.7%
    assert "C ≥ 201" in claim("coord-overhead-small").archcalc_value
    assert "+66.7%" in claim("coord-overhead-small").archcalc_value
    assert claim("q7-early-overhead").archcalc_value == "5/3 at the RGB input"


def test_maxpool_counterexamples_by_hand():
    # a single 1 in the corner: window [0, R)² sees it, the window moved by δ does not
    for r, s, d in ((2, 2, 1), (3, 2, 1), (4, 3, 2)):
        cx = maxpool_shift_counterexample(r, s, d)
        assert len(cx.image) == r + d
        assert cx.image[0][0] == 1 and sum(map(sum, cx.image)) == 1
        assert (cx.before, cx.after) == (1, 0)
    assert claim("maxpool-shift-below-stride").counterexample == str(
        maxpool_shift_counterexample(2, 2, 1)
    )
    with pytest.raises(OptionError, match="shift"):
        maxpool_shift_counterexample(2, 2, 0)


def test_conv_shift_counterexample_by_hand():
    # stride-2 subsampling of a 4×4 one-hot at (0, 0): [[1, 0], [0, 0]]; moved to (1, 1) the
    # one falls between the samples: all zeros, not the output moved by one
    cx = conv_shift_counterexample(2, 1)
    assert cx.one_at == (0, 0)
    assert cx.output == ((1, 0), (0, 0))
    assert cx.shifted_output == ((0, 0), (0, 0))
    with pytest.raises(OptionError, match="equivariant"):
        conv_shift_counterexample(1, 1)


# ----------------------------------------------------------------------------- Q3 figures


def _alexnet_macs(size: int) -> int:
    """AlexNet's MACs, the FC layers as convolutions: sizes by torch's floor rule."""

    def out(n, k, s, p):
        return (n + 2 * p - k) // s + 1

    c1 = out(size, 11, 4, 2)
    p1 = out(c1, 3, 2, 0)
    p2 = out(p1, 3, 2, 0)
    p3 = out(p2, 3, 2, 0)
    head = out(p3, 6, 1, 0)  # FC1 as a 6×6 conv; FC2, FC3 as 1×1
    return (
        64 * c1**2 * 3 * 121
        + 192 * p1**2 * 64 * 25
        + 384 * p2**2 * 192 * 9
        + 256 * p2**2 * 384 * 9
        + 256 * p2**2 * 256 * 9
        + head**2 * (4096 * 9216 + 4096 * 4096 + 1000 * 4096)
    )


def test_sliding_window_figures_against_hand_counts():
    windows = len(range(0, 512 - 224 + 1, 32)) ** 2  # starts 0, 32, …, 288
    assert windows == 100 == claim("sliding-window-count").archcalc_value
    assert window_count(512, 224, 32) == 10
    speedup = Fraction(windows * _alexnet_macs(224), _alexnet_macs(512))
    assert f"{float(speedup):.2f}×" == claim("fcn-speedup").archcalc_value == "7.51×"
    assert claim("fcn-output-map").archcalc_value == "10×10 at 512×512"  # (15 − 6 + 1)²


# ----------------------------------------------------------------------------- Q4 figures


def test_stride_memory_figures_against_hand_counts():
    assert claim("input-elements").archcalc_value == 224 * 224 * 3
    assert claim("stride1-layer1").archcalc_value == 222 * 222 * 64
    assert claim("stride1-layer2").archcalc_value == 220 * 220 * 128
    n = (224 - 3) // 4 + 1
    assert claim("stride4-layer1").archcalc_value == n * n * 64 == 200_704
    assert claim("stride4-layer2").archcalc_value == (n - 2) ** 2 * 128
    # the input stays live; layer 2 runs with its input and output live
    live1 = 224 * 224 * 3 + 222 * 222 * 64 + 220 * 220 * 128
    live4 = 224 * 224 * 3 + 56 * 56 * 64 + 54 * 54 * 128
    assert claim("stride1-peak").archcalc_value == f"largest tensor 6,195,200; live peak {live1:,}"
    assert claim("stride4-peak").archcalc_value == f"largest tensor 373,248; live peak {live4:,}"


def test_formulas_derived_by_the_engine():
    assert claim("two-3x3-params").archcalc_value == "18·C²"
    assert claim("one-5x5-params").archcalc_value == "25·C²"
    assert claim("two-3x3-saving").archcalc_value == "28%"  # 7/25
    assert claim("rf-stack").archcalc_value == "F, 2·F − 1, 3·F − 2"
    assert claim("separable-ratio").verdict == "agrees"
    assert claim("budget-formula").verdict == "differs"


def test_schedule_and_separable_figures():
    sizes, n = [], 224
    for i, s in enumerate((4, 2, 1, 2, 1, 2, 1, 1)):
        n = (n + 2 * (0 if i == 0 else 1) - 3) // s + 1
        sizes.append(n)
    assert claim("q4b-schedule").archcalc_value == ", ".join(map(str, sizes))
    # k = 3, C = 64: 1/(1/64 + 1/9) = 576/73 = 7.89…
    assert "7.9× (C = 64)" in claim("separable-typical").archcalc_value
    assert "C_out ≥ 72" in claim("separable-typical").reason  # 1/C + 1/9 ≤ 1/8 ⇔ C ≥ 72


# ----------------------------------------------------------------------------- Q5-Q6 figures


def test_layer_rates_and_q7_schedule():
    assert layer_rates(5, Fraction(1, 1000), Fraction(1, 10)) == [
        Fraction(1, 10**k) for k in (7, 6, 5, 4, 3)
    ]
    assert "layer5: 10^-3" in claim("q7-layer-rates").archcalc_value


def test_saliency_cost_figures():
    assert claim("ig-cost").archcalc_value == "50×-300×"
    assert claim("table-ig-runtime").archcalc_value == "100× at m = 100"
    windows = len(range(0, 224 - 32 + 1, 8)) ** 2
    assert claim("occlusion-windows").archcalc_value == windows == 625
    assert "w = 32, s = 8: 625 windows" in claim("table-occlusion-runtime").archcalc_value


# ----------------------------------------------------------------------------- Q7 figures


def _q7_params() -> int:
    """exam_q7a by hand: bias-free stem 7·7·5·64 + BN, one BasicBlock per stage (two 3×3
    convs, two BNs, a 1×1 conv + BN projection where the shape changes), Linear(1024, 1000)."""
    total = 7 * 7 * 5 * 64 + 2 * 64
    cin = 64
    for c in (64, 128, 256, 512, 1024):
        total += cin * c * 9 + 2 * c + c * c * 9 + 2 * c
        if c != cin:
            total += cin * c + 2 * c
        cin = c
    return total + (1024 + 1) * 1000


def test_q7_figures_against_hand_counts():
    assert claim("q7-stem-params").archcalc_value == 7 * 7 * 5 * 64
    assert claim("q7-fc-params").archcalc_value == (1024 + 1) * 1000
    assert claim("q7-total-params").archcalc_value == _q7_params() == 20_623_272
    assert claim("q7-input-memory").archcalc_value == 224 * 224 * 5 * 4
    # peak: the input plus three 64×112×112 tensors at layer1's add (its two inputs, output)
    peak = 224 * 224 * 3 * 4 + 3 * 64 * 112 * 112 * 4
    assert claim("q7-peak").archcalc_value.startswith(f"{peak / 1e6:.1f} MB (inference peak)")


# ----------------------------------------------------------------------------- markdown, CLI


def test_markdown_groups_claims_by_question():
    md = exam_markdown()
    starts = [md.index(f"## Question {q}: {QUESTIONS[q]}") for q in QUESTIONS]
    assert starts == sorted(starts)
    assert ">>>" not in md  # docs/*.md are collected as doctests
    for c in audit():
        assert c.claim.replace("|", "\\|") in md
    one = exam_markdown(3)
    assert "## Question 3" in one and "## Question 2" not in one


def test_committed_docs_exam_md_is_current():
    """A staleness check only: the values themselves are tested in tests/exam/."""
    committed = (DOCS / "exam.md").read_text(encoding="utf-8")
    assert committed == exam_markdown(), "docs/exam.md is stale: run `archcalc docs`"


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """archcalc (test app)."""

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["exam", *args])


def test_cli_json_is_the_audit(cli):
    r = cli("--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == [c.to_dict() for c in audit()]
    r = cli("--question", "2", "--format", "json")
    data = json.loads(r.output)
    assert {d["question"] for d in data} == {2}
    fc1 = next(d for d in data if d["key"] == "alexnet-fc1-params")
    assert (fc1["exam_value"], fc1["archcalc_value"], fc1["verdict"]) == (
        37_748_736,
        37_752_832,
        "differs",
    )


def test_cli_table_and_markdown(cli):
    r = cli("-q", "6")
    assert r.exit_code == 0, r.output
    assert "differs" in r.output and "Traceback" not in r.output
    r = cli("--format", "markdown")
    assert r.exit_code == 0
    assert r.output == exam_markdown()


def test_cli_bad_options(cli):
    r = cli("--question", "9")
    assert r.exit_code == 2
    assert "error: --question = 9: must be 1 to 7" in r.output
    r = cli("--format", "csv")
    assert r.exit_code == 2
    assert "--format = 'csv'" in r.output


def test_import_is_light():
    code = (
        "import sys, archcalc.exam, archcalc.cli.exam; "
        "print(sorted(m for m in ('torch', 'sympy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
