"""Turn results into tables, JSON, CSV or Markdown. Returns strings or rich renderables;
printing is the CLI's job."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from .._errors import OptionError
from ..summary import LayerRow, Summary, jsonable

__all__ = ["FORMATS", "COMMAND_COLUMNS", "fmt_num", "layer_table", "render_rows", "totals"]

FORMATS = ("table", "json", "csv", "markdown")


def fmt_num(x: Any, sep: bool = True) -> str:
    """An int with thousands separators; symbols and fractions as text."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}" if sep else str(x)
    if x is None:
        return "-"
    return str(jsonable(x))


def _shape(s: Sequence[Any]) -> str:
    return "x".join(fmt_num(d, sep=False) for d in s)


def _rf(row: LayerRow, what: str) -> str:
    rf = row.rf
    if rf is None:
        return "n/a"
    if rf.is_global:
        return "global"
    v = getattr(rf, what)
    a, b = (fmt_num(x, sep=False) for x in v)
    return a if a == b else f"{a}x{b}"


Column = tuple[str, Callable[[LayerRow], Any]]

_COLS: dict[str, Column] = {
    "index": ("#", lambda r: r.index),
    "name": ("layer", lambda r: r.name),
    "kind": ("kind", lambda r: r.kind),
    "shape": ("output", lambda r: _shape(r.output_shape)),
    "params": ("params", lambda r: r.params),
    "buffers": ("buffers", lambda r: r.buffers),
    "macs": ("MACs", lambda r: r.macs),
    "flops": ("FLOPs", lambda r: r.flops),
    "act": ("activations", lambda r: r.activation_elements),
    "act_bytes": ("bytes", lambda r: r.activation_bytes),
    "rf": ("RF", lambda r: _rf(r, "size")),
    "stride": ("stride", lambda r: _rf(r, "stride")),
    "offset": ("offset", lambda r: _rf(r, "offset")),
}

#: which per-layer columns each command shows
COMMAND_COLUMNS: dict[str, tuple[str, ...]] = {
    "params": ("index", "name", "kind", "shape", "params", "buffers"),
    "flops": ("index", "name", "kind", "shape", "macs", "flops"),
    "memory": ("index", "name", "kind", "shape", "act", "act_bytes"),
    "rf": ("index", "name", "kind", "shape", "rf", "stride", "offset"),
    "shapes": ("index", "name", "kind", "shape", "stride"),
    "summary": (
        "index",
        "name",
        "kind",
        "shape",
        "params",
        "macs",
        "flops",
        "act_bytes",
        "rf",
        "stride",
    ),
}


def layer_table(s: Summary, command: str) -> tuple[list[str], list[list[Any]]]:
    """Header and raw rows of the per-layer table of ``command``."""
    cols = [_COLS[c] for c in COMMAND_COLUMNS[command]]
    return [h for h, _ in cols], [[f(r) for _, f in cols] for r in s.layers]


def totals(s: Summary, command: str) -> list[tuple[str, Any]]:
    """The total lines shown under the table of ``command``."""
    m = s.memory
    rf = s.rf
    rf_line: Any
    if rf is None:
        rf_line = f"unavailable ({s.rf_gap})"
    elif rf.is_global:
        rf_line = "global"
    else:
        rf_line = (
            f"size {_pair(rf.size)}, stride {_pair(rf.stride)}, offset {_pair(rf.offset)}"
            f" at '{s.rf_layer}'"
            + ("" if rf.aligned else " (branches misaligned)")
            + (" + global context (SE)" if rf.global_context else "")
        )
    lines: dict[str, list[tuple[str, Any]]] = {
        "params": [
            ("params (trainable)", s.params),
            ("buffers (non-trainable)", s.buffers),
            (f"weights bytes ({s.dtype})", s.weights_bytes),
        ],
        "flops": [
            ("MACs (conv/linear multiply-accumulates)", s.macs),
            ("FLOPs (archcalc: 2·MACs + elementwise ops)", s.flops),
        ],
        "memory": [
            ("input bytes", m.input_bytes),
            ("activations bytes", m.activations_bytes),
            ("peak inference bytes", m.peak_inference_bytes),
            ("saved for backward bytes", m.saved_for_backward_bytes),
            (f"weights bytes ({s.dtype})", s.weights_bytes),
        ],
        "rf": [("receptive field", rf_line)],
        "shapes": [("output shape", _shape(s.output_shape)), ("receptive field", rf_line)],
    }
    lines["summary"] = lines["params"][:2] + lines["flops"] + lines["memory"][1:4] + lines["rf"]
    return lines[command]


def _pair(p: Sequence[Any]) -> str:
    a, b = (fmt_num(x, sep=False) for x in p)
    return a if a == b else f"{a}x{b}"


def _title(s: Summary) -> str:
    return (
        f"{s.model.name}  input {_shape(s.input_shape)}  batch {fmt_num(s.batch)}  "
        f"{s.dtype}  head {s.head}"
    )


def render_rows(
    header: list[str],
    rows: list[list[Any]],
    fmt: str,
    title: str = "",
    footer: Sequence[tuple[str, Any]] = (),
) -> Any:
    """A rich Table (``table``) or a string (``csv``/``markdown``)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([jsonable(v) for v in r])
        return buf.getvalue()
    if fmt == "markdown":
        out = [f"**{title}**", ""] if title else []
        out.append("| " + " | ".join(header) + " |")
        out.append(
            "|" + "|".join("---:" if _numeric(rows, i) else "---" for i in range(len(header))) + "|"
        )
        out += [
            "| " + " | ".join(fmt_num(v) if not isinstance(v, str) else v for v in r) + " |"
            for r in rows
        ]
        if footer:
            out.append("")
            out += [f"- {k}: **{fmt_num(v) if not isinstance(v, str) else v}**" for k, v in footer]
        return "\n".join(out) + "\n"
    if fmt == "table":
        from rich.table import Table

        t = Table(title=title or None, caption=None, show_lines=False)
        for i, h in enumerate(header):
            t.add_column(h, justify="right" if _numeric(rows, i) else "left")
        for r in rows:
            t.add_row(*[fmt_num(v) if not isinstance(v, str) else v for v in r])
        if footer:
            from rich.console import Group
            from rich.text import Text

            lines = [
                Text.assemble((f"{k}: ", "bold"), fmt_num(v) if not isinstance(v, str) else v)
                for k, v in footer
            ]
            return Group(t, *lines)
        return t
    raise OptionError(f"--format = {fmt!r}: must be one of {', '.join(FORMATS)}")


def _numeric(rows: list[list[Any]], i: int) -> bool:
    return bool(rows) and all(not isinstance(r[i], str) for r in rows)


def render_summary(
    s: Summary,
    command: str,
    fmt: str,
    extra: Sequence[tuple[str, Any]] = (),
    extra_json: dict[str, Any] | None = None,
) -> Any:
    """Render one command's view of a summary."""
    if fmt == "json":
        d = s.to_dict()
        if extra_json:
            d.update(jsonable(extra_json))
        return json.dumps(d, indent=2)
    header, rows = layer_table(s, command)
    return render_rows(header, rows, fmt, _title(s), [*totals(s, command), *extra])
