"""The design commands of the CLI: ``schedule``, ``sweep``, ``finetune``, ``fcn`` and
``explain-cost`` (thin wrappers over :mod:`archcalc.design`).

One function per command, defined here with its options; ``register(app)`` adds them to a
Typer app (:mod:`archcalc.cli.app` calls it). Options shared with the other commands come from
:mod:`archcalc.cli.options`; errors name the CLI's flags through :mod:`archcalc.cli.flags`.
Nothing here is imported by ``import archcalc``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from .options import (
    BatchOpt,
    ClassesOpt,
    DtypeOpt,
    HeadOpt,
    InputOpt,
    ModelArg,
    PartialOpt,
    TableFormatOpt,
)

__all__ = ["register", "COMMANDS"]

#: sweeps with at least this many configurations show a progress bar (on a terminal)
PROGRESS_FROM = 1_000_000

TopOpt = Annotated[int, typer.Option("--top", help="Rows to show (at least 1).")]
SizeOpt = Annotated[int, typer.Option("--input", "-i", help="Input height = width.")]
KernelOpt = Annotated[int, typer.Option("--kernel", help="Odd kernel size.")]
BatchIntOpt = Annotated[int, typer.Option("--batch", "-b", help="Batch size.")]
WindowOpt = Annotated[str, typer.Option("--window", help="Window: N or HxW.")]
StrideOpt = Annotated[str, typer.Option("--stride", help="Window stride: N or HxW.")]


def _emit(obj: Any) -> None:
    from .common import emit

    emit(obj)


def _json(obj: Any) -> None:
    _emit(json.dumps(obj, indent=2))


def _rows(header: list[str], rows: list[list[Any]], fmt: Any, *args: Any) -> Any:
    from .render import render_rows

    return render_rows(header, rows, str(fmt), *args)


# ---------------------------------------------------------------- schedule


def schedule(
    input: SizeOpt = 224,
    layers: Annotated[int, typer.Option("--layers", help="Number of conv layers.")] = 8,
    final: Annotated[int, typer.Option("--final", help="Final height = width.")] = 7,
    channels: Annotated[
        str, typer.Option("--channels", help="One width, or one per layer: 64,128,...")
    ] = "64",
    kernel: KernelOpt = 3,
    in_channels: Annotated[int, typer.Option("--in-channels", help="Input channels.")] = 3,
    batch: BatchIntOpt = 1,
    dtype: DtypeOpt = "float32",
    max_stride: Annotated[
        int | None, typer.Option("--max-stride", help="Largest stride of one layer.")
    ] = None,
    rank: Annotated[str, typer.Option("--rank", help="memory, peak, macs or rf.")] = "memory",
    top: TopOpt = 20,
    pareto: Annotated[bool, typer.Option("--pareto", help="Show only the Pareto front.")] = False,
    highlight: Annotated[
        str | None,
        typer.Option("--highlight", help="A schedule to show (default: exam Q4(b)'s)."),
    ] = None,
    format: TableFormatOpt = "table",
) -> None:
    """Stride schedules from --input to --final: memory, MACs, receptive field, Pareto."""
    from ..design import plan_schedules

    plan = plan_schedules(
        input,
        layers,
        final,
        channels,
        kernel,
        in_channels=in_channels,
        batch=batch,
        dtype=str(dtype),
        max_stride=max_stride,
        rank=rank,
        highlight=highlight,
    )
    shown = list(plan.front if pareto else plan.best(top))
    if str(format) == "json":
        d = plan.to_dict(top)
        if pareto:
            d["schedules"] = d["pareto_front"]
        _json(d)
        return
    hl = plan.highlight
    if hl is not None and hl not in shown:
        shown.append(hl)
    title = (
        f"stride schedules {input} -> {final} in {layers} layers ({kernel}x{kernel} convs, "
        f"padding {kernel // 2}; channels {','.join(map(str, plan.channels))}), ranked by {rank}"
    )
    footer = _schedule_footer(plan, highlight is None)
    _emit(_rows(plan.header, [r.cells() for r in shown], format, title, footer))


def _schedule_footer(plan: Any, default_highlight: bool) -> list[tuple[str, Any]]:
    from ..design import EXAM_Q4B

    footer: list[tuple[str, Any]] = [
        ("schedules", len(plan.schedules)),
        ("on the Pareto front (memory, MACs, RF, coverage)", len(plan.front)),
        ("params (the same for every schedule)", plan.schedules[0].params),
    ]
    hl = plan.highlight
    if hl is not None:
        which = "exam Q4(b)" if hl.strides == EXAM_Q4B and default_highlight else "highlight"
        footer.append(
            (
                f"{which} {','.join(map(str, hl.strides))}",
                f"rank {hl.rank} of {len(plan.schedules)}; activations "
                f"{hl.activations_bytes:,} B, peak {hl.peak_bytes:,} B, MACs {hl.macs:,}, "
                f"RF {hl.rf}, coverage {float(hl.coverage):.1%}, "
                f"Pareto {'yes' if hl.pareto else 'no'}",
            )
        )
    return footer


# ---------------------------------------------------------------- sweep


def sweep(
    family: Annotated[str, typer.Option("--family", help="plain, residual or both.")] = "both",
    depth: Annotated[str, typer.Option("--depth", help="e.g. 1:16 or 2,4,8.")] = "1:16",
    width: Annotated[str, typer.Option("--width", help="e.g. 16:256:16.")] = "16,32,64,128,256",
    kernel: Annotated[str, typer.Option("--kernel", help="Odd sizes, e.g. 1,3,5,7.")] = "1,3,5,7",
    resolution: Annotated[
        str, typer.Option("--resolution", help="Input sizes, e.g. 32,64,128,224.")
    ] = "32,64,128,224",
    metric: Annotated[
        str, typer.Option("--metric", help="macs, flops, params, memory, peak or saved.")
    ] = "macs",
    budget: Annotated[
        str | None, typer.Option("--budget", help="e.g. 1G, 4.1e9, 25M, 512MiB.")
    ] = None,
    tolerance: Annotated[
        str, typer.Option("--tolerance", help="Relative band around the budget.")
    ] = "0.05",
    stem_stride: Annotated[int, typer.Option("--stem-stride", help="Stride of the stem.")] = 2,
    classes: Annotated[int, typer.Option("--classes", help="Outputs of the head.")] = 1000,
    batch: BatchIntOpt = 1,
    dtype: DtypeOpt = "float32",
    top: Annotated[int, typer.Option("--top", help="On-budget rows to show.")] = 20,
    format: TableFormatOpt = "table",
) -> None:
    """Depth, width, kernel and resolution at a budget: best receptive field, Pareto front."""
    from ..design import sweep as design_sweep

    progress, finish = _progress_bar()
    try:
        r = design_sweep.sweep(
            depth,
            width,
            kernel,
            resolution,
            family=family,
            metric=metric,
            budget=budget,
            tolerance=tolerance,
            stem_stride=stem_stride,
            classes=classes,
            batch=batch,
            dtype=str(dtype),
            top=top,
            progress=progress,
        )
    finally:
        finish()
    fmt = str(format)
    if fmt == "json":
        _json(r.to_dict())
    elif fmt == "csv":
        rows = [["on_budget", *c] for c in r.rows("on_budget")]
        rows += [["front", *c] for c in r.rows("front")]
        _emit(_rows(["set", *r.header], rows, fmt))
    else:
        _sweep_tables(r, fmt, top)


def _sweep_tables(r: Any, fmt: str, top: int) -> None:
    band = "everything" if r.hi is None else f"{r.metric} in [{r.lo:,}, {r.hi:,}]"
    title = (
        f"on budget ({band}): {r.n_on_budget:,} of {r.evaluated:,} configurations, "
        f"best receptive field first"
    )
    footer = [
        ("configurations evaluated", r.evaluated),
        ("arithmetic", r.arithmetic),
        ("shown", f"{len(r.on_budget)} of {r.n_on_budget:,} (--top)"),
    ]
    _emit(_rows(r.header, r.rows("on_budget"), fmt, title, footer))
    front = r.rows("front")
    note = ""
    if len(front) > top:  # an evenly spaced sample, both ends kept
        keep = sorted({round(i * (len(front) - 1) / max(top - 1, 1)) for i in range(top)})
        note = f"; {len(keep)} of {len(front)} shown, evenly spaced; csv and json list all"
        front = [front[i] for i in keep]
    title = f"Pareto front: receptive field vs {r.metric} (configurations within budget{note})"
    _emit(_rows(r.header, front, fmt, title))


def _progress_bar() -> tuple[Any, Callable[[], None]]:
    """A rich progress bar on stderr for long sweeps; nothing when stderr is no terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "sweep", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
        transient=True,
    )  # fmt: skip
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task("sweep", total=total)
        bar.update(state["task"], completed=done)

    def finish() -> None:
        if "task" in state:
            bar.stop()

    sys.stderr.flush()
    return update, finish


