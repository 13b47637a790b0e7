"""Design calculators (issue #5): schedule planner, budget sweep, fine-tuning cost, FCN vs
sliding window, saliency cost — figures derived by hand in each test, the sweep checked
against the scalar engine, and the fine-tuning rules against torch where torch is there."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import OrderedDict
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import archcalc
from archcalc import (
    BatchNorm2d,
    Builder,
    Conv2d,
    Flatten,
    GlobalAvgPool,
    Linear,
    OptionError,
    ReLU,
)
from archcalc.cli.design import register
from archcalc.design import (
    EXAM_Q4B,
    explain_cost,
    fcn_cost,
    finetune,
    layer_rates,
    plan_schedules,
    resolve_freeze,
    schedule_model,
    windows,
)
from archcalc.design.sweep import build, evaluate, parse_amount, parse_values, sweep

# ================================================================ schedule planner (Q4b)


@pytest.fixture(scope="module")
def plan():
    return plan_schedules(224, 8, 7)


def test_schedule_count_is_compositions_of_five_doublings(plan):
    # product 224/7 = 32 = 2^5; each layer takes 2^e, e >= 0, e_1 + … + e_8 = 5:
    # C(5 + 7, 7) = 792 ordered schedules
    assert len(plan.schedules) == 792
    # only strides 1 and 2: choose which 5 of the 8 layers halve, C(8, 5) = 56
    assert len(plan_schedules(224, 8, 7, max_stride=2).schedules) == 56


def test_exam_q4b_schedule_figures(plan):
    row = plan.highlight
    assert row is not None and row.strides == EXAM_Q4B == (4, 2, 1, 2, 1, 2, 1, 1)
    assert row.sizes == (56, 28, 28, 14, 14, 7, 7, 7)
    # 64 channels everywhere, float32: every output 64·(56² + 2·28² + 2·14² + 3·7²) elements
    assert row.activations_bytes == 64 * (56**2 + 2 * 28**2 + 2 * 14**2 + 3 * 7**2) * 4
    # the input 3·224² stays live (its caller holds it); the largest pair of a layer's input
    # and output is layers 1–2: 64·56² + 64·28²
    assert row.peak_bytes == (3 * 224**2 + 64 * 56**2 + 64 * 28**2) * 4
    # MACs C_out·H·W·C_in·9 per layer
    assert row.macs == (
        64 * 56**2 * 3 * 9
        + 2 * 64 * 28**2 * 64 * 9
        + 2 * 64 * 14**2 * 64 * 9
        + 3 * 64 * 7**2 * 64 * 9
    )
    assert row.params == (3 * 9 * 64 + 64) + 7 * (64 * 9 * 64 + 64)
    # RF 1 + Σ (k−1)·J_{i−1}, J = 1, 4, 8, 8, 16, 16, 32, 32
    assert row.rf == 1 + 2 * (1 + 4 + 8 + 8 + 16 + 16 + 32 + 32) == 235
    assert (row.rf_stride, row.rf_offset) == (32, -(1 + 4 + 8 + 8 + 16 + 16 + 32 + 32))
    # stride 4 with a 3×3 kernel (padding 1): unit j sees 4j−1 … 4j+1, so pixels 4j+2 and
    # the last pixel 223 are never seen: 56·3 − 1 (the padding) = 167 of 224 per axis
    assert (row.pixels_seen, row.input_pixels) == (167**2, 224**2)


def test_exam_q4b_is_dominated_by_reducing_earlier(plan):
    # 4,2,2,2,1,1,1,1: sizes 56, 28, 14, 7, 7, 7, 7, 7 — less memory, fewer MACs, a larger
    # receptive field and the same coverage as the exam's schedule
    better = plan.find("4,2,2,2,1,1,1,1")
    assert better.activations_bytes == 64 * (56**2 + 28**2 + 14**2 + 5 * 7**2) * 4
    assert better.macs == 64 * 56**2 * 27 + 64 * 576 * (28**2 + 14**2 + 5 * 7**2)
    assert better.rf == 1 + 2 * (1 + 4 + 8 + 16 + 4 * 32) == 315
    assert better.pixels_seen == 167**2 and better.pareto
    assert not plan.highlight.pareto


def test_pareto_front_matches_brute_force(plan):
    pts = [(r.activations_bytes, r.macs, -r.rf, -r.pixels_seen) for r in plan.schedules]

    def dominated(p):
        return any(all(a <= b for a, b in zip(q, p)) and q != p for q in pts)

    assert [not dominated(p) for p in pts] == [r.pareto for r in plan.schedules]
    # no-holes schedule: strides 2 early, the only one seeing every pixel with least memory
    assert plan.find("2,2,2,2,2,1,1,1").pareto


def test_rank_orders(plan):
    assert [r.rank for r in plan.schedules] == list(range(1, 793))
    mem = [r.activations_bytes for r in plan.schedules]
    assert mem == sorted(mem)
    by_rf = plan_schedules(224, 8, 7, rank="rf").schedules
    assert by_rf[0].strides == (32, 1, 1, 1, 1, 1, 1, 1)  # RF 1 + 2·(1 + 7·32) = 451
    assert by_rf[0].rf == 451


@pytest.mark.parametrize("strides", [EXAM_Q4B, (2, 2, 2, 2, 2, 1, 1, 1), (1, 1, 1, 1, 1, 1, 1, 32)])
def test_schedule_rows_equal_the_engine(plan, strides):
    row = plan.find(strides)
    s = archcalc.summary(schedule_model(strides, 224, 64, 3))
    assert row.macs == s.macs and row.params == s.params
    assert row.activations_bytes == s.memory.activations_bytes
    assert row.peak_bytes == s.memory.peak_inference_bytes
    assert (row.rf, row.rf_stride, row.rf_offset) == (s.rf.size[0], s.rf.stride[0], s.rf.offset[0])
    assert tuple(r.output_shape[1] for r in s.layers) == row.sizes


def test_schedule_channels_per_layer_and_batch():
    p = plan_schedules(32, 2, 8, channels="8,16", batch=2, dtype="float16")
    row = p.find("2,2")
    # sizes 16, 8; outputs 8·16² and 16·8², float16, batch 2
    assert row.activations_bytes == (8 * 16**2 + 16 * 8**2) * 2 * 2
    assert row.macs == 2 * (8 * 16**2 * 3 * 9 + 16 * 8**2 * 8 * 9)
    assert len(p.schedules) == 3  # (1,4), (2,2), (4,1)
    assert p.highlight is None  # the exam's schedule is not a candidate here


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input=227, final=7), r"--final = 7: unreachable from --input 227.*valid: 1, 227"),
        (dict(final=448), r"--final = 448: unreachable"),
        (dict(layers=4, max_stride=2), r"unreachable in 4 layers with strides in \{1,2\}"),
        (dict(kernel=4), r"--kernel = 4: must be odd"),
        (dict(rank="speed"), r"--rank = 'speed'"),
        (dict(channels="64,128"), r"--channels = 64,128: give one value or one per layer"),
        (dict(highlight="4,4"), r"--highlight = 4,4: not a schedule of this plan"),
        (dict(layers=0), r"--layers = 0"),
    ],
)
def test_schedule_errors(kwargs, match):
    with pytest.raises(OptionError, match=match):
        plan_schedules(**kwargs)


@given(
    n=st.integers(8, 40),
    strides=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    k=st.sampled_from([1, 3, 5]),
)
def test_coverage_equals_torch_gradient_support(n, strides, k):
    """Pixels seen = pixels where d(sum of outputs)/d(input) > 0 for all-ones kernels."""
    torch = pytest.importorskip("torch")
    from archcalc.design import _seen

    sizes, m = [], n
    for s in strides:
        m = -(-m // s)
        sizes.append(m)
    x = torch.zeros(1, 1, n, n, requires_grad=True)
    y = x
    for s in strides:
        w = torch.ones(1, 1, k, k)
        y = torch.nn.functional.conv2d(y, w, stride=s, padding=k // 2)
    y.sum().backward()
    seen_2d = int((x.grad > 0).sum())
    assert seen_2d == _seen(n, strides, sizes, k) ** 2


# ================================================================ sweep (Q4)


def _engine(fam, d, w, k, r, s0, classes, batch, dtype):
    s = archcalc.summary(build(fam, d, w, k, r, stem_stride=s0, classes=classes), batch=batch,
                         dtype=dtype)  # fmt: skip
    m = s.memory
    return {
        "params": s.params,
        "macs": s.macs,
        "flops": s.flops,
        "memory": m.activations_bytes,
        "peak": m.peak_inference_bytes,
        "saved": m.saved_for_backward_bytes,
        "rf": s.rf.size[0],
        "final": s.layer(s.rf_layer).output_shape[1],
    }


@given(
    fam=st.sampled_from(["plain", "residual"]),
    d=st.integers(1, 5),
    w=st.integers(1, 24),
    k=st.sampled_from([1, 3, 5, 7]),
    r=st.integers(1, 70),
    s0=st.integers(1, 3),
    classes=st.integers(1, 30),
    batch=st.integers(1, 3),
    dtype=st.sampled_from(["float32", "float16", "float64"]),
)
def test_vectorised_equals_scalar_engine(fam, d, w, k, r, s0, classes, batch, dtype):
    want = _engine(fam, d, w, k, r, s0, classes, batch, dtype)
    kw = dict(stem_stride=s0, classes=classes, batch=batch, dtype=dtype)
    scalar = evaluate(fam, d, w, k, r, **kw)
    assert {key: int(v) for key, v in scalar.items()} == want
    # the same configuration inside an int64 array of others
    arr = evaluate(fam, np.array([d, d + 1]), np.array([w, 1]), np.array([k, 1]),
                   np.array([r, 1]), **kw)  # fmt: skip
    assert {key: int(v[0]) for key, v in arr.items()} == want
    assert all(v.dtype == np.int64 for v in arr.values())


def test_sweep_hand_figures_and_band():
    # plain, D=4, W=32, k=3, R=64, stem stride 2: n = 32, A = 32·32² = 32768
    r = sweep(range(1, 9), (32, 64), (3, 5), (64,), family="plain", metric="macs",
              budget=40_000_000, tolerance="0.1")  # fmt: skip
    assert (r.lo, r.hi) == (36_000_000, 44_000_000)
    best = r.on_budget[0]
    assert (best.depth, best.width, best.kernel) == (4, 32, 3)
    a = 32 * 32**2
    assert best.macs == a * 3 * 9 + 4 * a * 32 * 9 + 32 * 1000
    assert best.params == (3 * 9 * 32 + 32) + 4 * (32 * 32 * 9 + 32) + 32 * 1000 + 1000
    assert best.rf == 3 + 4 * 2 * 2  # k + D(k−1)s0
    assert best.memory == ((2 * 4 + 2) * a + 32 + 1000) * 4
    # the input 3·64² stays live; then a body layer's input and output, 2A > W + classes
    assert best.peak == (3 * 64**2 + 2 * a) * 4
    # the on-budget set is exactly the configurations in the band (scalar loop)
    band = []
    for d, w, k in product(range(1, 9), (32, 64), (3, 5)):
        macs = evaluate("plain", d, w, k, 64)["macs"]
        if 36_000_000 <= macs <= 44_000_000:
            band.append((d, w, k))
    assert sorted((x.depth, x.width, x.kernel) for x in r.on_budget) == sorted(band)
    assert r.n_on_budget == len(band) and r.evaluated == 8 * 2 * 2


def test_sweep_front_matches_brute_force():
    grid = dict(depths=range(1, 7), widths=(8, 16, 24), kernels=(1, 3, 5), resolutions=(16, 32))
    r = sweep(**grid, metric="params", budget=20_000, tolerance="0.5", chunk=37)
    pts = []
    for fam, d, w, k, res in product(("plain", "residual"), *grid.values()):
        f = evaluate(fam, d, w, k, res)
        if f["params"] <= r.hi:
            pts.append((fam, d, w, k, res, int(f["params"]), int(f["rf"])))
    front = {
        p[:5]
        for p in pts
        if not any(q[5] <= p[5] and q[6] >= p[6] and (q[5], q[6]) != (p[5], p[6]) for q in pts)
    }
    assert {(x.family, x.depth, x.width, x.kernel, x.resolution) for x in r.front} == front


def test_sweep_falls_back_to_python_ints_past_int64():
    # W = 10^7, R = 10^5, stem stride 2: n = 50,000, A = 2.5·10^16 and MACs > 2^63
    r = sweep((1,), (8, 10**7), (3,), (64, 10**5), family="plain", metric="macs")
    assert r.arithmetic == "python-int"
    big = max(r.on_budget, key=lambda x: x.macs)
    a = 10**7 * 50_000**2
    assert big.macs == a * 27 + a * 10**7 * 9 + 10**7 * 1000 > 2**63
    assert big.macs == archcalc.summary(build("plain", 1, 10**7, 3, 10**5)).macs


def test_sweep_progress_callback():
    calls = []
    sweep((1, 2), (8,), (3,), (32, 64), chunk=3, progress=lambda d, t: calls.append((d, t)))
    # 2 families × 4 configurations, chunks of 3: 3, 4 per family
    assert calls == [(3, 8), (4, 8), (7, 8), (8, 8)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(budget="1", metric="macs"), r"--budget = 1 \(macs.*no configuration"),
        (dict(kernels="2,3"), r"--kernel = 2: kernels must be odd"),
        (dict(metric="speed"), r"--metric = 'speed'"),
        (dict(family="wide"), r"--family = 'wide'"),
        (dict(tolerance="1.5"), r"--tolerance = '1.5'"),
        (dict(depths="3:1"), r"--depth = '3:1': range 3:1 is empty"),
        (dict(widths="a"), r"--width = 'a'"),
        (dict(budget="-5"), r"--budget = '-5'"),
    ],
)
def test_sweep_errors(kwargs, match):
    with pytest.raises(OptionError, match=match):
        sweep(**kwargs)


def test_parsers():
    assert parse_values("16:64:16,3", "--width") == (3, 16, 32, 48, 64)
    assert parse_amount("4.1e9", "--budget") == 4_100_000_000
    assert parse_amount("25M", "--budget") == 25 * 10**6
    assert parse_amount("1GiB", "--budget") == 2**30


# ================================================================ fine-tuning (Q5)


def _tiny(bn: bool = True) -> archcalc.Model:
    b = Builder("tiny", (3, 8, 8))
    b.add("c1", Conv2d(3, 4, 3, padding=1))
    if bn:
        b.add("bn", BatchNorm2d(4))
    b.add("r1", ReLU())
    b.add("c2", Conv2d(4, 8, 3, stride=2, padding=1))
    b.add("r2", ReLU())
    b.add("gap", GlobalAvgPool())
    b.add("fl", Flatten())
    b.add("fc", Linear(8, 10))
    return b.build()


# params: c1 3·4·9 + 4 = 112, bn 2·4 = 8, c2 4·8·9 + 8 = 296, fc 8·10 + 10 = 90
P_C1, P_BN, P_C2, P_FC = 112, 8, 296, 90
# elements per sample: input 3·8·8, c1/bn/r1 outputs 4·8·8, r2 8·4·4, gap 8
E_IN, E_MAP, E_R2, E_GAP = 192, 256, 128, 8


def test_finetune_tiny_by_hand():
    full = finetune(_tiny(), 0, batch=2)
    assert full.layers == 3  # c1 (+ its bn), c2, fc
    assert full.params == full.trainable_params == P_C1 + P_BN + P_C2 + P_FC
    # saved (batch 2, float32): c1 keeps the input, bn its input (c1's output) plus running
    # mean/var (2·4, model dtype) and batch mean/invstd (2·4, float32), r1 its output (c2's
    # input too), r2 its output, fc the pooled vector
    saved_full = (E_IN + E_MAP + E_MAP + E_R2 + E_GAP) * 2 * 4 + 8 * 4 + 8 * 4
    assert full.frozen.activations == full.full.activations == saved_full

    one = finetune(_tiny(), 1, batch=2, optimizer="adam")
    trainable = P_C2 + P_FC
    assert one.trainable_params == trainable and one.first_trainable == "c2"
    # c1, bn, r1 run without a graph; c2 keeps r1's output, r2 its output, fc the vector
    saved = (E_MAP + E_R2 + E_GAP) * 2 * 4
    assert one.frozen.activations == saved
    weights = (P_C1 + P_BN + P_C2 + P_FC) * 4
    assert one.frozen.to_dict() == {
        "weights": weights,
        "gradients": trainable * 4,
        "optimizer": 2 * trainable * 4,  # adam: two moments
        "activations": saved,
        "total": weights + 3 * trainable * 4 + saved,
    }
    assert one.full.total == weights + 3 * weights + saved_full
    assert one.saving == one.full.total - one.frozen.total

    last = finetune(_tiny(), -1, batch=2, optimizer="sgd")
    assert last.freeze == 2 and last.trainable_params == P_FC
    assert last.frozen.optimizer == P_FC * 4  # sgd momentum: one buffer
    assert last.frozen.activations == E_GAP * 2 * 4


def test_finetune_saved_equals_torch_saved_tensors():
    """Bytes of the tensors autograd packs (parameters excluded) in one training forward."""
    torch = pytest.importorskip("torch")
    from archcalc.torch.groups import param_groups

    for freeze in (0, 1, 2):
        net = torch.nn.Sequential(
            OrderedDict(
                c1=torch.nn.Conv2d(3, 4, 3, padding=1),
                bn=torch.nn.BatchNorm2d(4),
                r1=torch.nn.ReLU(),
                c2=torch.nn.Conv2d(4, 8, 3, stride=2, padding=1),
                r2=torch.nn.ReLU(),
                gap=torch.nn.AdaptiveAvgPool2d(1),
                fl=torch.nn.Flatten(),
                fc=torch.nn.Linear(8, 10),
            )
        ).train()
        param_groups(net, 0.1, 0.5, freeze)
        params = {p.untyped_storage().data_ptr() for p in net.parameters()}
        kept: dict[int, int] = {}

        def pack(t, kept=kept, params=params):
            s = t.untyped_storage()
            if s.data_ptr() not in params:
                kept[s.data_ptr()] = s.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            net(torch.randn(2, 3, 8, 8))
        assert finetune(_tiny(), freeze, batch=2).frozen.activations == sum(kept.values())


def test_finetune_learning_rates():
    r = finetune(_tiny(), 1, lr0="0.1", alpha="0.5")
    # η_l = 0.1·0.5^(3−l): l=1 frozen, l=2 0.05, l=3 0.1
    assert [(x.name, x.members, x.trainable, x.lr) for x in r.table] == [
        ("c1", ("c1", "bn"), False, None),
        ("c2", ("c2",), True, Fraction(1, 20)),
        ("fc", ("fc",), True, Fraction(1, 10)),
    ]
    assert r.rows()[1] == [2, "c2", P_C2, "yes", "0.05"]
    assert [float(x) for x in layer_rates(4, 0.01, 0.1)] == [1e-5, 1e-4, 1e-3, 1e-2]


def test_finetune_alexnet_freeze_features():
    r = finetune("alexnet", "features")  # the five convolutions
    assert (r.freeze, r.first_trainable) == (5, "classifier.1")
    assert r.trainable_params == (9216 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    s = archcalc.summary("alexnet")
    assert r.full.activations == s.memory.saved_for_backward_bytes


@pytest.mark.parametrize(
    ("freeze", "match"),
    [
        (3, r"--freeze = 3: model 'tiny' has 3 layers with weights; valid: 0..2, -3..-1"),
        (-4, r"--freeze = -4"),
        ("nope", r"--freeze = 'nope': model 'tiny' has no layer or module 'nope'; valid: 0..2 "),
        ("fc", r"--freeze = 'fc': freezes all 3 layers with weights"),
    ],
)
def test_finetune_freeze_errors(freeze, match):
    with pytest.raises(OptionError, match=match):
        finetune(_tiny(), freeze)


def test_finetune_option_errors():
    with pytest.raises(OptionError, match="--optimizer = 'rmsprop'"):
        finetune(_tiny(), optimizer="rmsprop")
    with pytest.raises(OptionError, match=r"--alpha = '1.5': must be in \(0, 1\]"):
        finetune(_tiny(), alpha="1.5")
    with pytest.raises(OptionError, match="--lr0 = '0'"):
        finetune(_tiny(), lr0="0")


def test_resolve_freeze_by_name_and_prefix():
    names = ["c1", "bn", "r1", "c2", "r2", "fc"]
    w = [True, False, False, True, False, True]
    assert resolve_freeze("bn", names, w) == 1
    assert resolve_freeze("r2", names, w) == 2
    assert resolve_freeze("-2", names, w) == 1
    assert resolve_freeze("block", ["block.0", "block.1", "fc"], [True, True, True]) == 2


def test_param_groups_on_a_torch_sequential():
    torch = pytest.importorskip("torch")
    from archcalc.torch.groups import param_groups

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 8, 3),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 10),
    )
    groups = param_groups(net, 0.1, 0.5, freeze=1)
    # layers: conv 0 (+ bn 1), conv 3, linear 7; η = 0.1·0.5^(3−l)
    assert [(g["layer"], g["name"], g["lr"]) for g in groups] == [(2, "3", 0.05), (3, "7", 0.1)]
    assert [len(g["params"]) for g in groups] == [2, 2]  # weight and bias each
    frozen = [net[0].weight, net[0].bias, net[1].weight, net[1].bias]
    assert all(not p.requires_grad for p in frozen)
    assert all(p.requires_grad for g in groups for p in g["params"])
    opt = torch.optim.SGD(groups, lr=1.0, momentum=0.9)
    net(torch.randn(2, 3, 12, 12)).sum().backward()
    opt.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.1]
    with pytest.raises(OptionError, match="--freeze = 3"):
        param_groups(net, 0.1, 0.5, freeze=3)
    with pytest.raises(OptionError, match="no convolution or linear"):
        param_groups(torch.nn.ReLU(), 0.1, 0.5)


# ================================================================ FCN vs sliding window (Q3b)

# AlexNet MACs at 224: conv C_out·H·W·C_in·k² (55, 27, 13, 13, 13) plus the three linears
ALEXNET_MACS = (
    64 * 55**2 * 3 * 121
    + 192 * 27**2 * 64 * 25
    + 384 * 13**2 * 192 * 9
    + 256 * 13**2 * 384 * 9
    + 256 * 13**2 * 256 * 9
    + 9216 * 4096
    + 4096 * 4096
    + 4096 * 1000
)


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
    with pytest.raises(OptionError, match="--window = 600x600: larger than the input 512x512"):
        fcn_cost("alexnet", 512, 600, 32)
    with pytest.raises(OptionError, match="--stride = 'x'"):
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
    with pytest.raises(OptionError, match="--method = 'lime': must be one of gradient"):
        explain_cost("alexnet", "lime")
    with pytest.raises(OptionError, match="--window = 300x300: larger than the input 224x224"):
        explain_cost("alexnet", "occlusion", window=300)
    with pytest.raises(OptionError, match="--steps = 0"):
        explain_cost("alexnet", "integrated-gradients", steps=0)
    # the window only matters to occlusion
    assert explain_cost("alexnet", "gradient", window=300).windows_hw is None


# ================================================================ CLI and imports


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _main() -> None:
        """test app"""

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_schedule_json_and_table(cli):
    r = cli("schedule", "--format", "json", "--top", "3")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["count"] == 792 and len(d["schedules"]) == 3
    assert d["highlight"]["strides"] == list(EXAM_Q4B) and d["highlight"]["rf"] == 235
    r = cli("schedule", "--format", "markdown", "--top", "3")
    assert r.exit_code == 0 and "exam Q4(b) 4,2,1,2,1,2,1,1" in r.output
    assert "| 4,2,1,2,1,2,1,1 | 56,28,28,14,14,7,7,7 |" in r.output


def test_cli_sweep_csv_json(cli):
    args = ["sweep", "--family", "plain", "--depth", "1:8", "--width", "32,64", "--kernel",
            "3,5", "--resolution", "64", "--budget", "40M", "--tolerance", "0.1"]  # fmt: skip
    r = cli(*args, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["band"] == [36_000_000, 44_000_000] and d["evaluated"] == 32
    r = cli(*args, "--format", "csv")
    assert r.output.splitlines()[0].startswith("set,family,depth")
    assert "on_budget,plain,4,32,3,64,32," in r.output


def test_cli_finetune_fcn_explain(cli):
    r = cli("finetune", "alexnet", "--freeze", "features", "--optimizer", "adam")
    assert r.exit_code == 0, r.output
    assert "classifier.1" in r.output and f"{(9216 + 1) * 4096:,}" in r.output
    r = cli("fcn", "alexnet", "--format", "json")
    assert json.loads(r.output)["windows"] == 100
    r = cli("explain-cost", "alexnet", "--method", "occlusion", "--window", "32", "--stride",
            "16", "--format", "csv")  # fmt: skip
    assert r.exit_code == 0 and f"occlusion,170,0,{170 * ALEXNET_MACS}" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "--input", "227"], "error: --final = 7: unreachable from --input 227"),
        (["sweep", "--budget", "1"], "error: --budget = 1 (macs"),
        (["finetune", "alexnet", "--freeze", "layer9"], "error: --freeze = 'layer9'"),
        (["explain-cost", "alexnet", "--method", "x"], "error: --method = 'x'"),
        (["fcn", "alexnet", "--window", "600"], "error: --window = 600x600"),
    ],
)
def test_cli_errors_are_one_line(cli, args, message):
    r = cli(*args)
    assert r.exit_code == 2
    assert r.output.startswith(message) and r.output.count("\n") == 1


def test_design_modules_do_not_import_torch():
    code = (
        "import sys, archcalc, archcalc.design, archcalc.design.sweep, archcalc.cli.design; "
        "print('torch' in sys.modules, 'archcalc.torch.groups' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
