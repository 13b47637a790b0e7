"""Options shared by the commands: choices as enums (listed in --help, validated, completed by
the shell), and the Annotated types each command picks from (a command offers only what it
uses)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..conventions import CONVENTIONS
from ..engine.heads import HEADS
from ..engine.memory import DTYPES
from ..report import UNITS

__all__ = [
    "Format",
    "Dtype",
    "Head",
    "Convention",
    "Units",
    "ModelArg",
    "InputOpt",
    "BatchOpt",
    "DtypeOpt",
    "HeadOpt",
    "ClassesOpt",
    "FormatOpt",
    "ConventionOpt",
    "UnitsOpt",
    "DepthOpt",
    "TableFormatOpt",
    "PartialOpt",
]


class Choice(str, Enum):
    """A choice that prints as its value (``str(Dtype.float32) == "float32"``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


def _choices(name: str, values: Any) -> Any:
    return Choice(name, {str(v): str(v) for v in values})  # type: ignore[call-overload]


if TYPE_CHECKING:  # built from the library's lists at run time; a Choice is a str
    Format = str
    TableFormat = str
    Dtype = str
    Head = str
    Convention = str
    Units = str
else:
    #: output formats of the per-layer commands
    Format = _choices("Format", ("table", "tree", "json", "csv", "markdown", "latex", "html"))
    #: output formats of the other commands (no per-layer tree, LaTeX or HTML)
    TableFormat = _choices("TableFormat", ("table", "json", "csv", "markdown"))
    Dtype = _choices("Dtype", DTYPES)
    Head = _choices("Head", HEADS)
    Convention = _choices("Convention", CONVENTIONS)
    Units = _choices("Units", UNITS)

ModelArg = Annotated[
    str,
    typer.Argument(
        help="A zoo name (see `archcalc models`), a spec file (.yaml/.yml/.toml/.json) or "
        "file.py:factory (a torch model, needs the torch extra)."
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
DtypeOpt = Annotated[Dtype, typer.Option("--dtype", help="Activation and weight dtype.")]
HeadOpt = Annotated[
    Head,
    typer.Option(
        "--head",
        help="fc (the model's own), gap (global average pooling + one Linear), conv (fully "
        "convolutional).",
    ),
]
ClassesOpt = Annotated[int | None, typer.Option("--classes", help="Number of classes of the head.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
TableFormatOpt = Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]
ConventionOpt = Annotated[
    Convention,
    typer.Option("--convention", help="How FLOPs are counted (docs/conventions.md)."),
]
UnitsOpt = Annotated[
    Units,
    typer.Option(
        "--units",
        help="Readable figures beside the exact integers: si (4.09 G, 102.8 MB), iec (bytes "
        "in KiB/MiB/GiB) or exact (integers only). JSON and CSV are always exact.",
    ),
]
DepthOpt = Annotated[
    int | None,
    typer.Option(
        "--depth",
        "-d",
        min=1,
        help="Group layers by the first N parts of their dotted names (layer1, layer1.0, ...) "
        "with subtotals and % of the total.",
    ),
]
PartialOpt = Annotated[
    bool,
    typer.Option(
        "--partial",
        help="For a file.py:factory model: torch operations archcalc cannot map become gaps "
        "(an Identity placeholder, or the model ends before them) instead of an error; each "
        "gap is printed on stderr (operation, module path, source line) and listed under "
        "'gaps' in JSON.",
    ),
]
