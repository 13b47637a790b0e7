"""What every command shares: the error handler (one-line messages, exit 2), output to stdout
at the terminal's width or the natural width, and option checks."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer

from .._errors import ArchcalcError, OptionError, echo
from .flags import describe

__all__ = ["handles_errors", "emit", "check_format", "text_option", "resolve", "width", "NATURAL"]

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ArchcalcError as e:
            typer.echo(f"error: {describe(e)}", err=True)
            raise typer.Exit(e.exit_code) from None
        except (typer.Exit, KeyboardInterrupt):
            raise
        except SystemExit as e:  # model code (a factory) called sys.exit(): its failure, not ours
            model = kwargs.get("model")
            where = f"{echo(model)}: " if isinstance(model, str) else ""
            typer.echo(
                f"error: {where}the model's code called sys.exit({echo(e.code)}) while archcalc "
                "loaded it",
                err=True,
            )
            raise typer.Exit(2) from None
        except OSError as e:  # a file or environment condition: the path and the reason
            where = f"{echo(str(e.filename))}: " if e.filename is not None else ""
            typer.echo(f"error: {where}{e.strerror or type(e).__name__}", err=True)
            raise typer.Exit(2) from None
        except MemoryError:
            typer.echo("error: out of memory (try a smaller --input or --batch)", err=True)
            raise typer.Exit(2) from None
        except Exception as e:  # a bug of archcalc's: short message, details on request
            if os.environ.get("ARCHCALC_DEBUG"):
                raise
            text = " ".join(f"{type(e).__name__}: {e}".split())[:400]
            typer.echo(
                f"internal error: {text} (set ARCHCALC_DEBUG=1 for the traceback, and please "
                f"report it)",
                err=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def width() -> int | None:
    """The width to render at: $COLUMNS when set, the terminal's, or (when stdout is not a
    terminal) wide enough for any table: nothing is cut to fit an imaginary 80 columns."""
    cols = os.environ.get("COLUMNS", "")
    if cols.isascii() and cols.isdigit() and int(cols) > 0:
        return int(cols)
    if sys.stdout.isatty():
        return None
    return NATURAL


#: the width of output that is not a terminal: every table at its natural width
NATURAL = 100_000


def emit(obj: Any) -> None:
    if isinstance(obj, str):
        sys.stdout.write(obj if obj.endswith("\n") else obj + "\n")
        return
    if isinstance(obj, Iterator):  # pieces of text, written as they come (a long JSON)
        for piece in obj:
            sys.stdout.write(piece)
        return
    cols = width()
    if cols == NATURAL and hasattr(obj, "plain"):  # not a terminal: no need for rich
        sys.stdout.write(obj.plain())
        return
    from rich.console import Console

    Console(width=cols, soft_wrap=False, highlight=False).print(obj)


def check_format(fmt: Any) -> None:
    from .render import FORMATS

    if str(fmt) not in FORMATS:
        raise OptionError(argument="format", value=str(fmt), valid=FORMATS)


def text_option(value: str | None, argument: str) -> str | None:
    """Refuse digits Python reads but archcalc does not (superscripts, other scripts)."""
    if value is not None and any(c.isdigit() and not c.isascii() for c in value):
        raise OptionError(
            argument=argument,
            value=value,
            reason="write sizes with the digits 0-9 (superscripts and other scripts are not sizes)",
        )
    return value


def resolve(model: str, input: str | None, partial: bool) -> tuple[Any, list[dict[str, Any]]]:
    """The model for the library, and the gaps of ``--partial`` (each printed on stderr, one
    line: the operation, where it is called, why, what stands in). A ``file.py:factory`` is
    imported here; any other model is passed on as given (it has no gaps)."""
    if ".py:" not in str(model):
        return model, []
    import dataclasses

    from .._errors import UnsupportedError
    from ..load.resolve import resolve_model

    text_option(input, "input")
    try:
        r = resolve_model(model, input, partial=partial)
    except UnsupportedError as e:
        if e.text is None or "pass partial=True" not in e.text:
            raise
        raise UnsupportedError(e.text.replace("pass partial=True", "pass --partial")) from None
    for g in r.gaps:
        typer.echo(f"gap: {g}", err=True)
    return r.model, [dataclasses.asdict(g) for g in r.gaps]
