"""Property tests for every general formula of the CNN exam (issue 4), question by question.

Each test builds models with archcalc and compares what the engine computes with the exam's
formula — or, where the exam claims a behaviour, with what torch does. The formula side and
the engine side never share arithmetic: the engine counts from layer specs, the tests write
the exam's closed forms (or enumerate, or run torch).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archcalc
from archcalc import (
    Conv2d,
    CoordAugment,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool2d,
    ReLU,
    sequential,
)
from archcalc.exam import (
    conv_shift_counterexample,
    gap_gradient_counterexample,
    layer_rates,
    maxpool_shift_counterexample,
    window_count,
)

FAST = settings(max_examples=30, deadline=None)
TORCH = settings(max_examples=12, deadline=None)
#: tests that run torch's FlopCounterMode or whole networks several times per example
HEAVY = settings(max_examples=5, deadline=None)


def _torch():
    return pytest.importorskip("torch")


def chain(layers, shape, **kw):
    return archcalc.summary(sequential("t", layers, input_shape=shape), **kw)


# ============================================================ Q1 position-sensitive conv


@FAST
@given(
    c=st.integers(1, 512),
    h=st.integers(1, 64),
    w=st.integers(1, 64),
    dtype=st.sampled_from(["float32", "float16"]),
)
def test_q1_coordinates_add_two_channels_and_memory_factor(c, h, w, dtype):
    s = chain([CoordAugment()], (c, h, w), dtype=dtype)
    assert s.output_shape == (c + 2, h, w)
    # exam: memory grows by (C + 2)/C = 1 + 2/C
    assert Fraction(s.memory.activations_bytes, s.memory.input_bytes) == 1 + Fraction(2, c)


@FAST
@given(
    c=st.integers(1, 256),
    cout=st.integers(1, 256),
    k=st.sampled_from([1, 3, 5, 7]),
    hw=st.integers(8, 40),
)
def test_q1_coordconv_flops_factor(c, cout, k, hw):
    plain = chain([Conv2d(c, cout, k, padding=k // 2)], (c, hw, hw))
    coord = chain([CoordAugment(), Conv2d(c + 2, cout, k, padding=k // 2)], (c, hw, hw))
    assert Fraction(coord.macs, plain.macs) == Fraction(c + 2, c)
    assert Fraction(coord.flops, plain.flops) == Fraction(c + 2, c)


@HEAVY
@given(c=st.integers(1, 16), cout=st.integers(1, 16), k=st.sampled_from([1, 3]))
def test_q1_coordconv_flops_factor_in_torch(c, cout, k):
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.torch import to_torch

    def flops(model, channels):
        net = to_torch(model).eval()
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            net(torch.randn(1, channels, 12, 12))
        return fc.get_total_flops()

    plain = sequential("p", [Conv2d(c, cout, k)], input_shape=(c, 12, 12))
    coord = sequential("c", [CoordAugment(), Conv2d(c + 2, cout, k)], input_shape=(c, 12, 12))
    assert Fraction(flops(coord, c), flops(plain, c)) == Fraction(c + 2, c)


@TORCH
@given(
    s=st.sampled_from([1, 2, 3]),
    k=st.sampled_from([1, 3]),
    n=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_q1_conv_shifts_output_by_delta_over_stride(s, k, n, seed):
    """Equivariance as it really holds: a shift by Δ = n·s moves the output of a stride-s conv
    (unpadded) by n units; archcalc's effective stride is that s."""
    torch = _torch()
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 2, 16, 16, generator=g, dtype=torch.float64)
    weight = torch.randn(3, 2, k, k, generator=g, dtype=torch.float64)
    rf = chain([Conv2d(2, 3, k, stride=s)], (2, 16, 16)).rf
    assert rf.stride == (s, s)
    delta = n * rf.stride[0]
    y = F.conv2d(x, weight, stride=s)
    moved = F.conv2d(x[:, :, delta:, delta:], weight, stride=s)
    assert torch.allclose(moved, y[:, :, n : n + moved.shape[2], n : n + moved.shape[3]])


