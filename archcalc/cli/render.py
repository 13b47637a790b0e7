"""Turn results into tables, trees, JSON, CSV, Markdown, LaTeX or HTML. Returns strings, rich
renderables or (a summary as JSON) an iterator of pieces of text; printing is the CLI's job
(:func:`archcalc.cli.common.emit`).

Tables never drop a character: every cell is plain text (names are never read as rich
markup), columns fold instead of cutting with an ellipsis, and a table wider than the
terminal is laid out in pages of columns, each repeating the row's index and name.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .._errors import OptionError
from ..display import escape_markdown, fmt_int, table, title
from ..report import convention_label, group_layers, layer_tree, size_block, with_units
from ..summary import Summary, jsonable

__all__ = [
    "FORMATS",
    "fmt_num",
    "layer_table",
    "render_rows",
    "render_saved",
    "render_summary",
    "totals",
    "TableView",
]

FORMATS = ("table", "tree", "json", "csv", "markdown", "latex", "html")


def fmt_num(x: Any, sep: bool = True) -> str:
    """An int with thousands separators; symbols and fractions as text."""
    return fmt_int(x, sep)


def layer_table(
    s: Summary, command: str, depth: int | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Header and raw rows of the per-layer (or, at ``depth``, per-module) table of ``command``."""
    return table(s, command, depth)


def _unit(label: str) -> str:
    low = label.lower()
    if "bytes" in low or low.startswith(("input", "weights", "activations", "peak", "saved")):
        return "B"
    if low.startswith("macs"):
        return "MACs"
    if low.startswith("flops"):
        return "FLOPs"
    return ""


def totals(s: Summary, command: str) -> list[tuple[str, Any]]:
    """The total lines shown under the table of ``command``; each FLOP figure names its
    convention, byte figures say so."""
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
            + (
                f" ({_pair(rf.phases)} window phases: offset of phase 0, largest size; "
                f"every phase in the JSON's per_phase)"
                if rf.per_phase is not None
                else ""
            )
        )
    flops = (f"FLOPs ({convention_label(s.convention)})", s.flops)
    sizes = size_block(s)
    lines: dict[str, list[tuple[str, Any]]] = {
        "params": [
            ("params (trainable)", s.params),
            ("buffers (non-trainable)", s.buffers),
            (f"weights bytes ({s.dtype})", s.weights_bytes),
        ],
        "flops": [("MACs (conv/linear multiply-accumulates)", s.macs), flops],
        "memory": sizes,
        "rf": [("receptive field", rf_line)],
        "shapes": [("output shape", _shape(s.output_shape)), ("receptive field", rf_line)],
    }
    lines["summary"] = lines["params"][:2] + lines["flops"] + sizes + [("receptive field", rf_line)]
    return lines[command]


def _shape(s: Sequence[Any]) -> str:
    return "x".join(fmt_num(d, sep=False) for d in s)


def _pair(p: Sequence[Any]) -> str:
    a, b = (fmt_num(x, sep=False) for x in p)
    return a if a == b else f"{a}x{b}"


def _cell(v: Any) -> str:
    return v if isinstance(v, str) else fmt_num(v)


def _footer_value(label: str, v: Any, units: str) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return with_units(v, _unit(label), units)
    return _cell(v)


