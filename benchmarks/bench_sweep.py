"""Throughput of the budget sweep (configurations per second, one core). Run by hand:

    python benchmarks/bench_sweep.py

Not a test. Prints a few Markdown lines (``benchmarks/run.py`` puts them in
docs/performance.md): the vectorised sweep with a budget (int64), the closed forms alone, the
Python-int fallback (object arrays, for grids whose figures pass 2^63 − 1), and the scalar
engine (``archcalc.summary`` of each built model) for scale.
"""

from __future__ import annotations

import os

# one core: numpy's elementwise integer ufuncs are single-threaded; pin BLAS pools anyway
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archcalc  # noqa: E402
from archcalc.design.sweep import build, evaluate, sweep  # noqa: E402

DEPTHS, WIDTHS = range(1, 101), range(16, 1025, 16)  # 100 x 64
KERNELS, RESOLUTIONS = (1, 3, 5, 7, 9), range(32, 545, 32)  # x 5 x 17
GRID = (DEPTHS, WIDTHS, KERNELS, RESOLUTIONS)  # x 2 families = 1,088,000 configurations


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    n = 2 * len(DEPTHS) * len(WIDTHS) * len(KERNELS) * len(RESOLUTIONS)
    budget = sweep(*GRID, metric="macs", budget="1G", tolerance="0.05")  # warm-up
    t_sweep = median_time(lambda: sweep(*GRID, metric="macs", budget="1G"), 5)

    d, w, k, r = np.meshgrid(*(np.asarray(list(v), dtype=np.int64) for v in GRID), indexing="ij")
    flat = [a.ravel() for a in (d, w, k, r)]
    t_eval = median_time(lambda: [evaluate(f, *flat) for f in ("plain", "residual")], 5)

    small = [a[:20_000].astype(object) for a in flat]
    t_obj = median_time(lambda: evaluate("plain", *small), 3)

    configs = [(f, 1 + i % 8, 16 * (1 + i % 4), 3, 64) for i, f in enumerate(["plain"] * 100)]
    t_scalar = median_time(lambda: [archcalc.summary(build(*c)) for c in configs], 3)

    print(
        f"- sweep (vectorised, int64, budget 1G MACs ±5%): **{n / t_sweep / 1e6:.1f} M "
        f"configurations/s** on one core ({n:,} configurations in {t_sweep:.3f} s; "
        f"{budget.n_on_budget:,} on budget, {len(budget.front)} on the Pareto front)"
    )
    print(f"- closed forms alone (`archcalc.design.sweep.evaluate`): {n / t_eval / 1e6:.1f} M/s")
    print(
        f"- Python-int fallback (object arrays, past 2^63 − 1): "
        f"{len(small[0]) / t_obj / 1e6:.2f} M/s"
    )
    print(
        f"- scalar engine (`archcalc.summary` of each built model): "
        f"{len(configs) / t_scalar:,.0f} configurations/s"
    )


if __name__ == "__main__":
    main()