# ---------------------------------------------------------------- finetune


def finetune(
    model: ModelArg,
    freeze: Annotated[
        str,
        typer.Option(
            "--freeze", help="Layers to freeze: a count (negative: from the end) or a name."
        ),
    ] = "0",
    optimizer: Annotated[str, typer.Option("--optimizer", help="sgd or adam.")] = "sgd",
    lr0: Annotated[str, typer.Option("--lr0", help="Learning rate of the last layer.")] = "0.001",
    alpha: Annotated[str, typer.Option("--alpha", help="Decay per layer, in (0, 1].")] = "0.5",
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: TableFormatOpt = "table",
    partial: PartialOpt = False,
) -> None:
    """Fine-tuning with the first layers frozen: trainable params, memory, learning rates."""
    from ..design import finetune as design_finetune
    from .common import resolve

    model, _ = resolve(model, input, partial)
    r = design_finetune(
        model,
        freeze,
        optimizer=optimizer,
        lr0=lr0,
        alpha=alpha,
        input=input,
        batch=batch,
        dtype=str(dtype),
        head=str(head),
        classes=classes,
    )
    fmt = str(format)
    if fmt == "json":
        _json(r.to_dict())
        return
    if fmt == "csv":  # one table: the memory rows and the learning-rate rows, set apart
        header = ["set", *r.memory_header, *r.header]
        mem = [["memory", *row, *[""] * len(r.header)] for row in r.memory_rows()]
        lrs = [["lr", *[""] * len(r.memory_header), *row] for row in r.rows()]
        _emit(_rows(header, mem + lrs, fmt))
        return
    mem_title = (
        f"{r.model}: {r.freeze} of {r.layers} layers frozen (first trainable "
        f"'{r.first_trainable}'), {r.optimizer}, batch {r.batch}, {r.dtype}"
    )
    footer = [
        ("params", r.params),
        ("trainable params", r.trainable_params),
        ("frozen params", r.params - r.trainable_params),
        ("memory saved by freezing (bytes)", r.saving),
    ]
    lr_title = (
        f"learning rates eta_l = eta0 * alpha^(L - l): eta0 = {float(r.lr0):g}, "
        f"alpha = {float(r.alpha):g}, L = {r.layers}"
    )
    _emit(_rows(r.memory_header, r.memory_rows(), fmt, mem_title, footer))
    _emit(_rows(r.header, r.rows(), fmt, lr_title))