def test_q1_strided_conv_counterexample_in_torch():
    torch = _torch()
    import torch.nn.functional as F

    cx = conv_shift_counterexample(2, 1)
    x = torch.zeros(1, 1, cx.size, cx.size, dtype=torch.float64)
    x[0, 0, cx.one_at[0], cx.one_at[1]] = 1
    shifted = torch.zeros_like(x)
    shifted[:, :, 1:, 1:] = x[:, :, :-1, :-1]
    one = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    y, y_shifted = F.conv2d(x, one, stride=2), F.conv2d(shifted, one, stride=2)
    assert y[0, 0].tolist() == [list(r) for r in cx.output]
    assert y_shifted[0, 0].tolist() == [list(r) for r in cx.shifted_output]
    moved = torch.zeros_like(y)
    moved[:, :, 1:, 1:] = y[:, :, :-1, :-1]
    assert not torch.equal(y_shifted, moved)  # the output did not shift by Δ = 1


@FAST
@given(r=st.integers(2, 4), data=st.data())
def test_q1_maxpool_is_not_invariant_to_any_shift_below_the_stride(r, data):
    """Exam: MaxPool(X′) = MaxPool(X) for |δ| < s. The counterexample search finds an image
    that breaks it for every kernel, stride and 0 < δ < s; torch confirms it."""
    torch = _torch()
    import torch.nn.functional as F

    s = data.draw(st.integers(2, r))
    delta = data.draw(st.integers(1, s - 1))
    cx = maxpool_shift_counterexample(r, s, delta)
    x = torch.tensor(cx.image, dtype=torch.float64)[None, None]
    before = F.max_pool2d(x[:, :, :r, :r], r, s)[0, 0, 0, 0]
    after = F.max_pool2d(x[:, :, delta : delta + r, delta : delta + r], r, s)[0, 0, 0, 0]
    assert (before.item(), after.item()) == (cx.before, cx.after)
    assert before != after


@FAST
@given(r=st.integers(2, 4), s=st.integers(1, 4), data=st.data(), seed=st.integers(0, 2**16))
def test_q1_maxpool_unit_survives_a_shift_when_the_max_lies_in_the_overlap(r, s, data, seed):
    """The exact statement behind Q1(b): unit (i, j) of a max pool is unchanged by a shift
    0 < δ < R when the maximum over the window and its shifted copy lies in their overlap.
    Windows come from archcalc's receptive field of the pool (offset, size, stride); values
    from torch. Unit (0, 0) gets a planted maximum in its overlap, so at least one unit is
    asserted on every example (and the count is checked)."""
    torch = _torch()
    import torch.nn.functional as F

    delta = data.draw(st.integers(1, r - 1))
    n = 14
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 4, (1, 1, n, n), generator=g).to(torch.float64)
    rf = chain([MaxPool2d(r, s)], (1, n - delta, n - delta)).rf
    size, step = rf.size[0], rf.stride[0]
    assert (size, step) == (r, s)
    x[0, 0, rf.offset[0] + delta, rf.offset[1] + delta] = 9  # in unit (0, 0)'s overlap
    y = F.max_pool2d(x[:, :, : n - delta, : n - delta], r, s)[0, 0]
    y_shift = F.max_pool2d(x[:, :, delta:, delta:], r, s)[0, 0]
    checked = 0
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            a, b = rf.offset[0] + i * step, rf.offset[1] + j * step
            union = x[0, 0, a : a + size + delta, b : b + size + delta].max()
            inter = x[0, 0, a + delta : a + size, b + delta : b + size]
            if inter.max() == union:
                assert y[i, j] == y_shift[i, j]
                checked += 1
    assert checked >= 1


@TORCH
@given(
    r=st.integers(1, 4),
    s=st.integers(1, 4),
    eps=st.integers(-5, 5),
    seed=st.integers(0, 2**16),
)
def test_q1_max_and_average_pooling_commute_with_adding_a_constant(r, s, eps, seed):
    """max(a + ε, b + ε) = max(a, b) + ε always (the exam's 'only if' is never needed), and
    the average is linear."""
    torch = _torch()
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-8, 8, (1, 2, 9, 9), generator=g).to(torch.float64)
    assert torch.equal(F.max_pool2d(x + eps, r, s), F.max_pool2d(x, r, s) + eps)
    assert torch.allclose(F.avg_pool2d(x + eps, r, s), F.avg_pool2d(x, r, s) + eps)


