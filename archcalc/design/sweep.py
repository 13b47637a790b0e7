"""Budget sweeps over two CNN families, evaluated with numpy (exam Q4: depth, width, kernel
size and resolution at a fixed cost).

The families are small enough to write in closed form and common enough to mean something.
With ``n = ceil(R / s0)`` the size of every body map (odd kernels, padding ``k // 2``):

``plain``
    stem ``Conv2d(3, W, k, stride=s0, padding=k//2)``, ReLU; ``D`` times
    ``Conv2d(W, W, k, padding=k//2)``, ReLU; then ``GlobalAvgPool``, ``Flatten`` and
    ``Linear(W, classes)``. Receptive field ``k + D·(k−1)·s0``.
``residual``
    the same stem and head; ``D`` basic blocks ``conv-ReLU-conv`` plus the block's input
    (``Add``), ReLU — ``2D`` body convolutions. Receptive field ``k + 2D·(k−1)·s0``.

Every convolution has a bias (no BatchNorm). Each figure is the one :func:`archcalc.summary`
gives for :func:`build`'s model (the tests check it on sampled configurations): with
``A = W·n²`` elements per body map, ``I = 3·R²`` the input, ``c`` the number of body convs,

* params ``3·W·k² + W + c·(W²·k² + W) + (W + 1)·classes``
* MACs ``A·3·k² + c·A·W·k² + W·classes``; FLOPs ``2·MACs`` plus one per ReLU output, one per
  Add output and ``A`` for the pool
* memory (every output) ``(2D + 2)·A`` or ``(5D + 2)·A``, plus ``W + classes`` for the head
* peak of inference ``I + max(2A or 3A, W + classes)``: the input (its caller holds it
  throughout) plus a layer's input and output (a residual block also holds its shortcut),
  or the head's pooled vector and logits
* saved for backward ``I + (D + 1)·A + W`` or ``I + (2D + 1)·A + W`` (each conv keeps its
  input, each ReLU its output, the linear layer the pooled vector)

all times the batch (and the dtype's bytes for memory). Integer arithmetic is exact: arrays
are ``int64`` when the largest figure of the grid (every figure grows with D, W, k and R, so
the corner of the grid bounds them) fits, else Python ints in object arrays (``arithmetic``
says which; that path is over ten times slower).

>>> r = sweep(depths=range(1, 9), widths=(32, 64), kernels=(3, 5), resolutions=(64,),
...           family="plain", metric="macs", budget=40_000_000, tolerance="0.1")
>>> r.evaluated, r.n_on_budget                  # 8 depths x 2 widths x 2 kernels
(32, 2)
>>> best = r.on_budget[0]
>>> (best.depth, best.width, best.kernel, best.rf)      # RF k + D(k-1)s0 = 3 + 4·2·2
(4, 32, 3, 19)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._errors import OptionError
from ..engine.graph import Builder, Model
from ..engine.memory import DTYPES, itemsize
from ..kinds import Add, Conv2d, Flatten, GlobalAvgPool, Linear, ReLU
from ._common import Raw, bad, limits, number, pos_int, show

__all__ = [
    "FAMILIES",
    "METRICS",
    "SweepRow",
    "SweepResult",
    "build",
    "evaluate",
    "sweep",
    "parse_values",
    "parse_amount",
    "Figures",
]

FAMILIES = ("plain", "residual")
#: budget metrics: names of :func:`evaluate`'s figures
METRICS = ("macs", "flops", "params", "memory", "peak", "saved")
INT64_MAX = 2**63 - 1

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- the two families


def build(
    family: str,
    depth: int,
    width: int,
    kernel: int,
    resolution: int,
    *,
    stem_stride: int = 2,
    classes: int = 1000,
    in_channels: int = 3,
) -> Model:
    """The family's network as an archcalc :class:`~archcalc.engine.graph.Model` (the scalar
    reference that :func:`evaluate` must equal).

    >>> import archcalc
    >>> archcalc.summary(build("residual", 1, 8, 3, 32, classes=10)).rf.size   # 3 + 2·2·2
    (11, 11)
    """
    _check_family(family)
    w, k, p = width, kernel, kernel // 2
    b = Builder(f"{family}_d{depth}_w{w}_k{k}", (in_channels, resolution, resolution))
    b.add("stem.conv", Conv2d(in_channels, w, k, stride=stem_stride, padding=p))
    x = b.add("stem.relu", ReLU())
    for i in range(depth):
        if family == "plain":
            b.add(f"body.{i}.conv", Conv2d(w, w, k, padding=p))
            x = b.add(f"body.{i}.relu", ReLU())
        else:
            b.add(f"block{i}.conv1", Conv2d(w, w, k, padding=p), x)
            b.add(f"block{i}.relu1", ReLU())
            c2 = b.add(f"block{i}.conv2", Conv2d(w, w, k, padding=p))
            b.add(f"block{i}.add", Add(), c2, x)
            x = b.add(f"block{i}.relu2", ReLU())
    b.add("pool", GlobalAvgPool())
    b.add("flatten", Flatten())
    b.add("fc", Linear(w, classes))
    return b.build(features=x)


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise bad("family", family, f"must be one of {', '.join(FAMILIES)} or both")


def _max(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return max(a, b)


class Figures(NamedTuple):
    """Every figure of one configuration (or of arrays of them), per batch, memory in bytes."""

    params: Any
    macs: Any
    flops: Any
    #: bytes of every output
    memory: Any
    #: peak inference bytes
    peak: Any
    #: bytes saved for backward
    saved: Any
    #: receptive field size at the last map (pixels)
    rf: Any
    #: height of the last map
    final: Any


def _figures(
    residual: bool,
    d: Any,
    w: Any,
    k: Any,
    r: Any,
    s0: int,
    classes: int,
    cin: int,
    batch: int,
    size: int,
) -> Figures:
    """The closed forms, written once for Python ints and integer arrays alike (a property
    test holds them equal to :func:`archcalc.summary` of :func:`build`'s model)."""
    n = (r + (s0 - 1)) // s0  # ceil(R / s0): odd k, padding k // 2
    a = w * (n * n)  # elements of one body map
    i = cin * (r * r)  # elements of the input
    k2 = k * k
    convs = 2 * d if residual else d  # body convolutions
    params = cin * w * k2 + w + convs * (w * w * k2 + w) + w * classes + classes
    macs = batch * (a * (cin * k2) + convs * (a * (w * k2)) + w * classes)
    # ReLU: 1 per output (stem + one or two per unit); Add: 1 per output; pool: A
    elementwise = (3 * d + 2) * a if residual else (d + 2) * a
    flops = 2 * macs + batch * elementwise
    outputs = (5 * d + 2) * a if residual else (2 * d + 2) * a
    memory = batch * size * (outputs + w + classes)
    live = 3 * a if residual else 2 * a  # a block holds its shortcut, conv out, new out
    peak = batch * size * (i + _max(live, w + classes))  # the input stays live throughout
    saved = batch * size * (i + (convs + 1) * a + w)
    rf = k + convs * ((k - 1) * s0)
    return Figures(params, macs, flops, memory, peak, saved, rf, n)


def _check_settings(stem_stride: int, classes: int, in_channels: int, batch: int) -> None:
    for name, v in (
        ("stem_stride", stem_stride),
        ("classes", classes),
        ("in_channels", in_channels),
        ("batch", batch),
    ):
        pos_int(v, name)


def evaluate(
    family: str,
    depth: Any,
    width: Any,
    kernel: Any,
    resolution: Any,
    *,
    stem_stride: int = 2,
    classes: int = 1000,
    in_channels: int = 3,
    batch: int = 1,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Every figure of ``family`` at the given sizes (ints or integer arrays, broadcast).

    Keys: ``params``, ``macs``, ``flops``, ``memory`` (bytes of every output),
    ``peak`` (peak inference bytes), ``saved`` (bytes saved for backward), ``rf`` (receptive
    field size at the last map, pixels) and ``final`` (its height). Figures are per batch, as
    :func:`archcalc.summary` gives them. Arrays come back ``int64`` when the inputs are
    ``int64``; pass object arrays for Python-int arithmetic.

    >>> evaluate("plain", 2, 16, 3, 32)["params"] == (3*9*16 + 16) + 2*(16*16*9 + 16) + 17*1000
    True
    """
    _check_family(family)
    _check_settings(stem_stride, classes, in_channels, batch)
    return _figures(
        family == "residual",
        depth,
        width,
        kernel,
        resolution,
        stem_stride,
        classes,
        in_channels,
        batch,
        itemsize(dtype),
    )._asdict()


# ---------------------------------------------------------------- parsing helpers


def parse_values(text: str | int | Iterable[int], argument: str) -> tuple[int, ...]:
    """Positive ints from ``"1,3,5"``, ``"4:16"`` (inclusive), ``"16:256:16"`` or a mix.

    The number of values is counted before a range is expanded and bounded by
    :attr:`Limits.sweep_configurations <archcalc.design.Limits.sweep_configurations>`; each
    value by :attr:`Limits.size <archcalc.design.Limits.size>`.

    >>> parse_values("1,3:7:2,16", "kernels")
    (1, 3, 5, 7, 16)
    """
    values: list[Any]
    if isinstance(text, int):  # bool included: rejected below
        values = [text]
    elif isinstance(text, str):
        values = []
        ranges = []
        for part in text.split(","):
            m = re.fullmatch(r"\s*(\d+)\s*(?::\s*(\d+)\s*(?::\s*(\d+)\s*)?)?", part)
            if not m:
                raise bad(
                    argument,
                    text,
                    "write positive integers, ranges a:b or a:b:step, separated by commas "
                    "(e.g. 1,3,5 or 16:256:16)",
                )
            lo, hi, step = (_value(g, argument, text) for g in m.groups())
            if hi is None:
                values.append(lo)
                continue
            if step is not None and step < 1:
                raise bad(argument, text, "a range step must be >= 1")
            if hi < lo:
                raise bad(argument, text, f"range {lo}:{hi} is empty")
            ranges.append(range(lo, hi + 1, step or 1))
        count = len(values) + sum(len(r) for r in ranges)
        limits.check("sweep_configurations", argument, text, count, "{:,} values")
        for r in ranges:
            values.extend(r)
    else:
        try:
            values = list(text)
        except TypeError:
            raise bad(argument, text, "must be an int, a sequence of ints or text") from None
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise bad(argument, v, "values must be positive integers")
        pos_int(int(v), argument)
    if not values:
        raise OptionError(argument=argument, value=text, reason="give at least one value")
    return tuple(sorted({int(v) for v in values}))


def _value(digits: str | None, argument: str, text: str) -> Any:
    if digits is None:
        return None
    if len(digits) > 30:
        limits.check("size", argument, text, limits.size + 1, "a value over {:,}")
    return int(digits)


_SUFFIX = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}


def parse_amount(text: str | int | float | Fraction, argument: str) -> Fraction:
    """A positive amount, exactly: ``4089184256``, ``4.1e9``, ``300M``, ``2G``, ``512MiB``.

    Decimal suffixes k, M, G, T; binary Ki, Mi, Gi, Ti; a trailing ``B`` is allowed. The
    order of magnitude is bounded by :attr:`Limits.exponent
    <archcalc.design.Limits.exponent>`, checked on the text.

    >>> parse_amount("1.5G", "budget"), parse_amount("2MiB", "budget")
    (Fraction(1500000000, 1), Fraction(2097152, 1))
    """
    if isinstance(text, bool):
        raise bad(argument, text, "must be a positive number")
    if isinstance(text, (int, Fraction, float)):
        value = number(text, argument)
    elif isinstance(text, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([kKmMgGtT]i?)?[bB]?\s*", text)
        if not m:
            raise bad(
                argument,
                text,
                "must be a positive number, e.g. 4089184256, 4.1e9, 300M, 2G or 512MiB",
            )
        value = number(m.group(1), argument) * _SUFFIX[(m.group(2) or "").lower()]
    else:
        raise bad(argument, text, "must be a positive number")
    if value <= 0:
        raise bad(argument, text, "must be positive")
    return value


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class SweepRow:
    """One configuration and its figures (per batch; memory in bytes)."""

    family: str
    depth: int
    width: int
    kernel: int
    resolution: int
    final: int
    params: int
    macs: int
    flops: int
    memory: int
    peak: int
    saved: int
    rf: int

    header: ClassVar[list[str]] = [
        "family",
        "depth",
        "width",
        "kernel",
        "input",
        "map",
        "params",
        "MACs",
        "memory B",
        "peak B",
        "saved B",
        "RF",
    ]

    def cells(self) -> list[Any]:
        return [
            self.family,
            self.depth,
            self.width,
            self.kernel,
            self.resolution,
            self.final,
            self.params,
            self.macs,
            self.memory,
            self.peak,
            self.saved,
            self.rf,
        ]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SweepResult:
    """What :func:`sweep` found: the configurations on the budget (best receptive field
    first, at most ``top`` of them kept) and the Pareto front of receptive field vs cost
    among every configuration that does not exceed the budget."""

    families: tuple[str, ...]
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    kernels: tuple[int, ...]
    resolutions: tuple[int, ...]
    metric: str
    budget: Fraction | None
    tolerance: Fraction
    #: the band of ``metric`` counted as on budget: ``lo <= cost <= hi``
    lo: int
    hi: int | None
    evaluated: int
    #: ``int64`` or ``python-int`` (object arrays, when a figure of the grid exceeds 2^63−1)
    arithmetic: str
    n_on_budget: int
    on_budget: tuple[SweepRow, ...]
    front: tuple[SweepRow, ...]
    settings: dict[str, Any]

    header: ClassVar[list[str]] = SweepRow.header

    def rows(self, which: str = "on_budget") -> list[list[Any]]:
        """Table rows of ``on_budget`` or ``front``."""
        if which not in ("on_budget", "front"):
            raise bad("which", which, "must be on_budget or front")
        return [r.cells() for r in getattr(self, which)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "families": list(self.families),
            "grid": {
                "depth": list(self.depths),
                "width": list(self.widths),
                "kernel": list(self.kernels),
                "resolution": list(self.resolutions),
            },
            "metric": self.metric,
            "budget": None if self.budget is None else _num(self.budget),
            "tolerance": float(self.tolerance),
            "band": [self.lo, self.hi],
            "evaluated": self.evaluated,
            "arithmetic": self.arithmetic,
            "n_on_budget": self.n_on_budget,
            "on_budget": [r.to_dict() for r in self.on_budget],
            "pareto_front": [r.to_dict() for r in self.front],
            "settings": dict(self.settings),
        }


def _num(f: Fraction) -> int | float:
    return int(f) if f.denominator == 1 else float(f)


# ---------------------------------------------------------------- the sweep


def _front_mask(cost: np.ndarray, rf: np.ndarray) -> np.ndarray:
    """Non-dominated points (lower cost, larger rf); equal points are all kept."""
    if cost.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((-rf, cost))
    c, f = cost[order], rf[order]
    start = np.searchsorted(c, c, side="left")  # first row of each cost group
    best = np.maximum.accumulate(f)
    prev = np.where(start > 0, best[np.maximum(start - 1, 0)], -1)
    keep_sorted = (f == f[start]) & (f > prev)
    mask = np.zeros(cost.size, dtype=bool)
    mask[order] = keep_sorted
    return mask


def sweep(
    depths: Iterable[int] | str = range(1, 17),
    widths: Iterable[int] | str = (16, 32, 64, 128, 256),
    kernels: Iterable[int] | str = (1, 3, 5, 7),
    resolutions: Iterable[int] | str = (32, 64, 128, 224),
    *,
    family: str | Sequence[str] = "both",
    metric: str = "macs",
    budget: str | int | float | Fraction | None = None,
    tolerance: str | float | Fraction = "0.05",
    stem_stride: int = 2,
    classes: int = 1000,
    in_channels: int = 3,
    batch: int = 1,
    dtype: str = "float32",
    top: int = 20,
    chunk: int = 1 << 18,
    progress: Progress | None = None,
) -> SweepResult:
    """Evaluate every (family, depth, width, kernel, resolution) of the grid.

    A configuration is *on budget* when ``budget·(1 − tolerance) <= metric <= budget·(1 +
    tolerance)`` (bounds rounded inwards to integers); ``budget=None`` puts every
    configuration on budget. ``on_budget`` keeps the ``top`` best by receptive field (then by
    lower cost); ``front`` is the Pareto front of receptive field (larger is better) vs
    ``metric`` (smaller is better) over every configuration with ``metric <= hi``.
    ``progress(done, total)`` is called after each chunk of ``chunk`` configurations.
    Raises :class:`~archcalc.OptionError` when no configuration is on budget, and before
    any work when the grid passes :attr:`Limits.sweep_configurations
    <archcalc.design.Limits.sweep_configurations>` (``sweep_configurations_exact`` when its
    figures pass 2^63 − 1).
    """
    fams = _families(family)
    grid = _Grid(
        parse_values(depths, "depths"),
        parse_values(widths, "widths"),
        parse_values(kernels, "kernels"),
        parse_values(resolutions, "resolutions"),
    )
    even = [k for k in grid.kernels if k % 2 == 0]
    if even:
        raise bad(
            "kernels",
            even[0],
            "kernels must be odd (padding k//2 keeps the map size ceil(n/s)); valid e.g. 1,3,5,7",
        )
    if metric not in METRICS:
        raise bad("metric", metric, f"must be one of {', '.join(METRICS)}")
    _check_settings(stem_stride, classes, in_channels, batch)
    if dtype not in DTYPES:
        itemsize(dtype)  # raises the one-line error
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise bad("top", top, "must be a positive integer")
    tol = number(tolerance, "tolerance")
    if not 0 <= tol < 1:
        raise bad("tolerance", tolerance, "must be in [0, 1), e.g. 0.05 for ±5%")
    amount = None if budget is None else parse_amount(budget, "budget")
    lo = 0 if amount is None else math.ceil(amount * (1 - tol))
    hi = None if amount is None else math.floor(amount * (1 + tol))
    if hi is not None and hi < lo:
        raise OptionError(
            argument="budget",
            value=budget,
            reason=f"with `tolerance` {show(tolerance)}, the band holds no integer",
        )

    common = dict(
        s0=stem_stride, classes=classes, cin=in_channels, batch=batch, size=itemsize(dtype)
    )
    # every figure grows with D, W, k and R: the corner of the grid bounds them
    bound = max(max(_figures(f == "residual", *grid.corner, **common)) for f in fams)
    exact64 = bound <= INT64_MAX
    total = grid.size * len(fams)
    name = "sweep_configurations" if exact64 else "sweep_configurations_exact"
    what = "{:,} configurations" + ("" if exact64 else " with figures past 2^63 - 1")
    grid_text = f"{grid.text} x {len(fams)} families"
    limits.check(name, "grid", grid_text, total, what, literal=True)
    found = _scan(fams, grid, metric, lo, hi, exact64, common, max(1, int(chunk)), progress)
    if found.ids.size == 0:
        raise OptionError(_nothing_message(metric, budget, tolerance, lo, hi))
    order = np.lexsort((found.ids, found.costs, -found.rfs))[:top]
    forder = np.lexsort((found.front_ids, -found.front_rf, found.front_cost))

    def row(g: int) -> SweepRow:
        fam = fams[g // grid.size]
        d, w, k, r = grid.at(g % grid.size)
        f = _figures(fam == "residual", d, w, k, r, **common)
        return SweepRow(fam, d, w, k, r, **{key: int(getattr(f, key)) for key in _ROW_FIGURES})

    return SweepResult(
        families=fams,
        depths=grid.depths,
        widths=grid.widths,
        kernels=grid.kernels,
        resolutions=grid.resolutions,
        metric=metric,
        budget=amount,
        tolerance=tol,
        lo=lo,
        hi=hi,
        evaluated=total,
        arithmetic="int64" if exact64 else "python-int",
        n_on_budget=int(found.ids.size),
        on_budget=tuple(row(int(g)) for g in found.ids[order]),
        front=tuple(row(int(g)) for g in found.front_ids[forder]),
        settings={
            "stem_stride": stem_stride,
            "classes": classes,
            "in_channels": in_channels,
            "batch": batch,
            "dtype": dtype,
        },
    )


_ROW_FIGURES = ("final", "params", "macs", "flops", "memory", "peak", "saved", "rf")


@dataclass(frozen=True)
class _Grid:
    """The four axes of a sweep; configuration ``i`` of one family is ``at(i)``."""

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    kernels: tuple[int, ...]
    resolutions: tuple[int, ...]

    @property
    def axes(self) -> tuple[tuple[int, ...], ...]:
        return (self.depths, self.widths, self.kernels, self.resolutions)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def corner(self) -> tuple[int, ...]:
        return tuple(max(v) for v in self.axes)

    @property
    def text(self) -> str:
        """The grid, for a message about its size."""
        return " x ".join(f"{len(v)} {n}" for v, n in zip(self.axes, _AXES))

    def at(self, i: int) -> tuple[int, int, int, int]:
        d, w, k, r = (int(self.axes[a][j]) for a, j in enumerate(np.unravel_index(i, self.shape)))
        return (d, w, k, r)


_AXES = ("depths", "widths", "kernels", "resolutions")


class _Found(NamedTuple):
    """What the scan keeps: configurations on budget, and the running Pareto front."""

    ids: np.ndarray
    rfs: np.ndarray
    costs: np.ndarray
    front_ids: np.ndarray
    front_cost: np.ndarray
    front_rf: np.ndarray


def _scan(
    fams: tuple[str, ...],
    grid: _Grid,
    metric: str,
    lo: int,
    hi: int | None,
    exact64: bool,
    common: dict[str, Any],
    chunk: int,
    progress: Progress | None,
) -> _Found:
    """Evaluate the grid in chunks (vectorised); keep the band and the front."""
    dt: Any = np.int64 if exact64 else object
    axes = [np.asarray(v, dtype=dt) for v in grid.axes]
    per_family, total = grid.size, grid.size * len(fams)
    hi_c = hi if hi is None or hi <= INT64_MAX else INT64_MAX
    keep_ids: list[np.ndarray] = []
    keep_rf: list[np.ndarray] = []
    keep_cost: list[np.ndarray] = []
    front_ids = np.zeros(0, dtype=np.int64)
    front_cost = np.zeros(0, dtype=dt)
    front_rf = np.zeros(0, dtype=dt)
    done = 0
    for fi, fam in enumerate(fams):
        residual = fam == "residual"
        for start in range(0, per_family, chunk):
            flat = np.arange(start, min(start + chunk, per_family), dtype=np.int64)
            di, wi, ki, ri = np.unravel_index(flat, grid.shape)
            figs = _figures(residual, axes[0][di], axes[1][wi], axes[2][ki], axes[3][ri], **common)
            cost, rf = getattr(figs, metric), figs.rf
            gid = flat + fi * per_family
            under = cost <= hi_c if hi_c is not None else np.ones(flat.size, dtype=bool)
            band = under & (cost >= lo) if lo > 0 else under
            if band.any():
                keep_ids.append(gid[band])
                keep_rf.append(rf[band])
                keep_cost.append(cost[band])
            if under.any():
                cu, ru, iu = cost[under], rf[under], gid[under]
                m = _front_mask(cu, ru)
                front_cost = np.concatenate([front_cost, cu[m]])
                front_rf = np.concatenate([front_rf, ru[m]])
                front_ids = np.concatenate([front_ids, iu[m]])
                m = _front_mask(front_cost, front_rf)
                front_cost, front_rf, front_ids = front_cost[m], front_rf[m], front_ids[m]
            done += flat.size
            if progress is not None:
                progress(done, total)
    empty = np.zeros(0, dtype=np.int64)
    return _Found(
        np.concatenate(keep_ids) if keep_ids else empty,
        np.concatenate(keep_rf) if keep_rf else empty,
        np.concatenate(keep_cost) if keep_cost else empty,
        front_ids,
        front_cost,
        front_rf,
    )


def _families(family: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(family, str):
        if family == "both":
            return FAMILIES
        _check_family(family)
        return (family,)
    try:
        fams = tuple(family)
    except TypeError:
        raise bad("family", family, "must be plain, residual, both or a list of them") from None
    for f in fams:
        _check_family(f)
    if not fams:
        raise OptionError(argument="family", value=(), reason="give plain, residual or both")
    return tuple(dict.fromkeys(fams))


def _nothing_message(metric: str, budget: Any, tolerance: Any, lo: int, hi: int | None) -> str:
    return (
        f"`budget` = {show(Raw(budget))} ({metric}, `tolerance` {show(Raw(tolerance))}): no "
        f"configuration of the grid has {metric} in [{lo:,}, {hi:,}]; widen `tolerance` or the "
        f"grid (`depths`, `widths`, `kernels`, `resolutions`), or change `budget`"
    )
