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
from functools import cached_property
from typing import Any, NamedTuple

from .._errors import OptionError
from .._math import is_symbolic, prod
from ..kinds import Extra
from .graph import INPUT, Model, Node, each_node

__all__ = [
    "DTYPES",
    "itemsize",
    "memory_report",
    "MemoryReport",
    "MemoryWalk",
    "OutputMemory",
    "SavedTensor",
    "SavedWalk",
    "saved_for_backward",
    "saved_by_node",
]

#: bytes per element of the supported activation dtypes
DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float8": 1}


def itemsize(dtype: str) -> int:
    """Bytes per element of ``dtype`` (one of :data:`DTYPES`)."""
    try:
        return DTYPES[dtype]
    except (KeyError, TypeError):
        raise OptionError(argument="dtype", value=dtype, valid=tuple(DTYPES)) from None


class OutputMemory(NamedTuple):
    """One layer's output: its elements (whole batch) and the bytes it allocates (0 for a view)."""

    elements: Any
    bytes: Any


@dataclass(frozen=True)
class MemoryReport:
    """Activation memory of one model, input size, batch and dtype."""

    dtype: str
    batch: Any
    #: the live nodes, in order
    nodes: tuple[Node, ...]
    #: per live node, in order: elements of its output (whole batch) and bytes it allocates
    #: (0 for a view)
    output_list: list[OutputMemory]
    input_bytes: Any
    activations_bytes: Any
    peak_inference_bytes: Any
    saved_for_backward_bytes: Any

    @cached_property
    def outputs(self) -> dict[str, OutputMemory]:
        """:attr:`output_list` by layer name (built on first use)."""
        return dict(zip([n.name for n in self.nodes], self.output_list))


class SavedTensor(NamedTuple):
    """One tensor a layer keeps for backward (:attr:`SavedWalk.listed`).

    ``tensor`` is the label: ``"input k (name)"`` (the layer's input ``k``, the output of
    ``name``), ``"output"``, or the kind's own words for an extra tensor (``Extra.what``;
    ``" (module buffer)"`` added to a buffer autograd references, counted as the kind's rule
    counts it). ``bytes`` is what this layer adds to ``saved_for_backward``: 0 for a storage
    an earlier layer kept already (``kept_by`` names it; ``None`` otherwise)."""

    layer: str
    kind: str
    tensor: str
    elements: Any
    bytes: Any
    kept_by: str | None = None


def _acc_itemsize(item: Extra, size: int) -> int:
    if item.itemsize is None:
        return size
    if item.itemsize == "acc":
        return max(4, size)  # the accumulate dtype of normalisation statistics
    return int(item.itemsize)


