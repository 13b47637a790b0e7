"""The CNN exam, audited: every numeric claim of its worked answers, recomputed by archcalc.

The exam (CENG 403, January 2025; seven questions with worked answers) is where archcalc
started. :func:`audit` returns one :class:`Claim` per concrete numeric or behavioural claim of
the answers: what the exam says, what archcalc computes *from a model it builds* (a
``sequential`` stack, a zoo model, a head — never the answer's own arithmetic), a verdict and
a one-line reason. Each claim carries its :class:`Reading` s — the values compared, under
each reading the question leaves open, with the tolerance declared for it — and the verdict
follows from them (:func:`verdict_of`), never written by hand:

* ``agrees`` — every reading holds: archcalc's value equals the exam's to the digits the exam
  shows, or within the tolerance its ``≈`` is given;
* ``differs`` — no reading holds; the reason names the slip (left-out biases, an off-by-one in
  a window count, an arithmetic slip, a false invariance — with a minimal counterexample);
* ``ambiguous`` — some readings hold and some do not (the reason gives both), or the claim is
  an empirical figure that no model fixes (no readings).

Formula claims are checked symbolically: the model is built with sympy symbols for its sizes
(``C``, ``H``, ``F`` …) and the engine's formula is compared with the exam's. Behavioural
claims (translation invariance, the GAP gradient) are also property-tested against torch in
``tests/test_exam_properties.py``; the counterexamples here come from small deterministic
searches in plain Python and are re-verified there with torch. One module per question
(:mod:`archcalc.exam.q1` … ``q7``) builds that question's claims.

>>> from archcalc.exam import audit
>>> fc1 = next(c for c in audit(2) if c.key == "alexnet-fc1-params")
>>> fc1.exam_value, fc1.archcalc_value, fc1.verdict      # (6·6·256 + 1)·4096
(37748736, 37752832, 'differs')

Nothing here prints; sympy is imported only when :func:`audit` runs, torch never.
"""

from __future__ import annotations

from ._claim import BOUNDS as BOUNDS
from ._claim import VERDICTS as VERDICTS
from ._claim import Claim as Claim
from ._claim import Reading as Reading
from ._claim import verdict_of as verdict_of
from .audit import QUESTIONS as QUESTIONS
from .audit import SETTINGS as SETTINGS
from .audit import audit as audit
from .counterexamples import ConvShiftCounterexample as ConvShiftCounterexample
from .counterexamples import GapGradientCounterexample as GapGradientCounterexample
from .counterexamples import ShiftCounterexample as ShiftCounterexample
from .counterexamples import conv_shift_counterexample as conv_shift_counterexample
from .counterexamples import gap_gradient_counterexample as gap_gradient_counterexample
from .counterexamples import maxpool_shift_counterexample as maxpool_shift_counterexample
from .figures import layer_rates as layer_rates
from .figures import window_count as window_count
from .markdown import exam_markdown as exam_markdown

__all__ = [
    "BOUNDS",
    "Claim",
    "ConvShiftCounterexample",
    "GapGradientCounterexample",
    "QUESTIONS",
    "Reading",
    "SETTINGS",
    "ShiftCounterexample",
    "VERDICTS",
    "audit",
    "conv_shift_counterexample",
    "exam_markdown",
    "gap_gradient_counterexample",
    "layer_rates",
    "maxpool_shift_counterexample",
    "verdict_of",
    "window_count",
]