@FAST
@given(r=st.integers(1, 6), s=st.integers(1, 6))
def test_q1_adjacent_pooling_windows_share_r_minus_s(r, s):
    """(R − s)/R of a window is shared with its neighbour: archcalc's receptive field of the
    pool (size R, stride s) against torch's unfolded window indices."""
    torch = _torch()
    import torch.nn.functional as F

    rf = chain([MaxPool2d(r, s)], (1, 20, 20)).rf
    idx = torch.arange(20, dtype=torch.float64).view(1, 1, 1, 20)
    cols = F.unfold(idx, (1, r), stride=(1, s))[0]
    shared = len(set(cols[:, 0].tolist()) & set(cols[:, 1].tolist()))
    assert shared == max(rf.size[1] - rf.stride[1], 0) == max(r - s, 0)


# ============================================================ Q2 GAP vs FC heads


@FAST
@given(
    c=st.integers(1, 64),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    n=st.integers(1, 1000),
)
def test_q2_fc_and_gap_head_parameters(c, h, w, n):
    model = sequential(
        "net",
        [Conv2d(3, c, 3, padding=1), ReLU(), Flatten(), Linear(c * h * w, n)],
        input_shape=(3, h, w),
        features="1",
    )
    features = (3 * 9 + 1) * c  # the 3x3 conv, with bias
    assert archcalc.summary(model, head="fc").params - features == (h * w * c + 1) * n
    assert archcalc.summary(model, head="gap").params - features == (c + 1) * n


@TORCH
@given(c=st.integers(1, 8), h=st.integers(1, 5), w=st.integers(1, 5), n=st.integers(1, 10))
def test_q2_head_parameters_and_training_memory_in_torch(c, h, w, n):
    """Parameter counts and the exam's training memory (H·W·C + N vs C + N values for a
    one-layer head): torch's numel and the bytes autograd saves, against the formulas."""
    _torch()
    from archcalc.torch import measure, to_torch

    fc = sequential("fc", [Flatten(), Linear(c * h * w, n)], input_shape=(c, h, w))
    gap = sequential("gap", [GlobalAvgPool(), Flatten(), Linear(c, n)], input_shape=(c, h, w))
    assert sum(p.numel() for p in to_torch(fc).parameters()) == (h * w * c + 1) * n
    assert sum(p.numel() for p in to_torch(gap).parameters()) == (c + 1) * n
    assert measure(fc)["saved_bytes"] // 4 + n == h * w * c + n
    assert measure(gap)["saved_bytes"] // 4 + n == c + n


