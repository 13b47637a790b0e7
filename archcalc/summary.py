"""One call for every figure: :func:`summary` and its result, :class:`Summary`.

>>> import archcalc
>>> s = archcalc.summary("resnet50")
>>> s.params, s.macs
(25557032, 4089184256)
>>> s.to_dict()["receptive_field"]["layer"]
'layer4.2.relu_2'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._errors import OptionError
from ._math import is_symbolic, jsonable
from .display import SummaryDisplay
from .engine.graph import INPUT, Model
from .engine.heads import apply_head, last_spatial_node
from .engine.memory import MemoryReport, SavedTensor, itemsize, saved_by_node
from .engine.receptive import RF
from .engine.walk import no_cycle_collection, walk
from .load.resolve import load_model

__all__ = ["summary", "Summary", "LayerRow", "SavedTensor", "load_model", "jsonable"]


@dataclass(slots=True)
class LayerRow:
    """Figures of one layer (per batch: MACs, FLOPs and activations include the batch).

    A record made once per layer by :func:`summary` (not frozen: a frozen dataclass's
    ``__init__`` costs 7x more, a quarter of a second on a 200,000-layer model)."""

    index: int
    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: tuple[Any, ...]
    params: Any
    buffers: Any
    macs: Any
    flops: Any
    activation_elements: Any
    activation_bytes: Any
    rf: RF | None


@dataclass(frozen=True, repr=False)
class Summary(SummaryDisplay):
    """Every figure of a model at one input size, batch, dtype and head."""

    model: Model
    input_shape: tuple[Any, ...]
    batch: Any
    dtype: str
    head: str
    layers: tuple[LayerRow, ...]
    params: Any
    buffers: Any
    macs: Any
    flops: Any
    memory: MemoryReport
    weights_bytes: Any
    rf: RF | None
    rf_layer: str | None
    rf_gap: str | None
    convention: str = "archcalc"
    #: whether the model input requires grad (as :func:`summary` was asked)
    input_requires_grad: bool = False

    @property
    def output_shape(self) -> tuple[Any, ...]:
        return self.layers[-1].output_shape if self.layers else self.input_shape

    def layer(self, name: str) -> LayerRow:
        for row in self.layers:
            if row.name == name:
                return row
        raise OptionError(f"model '{self.model.name}' has no layer '{name}'")

    def saved_tensors(self) -> tuple[SavedTensor, ...]:
        """Each tensor autograd keeps for backward, layer by layer, labelled; the ``bytes``
        add up to ``memory.saved_for_backward_bytes`` (a storage two layers keep is counted
        at the first; the second lists it with 0 bytes and ``kept_by``).

        >>> import archcalc
        >>> s = archcalc.summary(archcalc.sequential("m", [archcalc.MaxPool2d(2)], (1, 4, 4)),
        ...                      input_requires_grad=True)
        >>> [(t.tensor, t.elements, t.bytes) for t in s.saved_tensors()]
        [('input 0 (input)', 16, 64), ('argmax indices', 4, 32)]
        """
        shapes = {INPUT: self.input_shape, **{r.name: r.output_shape for r in self.layers}}
        sw = saved_by_node(
            self.model,
            shapes,
            self.batch,
            itemsize(self.dtype),
            input_requires_grad=self.input_requires_grad,
            detail=True,
        )
        return tuple(t for rows in sw.listed for t in rows)

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """Plain data (ints stay ints; symbols and fractions become strings); without the
        per-layer list when ``layers`` is false (see :meth:`layer_dicts`)."""
        m = self.memory
        d = {
            "model": self.model.name,
            "input": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "head": self.head,
            "convention": self.convention,
            "output_shape": list(self.output_shape),
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "memory": {
                "weights_bytes": self.weights_bytes,
                "input_bytes": m.input_bytes,
                "activations_bytes": m.activations_bytes,
                "peak_inference_bytes": m.peak_inference_bytes,
                "saved_for_backward_bytes": m.saved_for_backward_bytes,
            },
            "receptive_field": _rf_dict(self.rf, self.rf_layer, self.rf_gap),
        }
        out: dict[str, Any] = jsonable(d)
        if layers:
            out["layers"] = list(self.layer_dicts())
        return out

    def layer_dicts(self) -> Iterator[dict[str, Any]]:
        """Each layer's plain data, one at a time (``to_dict()["layers"]`` without holding
        them all)."""
        return map(_row_dict, self.layers)

    def layer_json(self) -> Iterator[str]:
        """Each entry of :meth:`layer_dicts` as ``json.dumps`` writes it. The part after the
        layer's name and inputs is encoded once per distinct figures (repeated blocks share
        it), so a 200,000-layer model is written in a fraction of a second."""
        import json

        esc = json.encoder.encode_basestring_ascii  # json.dumps' own string encoder
        tails: dict[tuple[Any, ...], str] = {}
        for r in self.layers:
            key = (
                r.output_shape,
                r.params,
                r.buffers,
                r.macs,
                r.flops,
                r.activation_elements,
                r.activation_bytes,
                id(r.rf),
            )
            tail = tails.get(key)
            if tail is None:
                d = _row_dict(r)
                for k in ("index", "name", "kind", "inputs"):
                    del d[k]
                tail = tails[key] = json.dumps(d)[1:]
            inputs = ", ".join(map(esc, r.inputs))
            yield (
                f'{{"index": {r.index}, "name": {esc(r.name)}, "kind": {esc(r.kind)}, '
                f'"inputs": [{inputs}], {tail}'
            )


def _plain(x: Any) -> Any:
    """One value as JSON-ready data (the fast path of :func:`jsonable` for scalars)."""
    return x if type(x) is int or x is None else jsonable(x)


def _row_dict(r: LayerRow) -> dict[str, Any]:
    shape = r.output_shape
    return {
        "index": r.index,
        "name": r.name,
        "kind": r.kind,
        "inputs": list(r.inputs),
        "output_shape": [_plain(v) for v in shape],
        "params": _plain(r.params),
        "buffers": _plain(r.buffers),
        "macs": _plain(r.macs),
        "flops": _plain(r.flops),
        "activations": _plain(r.activation_elements),
        "activation_bytes": _plain(r.activation_bytes),
        "receptive_field": _rf_dict(r.rf, None, None, short=True),
    }


def _seen(rf: RF) -> RF | None:
    """A layer's field for the table: None (n/a) for a parameter, buffer or constant."""
    return rf if rf.sees_input else None


