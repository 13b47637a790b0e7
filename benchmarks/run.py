"""archcalc's benchmark suite (run by hand, not by the tests):

    python benchmarks/run.py            # writes docs/performance.md
    python benchmarks/run.py --quick    # fewer repeats, prints only

Measures, in one process and as ratios:
1. archcalc's full summary of each zoo model against fvcore's FlopCountAnalysis, ptflops and
   torchinfo on the torch model built by ``archcalc.torch.to_torch`` (same architecture);
2. the whole-process time of ``archcalc params alexnet --head gap`` against
   ``python -c "import torch"``;
3. the sweep's throughput (configurations per second; benchmarks/bench_sweep.py);
4. the scaling of the summary with depth (ResNet-like chains of 8 to 200,000 layers);
5. a symbolic summary of resnet50 in H and W;
6. whole processes ``archcalc summary big.yaml --format json`` (and .json) on spec files of
   1x1 conv + ReLU chains of 10 to 200,000 layers: wall and CPU time, peak resident memory.

``--repeat N`` sets the repeats (default 15; ``--quick`` is 3 and prints only).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import archcalc  # noqa: E402
from archcalc import Add, BatchNorm2d, Builder, Conv2d, ReLU  # noqa: E402


def best_of(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Median seconds of one call over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def fresh_summary(name: str) -> Callable[[], object]:
    def run() -> object:
        archcalc.zoo.get.cache_clear()  # build the spec too, not only the analysis
        return archcalc.summary(name)

    return run


def bench_vs_counters(models: list[str], repeat: int) -> list[list[object]]:
    return [bench_one(name, repeat) for name in models]


def bench_one(name: str, repeat: int) -> list[object]:
    import torch

    from archcalc.torch import to_torch

    m = archcalc.zoo.get(name)
    module = to_torch(m).eval()
    x = torch.randn(1, *m.input_shape)
    t_build = best_of(fresh_summary(name), repeat)
    t_arch = best_of(lambda: archcalc.summary(m), repeat)  # like the counters: model built
    row: list[object] = [name, t_build * 1e3, t_arch * 1e3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        def fv() -> object:
            a = FlopCountAnalysis(module, x)
            a.unsupported_ops_warnings(False)
            a.uncalled_modules_warnings(False)
            return a.total()

        t_fv = best_of(fv, max(1, repeat // 3))
        row += [t_fv * 1e3, t_fv / t_arch]
        try:
            from ptflops import get_model_complexity_info

            def pt() -> object:
                with contextlib.redirect_stdout(io.StringIO()):
                    return get_model_complexity_info(
                        module,
                        tuple(m.input_shape),
                        as_strings=False,
                        print_per_layer_stat=False,
                    )

            t_pt = best_of(pt, max(1, repeat // 3))
            row += [t_pt * 1e3, t_pt / t_arch]
        except ImportError:
            row += ["-", "-"]
        try:
            from torchinfo import summary as ti

            t_ti = best_of(
                lambda: ti(module, input_size=(1, *m.input_shape), verbose=0),
                max(1, repeat // 3),
            )
            row += [t_ti * 1e3, t_ti / t_arch]
        except ImportError:
            row += ["-", "-"]
    return row


def process_time(cmd: list[str], repeat: int) -> float:
    def run() -> None:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run()  # warm the file cache
    return best_of(run, repeat)


def resnet_like(blocks: int) -> archcalc.Model:
    """A stem and ``blocks`` basic residual blocks of 64 channels (7 layers per block)."""
    b = Builder(f"resnet_like_{blocks}", (3, 64, 64))
    x = b.add("stem", Conv2d(3, 64, 3, padding=1))
    for i in range(blocks):
        b.add(f"b{i}.conv1", Conv2d(64, 64, 3, padding=1, bias=False), x)
        b.add(f"b{i}.bn1", BatchNorm2d(64))
        b.add(f"b{i}.relu", ReLU())
        b.add(f"b{i}.conv2", Conv2d(64, 64, 3, padding=1, bias=False))
        b.add(f"b{i}.bn2", BatchNorm2d(64))
        b.add(f"b{i}.add", Add(), f"b{i}.bn2", x)
        x = b.add(f"b{i}.relu_1", ReLU())
    return b.build()


def spec_file(path: Path, layers: int) -> Path:
    """A chain of ``layers`` layers, 1x1 conv + ReLU pairs on 8x16x16, one layer a line."""
    with path.open("w") as f:
        if path.suffix == ".json":
            conv = '{"kind": "Conv2d", "in_channels": 8, "out_channels": 8, "kernel_size": 1}'
            items = ",\n  ".join([conv, '{"kind": "ReLU"}'] * (layers // 2))
            f.write(f'{{"name": "big", "input": [8, 16, 16], "layers": [\n  {items}\n]}}\n')
        else:
            f.write("name: big\ninput: [8, 16, 16]\nlayers:\n")
            conv = "  - {kind: Conv2d, in_channels: 8, out_channels: 8, kernel_size: 1}\n"
            f.write((conv + "  - {kind: ReLU}\n") * (layers // 2))
    return path


def child(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident MB of one process.

    CPU time comes from ``wait4`` (microseconds; GNU time prints hundredths, too coarse for a
    10-layer file); the peak from GNU time when present: a forked child's ``ru_maxrss``
    starts at its parent's resident size (Linux keeps the pre-exec peak), which would report
    this benchmark's own memory."""
    gnu_time = Path("/usr/bin/time")
    wrapped = [str(gnu_time), "-f", "%M", *cmd] if gnu_time.exists() else cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        wrapped,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if gnu_time.exists() else subprocess.DEVNULL,
    )
    err = proc.stderr.read() if proc.stderr is not None else b""
    _, status, usage = os.wait4(proc.pid, 0)  # GNU time's own use is included: ~1 ms
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if status != 0:
        raise RuntimeError(f"{cmd} failed")
    cpu = usage.ru_utime + usage.ru_stime
    if gnu_time.exists():
        return wall, cpu, int(err.decode().strip().splitlines()[-1]) / 1024
    return wall, cpu, usage.ru_maxrss / 1024