class SavedWalk:
    """What autograd keeps for backward, accumulated node by node (each storage once).

    Autograd records a layer only if its output requires grad: it has trainable parameters
    (``trainable(node)``; default: any parameters), or an input that requires grad. A frozen
    layer (``trainable`` false) on a path that needs no gradient keeps nothing.
    ``per_node[name]`` is the bytes first kept at that node (a storage kept by two layers is
    counted at the first); :attr:`total` is their sum. Tensors are known by their slot, as
    :meth:`~archcalc.engine.graph.Model.live_slots` numbers them (0 the input).

    With ``detail``, :attr:`listed` also names each tensor a recording node keeps, with its
    elements and the bytes it adds (their sum per node is ``per_node``); without it (the
    walk's default) nothing more is stored.
    """

    def __init__(
        self,
        batch: Any,
        size: int,
        input_shape: tuple[Any, ...],
        trainable: Callable[[Node], bool] | None = None,
        input_requires_grad: bool = False,
        detail: bool = False,
    ) -> None:
        self.batch = batch
        self.size = size
        self.trainable = trainable
        self.grad = [input_requires_grad]  # by slot: whether the tensor requires grad
        self.store = [0]  # by slot: the slot of the storage it lives in (in training)
        self.nbytes = [batch * prod(input_shape) * size]  # by slot: bytes of its own storage
        self.kept: set[int] = set()
        self.adds: list[tuple[Node, Any]] = []  # the nodes that keep bytes, and how many
        self.total: Any = 0
        #: with ``detail``: by storage slot, the node that first kept it
        self.keeper: dict[int, Node] | None = {} if detail else None
        #: with ``detail``: per recording node that keeps anything, in order, its tensors
        self.listed: list[tuple[SavedTensor, ...]] = []

    @property
    def per_node(self) -> dict[str, Any]:
        """The bytes first kept at each node that keeps any, by name (built at each call)."""
        return {n.name: b for n, b in self.adds}

    def _plan(self, layer: Any, ins: Any, out: Any, params: Any) -> tuple[Any, ...]:
        """What ``layer`` saves, once per (spec, shapes): the bytes of its extra tensors, the
        tensors it keeps (-1 its output, k its input k), its output's bytes, whether it is a
        view, whether its parameters alone make it record, and whether its operands are kept
        for each other."""
        extra: Any = 0
        refs = []
        for item in layer.saved(ins, out, self.batch):
            if isinstance(item, Extra):
                extra = extra + item.elements * _acc_itemsize(item, self.size)
            else:
                refs.append(-1 if item == "out" else int(item[2:]))
        own = params > 0 if type(params) is int else bool(is_symbolic(params) or params > 0)
        return (
            extra,
            tuple(refs),
            self.batch * prod(out) * self.size,
            layer.is_view(True),
            own,
            layer.operands_for_each_other,
        )

    def visit(
        self,
        node: Node,
        src: tuple[int, ...],
        ins: tuple[tuple[Any, ...], ...],
        out: tuple[Any, ...],
        params: Any,
        memo: dict[str, Any] | None = None,
    ) -> Any:
        """Record ``node`` (the next slot; inputs in slots ``src`` of shapes ``ins``, output
        ``out``, ``params`` parameters); returns the bytes it adds."""
        plan = memo.get("saved") if memo is not None else None
        if plan is None:
            plan = self._plan(node.layer, ins, out, params)
            if memo is not None:
                memo["saved"] = plan
        extra, refs, out_bytes, view, own, for_each_other = plan
        grad, store = self.grad, self.store
        k = len(grad)
        store.append(store[src[0]] if view else k)
        self.nbytes.append(out_bytes)
        if self.trainable is not None:
            own = self.trainable(node)
        needs = own
        if not needs:
            for s in src:
                if grad[s]:
                    needs = True
                    break
        grad.append(needs)
        if not needs:
            return 0
        added: Any = extra
        kept = self.kept
        keeper = self.keeper
        for r in refs:
            if r < 0:
                storage = store[k]
            else:
                if for_each_other and not any(grad[s] for j, s in enumerate(src) if j != r):
                    continue  # a product keeps an operand only for another one's gradient
                storage = store[src[r]]
            if storage not in kept:
                kept.add(storage)
                added = added + self.nbytes[storage]
                if keeper is not None:
                    keeper[storage] = node
        if not (type(added) is int and added == 0):
            self.adds.append((node, added))
            self.total = self.total + added
        if keeper is not None:
            self._list(node, src, ins, out, k, for_each_other)
        return added

    def _list(
        self,
        node: Node,
        src: tuple[int, ...],
        ins: tuple[tuple[Any, ...], ...],
        out: tuple[Any, ...],
        k: int,
        for_each_other: bool,
    ) -> None:
        """Name the tensors ``node`` (slot ``k``, just visited, recording) keeps: in the order
        of its kind's ``saved`` rule, each storage's bytes at the first node that kept it."""
        keeper = self.keeper
        assert keeper is not None
        batch, size, layer = self.batch, self.size, node.layer
        rows: list[SavedTensor] = []
        done: set[int] = set()
        for item in layer.saved(ins, out, batch):
            if isinstance(item, Extra):
                what = f"{item.what} (module buffer)" if item.buffer else item.what
                nbytes = item.elements * _acc_itemsize(item, size)
                rows.append(SavedTensor(node.name, layer.kind, what, item.elements, nbytes))
                continue
            if item == "out":
                storage, what = self.store[k], "output"
            else:
                r = int(item[2:])
                if for_each_other and not any(self.grad[s] for j, s in enumerate(src) if j != r):
                    continue
                storage, what = self.store[src[r]], f"input {r} ({node.inputs[r]})"
            by = keeper[storage]
            first = by is node and storage not in done
            done.add(storage)
            nbytes = self.nbytes[storage]
            rows.append(
                SavedTensor(
                    node.name,
                    layer.kind,
                    what,
                    nbytes // size if type(nbytes) is int else nbytes / size,
                    nbytes if first else 0,
                    None if first else by.name,
                )
            )
        if rows:
            self.listed.append(tuple(rows))