@dataclass
class TableView:
    """A table that lays itself out in the width rich gives it: one table when it fits,
    otherwise pages of columns that repeat the first ``keys`` columns; cells fold, never cut."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    title: str = ""
    footer: list[tuple[str, str]] = field(default_factory=list)
    keys: int = 1

    def _widths(self) -> list[int]:
        return [
            max([len(h), *(max(map(len, r[i].split("\n") or [""])) for r in self.rows)])
            for i, h in enumerate(self.header)
        ]

    def natural_width(self) -> int:
        """Width of the whole table on one page (rich's box: 3 characters per column + 1)."""
        return sum(w + 3 for w in self._widths()) + 1

    def _pages(self, width: int) -> list[list[int]]:
        widths = self._widths()
        keys = list(range(min(self.keys, len(widths))))
        base = sum(widths[i] + 3 for i in keys) + 1
        pages: list[list[int]] = []
        page: list[int] = []
        used = base
        for i in range(len(keys), len(widths)):
            if page and used + widths[i] + 3 > width:
                pages.append(keys + page)
                page, used = [], base
            page.append(i)
            used += widths[i] + 3
        if page or not pages:
            pages.append(keys + page)
        return pages

    def _table(self, cols: list[int], caption: str | None) -> Any:
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(self.title) if self.title else None, caption=caption)
        for i in cols:
            t.add_column(
                Text(self.header[i]),
                justify="right" if self.numeric[i] else "left",
                overflow="fold",
            )
        for r in self.rows:
            t.add_row(*[Text(r[i]) for i in cols])
        return t

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        width = options.max_width
        pages = [list(range(len(self.header)))]
        if self.natural_width() > width:
            pages = self._pages(width)
        for k, cols in enumerate(pages):
            caption = f"columns {k + 1} of {len(pages)}" if len(pages) > 1 else None
            yield self._table(cols, caption)
        for label, value in self.footer:
            yield Text.assemble((f"{label}: ", "bold"), value, overflow="fold")

    def plain(self) -> str:
        """The whole table at its natural width, drawn as rich draws it (heavy head box), as
        text: for output that is not a terminal (no rich import, nothing to fit)."""
        widths = self._widths()

        def line(left: str, fill: str, mid: str, right: str) -> str:
            return left + mid.join(fill * (w + 2) for w in widths) + right

        def row(cells: list[str], bar: str) -> str:
            out = []
            for c, w, num in zip(cells, widths, self.numeric):
                out.append(" " + (c.rjust(w) if num else c.ljust(w)) + " ")
            return bar + bar.join(out) + bar

        lines = []
        if self.title:
            lines.append(self.title.center(sum(w + 3 for w in widths) + 1).rstrip())
        lines.append(line("┏", "━", "┳", "┓"))
        head = row(self.header, "┃")
        # header cells follow their column's alignment, as rich does
        lines.append(head)
        lines.append(line("┡", "━", "╇", "┩"))
        lines += [row(r, "│") for r in self.rows]
        lines.append(line("└", "─", "┴", "┘"))
        lines += [f"{label}: {value}" for label, value in self.footer]
        return "\n".join(lines) + "\n"

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        w = min(self.natural_width(), options.max_width)
        return Measurement(min(w, 20), w)


def render_rows(
    header: list[str],
    rows: list[list[Any]],
    fmt: str,
    title: str = "",
    footer: Sequence[tuple[str, Any]] = (),
    units: str = "si",
    markdown_cells: bool = False,
) -> Any:
    """A :class:`TableView` (``table``) or a string (``csv``/``markdown``). Markdown cells are
    escaped unless ``markdown_cells`` says they are Markdown already (the docs' links)."""
    fmt = str(fmt)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([jsonable(v) for v in r])
        return buf.getvalue()
    if fmt == "markdown":
        out = [f"**{escape_markdown(title)}**", ""] if title else []
        out.append("| " + " | ".join(escape_markdown(h) for h in header) + " |")
        out.append(
            "|" + "|".join("---:" if _numeric(rows, i) else "---" for i in range(len(header))) + "|"
        )
        esc = (lambda t: t) if markdown_cells else escape_markdown
        out += ["| " + " | ".join(esc(_cell(v)) for v in r) + " |" for r in rows]
        if footer:
            out.append("")
            out += [
                f"- {escape_markdown(k)}: **{escape_markdown(_footer_value(k, v, units))}**"
                for k, v in footer
            ]
        return "\n".join(out) + "\n"
    if fmt == "table":
        keys = 2 if header[:2] in (["#", "layer"], ["check", "where"]) else 1
        return TableView(
            list(header),
            [[_cell(v) for v in r] for r in rows],
            [_numeric(rows, i) for i in range(len(header))],
            title,
            [(k, _footer_value(k, v, units)) for k, v in footer],
            keys=keys,
        )
    raise OptionError(argument="format", value=fmt, valid=("table", "csv", "markdown"))


def _numeric(rows: list[list[Any]], i: int) -> bool:
    return bool(rows) and all(not isinstance(r[i], str) for r in rows)