SPEC_LAYERS = (10, 1_000, 20_000, 100_000, 200_000)


def bench_spec_files(repeat: int) -> list[list[Any]]:
    """Whole processes on spec files; the median of ``repeat`` runs of each (wall, CPU and
    peak memory each its own median)."""
    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for layers in SPEC_LAYERS:
            for fmt in ("yaml", "json"):
                path = spec_file(Path(tmp) / f"big{layers}.{fmt}", layers)
                cmd = ["archcalc", "summary", str(path), "--format", "json"]
                runs = [child(cmd) for _ in range(repeat)]
                wall, cpu, rss = (statistics.median(r[j] for r in runs) for j in range(3))
                mb = path.stat().st_size / 2**20
                rows.append([f"{layers:,}", fmt, f"{mb:.1f}", wall, cpu, rss])
    start = {r[1]: r[4] for r in rows if r[0] == "10"}  # start-up and a 10-layer model
    for r in rows:
        n = int(str(r[0]).replace(",", ""))
        r.insert(5, (r[4] - start[r[1]]) / (n - 10) * 1e6 if n > 10 else "-")
    return rows


def spec_files_section(files: list[list[Any]], runs: int, load: tuple[float, float]) -> str:
    """The section of docs/performance.md on spec files (``files`` from bench_spec_files)."""

    def row(layers: str, fmt: str) -> list[Any]:
        return next(r for r in files if r[0] == layers and r[1] == fmt)

    y, j = row("200,000", "yaml"), row("200,000", "json")
    growth = {f: row("200,000", f)[5] / row("20,000", f)[5] for f in ("yaml", "json")}
    header = ["layers", "format", "file MB", "wall s", "CPU s", "CPU us per layer past 10"]
    return f"""## Spec files of 10 to 200,000 layers, whole process

`archcalc summary big.yaml --format json > /dev/null` (and the same model as `big.json`): 1x1
conv + ReLU pairs on 8x16x16, one layer a line; wall and CPU time (user + system, from
`wait4`) and peak resident memory (GNU time) of the whole process, start-up and writing the
JSON included; the median of {runs} runs each. Load average {load[0]:.1f} at the start of
these runs and {load[1]:.1f} at the end, on 2 cores: wall times include waiting for a core;
CPU times are archcalc's own work.

{table([*header, "peak MB"], files)}

Target: 200,000 layers in at most 5 s wall and 600 MB: YAML **{y[3]:.1f} s** ({y[4]:.1f} s
CPU), **{y[6]:,.0f} MB**; JSON **{j[3]:.1f} s** ({j[4]:.1f} s CPU), **{j[6]:,.0f} MB**.
CPU time per layer, 200,000 layers against 20,000: x{growth["yaml"]:.2f} (YAML),
x{growth["json"]:.2f} (JSON). The 1,000-layer rows are within the start-up's noise.

- **YAML.** A long top-level `layers:` block whose lines are one-line flow mappings
  (`  - {{kind: ReLU}}`; comments and blank lines allowed) is read line by line: each distinct
  line is parsed once by libyaml and the same strict construction (tags, duplicate keys), and
  its data copied for each occurrence, so 200,000 layers of a few distinct lines cost about
  what json's C parser costs. Any other block (a mapping over several lines, block style,
  anchors, aliases, tags, other line breaks) is composed in chunks of 20,000 items or whole,
  and any error is reported from the whole file (its line numbers).
- **The walk.** Tensors are numbered by position (`Model.live_slots`: 0 the input, k the
  live node k - 1) and every per-node table is a list indexed by them; a chain's input is
  found without a name lookup (the very name object of the node before). The dicts by name
  (`Walk.shapes`, `figures`, `rfs`, `MemoryReport.outputs`) are built on first use: hashing
  200,000 names into a dict costs about 4x more per name than 20,000 (the table outgrows
  the caches), which made the time per layer grow with depth.
- **JSON output.** Written in pieces of 4,096 layers as they are encoded (60 MB at 200,000
  layers, never held whole); the part of a layer after its name and inputs is encoded once
  per distinct figures.
- **What remains per layer** (about {y[5]:.0f} us of CPU for YAML): the layer records and
  the model (names and inputs validated), the walk's visit (shape, cost, memory, saved
  tensors, receptive field: a lookup each for a repeated block), the summary's row and its
  JSON line. Python's cycle collector is paused while loading and walking.
"""


