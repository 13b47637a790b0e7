"""Receptive fields: size, effective stride and offset of every layer's output.

Per axis, a tensor's units are described by ``(size, stride, start)``: output unit ``j``
sees the input pixels ``start + j·stride … start + j·stride + size − 1`` (``start`` may be
negative: the region reaches into padding). A layer with kernel extent ``k = d(k−1)+1``,
stride ``s`` and unit-0 start ``a`` (``−padding`` for a conv) maps that to::

    size'   = size + (k − 1)·stride
    start'  = start + a·stride
    stride' = stride·s

At a merge (add, concat, multiply) the regions of unit ``j`` are united: with equal strides
the union is exact for every unit; with unequal strides the merge is ``aligned=False`` and
the figures hold for unit 0. A squeeze-excitation gate (a globally pooled branch multiplied
in) makes every output depend on the whole image: the local region is reported and
``global_context`` is set. After global pooling, flatten or a linear layer on a vector the
field is :data:`~archcalc.kinds.GLOBAL`. Transposed convolution and upsampling give
fractional strides (:class:`fractions.Fraction`); their ``size`` is the largest over phases.

>>> from archcalc.kinds import Conv2d
>>> from archcalc.engine.graph import sequential
>>> from archcalc.engine.shapes import infer_shapes
>>> m = sequential("c", [Conv2d(1, 1, 3)] * 4, input_shape=(1, 32, 32))
>>> receptive_fields(m, infer_shapes(m))["3"].size   # 1 + L(F - 1) = 1 + 4·2
(9, 9)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._errors import UnsupportedError
from .._math import is_symbolic, maximum, minimum
from ..kinds import GLOBAL
from .graph import INPUT, Model, Node, each_node

__all__ = ["RF", "receptive_fields"]


@dataclass(frozen=True)
class RF:
    """Receptive field of one tensor, per axis ``(h, w)``."""

    size: tuple[Any, Any]
    stride: tuple[Any, Any]
    offset: tuple[Any, Any]
    #: strides agreed at every merge on the way (else figures hold for unit 0 only)
    aligned: bool = True
    #: a global branch (SE gate) also feeds it: truly every unit sees the whole input
    global_context: bool = False
    #: caveats (non-uniform adaptive windows, fractional strides)
    notes: tuple[str, ...] = field(default=())
    is_global: bool = False

    @property
    def center(self) -> tuple[Any, Any]:
        """Centre of unit 0's region, ``offset + (size − 1)/2``."""
        from fractions import Fraction

        def c(o: Any, r: Any) -> Any:
            return o + (r - 1) / 2 if is_symbolic(r) or is_symbolic(o) else o + Fraction(r - 1, 2)

        return (c(self.offset[0], self.size[0]), c(self.offset[1], self.size[1]))


_GLOBAL_RF = RF((None, None), (None, None), (None, None), is_global=True)
_UNIT = RF((1, 1), (1, 1), (0, 0))


def _step(rf: RF, geom: Any, node: Node) -> RF:
    if rf.is_global or geom is GLOBAL:
        return _GLOBAL_RF
    size, stride, offset = [], [], []
    for (k, s, a), r, st, o in zip(geom, rf.size, rf.stride, rf.offset):
        size.append(r + (k - 1) * st)
        offset.append(o + a * st)
        stride.append(st * s)
    notes = rf.notes
    layer = node.layer
    note = layer.rf_note(geom)
    if note:
        notes += (f"{node.name}: {note}",)
    return RF(
        tuple(size),
        tuple(stride),
        tuple(offset),
        rf.aligned,
        rf.global_context,  # type: ignore[arg-type]
        notes,
    )


def _merge(rfs: list[RF], node: Node) -> RF:
    local = [r for r in rfs if not r.is_global]
    if not local:
        return _GLOBAL_RF
    gctx = len(local) < len(rfs) or any(r.global_context for r in local)
    size, stride, offset = [], [], []
    aligned = all(r.aligned for r in local)
    notes: tuple[str, ...] = ()
    for r in local:
        notes += tuple(n for n in r.notes if n not in notes)
    for ax in range(2):
        strides = [r.stride[ax] for r in local]
        same = all(_same(s, strides[0]) for s in strides)
        if not same:
            aligned = False
        start = minimum(*[r.offset[ax] for r in local])
        end = maximum(*[r.offset[ax] + r.size[ax] for r in local])
        size.append(end - start)
        offset.append(start)
        stride.append(maximum(*strides) if not same else strides[0])
    if not aligned and all(r.aligned for r in local):
        notes += (f"{node.name}: inputs have different strides; figures hold for unit 0",)
    return RF(tuple(size), tuple(stride), tuple(offset), aligned, gctx, notes)  # type: ignore[arg-type]


