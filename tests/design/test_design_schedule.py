"""Stride schedules (exam Q4(b)): figures derived by hand, the Pareto front by brute force,
every figure against the engine and coverage against torch's gradient support."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc import OptionError
from archcalc.design import EXAM_Q4B, plan_schedules, schedule_model

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
        (dict(input=227, final=7), r"final = 7: unreachable from `input` 227.*valid: 1, 227"),
        (dict(final=448), r"final = 448: unreachable"),
        (dict(layers=4, max_stride=2), r"unreachable in 4 layers with strides in \{1,2\}"),
        (dict(kernel=4), r"kernel = 4: must be odd"),
        (dict(rank="speed"), r"rank = 'speed'"),
        (dict(channels="64,128"), r"channels = 64,128: give one value or one per layer"),
        (dict(highlight="4,4"), r"highlight = 4,4: not a schedule of this plan"),
        (dict(layers=0), r"layers = 0"),
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
    from archcalc.design.schedule import _seen

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


@given(
    n=st.sampled_from([6, 8, 12, 16, 18, 27, 32]),
    layers=st.integers(1, 4),
    k=st.sampled_from([1, 3, 5]),
    cin=st.integers(1, 4),
    widths=st.lists(st.integers(1, 9), min_size=1, max_size=1) | st.just([]),
    batch=st.integers(1, 3),
    dtype=st.sampled_from(["float32", "float16"]),
    data=st.data(),
)
def test_every_schedule_figure_equals_the_engine(n, layers, k, cin, widths, batch, dtype, data):
    """Formulas once: the planner's figures (the kind's rules, composed) are the engine's, on
    every class of schedule it covers — any odd kernel, stride larger or smaller than the
    kernel, one width or one per layer, batch and dtype."""
    final = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    ch = widths or data.draw(st.lists(st.integers(1, 9), min_size=layers, max_size=layers))
    channels = ch[0] if len(ch) == 1 else ",".join(map(str, ch))
    try:
        plan = plan_schedules(n, layers, final, channels, k, in_channels=cin, batch=batch,
                              dtype=dtype)  # fmt: skip
    except OptionError as e:  # no schedule of this many layers reaches final
        assert "unreachable" in str(e)
        return
    row = data.draw(st.sampled_from(plan.schedules))
    s = archcalc.summary(plan.model(row.strides), batch=batch, dtype=dtype)
    assert (row.macs, row.params) == (s.macs, s.params)
    assert row.activations_bytes == s.memory.activations_bytes
    assert row.peak_bytes == s.memory.peak_inference_bytes
    assert (row.rf, row.rf_stride, row.rf_offset) == (s.rf.size[0], s.rf.stride[0], s.rf.offset[0])
    assert row.sizes == tuple(r.output_shape[1] for r in s.layers)


@given(
    n=st.integers(1, 60),
    strides=st.lists(st.integers(1, 7), min_size=1, max_size=4),
    k=st.sampled_from([1, 3, 5, 7]),
)
def test_coverage_equals_marking_every_tap(n, strides, k):
    """The interval walk counts the pixels that marking every tap of every used unit finds."""
    from archcalc.design.schedule import _seen

    sizes, m = [], n
    for s in strides:
        m = -(-m // s)
        sizes.append(m)
    used = set(range(sizes[-1]))
    for n_in, s in zip(reversed([n, *sizes[:-1]]), reversed(strides)):
        used = {j * s - k // 2 + t for j in used for t in range(k)} & set(range(n_in))
    assert _seen(n, strides, sizes, k) == len(used)
