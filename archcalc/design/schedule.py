"""Stride schedules (exam Q4(b)): every tuple of strides that takes an ``L``-layer network of
``k×k`` convolutions from the input size to a final size, with its memory, MACs, receptive
field and coverage, ranked, and the Pareto front.

Each layer's figures come from the kind's own rules (:class:`~archcalc.kinds.Conv2d`'s
``out_shape``, ``macs``, ``params`` and ``geometry``, evaluated once per distinct layer and
input size); the receptive field composes them by the engine's law
(:mod:`archcalc.engine.receptive`); memory follows the engine's inference peak (the input held
throughout, plus one layer's input and output). A property test checks every figure against
:func:`archcalc.summary` of :func:`schedule_model`.

>>> plan = plan_schedules(input=224, layers=8, final=7)
>>> row = plan.find(EXAM_Q4B)
>>> row.sizes
(56, 28, 28, 14, 14, 7, 7, 7)
>>> row.rf                # 1 + 2·(1 + 4 + 8 + 8 + 16 + 16 + 32 + 32)
235
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, NamedTuple

from .._errors import OptionError
from .._math import prod
from ..engine.graph import Model, sequential
from ..engine.memory import itemsize
from ..kinds import Conv2d
from ._common import Raw, bad, int_list, limits, pos_int

__all__ = [
    "EXAM_Q4B",
    "RANKS",
    "ScheduleRow",
    "SchedulePlan",
    "plan_schedules",
    "schedule_model",
    "divisors",
]

#: the exam's Q4(b) schedule for an 8-layer network, 224 → 7
EXAM_Q4B = (4, 2, 1, 2, 1, 2, 1, 1)
#: what :func:`plan_schedules` can rank by
RANKS = ("memory", "peak", "macs", "rf")


@dataclass(frozen=True)
class ScheduleRow:
    """One stride schedule and its figures (memory in bytes, per batch)."""

    strides: tuple[int, ...]
    #: output height (= width) of each layer
    sizes: tuple[int, ...]
    #: bytes of every layer output (the input excluded)
    activations_bytes: int
    #: peak of an inference pass: the model input (held by its caller throughout) plus the
    #: largest input + output of one layer
    peak_bytes: int
    macs: int
    params: int
    #: receptive field of the last layer: size, effective stride, offset (pixels)
    rf: int
    rf_stride: int
    rf_offset: int
    #: input pixels that reach the output (a stride larger than the kernel skips some)
    pixels_seen: int
    input_pixels: int
    rank: int
    pareto: bool

    @property
    def coverage(self) -> Fraction:
        """Fraction of the input's pixels that influence the output."""
        return Fraction(self.pixels_seen, self.input_pixels)

    def cells(self) -> list[Any]:
        return [
            self.rank,
            ",".join(map(str, self.strides)),
            ",".join(map(str, self.sizes)),
            self.activations_bytes,
            self.peak_bytes,
            self.macs,
            self.rf,
            f"{float(self.coverage):.1%}",
            "yes" if self.pareto else "",
        ]

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["strides"], d["sizes"] = list(self.strides), list(self.sizes)
        return d


def _top(top: int | None) -> int | None:
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise bad("top", top, "must be a positive integer")
    return top


