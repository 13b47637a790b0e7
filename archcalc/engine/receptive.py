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
fractional strides (:class:`fractions.Fraction`) and unit *phases*: after a ×2 upsampling
units ``2m`` and ``2m+1`` may see different regions, so ``RF.phases`` counts, per axis, the
classes ``j mod phases`` whose regions differ (a stride-``s`` layer divides the count by
``gcd(phases, s)``, a ×``s`` upsampling multiplies it by ``s``); with more than one phase the
offset places phase 0 and the size is the largest over phases (``RF.exact`` is False and
``RF.holds_for`` says so; ``to_dict`` carries both). A field has as many axes as the layers'
geometry gives (two for maps, one for sequences); the model input's field takes the rank it
meets.

>>> from archcalc.kinds import Conv2d
>>> from archcalc.engine.graph import sequential
>>> from archcalc.engine.shapes import infer_shapes
>>> m = sequential("c", [Conv2d(1, 1, 3)] * 4, input_shape=(1, 32, 32))
>>> receptive_fields(m, infer_shapes(m))["3"].size   # 1 + L(F - 1) = 1 + 4·2
(9, 9)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import gcd
from typing import Any

from .._errors import UnsupportedError
from .._math import is_symbolic, maximum, minimum
from ..kinds import GLOBAL, NO_INPUT, Windows
from .graph import INPUT, Model, Node, each_node

__all__ = ["RF", "UNIT_RF", "PhaseTable", "receptive_fields", "rf_step", "clipped_boxes"]


@dataclass(frozen=True, slots=True)
class RF:
    """Receptive field of one tensor, per spatial axis (``(h, w)`` for a map).

    Unit ``j`` of an axis sees input positions ``offset + j·stride … + size − 1`` when
    ``phases`` is 1 on that axis. After a layer with a fractional stride (upsampling, a
    transposed convolution) the units fall into ``phases`` classes (``j mod phases``) whose
    regions differ: ``stride`` and ``offset`` then place phase 0 (units ``j ≡ 0``), and
    ``size`` is the largest over the phases (:attr:`exact` is False).
    """

    size: tuple[Any, ...]
    stride: tuple[Any, ...]
    offset: tuple[Any, ...]
    #: strides agreed at every merge on the way (else figures hold for unit 0 only)
    aligned: bool = True
    #: a global branch (SE gate) also feeds it: truly every unit sees the whole input
    global_context: bool = False
    #: caveats (non-uniform adaptive windows, fractional strides)
    notes: tuple[str, ...] = field(default=())
    is_global: bool = False
    #: per axis, how many unit phases have different regions (1: the formula holds for all)
    phases: tuple[Any, ...] = ()
    #: per axis, the exact region of every phase (:class:`PhaseTable`), kept once a windowed
    #: layer (Swin, MaxViT) made the field position-dependent; None otherwise
    tables: tuple[PhaseTable, ...] | None = field(default=None, compare=False, repr=False)
    #: False for the output of a parameter, buffer or constant (and of layers reading only
    #: such tensors): it sees no input position; a merge keeps its other inputs' field
    sees_input: bool = True

    @property
    def per_phase(self) -> tuple[tuple[tuple[Any, Any], ...], ...] | None:
        """Per axis, ``(offset_r, size_r)`` of each phase ``r`` (unit ``j = m·P + r`` sees
        ``offset_r + m·P·stride … + size_r − 1``), exact for every unit; None when the field
        has no per-phase table (then ``offset``/``size`` place phase 0 / bound the rest)."""
        if self.tables is None:
            return None
        return tuple(
            tuple(zip(t.lo, (h - lo + 1 for lo, h in zip(t.lo, t.hi)))) for t in self.tables
        )

    @property
    def exact(self) -> bool:
        """Whether ``offset + j·stride`` and ``size`` hold for every unit ``j``."""
        return self.aligned and all(p == 1 for p in self.phases)

    @property
    def holds_for(self) -> str:
        """Which units the figures describe, in words."""
        if not self.aligned:
            return "unit 0 (the inputs of a merge have different strides)"
        if not self.exact and self.tables is not None:
            return (
                f"every unit, per phase (RF.per_phase) of {'x'.join(str(p) for p in self.phases)} "
                f"phases; offset places phase 0 and size is the largest over the phases"
            )
        if not self.exact:
            return (
                f"phase 0 of {'x'.join(str(p) for p in self.phases)} (units whose index is a "
                f"multiple of the phase count); size is the largest over the phases"
            )
        return "every unit"

    @property
    def center(self) -> tuple[Any, ...]:
        """Centre of unit 0's region, ``offset + (size − 1)/2``."""
        from fractions import Fraction

        def c(o: Any, r: Any) -> Any:
            return o + (r - 1) / 2 if is_symbolic(r) or is_symbolic(o) else o + Fraction(r - 1, 2)

        return tuple(c(o, r) for o, r in zip(self.offset, self.size))