def _rf_dict(rf: RF | None, layer: str | None, gap: str | None, short: bool = False) -> Any:
    if rf is None:
        none = {"size": None, "stride": None, "offset": None, "global": False}
        return none if short else {**none, "layer": layer, "unavailable": gap}
    if rf.is_global:
        glob = {"size": None, "stride": None, "offset": None, "global": True}
        return glob if short else {**glob, "layer": layer}
    d: dict[str, Any] = {
        "size": [_plain(v) for v in rf.size],
        "stride": [_plain(v) for v in rf.stride],
        "offset": [_plain(v) for v in rf.offset],
        "global": False,
    }
    if not rf.exact:
        d["phases"] = [_plain(v) for v in rf.phases]
        d["holds_for"] = rf.holds_for
    if not short:
        d["layer"] = layer
        d["aligned"] = rf.aligned
        d["global_context"] = rf.global_context
        d["exact"] = rf.exact
        d["phases"] = [_plain(v) for v in rf.phases]
        d["holds_for"] = rf.holds_for
        d["notes"] = list(rf.notes)
        if rf.per_phase is not None:  # windowed attention: each phase's [offset, size]
            d["per_phase"] = [[[_plain(o), _plain(n)] for o, n in ax] for ax in rf.per_phase]
    return d


def _sum(xs: Any) -> Any:
    total: Any = 0
    for x in xs:
        total = total + x
    return total


