"""Fine-tuning with the first layers frozen (exam Q5): trainable parameters, the memory of one
training step against full fine-tuning, and the layer-wise learning rates ``η_l = η0·α^(L−l)``.

The layer rules (:func:`~archcalc.engine.groups.layer_groups`,
:func:`~archcalc.engine.groups.resolve_freeze`, :func:`~archcalc.engine.groups.layer_rates`)
live in :mod:`archcalc.engine.groups`, shared with :func:`archcalc.torch.groups.param_groups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import OptionError
from .._math import is_symbolic
from ..engine.graph import Model
from ..engine.groups import check_rates, layer_groups, layer_rates, resolve_freeze
from ..engine.heads import apply_head
from ..engine.memory import itemsize, saved_for_backward
from ..engine.shapes import infer_shapes
from ..engine.training import training_step
from ..summary import load_model, summary
from ._common import bad, number

__all__ = ["OPTIMIZERS", "TrainingMemory", "LrRow", "FinetuneReport", "finetune"]

#: optimizer state per trainable parameter, in parameter-sized tensors
OPTIMIZERS = {"sgd": 1, "adam": 2}


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step: all weights, gradients and optimizer state of the
    trainable ones, and the activations autograd saves for backward. ``total`` is their sum
    (the exam's estimate); ``peak`` is what a step really holds at its peak, from the
    timeline of :func:`archcalc.engine.training.training_step` (exact against torch's
    profiler): the sum is not a peak."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    #: the peak of one training step (archcalc.engine.training: what the device must hold)
    peak: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    def to_dict(self) -> dict[str, int]:
        return {
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer": self.optimizer,
            "activations": self.activations,
            "total": self.total,
        }


@dataclass(frozen=True)
class LrRow:
    """One layer of the learning-rate table."""

    layer: int
    name: str
    #: the nodes whose parameters the layer holds (a conv and its norm)
    members: tuple[str, ...]
    params: int
    trainable: bool
    #: ``η0·α^(L−l)``, or ``None`` for a frozen layer
    lr: Fraction | None


@dataclass(frozen=True)
class FinetuneReport:
    """Fine-tuning with the first ``freeze`` layers frozen, against full fine-tuning."""

    model: str
    input_shape: tuple[int, ...]
    batch: int
    dtype: str
    optimizer: str
    layers: int
    freeze: int
    first_trainable: str
    params: int
    trainable_params: int
    frozen: TrainingMemory
    full: TrainingMemory
    lr0: Fraction
    alpha: Fraction
    table: tuple[LrRow, ...]

    header: ClassVar[list[str]] = ["l", "layer", "params", "trainable", "lr"]
    memory_header: ClassVar[list[str]] = ["bytes", "frozen", "full fine-tuning", "saving"]

    @property
    def saving(self) -> int:
        return self.full.total - self.frozen.total

    def rows(self) -> list[list[Any]]:
        """The learning-rate table."""
        return [
            [
                r.layer,
                r.name,
                r.params,
                "yes" if r.trainable else "frozen",
                "-" if r.lr is None else f"{float(r.lr):.6g}",
            ]
            for r in self.table
        ]

    def memory_rows(self) -> list[list[Any]]:
        """The memory comparison: one row per component, their total, and the exact peak of
        a training step."""
        fz, fu = self.frozen.to_dict(), self.full.to_dict()
        rows = [[k, fz[k], fu[k], fu[k] - fz[k]] for k in fz]
        peak = ["training-step peak", self.frozen.peak, self.full.peak]
        return [*rows, [*peak, self.full.peak - self.frozen.peak]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "optimizer": self.optimizer,
            "layers": self.layers,
            "freeze": self.freeze,
            "first_trainable": self.first_trainable,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "frozen_params": self.params - self.trainable_params,
            "memory": self.frozen.to_dict(),
            "memory_full": self.full.to_dict(),
            "peak_bytes": self.frozen.peak,
            "peak_full_bytes": self.full.peak,
            "saving_bytes": self.saving,
            "lr0": float(self.lr0),
            "alpha": float(self.alpha),
            "learning_rates": [
                {
                    "layer": r.layer,
                    "name": r.name,
                    "members": list(r.members),
                    "params": r.params,
                    "trainable": r.trainable,
                    "lr": None if r.lr is None else float(r.lr),
                }
                for r in self.table
            ],
        }


def finetune(
    model: Model | str,
    freeze: int | str = 0,
    *,
    optimizer: str = "sgd",
    lr0: Any = "0.001",
    alpha: Any = "0.5",
    input: Any = None,
    batch: int | str = 1,
    dtype: str = "float32",
    head: str = "fc",
    classes: int | None = None,
) -> FinetuneReport:
    """Cost of fine-tuning ``model`` with its first layers frozen (exam Q5).

    *Layers* are the conv and linear layers in order (``l = 1 … L``); a norm or scale layer
    belongs to the layer before it. ``freeze`` is a count or a name (:func:`resolve_freeze`).
    One training step holds (``dtype`` bytes each):

    * the weights of every layer (frozen ones too; buffers are left out),
    * a gradient for each trainable parameter, and the optimizer's state: ``sgd`` with
      momentum one tensor per parameter, ``adam`` two (first and second moments),
    * the tensors autograd saves (archcalc's per-layer rules, docs/conventions.md) — but only
      where autograd records: at layers with trainable weights and after them. Layers before
      the first trainable one run without a graph and keep nothing; the first trainable conv
      keeps its input (for its weight gradient). Unlike the ``memory`` command, a layer fed
      only by the model input and holding no trainable weights keeps nothing either.

    ``full`` is the same with nothing frozen. The learning-rate table gives
    ``η_l = η0·α^(L−l)`` to every trainable layer (:func:`layer_rates`).
    """
    eta0, decay = number(lr0, "lr0"), number(alpha, "alpha")
    check_rates(eta0, decay, lr0, alpha)
    if optimizer not in OPTIMIZERS:
        raise bad("optimizer", optimizer, f"must be one of {', '.join(OPTIMIZERS)}")
    m = apply_head(load_model(model, input), head, classes)
    s = summary(m, input=input, batch=batch, dtype=dtype)
    if is_symbolic(s.batch) or any(is_symbolic(d) for d in s.input_shape):
        raise OptionError("`input`/`batch`: finetune needs numbers, not symbols")
    nbatch = int(s.batch)
    nodes = s.model.live_nodes()
    names = [n.name for n in nodes]
    weighted = [n.layer.weighted for n in nodes]
    params = {r.name: r.params for r in s.layers}
    groups = layer_groups([params[n] > 0 for n in names], weighted)
    total_layers = sum(weighted)
    if total_layers == 0:
        raise OptionError(f"model '{m.name}': no conv or linear layer to fine-tune")
    n_frozen = resolve_freeze(freeze, names, weighted, m.name)
    rates = layer_rates(total_layers, eta0, decay)
    size = itemsize(dtype)
    shapes = infer_shapes(s.model, s.input_shape)

    def cost(frozen_layers: int) -> tuple[int, TrainingMemory]:
        trainable = sum(params[nm] for nm, g in zip(names, groups) if g > frozen_layers)
        saved = _saved_bytes(s.model, shapes, nbatch, size, groups, frozen_layers)
        k = OPTIMIZERS[optimizer]
        group = dict(zip(names, groups, strict=True))
        step = training_step(  # finetune's sgd has momentum
            s.model,
            s.input_shape,
            nbatch,
            optimizer="momentum" if optimizer == "sgd" else optimizer,
            dtype=dtype,
            trainable=lambda n: group[n.name] > frozen_layers,
        )
        return trainable, TrainingMemory(
            s.params * size, trainable * size, k * trainable * size, saved, int(step.peak_bytes)
        )

    trainable, mem = cost(n_frozen)
    _, full = cost(0)
    table = []
    for lv in range(1, total_layers + 1):
        members = tuple(nm for nm, g in zip(names, groups) if g == lv)
        head_name = next(nm for nm, g, w in zip(names, groups, weighted) if g == lv and w)
        train = lv > n_frozen
        table.append(
            LrRow(
                lv,
                head_name,
                members,
                sum(params[nm] for nm in members),
                train,
                rates[lv - 1] if train else None,
            )
        )
    return FinetuneReport(
        model=m.name,
        input_shape=tuple(s.input_shape),
        batch=nbatch,
        dtype=dtype,
        optimizer=optimizer,
        layers=total_layers,
        freeze=n_frozen,
        first_trainable=table[n_frozen].name,
        params=s.params,
        trainable_params=trainable,
        frozen=mem,
        full=full,
        lr0=eta0,
        alpha=decay,
        table=tuple(table),
    )


def _saved_bytes(
    model: Model,
    shapes: dict[str, tuple[Any, ...]],
    batch: int,
    size: int,
    groups: Sequence[int],
    frozen: int,
) -> int:
    """memory.py's saved-for-backward walk with the frozen layers' parameters untrainable."""
    group = dict(zip((n.name for n in model.live_nodes()), groups, strict=True))
    return int(
        saved_for_backward(model, shapes, batch, size, trainable=lambda n: group[n.name] > frozen)
    )