# ---------------------------------------------------------------- fcn


def fcn(
    model: ModelArg,
    input: Annotated[
        str, typer.Option("--input", "-i", help="Image size: N, HxW or CxHxW.")
    ] = "512",
    window: WindowOpt = "224",
    stride: StrideOpt = "32",
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    classes: ClassesOpt = None,
    format: TableFormatOpt = "table",
) -> None:
    """Sliding-window classification vs one pass of the fully convolutional model."""
    from ..design import fcn_cost

    r = fcn_cost(model, input, window, stride, batch=batch, dtype=str(dtype), classes=classes)
    if str(format) == "json":
        _json(r.to_dict())
        return
    (h, w), (wh, ww), (sh, sw) = r.input_hw, r.window, r.stride
    footer = [
        (
            "windows",
            f"{r.windows_hw[0]} x {r.windows_hw[1]} = {r.windows} "
            f"(floor(({h} - {wh})/{sh}) + 1 by floor(({w} - {ww})/{sw}) + 1)",
        ),
        ("MACs of one window", r.macs_window),
        ("speed-up of the FCN (MACs)", f"{float(r.speedup):.2f}x"),
        (
            "FCN output",
            f"{'x'.join(map(str, r.fcn_output))}, stride {r.fcn_stride[0]}x{r.fcn_stride[1]}"
            f" px; same grid as the windows: {'yes' if r.same_grid else 'no'}",
        ),
    ]
    title = f"{r.model}: {h}x{w} image, {wh}x{ww} windows, stride {sh}x{sw}"
    _emit(_rows(r.header, r.rows(), format, title, footer))


# ---------------------------------------------------------------- explain-cost


def explain_cost(
    model: ModelArg,
    method: Annotated[
        str,
        typer.Option("--method", help="gradient, integrated-gradients, occlusion, cam or all."),
    ] = "all",
    steps: Annotated[int, typer.Option("--steps", help="Integrated-gradients steps.")] = 50,
    window: Annotated[str, typer.Option("--window", help="Occlusion window: N or HxW.")] = "16",
    stride: Annotated[str, typer.Option("--stride", help="Occlusion stride: N or HxW.")] = "8",
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: TableFormatOpt = "table",
    partial: PartialOpt = False,
) -> None:
    """Passes, MACs and memory of saliency methods (gradient, IG, occlusion, CAM)."""
    from ..design import explain_cost as design_explain
    from .common import resolve

    model, _ = resolve(model, input, partial)
    r = design_explain(
        model,
        method,
        input=input,
        steps=steps,
        window=window,
        stride=stride,
        batch=batch,
        dtype=str(dtype),
        head=str(head),
        classes=classes,
    )
    if str(format) == "json":
        _json(r.to_dict())
        return
    title = (
        f"{r.model}: saliency cost, input {'x'.join(map(str, r.input_shape))}, "
        f"batch {r.batch}, {r.dtype}, head {r.head}"
    )
    footer = [("forward MACs", r.forward_macs), ("convention", r.convention)]
    _emit(_rows(r.header, r.rows(), format, title, footer))


#: the commands and their names on the command line
COMMANDS: dict[str, Callable[..., None]] = {
    "schedule": schedule,
    "sweep": sweep,
    "finetune": finetune,
    "fcn": fcn,
    "explain-cost": explain_cost,
}


def register(app: typer.Typer) -> None:
    """Add the five design commands to ``app`` (errors become one line and exit 2)."""
    from .common import handles_errors as _handles_errors

    for name, command in COMMANDS.items():
        app.command(name)(_handles_errors(command))
