"""Importing real torchvision models against fvcore's count of the same module (run by hand):

    python benchmarks/bench_import.py            # 224x224, 5 rounds
    python benchmarks/bench_import.py --quick    # 2 rounds

For each model, in one process, alternating: ``archcalc.summary(from_torch(model, input),
convention="fvcore")`` (the meta-tensor run, the mapping, the analysis) against
``FlopCountAnalysis(model, x).total()`` on the same built module (fvcore traces it with
torch.jit and runs it for real). Both totals are printed; they must agree. Also: the peak of
Python allocations (tracemalloc) and the growth of the process's resident memory while
importing resnet50 at 8192x8192, where one real activation map would take gigabytes.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

warnings.simplefilter("ignore")

import torch  # noqa: E402
import torchvision  # noqa: E402
from fvcore.nn import FlopCountAnalysis  # noqa: E402

import archcalc  # noqa: E402
from archcalc.torch import from_torch  # noqa: E402

MODELS = ("resnet50", "densenet121", "convnext_tiny", "vit_b_16")


def archcalc_count(net: torch.nn.Module, shape: tuple[int, ...]) -> int:
    return int(archcalc.summary(from_torch(net, shape), convention="fvcore").flops)


def fvcore_count(net: torch.nn.Module, shape: tuple[int, ...]) -> int:
    f = FlopCountAnalysis(net, (torch.randn(1, *shape),))
    f.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(f.total())


def timed(fn: object, *args: object) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t, out


def compare(name: str, rounds: int) -> str:
    shape = (3, 224, 224)
    net = torchvision.models.get_model(name, weights=None).eval()
    try:
        archcalc_count(net, shape)
    except archcalc.ArchcalcError as e:
        return f"| {name} | does not import: {str(e).split(':')[0]} | | | |"
    fvcore_count(net, shape)  # warm-up both
    ours, theirs = [], []
    total_a = total_f = 0
    for _ in range(rounds):
        t, total_a = timed(archcalc_count, net, shape)  # type: ignore[assignment]
        ours.append(t)
        t, total_f = timed(fvcore_count, net, shape)  # type: ignore[assignment]
        theirs.append(t)
    a, f = statistics.median(ours), statistics.median(theirs)
    same = "equal" if total_a == total_f else f"{total_a:,} vs {total_f:,}"
    return f"| {name} | {a * 1e3:.0f} | {f * 1e3:.0f} | {a / f:.2f} | {same} |"


def huge_input() -> str:
    with torch.device("meta"):
        net = torchvision.models.resnet50().eval()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t = time.perf_counter()
    m = from_torch(net, (3, 8192, 8192))
    dt = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    out = archcalc.summary(m).output_shape
    return (
        f"resnet50 at 3x8192x8192: imported in {dt * 1e3:.0f} ms, output {out}, Python "
        f"allocations peak {peak / 2**20:.1f} MiB, resident memory grew {grew / 1024:.1f} MiB "
        f"(conv1's real output alone would be {2 * 64 * 4096 * 4096 * 4 / 2**30:.0f} GiB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 2 if args.quick else 5
    torch.set_num_threads(1)
    print("| model (224x224) | from_torch + summary, ms | fvcore, ms | ratio | totals |")
    print("|---|---|---|---|---|")
    for name in MODELS:
        print(compare(name, rounds), flush=True)
    print()
    print(huge_input())


if __name__ == "__main__":
    main()