def _same(a: Any, b: Any) -> bool:
    if is_symbolic(a) or is_symbolic(b):
        return bool(getattr(a - b, "is_zero", False))
    return bool(a == b)


def receptive_fields(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, RF]:
    """``{tensor name: RF}`` for the input and every live node."""
    rfs: dict[str, RF] = {INPUT: _UNIT}

    def one(i: int, node: Node) -> None:
        ins = [rfs[s] for s in node.inputs]
        if node.layer.arity is None:
            rfs[node.name] = _merge(ins, node)
            return
        shp = tuple(shapes[s] for s in node.inputs)
        if ins[0].is_global:
            rfs[node.name] = _GLOBAL_RF
            return
        try:
            geom = node.layer.geometry(shp, shapes[node.name])
        except UnsupportedError:
            raise
        rfs[node.name] = _step(ins[0], geom, node)

    each_node(model, one)
    return rfs


def clipped_boxes(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    """The exact region of every unit of every spatial tensor, clipped to the input.

    Returns ``{name: (lo_h, hi_h, lo_w, hi_w)}``, numpy arrays indexed by unit: unit ``(i, j)``
    of ``name`` depends on input rows ``lo_h[i]..hi_h[i]`` and columns ``lo_w[j]..hi_w[j]``
    (bounding box; ``-1`` where a unit reads only padding). Unlike ``offset + j·stride``, this
    accounts for pixels no unit reads (e.g. the last column a strided conv never reaches).
    Numeric sizes and integer strides only; squeeze-excitation gates are ignored (local
    region); a global layer makes every unit see the whole input.
    """
    import numpy as np

    inp = shapes[INPUT]
    if any(is_symbolic(d) for d in inp):
        raise UnsupportedError("clipped receptive-field boxes need a numeric input size")
    out: dict[str, Any] = {}

    def ident(n: int) -> tuple[Any, Any]:
        a = np.arange(n, dtype=np.int64)
        return a, a.copy()

    out[INPUT] = (*ident(inp[1]), *ident(inp[2]))

    def one(i: int, node: Node) -> None:
        shp = shapes[node.name]
        if len(shp) != 3:
            return
        # broadcast gates (squeeze-excitation) do not add a local region
        srcs = [s for s in node.inputs if s in out and tuple(shapes[s][1:]) == tuple(shp[1:])]
        if node.layer.arity is None:
            if not srcs:
                return
            axes = []
            for ax in range(2):
                los = np.array([out[s][2 * ax] for s in srcs])
                lo = np.where(los >= 0, los, np.iinfo(np.int64).max).min(axis=0)
                lo = np.where(lo == np.iinfo(np.int64).max, -1, lo)
                hi = np.max([out[s][2 * ax + 1] for s in srcs], axis=0)
                axes += [lo, hi]
            out[node.name] = tuple(axes)
            return
        src = node.inputs[0]
        if src not in out:
            return
        geom = node.layer.geometry(tuple(shapes[s] for s in node.inputs), shp)
        if geom is GLOBAL:
            n_h, n_w = shp[1], shp[2]
            full = out[src]
            lo_h, lo_w = full[0][full[0] >= 0], full[2][full[2] >= 0]
            out[node.name] = (
                np.full(n_h, lo_h.min() if lo_h.size else -1),
                np.full(n_h, full[1].max()),
                np.full(n_w, lo_w.min() if lo_w.size else -1),
                np.full(n_w, full[3].max()),
            )
            return
        axes = []
        assert isinstance(geom, tuple)
        for ax, ((k, s, a), d) in enumerate(zip(geom, node.layer.taps(), strict=True)):
            if not (isinstance(s, int) and isinstance(k, int) and isinstance(a, int)):
                raise UnsupportedError(f"{node.name}: fractional stride; no clipped boxes")
            n_in, n_out = shapes[src][1 + ax], shp[1 + ax]
            u = np.arange(n_out, dtype=np.int64)
            lo_in, hi_in = out[src][2 * ax], out[src][2 * ax + 1]
            # every tap of every unit: start + d·t (a dilated kernel has holes, and boxes of
            # dilated layers need not grow with the unit index, so take min/max over taps)
            taps = (u * s + a)[:, None] + d * np.arange((k - 1) // d + 1, dtype=np.int64)
            inside = (taps >= 0) & (taps <= n_in - 1)
            t = np.clip(taps, 0, n_in - 1)
            ok = inside & (lo_in[t] >= 0)  # units that read only padding add nothing
            big = np.iinfo(np.int64).max
            lo = np.where(ok, lo_in[t], big).min(axis=1)
            hi = np.where(ok, hi_in[t], -1).max(axis=1)
            lo = np.where(lo == big, -1, lo)
            axes += [lo, hi]
        out[node.name] = tuple(axes)

    each_node(model, one)
    return out
