"""The one walk: every quantity of every live node, each node visited once.

:func:`walk` runs through the live nodes in topological order. At each node it asks the
quantity modules for their figures — :func:`~archcalc.engine.shapes.node_shape`,
:func:`~archcalc.engine.params.node_params`, :func:`~archcalc.engine.flops.node_cost`, the
receptive-field step of :mod:`archcalc.engine.receptive` and the memory accumulators of
:mod:`archcalc.engine.memory` — so each quantity's rules stay combined in its own module.

The per-sample figures of a layer depend only on its spec and its input shapes, so they are
computed once per ``(spec, input shapes)`` and shared by repeated blocks (a ResNet stage, a
200,000-layer chain of identical blocks). Numbers and sympy symbols go through the same walk.

>>> from archcalc.kinds import Conv2d, ReLU
>>> from archcalc.engine.graph import sequential
>>> m = sequential("c", [Conv2d(8, 8, 3, padding=1), ReLU()] * 3, input_shape=(8, 8, 8))
>>> w = walk(m)
>>> w.figures["0"].params, w.figures["0"].macs      # 8·8·3·3 + 8, (8·8·8)·(8·3·3)
(584, 36864)
>>> w.figures["2"] is w.figures["0"]                 # a repeated (spec, shapes): computed once
True
>>> w.rfs["5"].size                                  # three 3×3 convs: 1 + 3·2
(7, 7)
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .._errors import ArchcalcError
from .flops import node_cost
from .graph import INPUT, Model, Node, locate
from .memory import MemoryReport, MemoryWalk
from .params import node_params
from .receptive import RF, UNIT_RF, rf_step
from .shapes import Shape, node_shape, resolve_input

__all__ = ["LayerFigures", "Walk", "walk", "no_cycle_collection"]


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a walk creates millions of small acyclic objects that
    it would scan again and again (a third of the time on a 200,000-layer model)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class LayerFigures:
    """Per-sample figures of one layer spec at one set of input shapes."""

    shape: Shape
    params: Any
    buffers: Any
    macs: Any
    flops: Any


@dataclass(frozen=True)
class Walk:
    """Everything the walk found: shapes, per-layer figures, memory, receptive fields.

    The lists are indexed as :meth:`~archcalc.engine.graph.Model.live_slots` numbers tensors
    (0 the input, ``k`` the live node ``k - 1``); the dicts by name are built on first use
    (200,000 names hashed into a dict cost as much as a third of the walk)."""

    model: Model
    #: by slot: the input's shape, then each live node's output shape
    shape_list: list[Shape]
    #: per live node, in order
    figure_list: list[LayerFigures]
    memory: MemoryReport
    #: by slot: the receptive field of the input and of every live node; ``None`` when
    #: unavailable
    rf_list: list[RF] | None
    #: why the receptive fields are unavailable (an unsupported layer), else ``None``
    rf_gap: str | None

    def _names(self) -> list[str]:
        return [INPUT, *[n.name for n in self.model.live_nodes()]]

    @cached_property
    def shapes(self) -> dict[str, Shape]:
        """The input's and every live node's output shape, by name."""
        return dict(zip(self._names(), self.shape_list))

    @cached_property
    def figures(self) -> dict[str, LayerFigures]:
        """Every live node's figures, by name, in order."""
        return dict(zip(self._names()[1:], self.figure_list))

    @cached_property
    def rfs(self) -> dict[str, RF] | None:
        """The receptive field of the input and of every live node, by name; ``None`` when
        unavailable."""
        return None if self.rf_list is None else dict(zip(self._names(), self.rf_list))


def walk(
    model: Model,
    input_shape: Sequence[Any] | str | None = None,
    batch: Any = 1,
    dtype: str = "float32",
    input_requires_grad: bool = False,
    trainable: Callable[[Node], bool] | None = None,
) -> Walk:
    """Visit every live node of ``model`` once and compute all of its figures.

    ``input_shape`` as :func:`~archcalc.engine.shapes.resolve_input` takes it; ``batch`` and
    ``dtype`` apply to memory; ``trainable(node)`` says which layers' parameters train
    (default: every layer with parameters).
    """
    with no_cycle_collection():
        return _walk(model, input_shape, batch, dtype, input_requires_grad, trainable)


def _walk(
    model: Model,
    input_shape: Sequence[Any] | str | None,
    batch: Any,
    dtype: str,
    input_requires_grad: bool,
    trainable: Callable[[Node], bool] | None,
) -> Walk:
    ishape = resolve_input(model, input_shape)
    nodes = model.live_nodes()
    slots = model.live_slots()
    # by slot (0 the input, k the live node k - 1): lists, not dicts keyed by name
    shapes: list[Shape] = [ishape]
    rfs: list[RF] | None = [UNIT_RF]
    figures: list[LayerFigures] = []  # by live node
    rf_gap: str | None = None
    memory = MemoryWalk(model, ishape, batch, dtype, input_requires_grad, trainable)
    visit = memory.visit
    # by spec and shape objects first (cheap to hash: ids; the objects live through the
    # walk), then by value (equal specs built apart, equal shapes computed apart)
    by_id: dict[tuple[int, ...], tuple[LayerFigures, Any]] = {}
    by_value: dict[tuple[Any, ...], tuple[LayerFigures, Any]] = {}
    for i, (node, src) in enumerate(zip(nodes, slots)):
        try:
            layer = node.layer
            if len(src) == 1:
                ins: tuple[Shape, ...] = (shapes[src[0]],)
                key: tuple[int, ...] = (id(layer), id(ins[0]))
            else:
                ins = tuple([shapes[s] for s in src])
                key = (id(layer), *map(id, ins))
            hit = by_id.get(key)
            if hit is None:
                vkey = (layer, ins)
                hit = by_value.get(vkey)
                if hit is None:
                    out = node_shape(layer, ins)
                    p = node_params(layer, ins)
                    c = node_cost(layer, ins, out)
                    hit = (LayerFigures(out, p.params, p.buffers, c.macs, c.flops), {})
                    by_value[vkey] = hit
                by_id[key] = hit
            fig, memo = hit
            shapes.append(fig.shape)
            figures.append(fig)
            visit(node, src, ins, fig.shape, fig.params, memo)
            if rfs is not None:
                try:
                    rfs.append(rf_step(node, [rfs[s] for s in src], ins, fig.shape, memo))
                except ArchcalcError as e:
                    rfs, rf_gap = None, str(locate(e, i, node))
        except ArchcalcError as e:
            raise locate(e, i, node) from None
    return Walk(model, shapes, figures, memory.report(), rfs, rf_gap)
