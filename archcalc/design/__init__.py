"""Design calculators for the decisions made before training (exam questions 3 to 6).

* :func:`plan_schedules` — every stride schedule that takes an ``L``-layer network from the
  input size to a final size, with its memory, MACs and receptive field, ranked, and the
  Pareto front (exam Q4(b)).
* :func:`archcalc.design.sweep.sweep` — depth, width, kernel and resolution at a fixed budget
  (exam Q4; vectorised with numpy).
* :func:`finetune` — trainable parameters and the memory of one training step when the first
  layers are frozen, against full fine-tuning, and the layer-wise learning rates
  ``η_l = η0·α^(L−l)`` (exam Q5); :func:`archcalc.torch.groups.param_groups` applies them to
  a torch module.
* :func:`fcn_cost` — a sliding-window classifier against one pass of the fully convolutional
  model (exam Q3(b)).
* :func:`explain_cost` — passes, MACs and memory of gradient, integrated-gradients,
  occlusion and CAM saliency (exam Q6).

One module each: :mod:`.schedule`, :mod:`.sweep`, :mod:`.finetune`, :mod:`.fcn`,
:mod:`.explain`; :mod:`._common` reads arguments and holds the :data:`limits`.

The library never prints: each calculator returns a frozen dataclass with ``to_dict()`` and
``header``/``rows()`` for tables. Every invalid request raises :class:`~archcalc.OptionError`
with a one-line message naming the Python argument, its value and what is valid
(``final=7: unreachable from input=227 ...``; the CLI speaks its flags instead). Work is
bounded before it starts by :data:`limits` (a :class:`Limits`; docs/design.md lists them).

>>> plan = plan_schedules(input=224, layers=8, final=7)
>>> row = plan.find(EXAM_Q4B)
>>> row.sizes
(56, 28, 28, 14, 14, 7, 7, 7)
>>> row.rf                # 1 + 2·(1 + 4 + 8 + 8 + 16 + 16 + 32 + 32)
235
"""

from __future__ import annotations

from ..engine.groups import layer_groups, layer_rates, resolve_freeze
from ._common import Limits, limits, windows
from .explain import METHODS, ExplainReport, MethodCost, explain_cost
from .fcn import FcnReport, fcn_cost
from .finetune import OPTIMIZERS, FinetuneReport, LrRow, TrainingMemory, finetune
from .schedule import (
    EXAM_Q4B,
    RANKS,
    SchedulePlan,
    ScheduleRow,
    plan_schedules,
    schedule_model,
)

__all__ = [
    "EXAM_Q4B",
    "RANKS",
    "OPTIMIZERS",
    "METHODS",
    "Limits",
    "limits",
    "ScheduleRow",
    "SchedulePlan",
    "plan_schedules",
    "schedule_model",
    "TrainingMemory",
    "LrRow",
    "FinetuneReport",
    "finetune",
    "layer_groups",
    "layer_rates",
    "resolve_freeze",
    "FcnReport",
    "fcn_cost",
    "windows",
    "MethodCost",
    "ExplainReport",
    "explain_cost",
]