def summary(
    model: Model | str,
    input: Any = None,
    batch: Any = 1,
    dtype: str = "float32",
    head: str = "fc",
    classes: int | None = None,
    convention: str = "archcalc",
    input_requires_grad: bool = False,
) -> Summary:
    """Every figure of ``model`` (a :class:`Model`, zoo name or spec-file path).

    ``input`` is a shape of the model's rank or a string like ``"3x224x224"``; for a
    ``(C, H, W)`` model also ``(H, W)``, ``"HxW"`` or an int (square). A
    name instead of a number (``"H"``) makes that size a sympy symbol. ``batch`` may be
    a symbol name too. MACs, FLOPs and activation memory are for the whole batch.
    ``convention`` counts FLOPs as another tool does (see :mod:`archcalc.conventions`).
    ``input_requires_grad`` makes autograd record the layers before the first parameter too
    (an input gradient is wanted, e.g. for saliency).
    """
    with no_cycle_collection():
        return _summary(model, input, batch, dtype, head, classes, convention, input_requires_grad)


def _summary(
    model: Model | str,
    input: Any,
    batch: Any,
    dtype: str,
    head: str,
    classes: int | None,
    convention: str,
    input_requires_grad: bool,
) -> Summary:
    m = apply_head(load_model(model, input), head, classes)
    b = _batch(batch)
    size = itemsize(dtype)
    w = walk(m, input, b, dtype, input_requires_grad)
    foreign = None
    if convention != "archcalc":
        from .conventions import count

        foreign = count(m, w.shapes, b, convention)
    mem, rfs = w.memory, w.rf_list
    live = m.live_nodes()
    rows = []
    params: Any = 0
    buffers: Any = 0
    macs: Any = 0
    flops: Any = 0
    for i, (n, f, o) in enumerate(zip(live, w.figure_list, mem.output_list)):
        mac = f.macs * b
        flop = foreign[n.name] if foreign is not None else f.flops * b
        params = params + f.params
        buffers = buffers + f.buffers
        macs = macs + mac
        flops = flops + flop
        rows.append(
            LayerRow(
                i,
                n.name,
                n.layer.kind,
                n.inputs,
                f.shape,
                f.params,
                f.buffers,
                mac,
                flop,
                o.elements,
                o.bytes,
                _seen(rfs[i + 1]) if rfs is not None else None,
            )
        )
    rf_layer = last_spatial_node(m)
    if rf_layer == INPUT:
        rf_layer = m.output
    # its slot: found from the end, where it is (the output, or the input of the head)
    rf_slot = next(k for k in range(len(live), 0, -1) if live[k - 1].name == rf_layer)
    return Summary(
        model=m,
        input_shape=w.shape_list[0],
        batch=b,
        dtype=dtype,
        head=head,
        layers=tuple(rows),
        params=params,
        buffers=buffers,
        macs=macs,
        flops=flops,
        memory=mem,
        weights_bytes=params * size,
        rf=rfs[rf_slot] if rfs is not None else None,
        rf_layer=rf_layer,
        rf_gap=w.rf_gap,
        convention=convention,
        input_requires_grad=input_requires_grad,
    )


def _batch(batch: Any) -> Any:
    if isinstance(batch, str):
        b = batch.strip()
        if b.isascii() and b.isdigit():
            batch = int(b)
        elif b.isidentifier():
            from .engine.shapes import symbol

            return symbol(b)
    if is_symbolic(batch):
        return batch
    if isinstance(batch, bool) or not isinstance(batch, (int, str)):
        raise OptionError(
            argument="batch", value=batch, reason="must be a positive integer", wrong_type=True
        )
    if not isinstance(batch, int) or batch < 1:
        raise OptionError(argument="batch", value=batch, reason="must be a positive integer")
    return batch
