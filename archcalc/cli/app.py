"""The command line: a thin Typer app over the library.

Every command returns through :func:`_emit`; every archcalc error becomes a one-line
message on stderr and exit code 2 (no traceback).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import typer

from .._errors import MissingDependencyError, OptionError
from ..report import with_units
from ._coerce import install as _install_coercion
from .common import emit as _emit
from .common import handles_errors as _handles_errors
from .common import resolve as _resolve
from .common import text_option as _text_option
from .options import (
    BatchOpt,
    ClassesOpt,
    ConventionOpt,
    DepthOpt,
    DtypeOpt,
    FormatOpt,
    HeadOpt,
    InputOpt,
    ModelArg,
    PartialOpt,
    TableFormatOpt,
    UnitsOpt,
)

__all__ = [
    "app",
    "main",
    "BatchOpt",
    "ClassesOpt",
    "ConventionOpt",
    "DtypeOpt",
    "FormatOpt",
    "HeadOpt",
    "InputOpt",
    "ModelArg",
]

_install_coercion()

app = typer.Typer(
    name="archcalc",
    help="Exact CNN cost and receptive fields: params, MACs/FLOPs, memory, shapes, RF.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"archcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Exact CNN cost and receptive fields: params, MACs/FLOPs, memory, shapes, RF."""


def _summary(
    model: Any,
    input: str | None = None,
    batch: str = "1",
    dtype: Any = "float32",
    head: Any = "fc",
    classes: int | None = None,
    convention: Any = "archcalc",
) -> Any:
    from ..summary import summary

    _text_option(input, "input")
    _text_option(batch, "batch")
    return summary(
        model,
        input=input,
        batch=batch,
        dtype=str(dtype),
        head=str(head),
        classes=classes,
        convention=str(convention),
    )


def _show(
    command: str,
    model: str,
    *,
    input: str | None,
    batch: str = "1",
    dtype: Any = "float32",
    head: Any = "fc",
    classes: int | None = None,
    convention: Any = "archcalc",
    format: Any = "table",
    units: Any = "si",
    depth: int | None = None,
    partial: bool = False,
) -> None:
    from .render import render_summary

    model, gaps = _resolve(model, input, partial)
    s = _summary(model, input, batch, dtype, head, classes, convention)
    extra: list[tuple[str, Any]] = []
    extra_json: dict[str, Any] = {"gaps": gaps} if partial else {}
    if command == "params" and str(head) != "fc":
        fc = _summary(model, input, batch, dtype, "fc", classes)
        saving = fc.params - s.params
        extra = [("params with --head fc", fc.params), ("saving against --head fc", saving)]
        extra_json.update(params_head_fc=fc.params, saving_vs_fc=saving)
    _emit(render_summary(s, command, str(format), extra, extra_json, depth, str(units)))


@app.command("summary")
@_handles_errors
def summary_cmd(
    model: ModelArg,
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    convention: ConventionOpt = "archcalc",
    format: FormatOpt = "table",
    units: UnitsOpt = "si",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
) -> None:
    """Every figure: params, MACs, FLOPs, memory and receptive field."""
    _show(
        "summary",
        model,
        input=input,
        batch=batch,
        dtype=dtype,
        head=head,
        classes=classes,
        convention=convention,
        format=format,
        units=units,
        depth=depth,
        partial=partial,
    )


@app.command("params")
@_handles_errors
def params_cmd(
    model: ModelArg,
    input: InputOpt = None,
    dtype: DtypeOpt = "float32",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: FormatOpt = "table",
    units: UnitsOpt = "si",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
) -> None:
    """Parameters per layer and in total (and the saving of a head)."""
    _show(
        "params",
        model,
        input=input,
        dtype=dtype,
        head=head,
        classes=classes,
        format=format,
        units=units,
        depth=depth,
        partial=partial,
    )


@app.command("flops")
@_handles_errors
def flops_cmd(
    model: ModelArg,
    input: InputOpt = None,
    batch: BatchOpt = "1",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    convention: ConventionOpt = "archcalc",
    format: FormatOpt = "table",
    units: UnitsOpt = "si",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
) -> None:
    """MACs and FLOPs per layer and in total (under --convention)."""
    _show(
        "flops",
        model,
        input=input,
        batch=batch,
        head=head,
        classes=classes,
        convention=convention,
        format=format,
        units=units,
        depth=depth,
        partial=partial,
    )


