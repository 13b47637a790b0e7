"""The design commands of the CLI: ``schedule``, ``sweep``, ``finetune``, ``fcn`` and
``explain-cost`` (thin wrappers over :mod:`archcalc.design` and :mod:`archcalc.design.sweep`).

``register(app)`` adds them to a Typer app; :mod:`archcalc.cli` calls it. Nothing here is
imported by ``import archcalc``. (No ``from __future__ import annotations``: Typer reads the
option annotations of the commands defined inside :func:`register` at definition time.)
"""

import json
import sys
from typing import Annotated, Any

import typer

__all__ = ["register"]

#: sweeps with at least this many configurations show a progress bar (on a terminal)
PROGRESS_FROM = 1_000_000


def _out(obj: Any, fmt: str) -> Any:
    return json.dumps(obj, indent=2) if fmt == "json" else obj


def register(app: typer.Typer) -> None:
    """Add the five design commands to ``app``."""
    from .app import (
        BatchOpt,
        ClassesOpt,
        DtypeOpt,
        FormatOpt,
        HeadOpt,
        InputOpt,
        ModelArg,
        _check_format,
        _emit,
        _handles_errors,
    )

    @app.command("schedule")
    @_handles_errors
    def schedule(
        input: Annotated[int, typer.Option("--input", "-i", help="Input height = width.")] = 224,
        layers: Annotated[int, typer.Option("--layers", help="Number of conv layers.")] = 8,
        final: Annotated[int, typer.Option("--final", help="Final height = width.")] = 7,
        channels: Annotated[
            str, typer.Option("--channels", help="One width, or one per layer: 64,128,...")
        ] = "64",
        kernel: Annotated[int, typer.Option("--kernel", help="Odd kernel size.")] = 3,
        in_channels: Annotated[int, typer.Option("--in-channels", help="Input channels.")] = 3,
        batch: Annotated[int, typer.Option("--batch", "-b", help="Batch size.")] = 1,
        dtype: DtypeOpt = "float32",
        max_stride: Annotated[
            int | None, typer.Option("--max-stride", help="Largest stride of one layer.")
        ] = None,
        rank: Annotated[str, typer.Option("--rank", help="memory, peak, macs or rf.")] = "memory",
        top: Annotated[int, typer.Option("--top", help="Rows to show.")] = 20,
        pareto: Annotated[
            bool, typer.Option("--pareto", help="Show only the Pareto front.")
        ] = False,
        highlight: Annotated[
            str | None,
            typer.Option("--highlight", help="A schedule to show (default: exam Q4(b)'s)."),
        ] = None,
        format: FormatOpt = "table",
    ) -> None:
        """Stride schedules from --input to --final: memory, MACs, receptive field, Pareto."""
        from ..design import EXAM_Q4B, plan_schedules
        from .render import render_rows

        _check_format(format)
        plan = plan_schedules(
            input,
            layers,
            final,
            channels,
            kernel,
            in_channels=in_channels,
            batch=batch,
            dtype=dtype,
            max_stride=max_stride,
            rank=rank,
            highlight=highlight,
        )
        shown = list(plan.front if pareto else plan.schedules[:top])
        if format == "json":
            d = plan.to_dict(top)
            if pareto:
                d["schedules"] = d["pareto_front"]
            _emit(_out(d, format))
            return
        hl = plan.highlight
        if hl is not None and hl not in shown:
            shown.append(hl)
        footer: list[tuple[str, Any]] = [
            ("schedules", len(plan.schedules)),
            ("on the Pareto front (memory, MACs, RF, coverage)", len(plan.front)),
            ("params (the same for every schedule)", plan.schedules[0].params),
        ]
        if hl is not None:
            which = "exam Q4(b)" if hl.strides == EXAM_Q4B and highlight is None else "highlight"
            footer.append(
                (
                    f"{which} {','.join(map(str, hl.strides))}",
                    f"rank {hl.rank} of {len(plan.schedules)}; activations "
                    f"{hl.activations_bytes:,} B, peak {hl.peak_bytes:,} B, MACs {hl.macs:,}, "
                    f"RF {hl.rf}, coverage {float(hl.coverage):.1%}, "
                    f"Pareto {'yes' if hl.pareto else 'no'}",
                )
            )
        title = (
            f"stride schedules {input} -> {final} in {layers} layers ({kernel}x{kernel} convs, "
            f"padding {kernel // 2}; channels {','.join(map(str, plan.channels))}), "
            f"ranked by {rank}"
        )
        _emit(render_rows(plan.header, [r.cells() for r in shown], format, title, footer))

    @app.command("sweep")
    @_handles_errors
    def sweep_cmd(
        family: Annotated[str, typer.Option("--family", help="plain, residual or both.")] = "both",
        depth: Annotated[str, typer.Option("--depth", help="e.g. 1:16 or 2,4,8.")] = "1:16",
        width: Annotated[str, typer.Option("--width", help="e.g. 16:256:16.")] = "16,32,64,128,256",
        kernel: Annotated[
            str, typer.Option("--kernel", help="Odd sizes, e.g. 1,3,5,7.")
        ] = "1,3,5,7",
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
        batch: Annotated[int, typer.Option("--batch", "-b", help="Batch size.")] = 1,
        dtype: DtypeOpt = "float32",
        top: Annotated[int, typer.Option("--top", help="On-budget rows to show.")] = 20,
        format: FormatOpt = "table",
    ) -> None:
        """Depth, width, kernel and resolution at a budget: best receptive field, Pareto front."""
        from ..design.sweep import SweepRow, sweep
        from .render import render_rows

        _check_format(format)
        progress, finish = _progress_bar()
        try:
            r = sweep(
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
                dtype=dtype,
                top=top,
                progress=progress,
            )
        finally:
            finish()
        if format == "json":
            _emit(_out(r.to_dict(), format))
            return
        band = "everything" if r.hi is None else f"{r.metric} in [{r.lo:,}, {r.hi:,}]"
        if format == "csv":
            rows = [["on_budget", *c] for c in r.rows("on_budget")]
            rows += [["front", *c] for c in r.rows("front")]
            _emit(render_rows(["set", *SweepRow.header], rows, format))
            return
        _emit(
            render_rows(
                r.header,
                r.rows("on_budget"),
                format,
                f"on budget ({band}): {r.n_on_budget:,} of {r.evaluated:,} configurations, "
                f"best receptive field first",
                [
                    ("configurations evaluated", r.evaluated),
                    ("arithmetic", r.arithmetic),
                    ("shown", f"{len(r.on_budget)} of {r.n_on_budget:,} (--top)"),
                ],
            )
        )
        front = r.rows("front")
        note = ""
        if len(front) > top:  # an evenly spaced sample, both ends kept
            keep = sorted({round(i * (len(front) - 1) / max(top - 1, 1)) for i in range(top)})
            note = f"; {len(keep)} of {len(front)} shown, evenly spaced; csv and json list all"
            front = [front[i] for i in keep]
        _emit(
            render_rows(
                r.header,
                front,
                format,
                f"Pareto front: receptive field vs {r.metric} (configurations within budget{note})",
            )
        )

    @app.command("finetune")
    @_handles_errors
    def finetune_cmd(
        model: ModelArg,
        freeze: Annotated[
            str,
            typer.Option(
                "--freeze", help="Layers to freeze: a count (negative: from the end) or a name."
            ),
        ] = "0",
        optimizer: Annotated[str, typer.Option("--optimizer", help="sgd or adam.")] = "sgd",
        lr0: Annotated[
            str, typer.Option("--lr0", help="Learning rate of the last layer.")
        ] = "0.001",
        alpha: Annotated[str, typer.Option("--alpha", help="Decay per layer, in (0, 1].")] = "0.5",
        input: InputOpt = None,
        batch: BatchOpt = "1",
        dtype: DtypeOpt = "float32",
        head: HeadOpt = "fc",
        classes: ClassesOpt = None,
        format: FormatOpt = "table",
    ) -> None:
        """Fine-tuning with the first layers frozen: trainable params, memory, learning rates."""
        from ..design import finetune
        from .render import render_rows

        _check_format(format)
        r = finetune(
            model,
            freeze,
            optimizer=optimizer,
            lr0=lr0,
            alpha=alpha,
            input=input,
            batch=batch,
            dtype=dtype,
            head=head,
            classes=classes,
        )
        if format == "json":
            _emit(_out(r.to_dict(), format))
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
        if format == "csv":
            _emit(render_rows(r.memory_header, r.memory_rows(), format))
            _emit("")
            _emit(render_rows(r.header, r.rows(), format))
            return
        _emit(render_rows(r.memory_header, r.memory_rows(), format, mem_title, footer))
        _emit(render_rows(r.header, r.rows(), format, lr_title))

    @app.command("fcn")
    @_handles_errors
    def fcn_cmd(
        model: ModelArg,
        input: Annotated[
            str, typer.Option("--input", "-i", help="Image size: N, HxW or CxHxW.")
        ] = "512",
        window: Annotated[str, typer.Option("--window", help="Window: N or HxW.")] = "224",
        stride: Annotated[str, typer.Option("--stride", help="Window stride: N or HxW.")] = "32",
        batch: BatchOpt = "1",
        dtype: DtypeOpt = "float32",
        classes: ClassesOpt = None,
        format: FormatOpt = "table",
    ) -> None:
        """Sliding-window classification vs one pass of the fully convolutional model."""
        from ..design import fcn_cost
        from .render import render_rows

        _check_format(format)
        r = fcn_cost(model, input, window, stride, batch=batch, dtype=dtype, classes=classes)
        if format == "json":
            _emit(_out(r.to_dict(), format))
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
        _emit(render_rows(r.header, r.rows(), format, title, footer))

    @app.command("explain-cost")
    @_handles_errors
    def explain_cmd(
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
        format: FormatOpt = "table",
    ) -> None:
        """Passes, MACs and memory of saliency methods (gradient, IG, occlusion, CAM)."""
        from ..design import explain_cost
        from .render import render_rows

        _check_format(format)
        r = explain_cost(
            model,
            method,
            input=input,
            steps=steps,
            window=window,
            stride=stride,
            batch=batch,
            dtype=dtype,
            head=head,
            classes=classes,
        )
        if format == "json":
            _emit(_out(r.to_dict(), format))
            return
        title = (
            f"{r.model}: saliency cost, input {'x'.join(map(str, r.input_shape))}, "
            f"batch {r.batch}, {r.dtype}, head {r.head}"
        )
        footer = [("forward MACs", r.forward_macs), ("convention", r.convention)]
        _emit(render_rows(r.header, r.rows(), format, title, footer))


def _progress_bar() -> tuple[Any, Any]:
    """A rich progress bar on stderr for long sweeps; nothing when stderr is no terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "sweep",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
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