def bench_depth(repeat: int) -> list[list[object]]:
    """The summary of ResNet-like chains of 8 to 200,000 layers: median wall and least CPU
    time (this process's, ``time.process_time``: the walk is one thread) of ``repeat`` calls
    (3 from 10,000 blocks)."""
    rows: list[list[object]] = []
    for blocks in (1, 14, 142, 1428, 14285, 28571):
        m = resnet_like(blocks)
        n = len(m.nodes)
        archcalc.summary(m)  # the model's own caches (live nodes, slots) are built once
        walls, cpus = [], []
        for _ in range(repeat if blocks < 10_000 else 3):
            t0, c0 = time.perf_counter(), time.process_time()
            archcalc.summary(m)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        cpu = min(cpus)
        rows.append([n, statistics.median(walls) * 1e3, cpu * 1e3, cpu / n * 1e6])
    return rows


def depth_section(rows: list[list[object]]) -> str:
    """The section of docs/performance.md on depth (``rows`` from bench_depth)."""
    header = ["layers", "summary ms (wall)", "summary ms (CPU)", "CPU us per layer"]
    return f"""## Scaling with depth (ResNet-like chains, 64 channels, 64x64)

`archcalc.summary` of a built model in this process (its live nodes and slots already found):
median wall time, and the least CPU time of the repeats (wall times on a loaded machine
include waiting for a core).

{table(header, rows)}

Target: linear up to 200,000 layers (the time per layer stays flat).
"""


def bench_symbolic() -> float:
    t0 = time.perf_counter()
    archcalc.summary("resnet50", input="3xHxW")
    return time.perf_counter() - t0


def bench_sweep() -> str:
    script = ROOT / "benchmarks" / "bench_sweep.py"
    if not script.exists():
        return "benchmarks/bench_sweep.py not present"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


def table(header: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}" if v >= 10 else f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import torch

    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"torch {torch.__version__}, archcalc {archcalc.__version__}"
    )


