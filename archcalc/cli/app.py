"""The command line: a thin Typer app over the library.

Every command returns through :func:`_emit`; every archcalc error becomes a one-line
message on stderr and exit code 2 (no traceback).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from .._errors import ArchcalcError

app = typer.Typer(
    name="archcalc",
    help="Exact CNN cost and receptive fields: params, MACs/FLOPs, memory, shapes, RF.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])

ModelArg = Annotated[
    str,
    typer.Argument(
        help="A zoo name (see `archcalc models`) or a spec file (.yaml/.yml/.toml/.json)."
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option(
        "--input",
        "-i",
        help="CxHxW or HxW (e.g. 3x224x224, 224x224, 224); letters make a size symbolic (HxW).",
    ),
]
BatchOpt = Annotated[str, typer.Option("--batch", "-b", help="Batch size (or a symbol name).")]
DtypeOpt = Annotated[
    str,
    typer.Option(
        "--dtype", help="Activation/weight dtype: float32, float16, bfloat16, float64, int8."
    ),
]
HeadOpt = Annotated[
    str,
    typer.Option(
        "--head",
        help="fc (the model's own), gap (global average "
        "pooling + one Linear), conv (fully convolutional).",
    ),
]
ClassesOpt = Annotated[int | None, typer.Option("--classes", help="Number of classes of the head.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or markdown.")]
ConventionOpt = Annotated[
    str,
    typer.Option(
        "--convention",
        help="How FLOPs are counted: archcalc, "
        "fvcore, flopcounter, torchvision, ptflops, thop, "
        "torchinfo (docs/conventions.md).",
    ),
]


def _handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ArchcalcError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except (typer.Exit, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug of archcalc's: short message, details on request
            if os.environ.get("ARCHCALC_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(e).__name__}: {e} (set ARCHCALC_DEBUG=1 for the "
                f"traceback, and please report it)",
                err=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _emit(obj: Any) -> None:
    if isinstance(obj, str):
        sys.stdout.write(obj if obj.endswith("\n") else obj + "\n")
        return
    from rich.console import Console

    Console().print(obj)


def _summary(
    model: str,
    input: str | None,
    batch: str,
    dtype: str,
    head: str,
    classes: int | None,
    convention: str = "archcalc",
) -> Any:
    from ..summary import summary

    return summary(
        model,
        input=input,
        batch=batch,
        dtype=dtype,
        head=head,
        classes=classes,
        convention=convention,
    )


def _check_format(fmt: str) -> None:
    from .._errors import OptionError
    from .render import FORMATS

    if fmt not in FORMATS:
        raise OptionError(f"--format = {fmt!r}: must be one of {', '.join(FORMATS)}")


def _quantity_command(command: str, doc: str) -> None:
    @_handles_errors
    def cmd(
        model: ModelArg,
        input: InputOpt = None,
        batch: BatchOpt = "1",
        dtype: DtypeOpt = "float32",
        head: HeadOpt = "fc",
        classes: ClassesOpt = None,
        format: FormatOpt = "table",
        convention: ConventionOpt = "archcalc",
    ) -> None:
        from .render import render_summary

        _check_format(format)
        s = _summary(model, input, batch, dtype, head, classes, convention)
        extra: list[tuple[str, Any]] = []
        extra_json: dict[str, Any] = {}
        if command == "params" and head != "fc":
            fc = _summary(model, input, batch, dtype, "fc", classes)
            saving = fc.params - s.params
            extra = [("params with --head fc", fc.params), ("saving against --head fc", saving)]
            extra_json = {"params_head_fc": fc.params, "saving_vs_fc": saving}
        _emit(render_summary(s, command, format, extra, extra_json))

    cmd.__doc__ = doc
    app.command(command)(cmd)


_quantity_command("summary", "Every figure: params, MACs, FLOPs, memory and receptive field.")
_quantity_command("params", "Parameters per layer and in total (and the saving of a head).")
_quantity_command("flops", "MACs and FLOPs per layer and in total (archcalc convention).")
_quantity_command("memory", "Activation memory: outputs, inference peak, saved for backward.")
_quantity_command("rf", "Receptive field size, effective stride and offset of every layer.")
_quantity_command("shapes", "Output shapes and the stride schedule.")


@app.command("models")
@_handles_errors
def models(format: FormatOpt = "table") -> None:
    """List the zoo with parameter counts and MACs at its default input."""
    from .. import zoo
    from ..summary import summary
    from .render import render_rows

    _check_format(format)
    rows = []
    for name in zoo.names():
        s = summary(name)
        rows.append(
            [name, "x".join(map(str, s.input_shape)), s.params, s.macs, s.model.description]
        )
    header = ["model", "input", "params", "MACs", "description"]
    if format == "json":
        import json

        _emit(json.dumps([dict(zip(header, r)) for r in rows], indent=2))
        return
    _emit(render_rows(header, rows, format, "archcalc zoo"))


@app.command("docs")
@_handles_errors
def docs(
    out_dir: Annotated[str, typer.Argument(help="Where to write (default docs/).")] = "docs",
    plots: Annotated[
        bool, typer.Option("--plots", help="Also draw SVG plots (matplotlib).")
    ] = False,
) -> None:
    """Regenerate the documentation pages (zoo index, one page per model, CLI reference, exam)."""
    from .docsgen import write

    paths = write(out_dir, plots)
    _emit(f"wrote {len(paths)} files under {out_dir}")


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
    format: FormatOpt = "table",
) -> None:
    """Build the model in torch and compare every figure (needs the torch extra)."""
    _check_format(format)
    try:
        import torch  # noqa: F401
    except ImportError:
        from .._errors import OptionError

        raise OptionError("archcalc check needs torch: pip install 'archcalc[torch]'") from None
    from ..torch.check import check
    from .render import render_rows

    r = check(model, input, batch, rf=rf)
    if format == "json":
        import json

        _emit(json.dumps(r.to_dict(), indent=2))
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
                format,
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

    _cli_design.register(app)
    _cli_exam.register(app)


_register_extensions()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
