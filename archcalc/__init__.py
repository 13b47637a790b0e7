"""archcalc: an exact analytic calculator of CNN cost and receptive fields.

>>> import archcalc
>>> archcalc.summary("alexnet").params
61100840

Public surface: :func:`summary`, the layer specs, :class:`Builder`/:func:`sequential`/
:class:`Model`, the zoo, the spec-file loader and the error family. torch is never imported
here (see :mod:`archcalc.torch`), sympy only for symbolic work.
"""

from __future__ import annotations

from . import kinds as _kinds
from . import report as report
from . import zoo as zoo
from ._errors import (
    ArchcalcError,
    FileFormatError,
    MissingDependencyError,
    OptionError,
    ShapeError,
    SpecError,
    UnknownModelError,
    UnsupportedError,
)
from .engine.graph import Builder, Model, Node, sequential
from .engine.heads import apply_head
from .engine.shapes import symbol
from .engine.training import FitResult, TrainingReport, fit_batch, fit_input, training_step
from .kinds import *  # noqa: F403  (every layer kind, GLOBAL, NO_INPUT, Layer, Extra, ...)
from .load.resolve import load_model
from .summary import Summary, summary

__version__ = "0.2.0"

__all__ = [
    "summary",
    "Summary",
    "load_model",
    "apply_head",
    "symbol",
    "training_step",
    "fit_batch",
    "fit_input",
    "TrainingReport",
    "FitResult",
    "Builder",
    "Model",
    "Node",
    "sequential",
    "zoo",
    "report",
    "ArchcalcError",
    "FileFormatError",
    "MissingDependencyError",
    "OptionError",
    "ShapeError",
    "SpecError",
    "UnknownModelError",
    "UnsupportedError",
]
# every layer kind and its helpers, listed once in archcalc.kinds.__all__
__all__ += _kinds.__all__