_GLOBAL_RF = RF((None, None), (None, None), (None, None), is_global=True)
#: the field of a parameter, buffer or constant used as a tensor: no input position
NO_INPUT_RF = RF(
    (), (), (), notes=("sees no input (a parameter, buffer or constant)",), sees_input=False
)
#: the model input: every unit sees itself, on any number of axes
UNIT_RF = RF((), (), (), phases=())


def _axes(rf: RF, n: int) -> RF:
    """``rf`` with ``n`` axes (the input's rank-free unit field takes the rank it meets)."""
    if len(rf.size) == n:
        return rf
    if rf.size == ():
        return RF(
            (1,) * n, (1,) * n, (0,) * n, rf.aligned, rf.global_context, rf.notes, phases=(1,) * n
        )
    raise UnsupportedError(
        f"receptive field of {len(rf.size)} axes meets a layer of {n} spatial axes"
    )


def _period(p: Any, s: Any) -> Any:
    """Phases after a step of stride ``s`` (a Fraction a/b) on a field of ``p`` phases."""
    if is_symbolic(s) or is_symbolic(p):
        return p
    f = Fraction(s)
    b = p * f.denominator
    return b // gcd(f.numerator, b)


# ---------------------------------------------------------------- exact fields per phase


@dataclass(frozen=True, slots=True)
class PhaseTable:
    """One axis of a field, exact for every unit: unit ``j = m·period + r`` (``0 ≤ r <
    period``, any integer ``m``) sees input positions ``lo[r] + m·shift … hi[r] + m·shift``
    (unclipped: a region may reach into padding, as ``RF.offset`` may). A window partition
    (:class:`~archcalc.kinds.Windows`) makes a field periodic in the window; a stride-``s``
    layer divides the period by ``gcd(period, s)``."""

    period: int
    shift: int
    lo: tuple[int, ...]
    hi: tuple[int, ...]

    def region(self, u: int) -> tuple[int, int]:
        """First and last input position unit ``u`` sees."""
        m, r = divmod(u, self.period)
        return self.lo[r] + m * self.shift, self.hi[r] + m * self.shift

    def union(self, a: int, d: int, n: int) -> tuple[int, int]:
        """First and last input position the units ``a, a + d, …, a + d·(n − 1)`` see. The
        units' phases repeat every ``period / gcd(period, d)`` units: per phase class only
        the first and the last unit matter (``O(period)`` however long the run)."""
        cycle = self.period // gcd(self.period, d)
        lo = hi = None
        for i in range(min(n, cycle)):
            first = self.region(a + d * i)[0]
            last = self.region(a + d * (i + (n - 1 - i) // cycle * cycle))[1]
            lo = first if lo is None or first < lo else lo
            hi = last if hi is None or last > hi else hi
        assert lo is not None and hi is not None
        return lo, hi

    def reduced(self) -> PhaseTable:
        """The same field with the smallest period that describes it."""
        n = self.period
        for p in range(1, n):
            if n % p or (self.shift * p) % n:
                continue
            d = self.shift * p // n
            if all(
                self.lo[r + p] - self.lo[r] == d and self.hi[r + p] - self.hi[r] == d
                for r in range(n - p)
            ):
                return PhaseTable(p, d, self.lo[:p], self.hi[:p])
        return self


#: the most phases a field keeps exactly (beyond, the figures are bounds with a note)
_MAX_PERIOD = 65536


def _table_of(size: Any, stride: Any, offset: Any, phases: Any) -> PhaseTable | None:
    """The table of a field described by one formula (one phase, integer figures)."""
    vals = (size, stride, offset, phases)
    if any(is_symbolic(v) or not isinstance(v, int) for v in vals) or phases != 1:
        return None
    return PhaseTable(1, stride, (offset,), (offset + size - 1,))


def _tables(rf: RF, n: int) -> tuple[PhaseTable, ...] | None:
    if rf.tables is not None:
        return rf.tables
    rf = _axes(rf, n)
    out = [_table_of(*v) for v in zip(rf.size, rf.stride, rf.offset, rf.phases)]
    return None if any(t is None for t in out) else tuple(out)  # type: ignore[arg-type]


def _table_step(t: PhaseTable, g: Any, taps: Any) -> PhaseTable | None:
    """The table after one axis of a layer's step: a :class:`Windows` or ``(k, s, a)`` with
    taps spaced ``taps`` apart."""
    if isinstance(g, Windows):
        if any(is_symbolic(v) for v in (g.size, g.shift, g.length)):
            return None
        p = t.period * g.period // gcd(t.period, g.period)
        runs = [(g.base(r), g.dilation, g.taps) for r in range(p)] if p <= _MAX_PERIOD else []
        shift = t.shift * p // t.period
    else:
        k, s, a = g
        if not all(isinstance(v, int) and not is_symbolic(v) for v in (k, s, a, taps)):
            return None
        p = t.period // gcd(t.period, s)
        runs = [(r * s + a, taps, (k - 1) // taps + 1) for r in range(p)]
        shift = t.shift * p * s // t.period
    if p > _MAX_PERIOD:
        return None
    spans = [t.union(*run) for run in runs]
    return PhaseTable(p, shift, tuple(a for a, _ in spans), tuple(b for _, b in spans)).reduced()


def _from_tables(tables: tuple[PhaseTable, ...], rf: RF, notes: tuple[str, ...]) -> RF:
    """The RF a set of exact tables describes: phase 0's offset, the unit stride, the largest
    size over the phases, the phase counts; the tables kept. The unit stride ``shift /
    period`` is whole: a table starts from an integer stride (:func:`_table_of`) and every
    step multiplies it by an integer stride (a window's is 1)."""
    return RF(
        tuple(max(h - lo + 1 for lo, h in zip(t.lo, t.hi)) for t in tables),
        tuple(t.shift // t.period for t in tables),
        tuple(t.lo[0] for t in tables),
        rf.aligned,
        rf.global_context,
        notes,
        phases=tuple(t.period for t in tables),
        tables=tables if any(t.period > 1 for t in tables) else None,
    )


def _approx_window(g: Any) -> Any:
    """A :class:`Windows` axis as one ``(k, s, a)`` step (unit 0's window; used only where no
    exact table can be kept: symbolic or fractional figures)."""
    if not isinstance(g, Windows):
        return g
    return ((g.taps - 1) * g.dilation + 1, 1, g.base(0))


def _step(rf: RF, geom: Any, node: Node) -> RF:
    if rf.is_global or geom is GLOBAL:
        return _GLOBAL_RF
    rf = _axes(rf, len(geom))
    windowed = any(isinstance(g, Windows) for g in geom)
    layer = node.layer
    note = layer.rf_note(geom)
    win: list[Any] = [1] * len(geom)
    if windowed or rf.tables is not None:
        tables = _tables(rf, len(geom))
        if tables is not None:
            stepped = [_table_step(t, g, d) for t, g, d in zip(tables, geom, layer.taps())]
            if all(t is not None for t in stepped):
                notes = rf.notes + ((f"{node.name}: {note}",) if note else ())
                return _from_tables(tuple(stepped), rf, notes)  # type: ignore[arg-type]
        rf = RF(
            rf.size, rf.stride, rf.offset, rf.aligned, rf.global_context, rf.notes, phases=rf.phases
        )
        if windowed:
            # units of a windowed axis fall into `period` classes whose regions differ: the
            # approximate field keeps at least that many phases (not exact)
            win = [g.period if isinstance(g, Windows) else 1 for g in geom]
            geom = tuple(_approx_window(g) for g in geom)
            note = (note or "") + (
                "windowed attention: approximate field (symbolic, fractional or more than "
                f"{_MAX_PERIOD} phases: no exact per-phase table)"
            )
    size, stride, offset, phases = [], [], [], []
    for (k, s, a), r, st, o, p, w in zip(geom, rf.size, rf.stride, rf.offset, rf.phases, win):
        size.append(r + (k - 1) * st)
        offset.append(o + a * st)
        stride.append(st * s)
        phases.append(_lcm([_period(p, s), w]) if w != 1 else _period(p, s))
    notes = rf.notes
    if note:
        notes += (f"{node.name}: {note}",)
    return RF(
        tuple(size),
        tuple(stride),
        tuple(offset),
        rf.aligned,
        rf.global_context,
        notes,
        phases=tuple(phases),
    )


def _merge(rfs: list[RF], node: Node) -> RF:
    local = [r for r in rfs if not r.is_global]
    if not local:
        return _GLOBAL_RF
    n = max(len(r.size) for r in local)
    local = [_axes(r, n) for r in local]
    gctx = len(local) < len(rfs) or any(r.global_context for r in local)
    if any(r.tables is not None for r in local):
        merged = _merge_tables(local, n)
        if merged is not None:
            seen: tuple[str, ...] = ()
            for r in local:
                seen += tuple(x for x in r.notes if x not in seen)
            base = RF((), (), (), all(r.aligned for r in local), gctx)
            return _from_tables(merged, base, seen)
    size, stride, offset, phases = [], [], [], []
    aligned = all(r.aligned for r in local)
    notes: tuple[str, ...] = ()
    for r in local:
        notes += tuple(n for n in r.notes if n not in notes)
    for ax in range(n):
        strides = [r.stride[ax] for r in local]
        same = all(_same(s, strides[0]) for s in strides)
        if not same:
            aligned = False
        start = minimum(*[r.offset[ax] for r in local])
        end = maximum(*[r.offset[ax] + r.size[ax] for r in local])
        size.append(end - start)
        offset.append(start)
        stride.append(maximum(*strides) if not same else strides[0])
        ps = [r.phases[ax] for r in local]
        phases.append(ps[0] if all(_same(q, ps[0]) for q in ps) else _lcm(ps))
    if not aligned and all(r.aligned for r in local):
        notes += (f"{node.name}: inputs have different strides; figures hold for unit 0",)
    return RF(tuple(size), tuple(stride), tuple(offset), aligned, gctx, notes, phases=tuple(phases))


def _merge_tables(local: list[RF], n: int) -> tuple[PhaseTable, ...] | None:
    """The exact union of the inputs' fields, per phase; None where an input has no table or
    the inputs' unit strides differ (then the merge is not aligned)."""
    per_input = [_tables(r, n) for r in local]
    if any(t is None for t in per_input):
        return None
    out = []
    for ax in range(n):
        ts = [t[ax] for t in per_input]  # type: ignore[index]
        if len({Fraction(t.shift, t.period) for t in ts}) != 1:
            return None
        p = _lcm([t.period for t in ts])
        if p > _MAX_PERIOD:
            return None
        spans = [[t.region(r) for t in ts] for r in range(p)]
        table = PhaseTable(
            p,
            ts[0].shift * p // ts[0].period,
            tuple(min(a for a, _ in sp) for sp in spans),
            tuple(max(b for _, b in sp) for sp in spans),
        )
        out.append(table.reduced())
    return tuple(out)


def _lcm(ps: list[Any]) -> Any:
    if any(is_symbolic(p) for p in ps):
        return ps[0]
    out = 1
    for p in ps:
        out = out * p // gcd(out, p)
    return out


def _same(a: Any, b: Any) -> bool:
    if is_symbolic(a) or is_symbolic(b):
        return bool(getattr(a - b, "is_zero", False))
    return bool(a == b)


def rf_step(
    node: Node,
    in_rfs: list[RF],
    ins: tuple[tuple[Any, ...], ...],
    out: tuple[Any, ...],
    memo: dict[str, Any] | None = None,
) -> RF:
    """The receptive field of ``node``'s output from its inputs' fields (``in_rfs``), input
    shapes ``ins`` and output shape ``out``; ``memo`` keeps the layer's geometry for other
    nodes with the same spec and shapes."""
    if not all(r.sees_input for r in in_rfs):
        seeing = [(r, s) for r, s in zip(in_rfs, ins) if r.sees_input]
        if not seeing:
            return NO_INPUT_RF  # computed from parameters and constants only
        if node.layer.arity is not None and not in_rfs[0].sees_input:
            raise UnsupportedError(
                f"{node.layer.kind}'s first operand sees no input (a parameter or constant): "
                f"its field is followed from the first operand only"
            )
        if node.layer.arity is None:
            in_rfs, ins = [r for r, _ in seeing], tuple(s for _, s in seeing)
            if len(in_rfs) == 1:
                return in_rfs[0]  # x + pos_embed: the field of x
    if node.layer.arity is None:
        if any(r.is_global and s == out for r, s in zip(in_rfs, ins)):
            # a global summand of the output's own shape (an attention branch added to its
            # residual): every unit sees the whole input; a broadcast gate (C, 1, 1) only
            # adds global context to the local field
            return _GLOBAL_RF
        return _merge(in_rfs, node)
    if in_rfs[0].is_global:
        return _GLOBAL_RF
    step = memo.get("rf") if memo is not None else None
    if step is None:
        geom = node.layer.geometry(ins, out)
        if geom is NO_INPUT:
            return NO_INPUT_RF
        step = (geom, geom is not GLOBAL and _identity(geom, node))
        if memo is not None:
            memo["rf"] = step
    geom, identity = step
    if identity and in_rfs[0] is not UNIT_RF:
        return in_rfs[0]  # a pointwise layer: the same field (shared, not copied)
    return _step(in_rfs[0], geom, node)


def _identity(geom: Any, node: Node) -> bool:
    return all(g == (1, 1, 0) for g in geom) and not node.layer.rf_note(geom)


def receptive_fields(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, RF]:
    """``{tensor name: RF}`` for the input and every live node."""
    rfs: dict[str, RF] = {INPUT: UNIT_RF}

    def one(i: int, node: Node) -> None:
        ins = tuple(shapes[s] for s in node.inputs)
        rfs[node.name] = rf_step(node, [rfs[s] for s in node.inputs], ins, shapes[node.name])

    each_node(model, one)
    return rfs


def clipped_boxes(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    """The exact region of every unit of every ``(C, H, W)`` map, clipped to the input (the
    torch cross-check's tool; tensors of other ranks are left out).

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
        if geom is NO_INPUT:
            return  # a parameter or constant: no region (merges keep the others')
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
        for ax, (g, d) in enumerate(zip(geom, node.layer.taps(), strict=True)):
            n_in, n_out = shapes[src][1 + ax], shp[1 + ax]
            u = np.arange(n_out, dtype=np.int64)
            lo_in, hi_in = out[src][2 * ax], out[src][2 * ax + 1]
            if isinstance(g, Windows):
                # a window partition: the members of unit u's window (those past the map's
                # end are torchvision's zero padding and read nothing)
                steps = np.arange(g.taps, dtype=np.int64) * g.dilation
                taps = g.base(u)[:, None] + steps
            else:
                k, s, a = g
                if not (isinstance(s, int) and isinstance(k, int) and isinstance(a, int)):
                    raise UnsupportedError(f"{node.name}: fractional stride; no clipped boxes")
                # every tap of every unit: start + d·t (a dilated kernel has holes, and boxes
                # of dilated layers need not grow with the unit index: min/max over taps)
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