def _tree(s: Summary, depth: int | None, units: str) -> Any:
    from rich.text import Text
    from rich.tree import Tree

    def label(n: Any) -> Text:
        figures = (
            f"params {with_units(n.params, '', units)}, MACs {with_units(n.macs, 'MACs', units)}"
            f", activations {with_units(n.activation_bytes, 'B', units)}"
        )
        kind = f" ({n.kind})" if n.kind != "block" else f" [{n.layers} layers]"
        return Text.assemble((n.name, "bold"), kind, "  ", figures, overflow="fold")

    root = layer_tree(s, depth)
    top = Tree(label(root))

    def add(parent: Any, node: Any) -> None:
        for c in node.children:
            add(parent.add(label(c)), c)

    add(top, root)
    from rich.console import Group

    return Group(Text(title(s), overflow="fold"), top)


#: layers joined into one piece of the JSON output
_JSON_BATCH = 4096


def _dump_json(d: dict[str, Any], layers: Iterable[str]) -> Iterator[str]:
    """``d`` as indented JSON with a last key ``layers`` whose entries (JSON text) are one per
    line, in pieces of text to write one after the other (a 200,000-layer model is 60 MB of
    JSON: never held whole): ``indent`` on the whole would take json's pure-Python encoder
    (about 10x slower) and a list of every layer's dict. ``d`` is encoded here, the layers
    as the pieces are written."""
    head = json.dumps(d, indent=2)[:-2]
    return _json_pieces(head, iter(layers))


def _json_pieces(head: str, layers: Iterator[str]) -> Iterator[str]:
    rows = list(islice(layers, _JSON_BATCH))
    if not rows:
        yield f'{head},\n  "layers": []\n}}\n'
        return
    yield f'{head},\n  "layers": [\n    '
    while rows:
        yield ",\n    ".join(rows)
        rows = list(islice(layers, _JSON_BATCH))
        if rows:
            yield ",\n    "
    yield "\n  ]\n}\n"


#: the formats of ``memory --saved``
SAVED_FORMATS = ("table", "json", "csv", "markdown")


def render_saved(
    s: Summary, fmt: str, units: str = "si", extra_json: dict[str, Any] | None = None
) -> Any:
    """``memory --saved``: one row per tensor autograd keeps (layer, kind, tensor, elements,
    bytes) and their total, ``saved_for_backward_bytes``; JSON adds the list to the memory
    view as ``saved_tensors``."""
    fmt = str(fmt)
    if fmt not in SAVED_FORMATS:
        raise OptionError(
            argument="format", value=fmt, reason="--saved lists rows", valid=SAVED_FORMATS
        )
    tensors = s.saved_tensors()
    total = s.memory.saved_for_backward_bytes
    if fmt == "json":
        d = s.to_dict(layers=False)
        d["saved_tensors"] = [t._asdict() for t in tensors]
        if extra_json:
            d.update(extra_json)
        return json.dumps(jsonable(d), indent=2)
    rows = [
        [
            t.layer,
            t.kind,
            t.tensor if t.kept_by is None else f"{t.tensor}, already kept by {t.kept_by}",
            t.elements,
            t.bytes,
        ]
        for t in tensors
    ]
    return render_rows(
        ["layer", "kind", "tensor", "elements", "bytes"],
        rows,
        fmt,
        f"{title(s)}  (tensors saved for backward)",
        [("saved for backward bytes", total)],
        units,
    )


def render_summary(
    s: Summary,
    command: str,
    fmt: str,
    extra: Sequence[tuple[str, Any]] = (),
    extra_json: dict[str, Any] | None = None,
    depth: int | None = None,
    units: str = "si",
) -> Any:
    """Render one command's view of a summary (grouped by module path at ``depth``)."""
    fmt = str(fmt)
    if fmt == "json":
        d = s.to_dict(layers=False)
        layers = s.layer_json()
        if depth is not None:
            d["depth"] = depth
            layers = (json.dumps(g.to_dict()) for g in group_layers(s, depth))
        if extra_json:
            d.update(jsonable(extra_json))
        return _dump_json(d, layers)
    if fmt == "tree":
        return _tree(s, depth, units)
    if fmt == "latex":
        return s.to_latex(command, depth)
    if fmt == "html":
        return s.to_html(command, depth)
    header, rows = layer_table(s, command, depth)
    return render_rows(header, rows, fmt, title(s), [*totals(s, command), *extra], units)
