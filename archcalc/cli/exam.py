"""``archcalc exam``: the audit of the exam's worked answers (:mod:`archcalc.exam`).

Registered on the main app by :mod:`archcalc.cli.app` (``exam.register(app)``).
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register", "EXAM_FORMATS"]

EXAM_FORMATS = ("table", "json", "markdown")

QuestionOpt = Annotated[
    int | None,
    typer.Option("--question", "-q", help="Only this question (1-7); default: all seven."),
]
ExamFormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or markdown.")]


def register(app: typer.Typer) -> None:
    """Add the ``exam`` command to ``app``."""
    from .common import emit as _emit
    from .common import handles_errors as _handles_errors

    @app.command("exam")
    @_handles_errors
    def exam(question: QuestionOpt = None, format: ExamFormatOpt = "table") -> None:
        """Audit every numeric claim of the exam's worked answers against archcalc."""
        from .._errors import OptionError
        from ..exam import VERDICTS, audit, exam_markdown

        if format not in EXAM_FORMATS:
            raise OptionError(f"--format = {format!r}: must be one of {', '.join(EXAM_FORMATS)}")
        claims = audit(question)
        if format == "json":
            import json

            _emit(json.dumps([c.to_dict() for c in claims], indent=2, ensure_ascii=False))
        elif format == "markdown":
            _emit(exam_markdown(question))
        else:
            from .render import render_rows

            header = ["Q", "claim", "exam", "archcalc", "verdict", "why"]
            rows: list[list[object]] = [
                [
                    f"{c.question}({c.part})",
                    c.claim,
                    c.exam_value,
                    c.archcalc_value,
                    c.verdict,
                    c.reason,
                ]
                for c in claims
            ]
            n = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
            title = (
                f"exam audit: {len(claims)} claims, {n['agrees']} agree, {n['differs']} differ, "
                f"{n['ambiguous']} ambiguous"
            )
            _emit(render_rows(header, rows, "table", title))