@app.command("memory")
@_handles_errors
def memory_cmd(
    model: ModelArg,
    input: InputOpt = None,
    batch: BatchOpt = "1",
    dtype: DtypeOpt = "float32",
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: FormatOpt = "table",
    units: UnitsOpt = "si",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
    saved: Annotated[
        bool,
        typer.Option(
            "--saved",
            help="One row per tensor autograd keeps for backward (layer, kind, tensor, "
            "elements, bytes); the bytes add up to 'saved for backward bytes'.",
        ),
    ] = False,
) -> None:
    """Activation memory: outputs, inference peak, saved for backward, a size block."""
    if saved:
        from .render import render_saved

        if depth is not None:
            raise OptionError(
                argument="depth", value=depth, reason="--saved lists tensors one by one: drop it"
            )
        resolved, gaps = _resolve(model, input, partial)
        s = _summary(resolved, input, batch, dtype, head, classes)
        _emit(render_saved(s, str(format), str(units), {"gaps": gaps} if partial else None))
        return
    _show(
        "memory",
        model,
        input=input,
        batch=batch,
        dtype=dtype,
        head=head,
        classes=classes,
        format=format,
        units=units,
        depth=depth,
        partial=partial,
    )


@app.command("rf")
@_handles_errors
def rf_cmd(
    model: ModelArg,
    input: InputOpt = None,
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: FormatOpt = "table",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
) -> None:
    """Receptive field size, effective stride and offset of every layer."""
    _show(
        "rf",
        model,
        input=input,
        head=head,
        classes=classes,
        format=format,
        depth=depth,
        partial=partial,
    )


@app.command("shapes")
@_handles_errors
def shapes_cmd(
    model: ModelArg,
    input: InputOpt = None,
    head: HeadOpt = "fc",
    classes: ClassesOpt = None,
    format: FormatOpt = "table",
    depth: DepthOpt = None,
    partial: PartialOpt = False,
) -> None:
    """Output shapes and the stride schedule."""
    _show(
        "shapes",
        model,
        input=input,
        head=head,
        classes=classes,
        format=format,
        depth=depth,
        partial=partial,
    )


@app.command("compare")
@_handles_errors
def compare_cmd(
    models: Annotated[
        list[str],
        typer.Argument(help="Models to compare (zoo names, spec files, file.py:factory)."),
    ],
    input: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="An input size; repeat to compare sizes."),
    ] = None,
    batch: BatchOpt = "1",
    dtype: Annotated[
        list[str] | None,
        typer.Option("--dtype", help="A dtype; repeat to compare dtypes."),
    ] = None,
    head: Annotated[
        list[str] | None,
        typer.Option("--head", help="A head (fc, gap, conv); repeat to compare heads."),
    ] = None,
    classes: ClassesOpt = None,
    convention: ConventionOpt = "archcalc",
    format: TableFormatOpt = "table",
    units: UnitsOpt = "si",
    partial: PartialOpt = False,
) -> None:
    """Models side by side, or one model across --head, --input or --dtype variants, with the
    ratio of every figure to the first."""
    import itertools

    from ..engine.heads import HEADS
    from ..engine.memory import DTYPES
    from ..report import COMPARED, compare
    from .render import render_rows

    inputs: list[str | None] = list(input) if input else [None]
    dtypes = list(dtype) if dtype else ["float32"]
    heads = list(head) if head else ["fc"]
    for d in dtypes:
        if d not in DTYPES:
            raise OptionError(argument="dtype", value=d, valid=DTYPES)
    for h in heads:
        if h not in HEADS:
            raise OptionError(argument="head", value=h, valid=HEADS)
    combos = list(itertools.product(models, inputs, dtypes, heads))
    if len(combos) > 64:
        raise OptionError(
            argument="models", value=len(combos), reason="at most 64 variants to compare"
        )
    sums, labels = [], []
    resolved: dict[tuple[str, str | None], Any] = {}
    gaps: list[dict[str, Any]] = []
    for m, i, d, h in combos:
        if (m, i) not in resolved:
            resolved[m, i], found = _resolve(m, i, partial)
            gaps += [{"model": m, "input": i, **g} for g in found]
        sums.append(_summary(resolved[m, i], i, batch, d, h, classes, convention))
        parts = [m] if len(models) > 1 else []
        if len(inputs) > 1:
            parts.append(f"input {i}")
        if len(dtypes) > 1:
            parts.append(d)
        if len(heads) > 1:
            parts.append(f"head {h}")
        labels.append(" ".join(parts) or m)
    c = compare(sums, labels)
    fmt = str(format)
    if fmt == "json":
        import json

        _emit(json.dumps({**c.to_dict(), **({"gaps": gaps} if partial else {})}, indent=2))
        return
    rows: list[list[Any]] = []
    for key, unit in COMPARED:
        row: list[Any] = [key.replace("_", " ")]
        for k, f in enumerate(c.figures):
            v = f[key]
            if fmt in ("csv",):
                row.append(v)
                continue
            cell = with_units(v, unit, str(units))
            r = c.ratios[k][key]
            if k > 0 and r is not None:
                cell += f" ({r:.2f}x)"
            row.append(cell)
        rows.append(row)
    rf_row: list[Any] = ["receptive field"]
    for s in sums:
        rf = s.rf
        rf_row.append(
            "n/a" if rf is None else "global" if rf.is_global else "x".join(map(str, rf.size))
        )
    rows.append(rf_row)
    title = f"compare (ratios to {labels[0]}); convention {convention}; batch {batch}"
    _emit(render_rows(["figure", *labels], rows, fmt, title, units=str(units)))


