"""How a :class:`~archcalc.Summary` shows itself: a short ``repr``, notebook displays (HTML,
Markdown, rich), a DataFrame, Markdown, LaTeX (booktabs) and HTML tables.

:class:`SummaryDisplay` is a mixin that ``Summary`` inherits; it reads only the summary's
fields. Nothing here prints. Names are escaped for each target (Markdown pipes, HTML, LaTeX).

>>> import archcalc
>>> s = archcalc.summary("alexnet")
>>> len(repr(s)) < 400
True
>>> print(s.to_markdown(depth=1).splitlines()[2])
| # | layer | kind | output | params | % params | MACs | % MACs | FLOPs | bytes | RF | stride |
>>> s.to_latex().splitlines()[0]
'\\\\begin{tabular}{rlllrrrrll}'
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import MissingDependencyError, echo
from ._math import is_symbolic

__all__ = [
    "SummaryDisplay",
    "COLUMNS",
    "columns_for",
    "table",
    "title",
    "escape_markdown",
    "escape_latex",
    "fmt_int",
]


def fmt_int(x: Any, sep: bool = True) -> str:
    """An int with thousands separators; ``None`` as ``-``; symbols and fractions as text."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}" if sep else str(x)
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.1%}"
    from ._math import jsonable

    return str(jsonable(x))


def _shape(s: Sequence[Any]) -> str:
    return "x".join(fmt_int(d, sep=False) for d in s)


def _pair(p: Sequence[Any]) -> str:
    a, b = (fmt_int(x, sep=False) for x in p)
    return a if a == b else f"{a}x{b}"


def _rf(row: Any, what: str) -> str:
    rf = row.rf
    if rf is None:
        return "n/a"
    if rf.is_global:
        return "global"
    return _pair(getattr(rf, what))


Getter = Callable[[Any], Any]

#: every per-layer column: key -> (header, getter); getters return raw values (ints stay ints)
COLUMNS: dict[str, tuple[str, Getter]] = {
    "index": ("#", lambda r: r.index),
    "name": ("layer", lambda r: r.name),
    "kind": ("kind", lambda r: r.kind),
    "shape": ("output", lambda r: _shape(r.output_shape)),
    "layers": ("layers", lambda r: getattr(r, "layers", 1)),
    "params": ("params", lambda r: r.params),
    "params_share": ("% params", lambda r: r.params_share),
    "buffers": ("buffers", lambda r: r.buffers),
    "macs": ("MACs", lambda r: r.macs),
    "macs_share": ("% MACs", lambda r: r.macs_share),
    "flops": ("FLOPs", lambda r: r.flops),
    "act": ("activations", lambda r: r.activation_elements),
    "act_bytes": ("bytes", lambda r: r.activation_bytes),
    "rf": ("RF", lambda r: _rf(r, "size")),
    "stride": ("stride", lambda r: _rf(r, "stride")),
    "offset": ("offset", lambda r: _rf(r, "offset")),
}

#: which per-layer columns each view shows
VIEWS: dict[str, tuple[str, ...]] = {
    "params": ("index", "name", "kind", "shape", "params", "buffers"),
    "flops": ("index", "name", "kind", "shape", "macs", "flops"),
    "memory": ("index", "name", "kind", "shape", "act", "act_bytes"),
    "rf": ("index", "name", "kind", "shape", "rf", "stride", "offset"),
    "shapes": ("index", "name", "kind", "shape", "stride"),
    "summary": ("index", "name", "kind", "shape", "params", "macs", "flops", "act_bytes", "rf")
    + ("stride",),
}

_SHARE_AFTER = {"params": "params_share", "macs": "macs_share"}


def columns_for(view: str, grouped: bool) -> tuple[str, ...]:
    """The column keys of ``view``; grouped rows add the shares of the total after their figure."""
    cols = VIEWS[view]
    if not grouped:
        return cols
    out: list[str] = []
    for c in cols:
        out.append(c)
        if c in _SHARE_AFTER:
            out.append(_SHARE_AFTER[c])
    return tuple(out)