class MemoryWalk:
    """Activation memory accumulated node by node, in the order of ``model.live_nodes()``.

    The peak of an inference pass needs to know when each tensor is freed (after its last
    consumer); that comes from the graph's structure alone, read once at the start. Tensors
    are known by their slot (:meth:`~archcalc.engine.graph.Model.live_slots`).
    """

    def __init__(
        self,
        model: Model,
        input_shape: tuple[Any, ...],
        batch: Any = 1,
        dtype: str = "float32",
        input_requires_grad: bool = False,
        trainable: Callable[[Node], bool] | None = None,
    ) -> None:
        self.dtype = dtype
        self.size = size = itemsize(dtype)
        self.batch = batch
        self.nodes = nodes = model.live_nodes()
        n = len(nodes)
        # by slot: the storage each tensor lives in, in an inference pass, and the last node
        # that uses a storage (-1: a view, no storage of its own)
        store = [0]
        last_use = [n]
        for i, (node, src) in enumerate(zip(nodes, model.live_slots())):
            if node.layer.is_view(False):
                store.append(store[src[0]])
                last_use.append(-1)
            else:
                store.append(i + 1)
                last_use.append(i)  # freed right away unless a later layer reads it
            for s in src:
                last_use[store[s]] = i
        last_use[store[n]] = n  # the output (the last live node) is kept
        last_use[0] = n  # the caller holds the input
        self.frees: list[list[int] | None] = [None] * n
        for s, last in enumerate(last_use):
            if 0 <= last < n:
                f = self.frees[last]
                if f is None:
                    self.frees[last] = [s]
                else:
                    f.append(s)
        self.store = store
        self.input_bytes = batch * prod(input_shape) * size
        self.outputs: list[OutputMemory] = []  # by node
        self.activations: Any = 0
        self.live: Any = self.input_bytes
        self.symbolic = is_symbolic(self.live)
        self.peak: Any = self.live
        self.candidates = [self.live]
        self.saved = SavedWalk(batch, size, input_shape, trainable, input_requires_grad)

    def visit(
        self,
        node: Node,
        src: tuple[int, ...],
        ins: tuple[tuple[Any, ...], ...],
        out: tuple[Any, ...],
        params: Any,
        memo: dict[str, Any] | None = None,
    ) -> None:
        """Record the next node's output (allocated unless a view), frees and saved tensors."""
        outputs = self.outputs
        i = len(outputs)
        owns = self.store[i + 1] == i + 1
        key = "own_output" if owns else "view_output"
        o = memo.get(key) if memo is not None else None
        if o is None:
            e = self.batch * prod(out)
            o = OutputMemory(e, e * self.size if owns else 0)
            if memo is not None:
                memo[key] = o
        outputs.append(o)
        if owns:
            b = o.bytes
            self.activations = self.activations + b
            self.live = self.live + b
            if not self.symbolic and type(self.live) is not int and is_symbolic(self.live):
                # a symbolic layer field on a numeric input
                self.symbolic, self.candidates = True, [self.peak]
            if self.symbolic:
                self.candidates.append(self.live)
            elif self.live > self.peak:
                self.peak = self.live
        frees = self.frees[i]
        if frees:
            for s in frees:
                self.live = self.live - (self.input_bytes if s == 0 else outputs[s - 1].bytes)
        self.saved.visit(node, src, ins, out, params, memo)

    def report(self) -> MemoryReport:
        peak = self.peak
        if self.symbolic:
            # an unevaluated Max: sympy's pairwise simplification of ~100 polynomials in floor()
            # terms takes seconds; substituted numbers evaluate it exactly
            import sympy

            peak = sympy.Max(*dict.fromkeys(self.candidates), evaluate=False)
        return MemoryReport(
            self.dtype,
            self.batch,
            self.nodes,
            self.outputs,
            self.input_bytes,
            self.activations,
            peak,
            self.saved.total,
        )


def memory_report(
    model: Model,
    shapes: dict[str, tuple[Any, ...]],
    batch: Any = 1,
    dtype: str = "float32",
    input_requires_grad: bool = False,
) -> MemoryReport:
    """Compute the :class:`MemoryReport` of ``model`` at the given shapes."""
    mw = MemoryWalk(model, shapes[INPUT], batch, dtype, input_requires_grad)
    slots = model.live_slots()

    def one(i: int, n: Node) -> None:
        ins = tuple(shapes[s] for s in n.inputs)
        mw.visit(n, slots[i], ins, shapes[n.name], n.layer.params(ins))

    each_node(model, one)
    return mw.report()


def saved_by_node(
    model: Model,
    shapes: dict[str, tuple[Any, ...]],
    batch: Any,
    size: int,
    trainable: Callable[[Node], bool] | None = None,
    input_requires_grad: bool = False,
    detail: bool = False,
) -> SavedWalk:
    """The :class:`SavedWalk` of ``model``: bytes kept for backward per node and in total.

    ``trainable(node)`` says which layers' parameters train (a frozen layer's own parameters
    need no gradient; default: every layer with parameters); ``detail`` also lists each
    tensor kept (:attr:`SavedWalk.listed`)."""
    sw = SavedWalk(batch, size, shapes[INPUT], trainable, input_requires_grad, detail)
    slots = model.live_slots()

    def one(i: int, n: Node) -> None:
        ins = tuple(shapes[s] for s in n.inputs)
        sw.visit(n, slots[i], ins, shapes[n.name], n.layer.params(ins) if trainable is None else 0)

    each_node(model, one)
    return sw


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
    return saved_by_node(model, shapes, batch, size, trainable, input_requires_grad).total