@dataclass(frozen=True)
class SchedulePlan:
    """Every schedule of :func:`plan_schedules`, in rank order."""

    input: int
    layers: int
    final: int
    channels: tuple[int, ...]
    kernel: int
    in_channels: int
    batch: int
    dtype: str
    rank_by: str
    strides_allowed: tuple[int, ...]
    schedules: tuple[ScheduleRow, ...]
    #: the schedule to show with its figures (the exam's Q4(b) one by default)
    highlight: ScheduleRow | None

    header: ClassVar[list[str]] = [
        "rank",
        "strides",
        "sizes",
        "activations B",
        "peak B",
        "MACs",
        "RF",
        "coverage",
        "Pareto",
    ]

    @property
    def front(self) -> tuple[ScheduleRow, ...]:
        """The Pareto front: no other schedule has less memory, fewer MACs and a larger
        receptive field (at least as good in all three, better in one)."""
        return tuple(r for r in self.schedules if r.pareto)

    def find(self, strides: Sequence[int] | str) -> ScheduleRow:
        """The row of one schedule."""
        key = int_list(strides, "highlight")
        for r in self.schedules:
            if r.strides == key:
                return r
        raise OptionError(
            argument="highlight",
            value=Raw(",".join(map(str, key))),
            reason=f"not a schedule of this plan; valid: {self.layers} strides from "
            f"{{{','.join(map(str, self.strides_allowed))}}} whose product is "
            f"{self.input}/{self.final} = {self.input // self.final}",
        )

    def best(self, top: int | None = None) -> tuple[ScheduleRow, ...]:
        """The ``top`` best-ranked schedules (all with ``None``)."""
        return self.schedules[: _top(top)]

    def rows(self, which: str = "all", top: int | None = None) -> list[list[Any]]:
        """Table rows of all schedules (or the ``front``), best ranked first."""
        if which not in ("all", "front"):
            raise bad("which", which, "must be all or front")
        rows = self.schedules if which == "all" else self.front
        return [r.cells() for r in rows[: _top(top)]]

    def model(self, strides: Sequence[int] | str) -> Model:
        """The network of one schedule, for :func:`archcalc.summary`."""
        return schedule_model(
            self.find(strides).strides, self.input, self.channels, self.kernel, self.in_channels
        )

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        return {
            "input": self.input,
            "layers": self.layers,
            "final": self.final,
            "channels": list(self.channels),
            "kernel": self.kernel,
            "in_channels": self.in_channels,
            "batch": self.batch,
            "dtype": self.dtype,
            "rank_by": self.rank_by,
            "strides_allowed": list(self.strides_allowed),
            "count": len(self.schedules),
            "schedules": [r.to_dict() for r in self.schedules[: _top(top)]],
            "pareto_front": [r.to_dict() for r in self.front],
            "highlight": None if self.highlight is None else self.highlight.to_dict(),
        }


def schedule_model(
    strides: Sequence[int],
    input: int = 224,
    channels: int | Sequence[int] = 64,
    kernel: int = 3,
    in_channels: int = 3,
) -> Model:
    """The planner's network for one schedule: layer ``i`` is ``Conv2d(c_{i−1}, c_i, kernel,
    stride=s_i, padding=kernel//2)`` (with bias; no activation layers — an in-place ReLU
    costs no memory), so each size is ``ceil(n/s)``.

    >>> import archcalc
    >>> archcalc.summary(schedule_model((2, 2), 8, 4)).output_shape
    (4, 2, 2)
    """
    s = tuple(strides)
    ch = _channels(channels, len(s))
    layers = [(f"conv{i}", conv) for i, conv in enumerate(_convs(s, ch, kernel, in_channels), 1)]
    return sequential(
        f"schedule_{'-'.join(map(str, s))}", layers, input_shape=(in_channels, input, input)
    )