def update_spec_files_section(runs: int, quick: bool) -> None:
    """Measure the spec files and the depth scaling only; print their sections, and unless
    ``quick`` put them in place of their old text in docs/performance.md."""
    load_start = os.getloadavg()[0]
    files = bench_spec_files(runs)
    section = spec_files_section(files, runs, (load_start, os.getloadavg()[0]))
    depth = depth_section(bench_depth(3 * runs))
    print(depth, section, sep="\n")
    if quick:
        return
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text()
    for title, new in (("## Scaling with depth", depth), ("## Spec files of 10", section)):
        start = text.index(title)
        end = text.index("\n## ", start + 1) + 1
        text = text[:start] + new + "\n" + text[end:]
    doc.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument(
        "--spec-files",
        action="store_true",
        help="measure only the spec files and the depth scaling, and replace their sections "
        "of docs/performance.md",
    )
    args = ap.parse_args()
    repeat = args.repeat or (3 if args.quick else 15)
    if args.spec_files:
        update_spec_files_section(max(1, repeat // 3), args.quick)
        return
    models = [
        "alexnet",
        "vgg16",
        "resnet50",
        "mobilenet_v2",
        "efficientnet_b0",
        "densenet121",
        "convnext_tiny",
    ]
    load_start = os.getloadavg()[0]
    files = bench_spec_files(max(1, repeat // 3))  # first: before torch makes it large
    files_load = (load_start, os.getloadavg()[0])
    depth = bench_depth(repeat)
    counters = bench_vs_counters(models, repeat)
    t_cli = process_time(["archcalc", "params", "alexnet", "--head", "gap"], repeat)
    t_torch = process_time([sys.executable, "-c", "import torch"], repeat)
    t_sym = bench_symbolic()
    sweep = bench_sweep()
    r50 = next(r for r in counters if r[0] == "resnet50")
    load = (load_start, os.getloadavg()[0])
    spec_section = spec_files_section(files, max(1, repeat // 3), files_load)
    text = f"""<!-- written by `python benchmarks/run.py`; numbers from the machine below -->

# Performance

Machine: {machine()}.
Method: median wall time of repeated calls in one process (`time.perf_counter`). The
counters run on the torch module built by `archcalc.torch.to_torch` (the same architecture;
building it is not timed), batch 1, at the model's default input, warnings silenced; the
ratios compare them with archcalc's full summary (every quantity, every layer) of the built
spec. "spec built too" also times building the zoo spec from scratch.

## Summary vs the counters of built models

{
        table(
            [
                "model",
                "archcalc ms (spec built too)",
                "archcalc ms",
                "fvcore ms",
                "fvcore / archcalc",
                "ptflops ms",
                "ptflops / archcalc",
                "torchinfo ms",
                "torchinfo / archcalc",
            ],
            counters,
        )
    }

Target: resnet50 at least 200x faster than fvcore: measured **{r50[4]:,.0f}x**.

## CLI start-up

`archcalc params alexnet --head gap`, whole process: **{t_cli * 1e3:,.0f} ms**;
`python -c "import torch"`: {t_torch * 1e3:,.0f} ms; ratio **{t_cli / t_torch:.3f}**
(target at most 0.12).

{depth_section(depth)}
{spec_section}
## Symbolic resnet50 in H and W

`archcalc.summary("resnet50", input="3xHxW")`: **{t_sym:.2f} s** (target under 2 s; first call,
including sympy's import).

## Sweep throughput

{sweep}

{import_section()}
## Notes

- **Load.** Measured on a 2-core machine shared with other jobs: load average
  {load[0]:.1f} at the start of the run and {load[1]:.1f} at the end. Wall times include
  waiting for a core; the CPU times of the spec-file table are archcalc's own work.
- **One walk.** `summary` visits each live node once (`archcalc.engine.walk`): output shape,
  parameters and buffers, MACs and FLOPs, output memory, the inference peak, what autograd
  saves and the receptive field. A layer's per-sample figures (and its geometry and
  saved-tensor plan) are computed once per (spec, input shapes): the blocks of a ResNet stage
  or the 100,000 identical conv + ReLU pairs above cost a dictionary lookup each. Python's
  cycle collector is paused during the walk (millions of small acyclic objects). Symbolic
  sizes go through the same walk.
- **fvcore.** `FlopCountAnalysis` traces the model with `torch.jit.trace` (deprecated in
  torch 2.14); its time is most of the ratio's spread from run to run.
"""
    if args.quick:
        print(text)
    else:
        (ROOT / "docs" / "performance.md").write_text(text)
        print(text)


def import_section() -> str:
    """The section on importing torch modules, kept as it stands in docs/performance.md: it is
    measured by benchmarks/bench_import.py (from_torch + summary against fvcore, side by
    side in one process), not by this script."""
    doc = (ROOT / "docs" / "performance.md").read_text()
    start, end = "<!-- bench-import:start -->", "<!-- bench-import:end -->"
    if start not in doc:
        return ""
    return doc[doc.index(start) : doc.index(end) + len(end)] + "\n"


if __name__ == "__main__":
    main()
