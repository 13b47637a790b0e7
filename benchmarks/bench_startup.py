"""Start-up: `archcalc params alexnet --head gap` (the whole process) against
`python -c "import torch"`, measured side by side (interleaved runs, same machine, same moment).

    python benchmarks/bench_startup.py [--runs 15]

Prints the median and best wall time of each and their ratio; the target is <= 0.12x. Exits 1
when the median ratio misses the target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 0.12


def _archcalc() -> list[str]:
    script = Path(sys.executable).with_name("archcalc")
    if script.exists():
        return [str(script)]
    found = shutil.which("archcalc")
    if found:
        return [found]
    return [sys.executable, "-c", "from archcalc.cli import main; main()"]


def _time(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    os.environ.pop("COLUMNS", None)
    ours = [*_archcalc(), "params", "alexnet", "--head", "gap"]
    torch = [sys.executable, "-c", "import torch"]
    _time(ours), _time(torch)  # warm the file cache
    a, b, ratios = [], [], []
    for _ in range(args.runs):
        x, y = _time(ours), _time(torch)
        a.append(x)
        b.append(y)
        ratios.append(x / y)
    med = statistics.median(ratios)
    print(
        f"archcalc params alexnet --head gap: median {statistics.median(a):.3f} s, best {min(a):.3f} s"
    )
    print(
        f'python -c "import torch":          median {statistics.median(b):.3f} s, best {min(b):.3f} s'
    )
    print(
        f"ratio (median of paired runs): {med:.3f}x; best/best {min(a) / min(b):.3f}x; target <= {TARGET}x"
    )
    return 0 if med <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