def table(
    s: Any, view: str = "summary", depth: int | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Header and raw rows of ``view`` (one row per layer, or per module path at ``depth``)."""
    rows: Sequence[Any]
    if depth is None:
        rows = s.layers
    else:
        from .report import group_layers

        rows = group_layers(s, depth)
    cols = [COLUMNS[c] for c in columns_for(view, depth is not None)]
    return [h for h, _ in cols], [[f(r) for _, f in cols] for r in rows]


def title(s: Any) -> str:
    """Model, input, batch, dtype, head and FLOP convention, in one line."""
    name = s.model.name if len(s.model.name) <= 80 else echo(s.model.name)
    return (
        f"{name}  input {_shape(s.input_shape)}  batch {fmt_int(s.batch)}  {s.dtype}  "
        f"head {s.head}  convention {s.convention}"
    )


_MD = re.compile(r"([\\|`*\[\]<>])")


def escape_markdown(text: str) -> str:
    """``text`` safe inside a Markdown table cell (pipes, markup, HTML, newlines).

    >>> escape_markdown("a|b [red]x[/red] <i>")
    'a\\\\|b \\\\[red\\\\]x\\\\[/red\\\\] \\\\<i\\\\>'
    """
    return _MD.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def escape_latex(text: str) -> str:
    r"""``text`` safe in LaTeX text mode.

    >>> escape_latex("layer_1 & 50%")
    'layer\\_1 \\& 50\\%'
    """
    return "".join(_LATEX.get(c, c) for c in text.replace("\n", " "))


def _latex_cell(v: Any, symbolic: bool) -> str:
    if is_symbolic(v) and not getattr(v, "is_Integer", False):
        if symbolic:
            import sympy

            return f"${sympy.latex(v)}$"
        return escape_latex(fmt_int(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}".replace(",", "{,}")
    if isinstance(v, float):
        return escape_latex(f"{v:.1%}")
    return escape_latex(fmt_int(v) if not isinstance(v, str) else v)


def _numeric(rows: list[list[Any]], i: int) -> bool:
    return bool(rows) and all(not isinstance(r[i], str) for r in rows)


def _md_cell(v: Any, symbolic: bool) -> str:
    if symbolic and is_symbolic(v) and not getattr(v, "is_Integer", False):
        import sympy

        return f"${sympy.latex(v)}$".replace("|", r"\|")
    return escape_markdown(v if isinstance(v, str) else fmt_int(v))


class SummaryDisplay:
    """Displays of a summary (mixed into :class:`archcalc.Summary`)."""

    # fields the mixin reads (declared for type checkers; Summary defines them)
    model: Any
    input_shape: tuple[Any, ...]
    batch: Any
    dtype: str
    head: str
    convention: str
    layers: tuple[Any, ...]
    params: Any
    buffers: Any
    macs: Any
    flops: Any
    memory: Any
    weights_bytes: Any
    rf: Any

    def __repr__(self) -> str:
        def short(x: Any) -> str:
            text = fmt_int(x)
            return text if len(text) <= 40 else f"<{len(text):,} characters>"

        name = self.model.name if len(self.model.name) <= 60 else echo(self.model.name, 60)
        return (
            f"Summary(model={name!r}, input={_shape(self.input_shape)[:40]}, "
            f"batch={short(self.batch)}, dtype={self.dtype}, head={self.head}, "
            f"convention={self.convention}, layers={len(self.layers)}, "
            f"params={short(self.params)}, macs={short(self.macs)}, flops={short(self.flops)})"
        )

    def totals(self) -> list[tuple[str, Any]]:
        """The model's totals as (label, value) pairs; each FLOP figure names its convention."""
        from .report import convention_label, size_block

        return [
            ("params", self.params),
            ("buffers", self.buffers),
            ("MACs", self.macs),
            (f"FLOPs ({convention_label(self.convention)})", self.flops),
            *size_block(self),
        ]

    def to_markdown(
        self, view: str = "summary", depth: int | None = None, symbolic: bool = False
    ) -> str:
        """A Markdown table (title, layer rows, totals); ``symbolic=True`` writes symbolic
        figures as LaTeX (``$...$``)."""
        header, rows = table(self, view, depth)
        out = [f"**{escape_markdown(title(self))}**", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append(
            "|" + "|".join("---:" if _numeric(rows, i) else "---" for i in range(len(header))) + "|"
        )
        out += ["| " + " | ".join(_md_cell(v, symbolic) for v in r) + " |" for r in rows]
        out.append("")
        out += [f"- {escape_markdown(k)}: **{_md_cell(v, symbolic)}**" for k, v in self.totals()]
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(
        self, view: str = "summary", depth: int | None = None, symbolic: bool = True
    ) -> str:
        """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); symbolic figures in math
        mode via sympy's LaTeX printer (``symbolic=False``: as plain text)."""
        header, rows = table(self, view, depth)
        align = "".join("r" if _numeric(rows, i) else "l" for i in range(len(header)))
        lines = [
            f"\\begin{{tabular}}{{{align}}}",
            "\\toprule",
            " & ".join(escape_latex(h) for h in header) + r" \\",
            "\\midrule",
        ]
        lines += [" & ".join(_latex_cell(v, symbolic) for v in r) + r" \\" for r in rows]
        lines += ["\\bottomrule", "\\end{tabular}"]
        return "\n".join(lines) + "\n"

    def to_html(self, view: str = "summary", depth: int | None = None) -> str:
        """An HTML table with a caption naming the settings, and the totals below it."""
        header, rows = table(self, view, depth)
        esc = html.escape
        num = [_numeric(rows, i) for i in range(len(header))]
        parts = [
            '<table class="archcalc-summary">',
            f"<caption>{esc(title(self))}</caption>",
            "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>",
            "<tbody>",
        ]
        for r in rows:
            cells = "".join(
                f'<td style="text-align:{"right" if n else "left"}">'
                f"{esc(v if isinstance(v, str) else fmt_int(v))}</td>"
                for v, n in zip(r, num)
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        parts.append(
            "<ul>"
            + "".join(f"<li>{esc(k)}: <b>{esc(fmt_int(v))}</b></li>" for k, v in self.totals())
            + "</ul>"
        )
        return "\n".join(parts) + "\n"

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_dataframe(self, depth: int | None = None) -> Any:
        """A pandas DataFrame, one row per layer (or per module path at ``depth``) with every
        figure as a column (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError(
                package="pandas", extra="pandas", needed_for="to_dataframe()"
            ) from None
        from ._math import jsonable

        if depth is None:
            rows = self.layers
        else:
            from .report import group_layers

            rows = group_layers(self, depth)
        records = []
        for r in rows:
            rf = r.rf
            glob = rf is not None and rf.is_global
            rec = {
                "index": r.index,
                "name": r.name,
                "kind": r.kind,
                "output_shape": _shape(r.output_shape),
                "params": r.params,
                "buffers": r.buffers,
                "macs": r.macs,
                "flops": r.flops,
                "activations": r.activation_elements,
                "activation_bytes": r.activation_bytes,
                "rf_size": None if rf is None or glob else _pair(rf.size),
                "rf_stride": None if rf is None or glob else _pair(rf.stride),
                "rf_global": glob,
            }
            if depth is not None:
                rec["layers"] = r.layers
                rec["params_share"] = r.params_share
                rec["macs_share"] = r.macs_share
            records.append(jsonable(rec))
        return pd.DataFrame.from_records(records).set_index("index")

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        header, rows = table(self)
        t = Table(title=Text(title(self)))
        for i, h in enumerate(header):
            t.add_column(h, justify="right" if _numeric(rows, i) else "left", overflow="fold")
        for r in rows:
            t.add_row(*[Text(v if isinstance(v, str) else fmt_int(v)) for v in r])
        lines = [Text.assemble((f"{k}: ", "bold"), fmt_int(v)) for k, v in self.totals()]
        return Group(t, *lines)