@TORCH
@given(
    c=st.integers(1, 6),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_q2_gap_gradient_is_the_same_at_every_position(c, h, w, n, seed):
    torch = _torch()
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    fmap = torch.randn(1, c, h, w, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(n, c, generator=g, dtype=torch.float64)
    bias = torch.randn(n, generator=g, dtype=torch.float64)
    target = torch.randint(0, n, (1,), generator=g)
    scores = F.linear(F.adaptive_avg_pool2d(fmap, 1).flatten(1), weight, bias)
    loss = F.cross_entropy(scores, target)
    (grad,) = torch.autograd.grad(loss, fmap)
    # the same value at every (x, y) of channel k ...
    assert torch.allclose(grad, grad[:, :, :1, :1].expand_as(grad))
    # ... which is (1/HW)·Σ_j w_{j,k}·∂L/∂s_j — a sum over every class, not w_{c,k} alone
    dscore = torch.softmax(scores, 1) - F.one_hot(target, n)
    assert torch.allclose(grad[0, :, 0, 0], (dscore @ weight)[0] / (h * w))


def test_q2_gap_gradient_counterexample_in_torch():
    torch = _torch()
    import torch.nn.functional as F

    cx = gap_gradient_counterexample()
    fmap = torch.zeros(1, 1, cx.height, cx.width, dtype=torch.float64, requires_grad=True)
    weight = torch.tensor(cx.weights, dtype=torch.float64).view(cx.classes, 1)
    scores = F.linear(F.adaptive_avg_pool2d(fmap, 1).flatten(1), weight)
    loss = F.cross_entropy(scores, torch.tensor([cx.target]))
    (grad,) = torch.autograd.grad(loss, fmap)
    assert torch.allclose(grad, torch.full_like(grad, float(cx.gradient)))
    assert cx.gradient != cx.exam and cx.gradient != cx.exam_literal


# ============================================================ Q3 fully convolutional networks


@TORCH
@given(
    c=st.integers(1, 4),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    m=st.integers(1, 6),
    extra=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    seed=st.integers(0, 2**16),
)
def test_q3_linear_is_a_conv_with_the_input_map_as_kernel(c, h, w, m, extra, seed):
    """archcalc's --head conv turns Linear(C·H·W, M) into Conv2d(C, M, (H, W)): the same
    parameters and MACs; in torch, with the Linear's weights reshaped, the same outputs — and
    on a larger input an (H′ − H + 1)×(W′ − W + 1) map whose corner is the original output."""
    torch = _torch()
    from archcalc.torch import to_torch

    fc = sequential("fc", [Flatten(), Linear(c * h * w, m)], input_shape=(c, h, w))
    conv = archcalc.apply_head(fc, "conv")
    s_fc, s_conv = archcalc.summary(fc), archcalc.summary(conv)
    assert (s_conv.params, s_conv.macs) == (s_fc.params, s_fc.macs)
    assert s_conv.output_shape == (m, 1, 1)
    big = archcalc.summary(conv, input=(c, h + extra[0], w + extra[1]))
    assert big.output_shape == (m, extra[0] + 1, extra[1] + 1)

    net_fc, net_conv = to_torch(fc, seed=seed).double(), to_torch(conv).double()
    state = {k: v.reshape(net_conv.state_dict()[k].shape) for k, v in net_fc.state_dict().items()}
    net_conv.load_state_dict(state)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c, h + extra[0], w + extra[1], generator=g, dtype=torch.float64)
    y_conv = net_conv(x)
    assert tuple(y_conv.shape[1:]) == big.output_shape
    assert torch.allclose(y_conv[:, :, 0, 0], net_fc(x[:, :, :h, :w]))


@HEAVY
@given(n=st.integers(0, 3), m=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_q3_one_fcn_pass_equals_every_sliding_window(n, m, seed):
    """An unpadded network of total stride S: the FCN map has one prediction per window
    position 0, S, 2S, … (enumerated), and each equals the classifier on that crop."""
    torch = _torch()
    from archcalc.torch import to_torch

    layers = [Conv2d(2, 4, 3, stride=2), ReLU(), Conv2d(4, 4, 3, stride=2), ReLU()]
    fc = sequential("net", [*layers, Flatten(), Linear(4 * 3 * 3, 5)], input_shape=(2, 15, 15))
    conv = archcalc.apply_head(fc, "conv")
    stride = archcalc.summary(fc).rf.stride[0]
    big = (15 + n * stride, 15 + m * stride)
    fcn = archcalc.summary(conv, input=(2, *big))
    starts = [range(0, size - 15 + 1, stride) for size in big]
    assert fcn.output_shape[1:] == (len(starts[0]), len(starts[1]))

    net_fc, net_conv = to_torch(fc, seed=seed).double(), to_torch(conv).double()
    state = {k: v.reshape(net_conv.state_dict()[k].shape) for k, v in net_fc.state_dict().items()}
    net_conv.load_state_dict(state)
    x = torch.randn(1, 2, *big, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y = net_conv(x)
    for i, a in enumerate(starts[0]):
        for j, b in enumerate(starts[1]):
            assert torch.allclose(y[:, :, i, j], net_fc(x[:, :, a : a + 15, b : b + 15]))


@FAST
@given(size=st.integers(1, 600), data=st.data())
def test_q3_q6_window_count_and_the_exams_formula(size, data):
    """Sliding windows (Q3b) and occlusion windows (Q6c): archcalc counts the output positions
    of a pooling layer, equal to the enumerated window starts; the exam's (H − h)/s per axis
    is short by one window every time."""
    window = data.draw(st.integers(1, size))
    stride = data.draw(st.integers(1, 64))
    n = window_count(size, window, stride)
    assert n == len(range(0, size - window + 1, stride))
    assert Fraction(size - window, stride) < n


@TORCH
@given(size=st.integers(4, 40), data=st.data())
def test_q6_window_count_against_torch_unfold(size, data):
    torch = _torch()
    import torch.nn.functional as F

    window = data.draw(st.integers(1, size))
    stride = data.draw(st.integers(1, 8))
    cols = F.unfold(torch.zeros(1, 1, size, size), window, stride=stride)
    assert window_count(size, window, stride) ** 2 == cols.shape[-1]


# ============================================================ Q4 design principles


@FAST
@given(depth=st.integers(1, 12), f=st.integers(1, 9))
def test_q4_receptive_field_of_a_stack(depth, f):
    n = 1 + depth * (f - 1)
    s = chain([Conv2d(1, 1, f) for _ in range(depth)], (1, n, n))
    assert s.rf.size == (1 + depth * (f - 1), 1 + depth * (f - 1))


@TORCH
@given(depth=st.integers(1, 4), f=st.sampled_from([2, 3, 5]))
def test_q4_receptive_field_of_a_stack_by_gradient(depth, f):
    _torch()
    from archcalc.torch import rf_by_gradient

    n = 2 * (1 + depth * (f - 1)) + 3
    model = sequential("s", [Conv2d(1, 1, f) for _ in range(depth)], input_shape=(1, n, n))
    top, left, bottom, right = rf_by_gradient(model, unit=(1, 1))
    assert bottom - top + 1 == right - left + 1 == 1 + depth * (f - 1)
    assert archcalc.summary(model).rf.size == (1 + depth * (f - 1),) * 2


@FAST
@given(n=st.integers(1, 4), c=st.integers(1, 512))
def test_q4_stacked_3x3_against_one_large_kernel(n, c):
    """n stacked 3×3 layers see as far as one (2n+1)×(2n+1) layer with 9n C² weights against
    (2n+1)² C²: 18C² vs 25C² for n = 2, 27C² vs 49C² for n = 3."""
    small = chain([Conv2d(c, c, 3, padding=1, bias=False) for _ in range(n)], (c, 16, 16))
    large = chain([Conv2d(c, c, 2 * n + 1, padding=n, bias=False)], (c, 16, 16))
    assert small.params == 9 * n * c * c
    assert large.params == (2 * n + 1) ** 2 * c * c
    assert small.rf.size == large.rf.size == (2 * n + 1, 2 * n + 1)


@TORCH
@given(n=st.integers(1, 3), c=st.integers(1, 16))
def test_q4_stacked_kernels_parameters_in_torch(n, c):
    _torch()
    from archcalc.torch import to_torch

    small = sequential("s", [Conv2d(c, c, 3, bias=False) for _ in range(n)], (c, 16, 16))
    large = sequential("l", [Conv2d(c, c, 2 * n + 1, bias=False)], (c, 16, 16))
    for model in (small, large):
        numel = sum(p.numel() for p in to_torch(model).parameters())
        assert numel == archcalc.summary(model).params


@FAST
@given(
    depth=st.integers(1, 5),
    c=st.integers(1, 64),
    f=st.sampled_from([1, 3, 5, 7]),
    h=st.integers(8, 32),
    w=st.integers(8, 32),
)
def test_q4_budget_is_depth_width2_kernel2_pixels(depth, c, f, h, w):
    """The MACs of D same-width layers are D·C²·F²·H·W: the trade-off D·C²·F² = const at a
    fixed image holds; the exam's B carries one factor C too many."""
    s = chain([Conv2d(c, c, f, padding=f // 2, bias=False) for _ in range(depth)], (c, h, w))
    assert s.macs == depth * c**2 * f**2 * h * w
    assert Fraction(s.macs, h * w) == depth * c**2 * f**2


@TORCH
@given(
    h=st.integers(16, 80),
    k=st.sampled_from([1, 3, 5]),
    s=st.sampled_from([1, 2, 4]),
    c1=st.integers(1, 16),
    c2=st.integers(1, 16),
)
def test_q4_first_layer_stride_memory_against_torch(h, k, s, c1, c2):
    """Q4(b): activation elements of a stride-s first layer and the layer after it, archcalc
    against torch's output sizes."""
    torch = _torch()
    from archcalc.torch import to_torch

    model = sequential("m", [Conv2d(3, c1, k, stride=s), Conv2d(c1, c2, 3)], (3, h, h))
    s_ = archcalc.summary(model)
    with torch.no_grad():
        env = to_torch(model).run(torch.zeros(1, 3, h, h))
    assert [r.activation_elements for r in s_.layers] == [env["0"].numel(), env["1"].numel()]
    assert s_.memory.activations_bytes == 4 * (env["0"].numel() + env["1"].numel())


@FAST
@given(m=st.integers(2, 4), stages=st.integers(1, 5), k=st.integers(1, 12), data=st.data())
def test_q4_number_of_reduction_stages(m, stages, k, data):
    """L = log(S_f/S_0)/log(r): archcalc's output size of L pooling stages of ratio r = 1/m
    (the floor rule, written out here) and its effective stride m^L; the exam's formula gives
    L back from archcalc's sizes exactly when m^L divides S_0."""
    rest = data.draw(st.integers(0, m**stages - 1))
    start = k * m**stages + rest
    s = chain([MaxPool2d(m) for _ in range(stages)], (1, start, start))
    size = start
    for _ in range(stages):
        size //= m
    assert s.output_shape[1] == size
    assert s.rf.stride == (m**stages, m**stages)
    formula = math.log(s.output_shape[1] / start) / math.log(1 / m)
    assert math.isclose(formula, stages) == (rest == 0)


@FAST
@given(
    cin=st.integers(1, 256),
    cout=st.integers(1, 256),
    k=st.sampled_from([1, 3, 5, 7]),
    hw=st.integers(7, 28),
)
def test_q4_depthwise_separable_cost_ratio(cin, cout, k, hw):
    std = chain([Conv2d(cin, cout, k, padding=k // 2, bias=False)], (cin, hw, hw))
    sep = chain(
        [
            Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False),
            Conv2d(cin, cout, 1, bias=False),
        ],
        (cin, hw, hw),
    )
    assert Fraction(sep.macs, std.macs) == Fraction(1, cout) + Fraction(1, k * k)


# ============================================================ Q5 layer-wise learning rates


@FAST
@given(
    depth=st.integers(1, 12),
    eta0=st.fractions(Fraction(1, 10**4), Fraction(1, 10), max_denominator=10**4),
    alpha=st.fractions(Fraction(1, 20), Fraction(1), max_denominator=100),
)
def test_q5_layerwise_learning_rates(depth, eta0, alpha):
    """η_l = η0·α^(L−l): the audit's recurrence (exam.layer_rates) against the closed form
    written here and against the design calculator's (design.layer_rates)."""
    from archcalc.design import layer_rates as design_rates

    rates = layer_rates(depth, eta0, alpha)
    assert rates == [eta0 * alpha ** (depth - lv) for lv in range(1, depth + 1)]
    assert rates == design_rates(depth, eta0, alpha)
    assert rates[-1] == eta0
    assert all(a == alpha * b for a, b in zip(rates, rates[1:]))


@TORCH
@given(depth=st.integers(1, 4), alpha=st.sampled_from([Fraction(1, 10), Fraction(1, 2)]))
def test_q5_rates_follow_archcalcs_weighted_layers_in_torch(depth, alpha):
    """The rates go to the layers archcalc marks as weighted, which are the layers that own
    parameters in the torch model archcalc builds — one rate per parameterised module."""
    _torch()
    from archcalc.torch import to_torch

    model = sequential(
        "m", [x for _ in range(depth) for x in (Linear(3, 3), ReLU())], input_shape=(3, 1, 1)
    )
    weighted = [n.name for n in model.nodes if n.layer.weighted]
    assert len(weighted) == depth
    net = to_torch(model)
    owners = [
        name for name in (n.name for n in model.nodes) if list(net.node_module(name).parameters())
    ]
    assert owners == weighted
    assert len(layer_rates(len(weighted), Fraction(1, 1000), alpha)) == depth


# ============================================================ Q6 saliency cost


@cache
def _tiny():
    return sequential(
        "tiny",
        [Conv2d(3, 8, 3, padding=1), ReLU(), Conv2d(8, 8, 3, stride=2), ReLU(), Flatten(),
         Linear(8 * 7 * 7, 4)],
        input_shape=(3, 16, 16),
    )  # fmt: skip


@HEAVY
@given(
    steps=st.integers(1, 12),
    window=st.integers(2, 8),
    stride=st.integers(1, 8),
    frozen=st.booleans(),
)
def test_q6_cost_of_gradient_integrated_gradients_and_occlusion(steps, window, stride, frozen):
    """Counted by torch's FlopCounterMode while each method runs: a gradient is 2 forwards
    (3 with weight gradients), integrated gradients m times a gradient, occlusion N + 1
    forwards — with F the forward MACs archcalc computes and N its window count."""
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.torch import to_torch

    model = _tiny()
    forward = 2 * archcalc.summary(model).macs  # FLOPs counted by torch: 2 per MAC
    net = to_torch(model).double().eval()
    for p in net.parameters():
        p.requires_grad_(not frozen)
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64)

    def flops(fn):
        with FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops()

    def gradient():
        xi = x.clone().requires_grad_(True)
        net(xi)[0, 0].backward()

    def integrated():
        alphas = torch.arange(1, steps + 1, dtype=torch.float64).view(-1, 1, 1, 1) / steps
        path = (alphas * x).requires_grad_(True)
        net(path)[:, 0].sum().backward()

    n = window_count(16, window, stride) ** 2

    def occlusion():
        with torch.no_grad():
            masked = x.repeat(n, 1, 1, 1)
            starts = range(0, 16 - window + 1, stride)
            for k, (a, b) in enumerate((a, b) for a in starts for b in starts):
                masked[k, :, a : a + window, b : b + window] = 0
            net(torch.cat([x, masked]))

    backward = forward if frozen else 2 * forward
    assert flops(gradient) == forward + backward
    assert flops(integrated) == steps * (forward + backward)
    assert flops(occlusion) == (n + 1) * forward


# ============================================================ Q7 the comprehensive network


@FAST
@given(classes=st.integers(1, 5000), size=st.sampled_from([32, 64, 96, 224]))
def test_q7_parameters_and_input_memory_formulas(classes, size):
    """Stem 7²·5·64 (bias-free), a (1024 + 1)·N head, and a 5-channel float32 input tensor
    of H·W·5·4 bytes, at any number of classes and input size."""
    s = archcalc.summary("exam_q7a", input=size, classes=classes)
    base = archcalc.summary("exam_q7a", input=size, classes=1)
    assert s.layer("conv1").params == 7 * 7 * 5 * 64
    assert s.params - base.params == (1024 + 1) * (classes - 1)
    assert s.layer("coords").activation_bytes == size * size * 5 * 4


@cache
def _q7_torch():
    from archcalc.torch import to_torch

    return to_torch("exam_q7a").eval()


@settings(max_examples=4, deadline=None)
@given(size=st.sampled_from([32, 64, 96]))
def test_q7_against_torch(size):
    """The comprehensive network in torch: parameter count, the input (+ coordinates) tensor,
    the bytes of every output that owns storage, and 2·MACs counted by FlopCounterMode."""
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    s = archcalc.summary("exam_q7a", input=size)
    net = _q7_torch()
    assert sum(p.numel() for p in net.parameters()) == s.params
    x = torch.randn(1, 3, size, size)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        env = net.run(x)
    assert fc.get_total_flops() == 2 * s.macs
    assert env["coords"].nbytes == s.layer("coords").activation_bytes
    by_name = {n.name: n for n in s.model.nodes}
    owned = 0
    for name, t in env.items():
        if name == "input":
            continue
        src = env[by_name[name].inputs[0]]
        if t.untyped_storage().data_ptr() != src.untyped_storage().data_ptr():
            owned += t.nbytes
    assert owned == s.memory.activations_bytes