@app.command("models")
@_handles_errors
def models(format: TableFormatOpt = "table") -> None:
    """List the zoo with parameter counts and MACs at its default input."""
    from .. import zoo
    from ..summary import summary
    from .render import render_rows

    rows = []
    for name in zoo.names():
        s = summary(name)
        rows.append(
            [name, "x".join(map(str, s.input_shape)), s.params, s.macs, s.model.description]
        )
    header = ["model", "input", "params", "MACs", "description"]
    if str(format) == "json":
        import json

        _emit(json.dumps([dict(zip(header, r)) for r in rows], indent=2))
        return
    _emit(render_rows(header, rows, str(format), "archcalc zoo"))


@app.command("docs")
@_handles_errors
def docs(
    out_dir: Annotated[
        str | None,
        typer.Argument(
            help="Where to write. Default: the docs/ folder of the archcalc project when run "
            "from inside it (otherwise OUT_DIR is required)."
        ),
    ] = None,
    plots: Annotated[
        bool, typer.Option("--plots", help="Also draw SVG plots (matplotlib).")
    ] = False,
) -> None:
    """Regenerate the documentation pages (zoo index, one page per model, CLI reference, exam)."""
    from .docsgen import default_target, write

    target = default_target() if out_dir is None else out_dir
    with _progress("docs") as progress:
        paths = write(app, target, plots, progress=progress)
    _emit(f"wrote {len(paths)} files under {target}")


@contextlib.contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, or ``None`` when stderr is not a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        what,
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command("check")
@_handles_errors
def check_cmd(
    model: ModelArg,
    input: InputOpt = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="Batch size.")] = 1,
    rf: Annotated[
        bool,
        typer.Option(
            "--rf/--no-rf", help="Check receptive fields by gradient (slow on big inputs)."
        ),
    ] = True,
    format: TableFormatOpt = "table",
    partial: PartialOpt = False,
) -> None:
    """Build the model in torch and compare every figure (needs the torch extra)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise MissingDependencyError(package="torch", extra="torch", needed_for="archcalc check")
    _text_option(input, "input")
    from ..torch.check import check
    from .render import render_rows

    target, gaps = _resolve(model, input, partial)
    with _progress("check") as progress:
        if progress is not None:
            progress(0, 0)
        r = check(target, input, batch, rf=rf)
    if str(format) == "json":
        import json

        _emit(json.dumps({**r.to_dict(), **({"gaps": gaps} if partial else {})}, indent=2))
    else:
        rows = [
            [
                x.check,
                x.layer,
                _cell(x.archcalc),
                _cell(x.torch),
                {True: "ok", False: "MISMATCH", None: "not checked"}[x.ok],
                x.note,
            ]
            for x in r.rows
        ]
        _emit(
            render_rows(
                ["check", "where", "archcalc", "torch", "verdict", "note"],
                rows,
                str(format),
                f"{r.model}  input {'x'.join(map(str, r.input_shape))}  batch {r.batch}",
                [("mismatches", len(r.mismatches))],
            )
        )
    if r.mismatches:
        raise typer.Exit(1)


def _cell(v: Any) -> str:
    from .render import fmt_num

    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_num(x, sep=False) for x in v) + ")"
    return fmt_num(v) if not isinstance(v, str) else v


def _register_extensions() -> None:
    from . import design as _cli_design
    from . import exam as _cli_exam
    from . import train as _cli_train

    _cli_design.register(app)
    _cli_exam.register(app)
    _cli_train.register(app)


_register_extensions()


def main() -> None:
    """Console-script entry point."""
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # archcalc prints its own exact integers, however long
    command = typer.main.get_command(app)
    try:
        rc = command.main(standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # a usage error of the parser (Click's): one line, exit 2
        exit_code = getattr(e, "exit_code", None)
        fmt = getattr(e, "format_message", None)
        if exit_code is None or fmt is None:
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `archcalc` alone: the help, as Click shows it
            typer.echo(fmt(), err=True)
            sys.exit(exit_code)
        ctx = getattr(e, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        text = " ".join(fmt().split())
        typer.echo(f"error: {where}{text[:400]} (see --help)", err=True)
        sys.exit(exit_code)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
