"""Activation memory: every output, the peak of an inference pass, what training keeps.

Conventions (docs/conventions.md):

* ``activations`` — elements of every layer output that owns storage (views such as
  Flatten, Identity and inference-mode Dropout own none), times the batch.
* ``peak_inference`` — a topological walk: the model input is live throughout (its caller
  holds it), each output is allocated when its layer runs, and a tensor is freed after its
  last consumer has run; the peak is taken right after each allocation, so a layer's inputs
  and output are live together. No in-place operations, no workspace of the kernels.
* ``saved_for_backward`` — the union of the tensors autograd keeps in one training step,
  each storage counted once, parameters excluded (per-kind rules in :mod:`archcalc.kinds`).

>>> from archcalc.kinds import Conv2d, ReLU
>>> from archcalc.engine.graph import sequential
>>> from archcalc.engine.shapes import infer_shapes
>>> m = sequential("c", [Conv2d(1, 2, 1), ReLU()], input_shape=(1, 2, 2))
>>> r = memory_report(m, infer_shapes(m), batch=1, dtype="float32")
>>> r.peak_inference_bytes   # input 4 floats, then + conv 8, then + relu 8 (conv freed after)
80
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import OptionError
from .._math import is_symbolic, prod
from ..kinds import Extra
from .graph import INPUT, Model, Node, each_node

__all__ = ["DTYPES", "itemsize", "memory_report", "MemoryReport", "saved_for_backward"]

#: bytes per element of the supported activation dtypes
DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float8": 1}


def itemsize(dtype: str) -> int:
    """Bytes per element of ``dtype`` (one of :data:`DTYPES`)."""
    try:
        return DTYPES[dtype]
    except KeyError:
        raise OptionError(f"--dtype = {dtype!r}: unknown; valid: {', '.join(DTYPES)}") from None


@dataclass(frozen=True)
class MemoryReport:
    """Activation memory of one model, input size, batch and dtype."""

    dtype: str
    batch: Any
    #: per layer: elements of its output (whole batch) and bytes it allocates (0 for a view)
    outputs: dict[str, tuple[Any, Any]]
    input_bytes: Any
    activations_bytes: Any
    peak_inference_bytes: Any
    saved_for_backward_bytes: Any


def _is_alias(node: Node, training: bool) -> bool:
    return node.layer.is_view(training)


def _storages(nodes: tuple[Node, ...], training: bool) -> dict[str, str]:
    """Which storage each tensor lives in (a view lives in its input's storage)."""
    store = {INPUT: INPUT}
    for n in nodes:
        store[n.name] = store[n.inputs[0]] if _is_alias(n, training) else n.name
    return store


def memory_report(
    model: Model,
    shapes: dict[str, tuple[Any, ...]],
    batch: Any = 1,
    dtype: str = "float32",
    input_requires_grad: bool = False,
) -> MemoryReport:
    """Compute the :class:`MemoryReport` of ``model`` at the given shapes."""
    size = itemsize(dtype)
    nodes = model.live_nodes()

    def elements(name: str) -> Any:
        return batch * prod(shapes[name])

    outputs = {}

    def one(i: int, n: Node) -> None:
        e = elements(n.name)
        outputs[n.name] = (e, 0 if _is_alias(n, False) else e * size)

    each_node(model, one)
    input_bytes = elements(INPUT) * size
    activations = sum((b for _, b in outputs.values()), 0)

    # ---- peak of an inference pass
    store = _storages(nodes, training=False)
    last_use: dict[str, int] = {}
    for i, n in enumerate(nodes):
        last_use.setdefault(n.name, i)
        for s in n.inputs:
            last_use[store[s]] = i
    last_use[store[model.output]] = len(nodes)
    last_use[INPUT] = len(nodes)  # the caller holds the input
    frees: dict[int, list[str]] = {}
    for s, last in last_use.items():
        frees.setdefault(last, []).append(s)
    live = input_bytes
    peak = live
    symbolic = is_symbolic(live)
    candidates = [live]
    for i, n in enumerate(nodes):
        if store[n.name] == n.name:
            live = live + outputs[n.name][1]
            candidates.append(live)
            if not symbolic:
                peak = max(peak, live)
        for s in frees.get(i, ()):
            live = live - (input_bytes if s == INPUT else outputs[s][1])
    if symbolic:
        # an unevaluated Max: sympy's pairwise simplification of ~100 polynomials in floor()
        # terms takes seconds; substituted numbers evaluate it exactly
        import sympy

        peak = sympy.Max(*dict.fromkeys(candidates), evaluate=False)

    saved_bytes = saved_for_backward(model, shapes, batch, size, None, input_requires_grad)
    return MemoryReport(dtype, batch, outputs, input_bytes, activations, peak, saved_bytes)


def saved_for_backward(
    model: Model,
    shapes: dict[str, tuple[Any, ...]],
    batch: Any,
    size: int,
    trainable: Callable[[Node], bool] | None = None,
    input_requires_grad: bool = False,
) -> Any:
    """Bytes autograd keeps in one training step, each storage once, parameters excluded.

    Autograd records a layer only if its output requires grad: it has trainable parameters
    (``trainable(node)``; default: any parameters), or an input that requires grad.
    """
    nodes = model.live_nodes()
    tstore = _storages(nodes, training=True)
    kept: dict[str, Any] = {}
    extra: Any = 0
    grad = {INPUT: input_requires_grad}
    acc = max(4, size)  # the accumulate dtype of normalisation statistics

    def has_params(n: Node) -> bool:
        p = n.layer.params(tuple(shapes[s] for s in n.inputs))
        return bool(is_symbolic(p) or p > 0)

    is_trainable = trainable or has_params

    def saved(i: int, n: Node) -> None:
        nonlocal extra
        ins = tuple(shapes[s] for s in n.inputs)
        grad[n.name] = is_trainable(n) or any(grad[s] for s in n.inputs)
        if not grad[n.name]:
            return
        for item in n.layer.saved(ins, shapes[n.name], batch):
            if isinstance(item, Extra):
                per = (
                    size
                    if item.itemsize is None
                    else acc
                    if item.itemsize == "acc"
                    else item.itemsize
                )
                extra = extra + item.elements * per
                continue
            if item != "out" and n.layer.operands_for_each_other:
                # a product keeps an operand only for the gradient of another one
                k = int(item[2:])
                if not any(grad[s] for j, s in enumerate(n.inputs) if j != k):
                    continue
            tensor = n.name if item == "out" else n.inputs[int(item[2:])]
            kept[tstore[tensor]] = batch * prod(shapes[tstore[tensor]]) * size

    each_node(model, saved)
    return sum(kept.values(), 0) + extra