def _convs(
    strides: Sequence[int], channels: Sequence[int], kernel: int, in_channels: int
) -> Iterator[Conv2d]:
    prev = in_channels
    for s, c in zip(strides, channels):
        yield Conv2d(prev, c, kernel, stride=s, padding=kernel // 2)
        prev = c


def _channels(channels: int | Sequence[int] | str, layers: int) -> tuple[int, ...]:
    ch = int_list(channels, "channels")
    if len(ch) == 1:
        ch = ch * layers
    if len(ch) != layers:
        raise OptionError(
            argument="channels",
            value=Raw(",".join(map(str, ch))),
            reason=f"give one value or one per layer ({layers} values for `layers` {layers})",
        )
    return ch


# ---------------------------------------------------------------- enumeration


def divisors(n: int) -> list[int]:
    """The divisors of ``n`` in increasing order, by trial division up to ``√n``.

    >>> divisors(36)
    [1, 2, 3, 4, 6, 9, 12, 18, 36]
    """
    small, large = [], []
    d = 1
    while d * d <= n:
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
        d += 1
    return small + large[::-1]


def _count_schedules(layers: int, product: int, allowed: Sequence[int], cap: int) -> int:
    """Ordered ways to write ``product`` as ``layers`` factors from ``allowed`` (which holds
    1), or a number above ``cap`` as soon as one is certain: with a factor 1 allowed the
    count never falls as layers are added, and for ``product > 1`` it is at least ``layers``."""
    if product > 1 and layers > cap:
        return layers
    divs = divisors(product)
    factors = {d: [s for s in allowed if s <= d and d % s == 0] for d in divs}
    count = {1: 1}  # ways with 0 layers
    for _ in range(layers):
        count = {d: sum(count.get(d // s, 0) for s in factors[d]) for d in divs}
        if count.get(product, 0) > cap:
            break
    return count.get(product, 0)


def _schedules(layers: int, product: int, allowed: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every schedule in lexicographic order of ``allowed`` (an explicit stack: ``layers`` may
    pass Python's recursion limit when the product is 1)."""
    stack: list[tuple[tuple[int, ...], int]] = [((), product)]
    for_later = sorted(allowed, reverse=True)
    while stack:
        prefix, rest = stack.pop()
        if len(prefix) == layers:
            if rest == 1:
                yield prefix
            continue
        for s in for_later:
            if rest % s == 0:
                stack.append(((*prefix, s), rest // s))


class _Budget:
    """Interval steps left to the coverage walk (:attr:`Limits.coverage_steps`)."""

    def __init__(self, argument: str, value: Any) -> None:
        self.left = limits.coverage_steps
        self.argument, self.value = argument, value

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            limits.check(
                "coverage_steps",
                self.argument,
                self.value,
                limits.coverage_steps + 1,
                "the coverage walk needs more than {:,} interval steps",
            )


def _seen(
    input: int,
    strides: Sequence[int],
    sizes: Sequence[int],
    kernel: int,
    budget: _Budget | None = None,
) -> int:
    """Pixels of one input axis that reach some output unit: walk back from the output,
    marking the taps ``j·s − k//2 + t`` (``0 <= t < k``) of every unit in use. A stride larger
    than ``(k + 1)/2`` can leave pixels (at the border, or between windows when ``s > k``)
    that no unit sees; the receptive-field size, a bounding box, does not show them.

    The units in use are kept as intervals: a stride ``s <= k`` maps an interval of units to
    one interval of taps, so the walk costs one step per interval, and only strides larger
    than the kernel split an interval (into one per unit).
    """
    if max(strides) <= (kernel + 1) // 2:
        return input
    import numpy as np

    half = kernel // 2
    ins = (input, *sizes[:-1])
    lo = np.zeros(1, dtype=np.int64)
    hi = np.array([sizes[-1] - 1], dtype=np.int64)
    for n_in, s in zip(reversed(ins), reversed(strides)):
        if s > kernel:  # one window per unit, apart from one another
            counts = hi - lo + 1
            if budget is not None:
                budget.spend(int(counts.sum()))
            first = np.repeat(lo - np.cumsum(counts) + counts, counts)
            units = np.arange(int(counts.sum()), dtype=np.int64) + first
            lo, hi = units * s - half, units * s - half + kernel - 1
        else:
            if budget is not None:
                budget.spend(lo.size)
            lo, hi = lo * s - half, hi * s - half + kernel - 1
        lo, hi = np.maximum(lo, 0), np.minimum(hi, n_in - 1)
        keep = lo <= hi
        lo, hi = lo[keep], hi[keep]
        if lo.size == 0:
            return 0
        # merge touching or overlapping intervals (starts are increasing)
        reach = np.maximum.accumulate(hi)
        new = np.ones(lo.size, dtype=bool)
        new[1:] = lo[1:] > reach[:-1] + 1
        ends = np.flatnonzero(np.append(new[1:], True))
        lo, hi = lo[new], reach[ends]
    return int((hi - lo + 1).sum())


def _pareto(points: list[tuple[int, ...]]) -> list[bool]:
    """Non-dominated points when minimising each coordinate (equal points all kept)."""
    import numpy as np

    big = max((abs(v) for p in points for v in p), default=0) > 2**62
    arr: Any = np.array(points, dtype=object if big else np.int64)
    out: list[bool] = []
    for i0 in range(0, len(points), 512):
        blk = arr[i0 : i0 + 512]
        le = (arr[None, :, :] <= blk[:, None, :]).all(axis=2)
        lt = (arr[None, :, :] < blk[:, None, :]).any(axis=2)
        out.extend(bool(v) for v in ~(le & lt).any(axis=1))
    return out


# ---------------------------------------------------------------- figures


class _Layer(NamedTuple):
    """One layer's figures for one sample, from :class:`~archcalc.kinds.Conv2d`'s rules."""

    size: int
    elements: int
    macs: int
    params: int
    #: receptive-field step: kernel extent, stride, start of unit 0
    extent: int
    stride: int
    start: int


class _Rules:
    """Layer figures by (position, input size, stride), each computed once from the kind."""

    def __init__(self, channels: Sequence[int], kernel: int, in_channels: int) -> None:
        self.cin = (in_channels, *channels[:-1])
        self.cout, self.kernel = tuple(channels), kernel
        self.cache: dict[tuple[int, int, int], _Layer] = {}

    def layer(self, i: int, n: int, s: int) -> _Layer:
        key = (i, n, s)
        got = self.cache.get(key)
        if got is None:
            conv = Conv2d(self.cin[i], self.cout[i], self.kernel, stride=s,
                          padding=self.kernel // 2)  # fmt: skip
            ins = ((self.cin[i], n, n),)
            out = conv.out_shape(ins)
            geom = conv.geometry(ins, out)[0]
            got = _Layer(int(out[1]), int(prod(out)), int(conv.macs(ins, out)),
                         int(conv.params(ins)), *(int(v) for v in geom))  # fmt: skip
            self.cache[key] = got
        return got


def _figures(
    strides: tuple[int, ...],
    input: int,
    rules: _Rules,
    batch: int,
    size: int,
    budget: _Budget,
) -> ScheduleRow:
    """Sizes, memory (``batch`` samples of ``size`` bytes per element), MACs, params,
    receptive field (size' = size + (k − 1)·J, start' = start + a·J, J' = J·s: the law of
    :mod:`archcalc.engine.receptive`) and coverage of one schedule."""
    n, prev = input, 0  # the input itself is live throughout: added to the peak below
    rf, jump, offset = 1, 1, 0
    acts = macs = params = peak = 0
    sizes = []
    for i, s in enumerate(strides):
        f = rules.layer(i, n, s)
        rf += (f.extent - 1) * jump
        offset += f.start * jump
        jump *= f.stride
        macs += f.macs
        params += f.params
        acts += f.elements
        peak = max(peak, prev + f.elements)
        prev, n = f.elements, f.size
        sizes.append(n)
    seen = _seen(input, strides, tuple(sizes), rules.kernel, budget)
    return ScheduleRow(
        strides=strides,
        sizes=tuple(sizes),
        activations_bytes=acts * size * batch,
        peak_bytes=(peak + rules.cin[0] * input * input) * size * batch,
        macs=macs * batch,
        params=params,
        rf=rf,
        rf_stride=jump,
        rf_offset=offset,
        pixels_seen=seen * seen,
        input_pixels=input * input,
        rank=0,  # set once every schedule is known
        pareto=False,
    )


#: sort keys of each ranking (smaller first; ties broken by the other figures, then strides)
_RANK_KEYS = {
    "memory": lambda r: (r.activations_bytes, r.peak_bytes, r.macs, -r.rf, r.strides),
    "peak": lambda r: (r.peak_bytes, r.activations_bytes, r.macs, -r.rf, r.strides),
    "macs": lambda r: (r.macs, r.activations_bytes, r.peak_bytes, -r.rf, r.strides),
    "rf": lambda r: (-r.rf, r.activations_bytes, r.macs, r.strides),
}


def plan_schedules(
    input: int = 224,
    layers: int = 8,
    final: int = 7,
    channels: int | Sequence[int] | str = 64,
    kernel: int = 3,
    *,
    in_channels: int = 3,
    batch: int = 1,
    dtype: str = "float32",
    max_stride: int | None = None,
    rank: str = "memory",
    highlight: Sequence[int] | str | None = None,
    limit: int | None = None,
) -> SchedulePlan:
    """Enumerate the stride schedules of an ``layers``-layer network from ``input`` to
    ``final`` (square maps).

    Layer ``i`` is a ``kernel``×``kernel`` convolution with padding ``kernel // 2`` (odd
    kernels), so a stride ``s`` maps a size ``n`` to ``ceil(n/s)`` — the rule of "same"
    padding with stride. A schedule is a tuple of strides from ``{1, 2, …}`` (at most
    ``max_stride``) whose product is ``input / final``; every size then divides exactly.
    (Products that reach ``final`` only by rounding up, such as 33 for 224 → 7, are left out.)

    For each schedule: the sizes, the bytes of every output (``activations_bytes``), the
    peak of an inference pass (the model input, held throughout, plus a layer's input and
    output; docs/conventions.md), MACs, parameters
    (the same for every schedule: they do not depend on strides) and the receptive field of
    the last layer, ``1 + Σ (k − 1)·J_{i−1}`` with ``J`` the product of the strides so far.
    Schedules are ranked by ``rank`` (``memory``, ``peak``, ``macs`` — smallest first — or
    ``rf``, largest first; ties broken by the others) and marked ``pareto`` when no other
    schedule is at least as good in memory, MACs and receptive field and better in one.
    ``highlight`` (default: the exam's :data:`EXAM_Q4B` when it is a candidate) is returned
    with its figures. ``channels`` is one width for all layers or one per layer.

    Work is bounded before it starts: sizes by :attr:`Limits.size
    <archcalc.design.Limits.size>`, the schedules by ``limit`` (default
    :attr:`Limits.schedules <archcalc.design.Limits.schedules>`), the layers by
    :attr:`Limits.schedule_layers <archcalc.design.Limits.schedule_layers>`.

    >>> plan = plan_schedules(224, 8, 7)
    >>> len(plan.schedules)       # 32 = 2^5: choose the layers of 5 factors of 2, with repeats
    792
    """
    input = pos_int(input, "input")
    layers = pos_int(layers, "layers")
    limits.check("schedule_layers", "layers", layers, layers, "{:,} layers")
    final = pos_int(final, "final")
    kernel = pos_int(kernel, "kernel")
    in_channels = pos_int(in_channels, "in_channels")
    batch = pos_int(batch, "batch")
    if max_stride is not None:
        max_stride = pos_int(max_stride, "max_stride")
    cap = limits.schedules if limit is None else pos_int(limit, "limit")
    if kernel % 2 == 0:
        raise bad("kernel", kernel, "must be odd (padding k//2 then gives ceil(n/s)); e.g. 3, 5, 7")
    if rank not in RANKS:
        raise bad("rank", rank, f"must be one of {', '.join(RANKS)}")
    if final > input or input % final:
        raise OptionError(
            argument="final",
            value=final,
            reason=f"unreachable from `input` {input}: the product of the strides must be "
            f"input/final, so final must divide the input; valid: {_listed(input)}",
        )
    ch = _channels(channels, layers)
    size = itemsize(dtype)
    product = input // final
    allowed = [d for d in divisors(product) if max_stride is None or d <= max_stride]
    n_sched = _count_schedules(layers, product, allowed, cap)
    if n_sched == 0:
        raise OptionError(
            argument="final",
            value=final,
            reason=f"unreachable in {layers} layers with strides in "
            f"{{{_listed(product, allowed, sep=',')}}}: their product must be {input}/{final} = "
            f"{product}; use more `layers` or a larger `max_stride`",
        )
    if n_sched > cap:
        raise OptionError(
            argument="layers",
            value=layers,
            reason=f"more than {cap:,} schedules reach {final} from {input}, over the limit "
            f"(`limit`, archcalc.design.limits.schedules or ARCHCALC_LIMIT_SCHEDULES); use "
            f"`max_stride` or fewer layers",
        )

    rules = _Rules(ch, kernel, in_channels)
    budget = _Budget("input", input)
    raw = [_figures(s, input, rules, batch, size, budget)
           for s in _schedules(layers, product, allowed)]  # fmt: skip
    raw.sort(key=_RANK_KEYS[rank])
    front = _pareto([(r.activations_bytes, r.macs, -r.rf, -r.pixels_seen) for r in raw])
    rows = tuple(
        dataclasses.replace(r, rank=i, pareto=p) for i, (r, p) in enumerate(zip(raw, front), 1)
    )
    plan = SchedulePlan(
        input=input,
        layers=layers,
        final=final,
        channels=ch,
        kernel=kernel,
        in_channels=in_channels,
        batch=batch,
        dtype=dtype,
        rank_by=rank,
        strides_allowed=tuple(allowed),
        schedules=rows,
        highlight=None,
    )
    hl: ScheduleRow | None = None
    if highlight is not None:
        hl = plan.find(highlight)
    elif len(EXAM_Q4B) == layers and prod(EXAM_Q4B) == product and set(EXAM_Q4B) <= set(allowed):
        hl = plan.find(EXAM_Q4B)
    return dataclasses.replace(plan, highlight=hl)


def _listed(n: int, values: Sequence[int] | None = None, most: int = 24, sep: str = ", ") -> str:
    """The divisors of ``n`` (or ``values``), the middle cut when there are many."""
    vals = divisors(n) if values is None else list(values)
    if len(vals) <= most:
        return sep.join(map(str, vals))
    half = most // 2
    return (
        f"{sep.join(map(str, vals[:half]))}{sep}... ({len(vals) - 2 * half} more){sep}"
        f"{sep.join(map(str, vals[-half:]))}"
    )
