"""The audit: every claim of the seven answers, question by question."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from archcalc import OptionError

from . import q1, q2, q3, q4, q5, q6, q7
from ._claim import Claim

__all__ = ["QUESTIONS", "SETTINGS", "audit"]

#: the exam's seven questions, by number
QUESTIONS = {
    1: "Position-sensitive convolution",
    2: "Global average pooling vs fully connected layers",
    3: "Fully convolutional networks",
    4: "CNN architecture design principles",
    5: "Transfer learning",
    6: "Visualization (saliency) methods",
    7: "The comprehensive network",
}

#: figures the answers *choose* (hyper-parameters, data-set sizes, test settings): inputs of
#: a design, not claims that can be right or wrong, so they get no verdict — listed here so
#: that nothing numeric in the answers is passed over in silence
SETTINGS: dict[int, tuple[str, ...]] = {
    1: (
        "(c) synthetic images of 224×224",
        "(c) significance level α = 0.05 with a Bonferroni correction",
    ),
    3: ("(b) the example h = w = 224, s = 32, H = W = 512 (used as the inputs of 3(b) here)",),
    4: ("(b) the 8-layer stride schedule 4, 2, 1, 2, 1, 2, 1, 1 (audited as a model)",),
    5: (
        "(c) decay factor α typically 0.1 to 0.5",
        "(c) a warm-up period with even lower rates",
    ),
    6: ("(b) occlusion strides of 1 and w/2",),
    7: (
        "(a) Dropout 0.5; learning rate 10^-1 with cosine decay for 100-200 epochs",
        "(a) stage 3: learning rates 10^-5 to 10^-4 for 10-20 epochs",
    ),
}

_BUILDERS: dict[int, Callable[[], list[Claim]]] = {
    1: q1.claims,
    2: q2.claims,
    3: q3.claims,
    4: q4.claims,
    5: q5.claims,
    6: q6.claims,
    7: q7.claims,
}


def audit(question: int | None = None) -> list[Claim]:
    """Every audited claim of the exam, or of one ``question`` (1-7), in the exam's order.

    >>> sorted({c.verdict for c in audit()})
    ['agrees', 'ambiguous', 'differs']
    """
    if question is None:
        return [c for q in QUESTIONS for c in _claims(q)]
    if isinstance(question, bool) or not isinstance(question, int) or question not in QUESTIONS:
        raise OptionError(
            f"--question = {question!r}: must be 1 to 7 (the exam has seven questions)"
        )
    return list(_claims(question))


@cache
def _claims(question: int) -> tuple[Claim, ...]:
    return tuple(_BUILDERS[question]())
