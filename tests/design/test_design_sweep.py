"""Budget sweeps (exam Q4): the vectorised closed forms against the scalar engine, figures
derived by hand, the band and the front by brute force."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc import OptionError
from archcalc.design.sweep import build, evaluate, parse_amount, parse_values, sweep

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
        (dict(budget="1", metric="macs"), r"`budget` = 1 \(macs.*no configuration"),
        (dict(kernels="2,3"), r"kernels = 2: kernels must be odd"),
        (dict(metric="speed"), r"metric = 'speed'"),
        (dict(family="wide"), r"family = 'wide'"),
        (dict(tolerance="1.5"), r"tolerance = '1.5'"),
        (dict(depths="3:1"), r"depths = '3:1': range 3:1 is empty"),
        (dict(widths="a"), r"widths = 'a'"),
        (dict(budget="-5"), r"budget = '-5'"),
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


@given(
    fam=st.sampled_from(["plain", "residual"]),
    d=st.integers(1, 3),
    w=st.integers(1, 12),
    k=st.sampled_from([1, 3, 5]),
    r=st.integers(1, 40),
    cin=st.integers(1, 5),
)
def test_vectorised_equals_engine_for_any_input_channels_and_python_ints(fam, d, w, k, r, cin):
    """The closed forms hold for every input channel count, and in object arrays (the path
    taken past 2^63 − 1) as in int64 ones."""
    s = archcalc.summary(build(fam, d, w, k, r, classes=7, in_channels=cin))
    want = {"params": s.params, "macs": s.macs, "flops": s.flops, "rf": s.rf.size[0]}
    got = evaluate(fam, *(np.array([v], dtype=object) for v in (d, w, k, r)), classes=7,
                   in_channels=cin)  # fmt: skip
    assert {key: got[key][0] for key in want} == want
    assert all(isinstance(got[key][0], int) for key in want)
