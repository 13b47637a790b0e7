"""Design calculators for the decisions made before training (exam questions 3 to 6).

* :func:`plan_schedules` — every stride schedule that takes an ``L``-layer network from the
  input size to a final size, with its memory, MACs and receptive field, ranked, and the
  Pareto front (exam Q4(b)).
* :func:`archcalc.design.sweep.sweep` — depth, width, kernel and resolution at a fixed budget
  (exam Q4; its own module, vectorised with numpy).
* :func:`finetune` — trainable parameters and the memory of one training step when the first
  layers are frozen, against full fine-tuning, and the layer-wise learning rates
  ``η_l = η0·α^(L−l)`` (exam Q5); :func:`archcalc.torch.groups.param_groups` applies them to
  a torch module.
* :func:`fcn_cost` — a sliding-window classifier against one pass of the fully convolutional
  model (exam Q3(b)).
* :func:`explain_cost` — passes, MACs and memory of gradient, integrated-gradients,
  occlusion and CAM saliency (exam Q6).

The library never prints: each calculator returns a frozen dataclass with ``to_dict()`` and
``header``/``rows()`` for tables. Every invalid request raises :class:`~archcalc.OptionError`
with a one-line message naming the option, its value and what is valid.

>>> plan = plan_schedules(input=224, layers=8, final=7)
>>> row = plan.find(EXAM_Q4B)
>>> row.sizes
(56, 28, 28, 14, 14, 7, 7, 7)
>>> row.rf                # 1 + 2·(1 + 4 + 8 + 8 + 16 + 16 + 32 + 32)
235
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import OptionError
from .._math import is_symbolic, prod
from ..engine.graph import INPUT, Model, sequential
from ..engine.heads import apply_head, features_node
from ..engine.memory import itemsize, saved_for_backward
from ..engine.shapes import infer_shapes
from ..kinds import Conv2d
from ..summary import Summary, load_model, summary

__all__ = [
    "EXAM_Q4B",
    "RANKS",
    "OPTIMIZERS",
    "METHODS",
    "ScheduleRow",
    "SchedulePlan",
    "plan_schedules",
    "schedule_model",
    "TrainingMemory",
    "LrRow",
    "FinetuneReport",
    "finetune",
    "layer_rates",
    "resolve_freeze",
    "FcnReport",
    "fcn_cost",
    "windows",
    "MethodCost",
    "ExplainReport",
    "explain_cost",
]

#: the exam's Q4(b) schedule for an 8-layer network, 224 → 7
EXAM_Q4B = (4, 2, 1, 2, 1, 2, 1, 1)
#: what :func:`plan_schedules` can rank by
RANKS = ("memory", "peak", "macs", "rf")
#: optimizer state per trainable parameter, in parameter-sized tensors
OPTIMIZERS = {"sgd": 1, "adam": 2}
#: saliency methods of :func:`explain_cost`
METHODS = ("gradient", "integrated-gradients", "occlusion", "cam")


# ================================================================ helpers


def _pos_int(value: Any, option: str, minimum: int = 1) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{option} = {value!r}: must be an integer >= {minimum}")
    return value


def _int_list(value: Any, option: str) -> tuple[int, ...]:
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
        if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
            raise OptionError(
                f"{option} = {value!r}: write positive integers separated by commas, e.g. 4,2,1"
            )
        return tuple(_pos_int(int(p), option) for p in parts)
    if isinstance(value, int):
        return (_pos_int(value, option),)
    return tuple(_pos_int(v, option) for v in value)


def _pair(value: Any, option: str) -> tuple[int, int]:
    """``224``, ``"224"``, ``"224x160"`` or ``(224, 160)`` as ``(h, w)``."""
    if isinstance(value, str):
        parts = re.split(r"[xX×]", value.strip())
        if len(parts) not in (1, 2) or not all(re.fullmatch(r"\d+", p) for p in parts):
            raise OptionError(f"{option} = {value!r}: write N or HxW, e.g. 224 or 224x160")
        nums = [int(p) for p in parts]
    elif isinstance(value, int) and not isinstance(value, bool):
        nums = [value]
    else:
        nums = list(value)
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2:
        raise OptionError(f"{option} = {value!r}: write N or HxW")
    h, w = (_pos_int(n, option) for n in nums)
    return (h, w)


def _exact(value: Any, option: str) -> Fraction:
    """A rate as an exact fraction (decimal text and floats read as written)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise OptionError(f"{option} = {value!r}: must be a number, e.g. 0.001") from None


def _ratio(f: Fraction) -> float:
    return round(float(f), 6)


def _spatial(s: Summary, option: str) -> tuple[int, int]:
    h, w = s.input_shape[1:]
    if is_symbolic(h) or is_symbolic(w):
        raise OptionError(f"{option} = {h}x{w}: needs numbers, not symbols")
    return (int(h), int(w))


def windows(size: int, window: int, stride: int) -> int:
    """Positions of a ``window`` sliding by ``stride`` inside ``size`` pixels (no padding):
    ``floor((size − window)/stride) + 1``.

    >>> windows(512, 224, 32)       # (512 − 224)/32 = 9, plus the window at 0
    10
    """
    if window > size:
        raise OptionError(f"--window = {window}: larger than the input ({size} pixels)")
    return (size - window) // stride + 1


# ================================================================ stride schedules (Q4b)


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
        key = _int_list(strides, "--highlight")
        for r in self.schedules:
            if r.strides == key:
                return r
        raise OptionError(
            f"--highlight = {','.join(map(str, key))}: not a schedule of this plan; valid: "
            f"{self.layers} strides from {{{','.join(map(str, self.strides_allowed))}}} "
            f"whose product is {self.input}/{self.final} = {self.input // self.final}"
        )

    def rows(self, which: str = "all", top: int | None = None) -> list[list[Any]]:
        """Table rows of all schedules (or the ``front``), best ranked first."""
        if which not in ("all", "front"):
            raise OptionError(f"which = {which!r}: must be all or front")
        rows = self.schedules if which == "all" else self.front
        return [r.cells() for r in rows[:top]]

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
            "schedules": [r.to_dict() for r in self.schedules[:top]],
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
    layers = []
    prev = in_channels
    for i, (st, c) in enumerate(zip(s, ch), 1):
        layers.append((f"conv{i}", Conv2d(prev, c, kernel, stride=st, padding=kernel // 2)))
        prev = c
    return sequential(
        f"schedule_{'-'.join(map(str, s))}", layers, input_shape=(in_channels, input, input)
    )


def _channels(channels: int | Sequence[int] | str, layers: int) -> tuple[int, ...]:
    ch = _int_list(channels, "--channels")
    if len(ch) == 1:
        ch = ch * layers
    if len(ch) != layers:
        raise OptionError(
            f"--channels = {','.join(map(str, ch))}: give one value or one per layer "
            f"({layers} values for --layers {layers})"
        )
    return ch


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _count_schedules(layers: int, product: int, allowed: Sequence[int]) -> int:
    """Ordered ways to write ``product`` as ``layers`` factors from ``allowed``."""
    divs = _divisors(product)
    count = {1: 1}  # ways with 0 layers
    for _ in range(layers):
        count = {d: sum(count.get(d // s, 0) for s in allowed if d % s == 0) for d in divs}
    return count.get(product, 0)


def _schedules(layers: int, product: int, allowed: Sequence[int]) -> Iterator[tuple[int, ...]]:
    if layers == 0:
        if product == 1:
            yield ()
        return
    for s in allowed:
        if product % s == 0:
            for rest in _schedules(layers - 1, product // s, allowed):
                yield (s, *rest)


def _seen(input: int, strides: Sequence[int], sizes: Sequence[int], kernel: int) -> int:
    """Pixels of one input axis that reach some output unit: walk back from the output,
    marking the taps ``j·s − k//2 + t`` (``0 <= t < k``) of every unit in use. A stride larger
    than ``(k + 1)/2`` can leave pixels (at the border, or between windows when ``s > k``)
    that no unit sees; the receptive-field size, a bounding box, does not show them."""
    if max(strides) <= (kernel + 1) // 2:
        return input
    import numpy as np

    ins = (input, *sizes[:-1])
    used = np.ones(sizes[-1], dtype=bool)
    for n_in, s in zip(reversed(ins), reversed(strides)):
        start = np.flatnonzero(used) * s - kernel // 2
        prev = np.zeros(n_in, dtype=bool)
        for t in range(kernel):
            idx = start + t
            prev[idx[(idx >= 0) & (idx < n_in)]] = True
        used = prev
    return int(used.sum())


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
    limit: int = 20_000,
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

    >>> plan = plan_schedules(224, 8, 7)
    >>> len(plan.schedules)       # 32 = 2^5: choose the layers of 5 factors of 2, with repeats
    792
    """
    input = _pos_int(input, "--input")
    layers = _pos_int(layers, "--layers")
    final = _pos_int(final, "--final")
    kernel = _pos_int(kernel, "--kernel")
    in_channels = _pos_int(in_channels, "--in-channels")
    batch = _pos_int(batch, "--batch")
    if kernel % 2 == 0:
        raise OptionError(
            f"--kernel = {kernel}: must be odd (padding k//2 then gives ceil(n/s)); e.g. 3, 5, 7"
        )
    if rank not in RANKS:
        raise OptionError(f"--rank = {rank!r}: must be one of {', '.join(RANKS)}")
    if final > input or input % final:
        valid = ", ".join(map(str, _divisors(input)))
        raise OptionError(
            f"--final = {final}: unreachable from --input {input}: the product of the strides "
            f"must be input/final, so final must divide the input; valid: {valid}"
        )
    ch = _channels(channels, layers)
    size = itemsize(dtype)
    product = input // final
    allowed = [d for d in _divisors(product) if max_stride is None or d <= max_stride]
    if max_stride is not None:
        _pos_int(max_stride, "--max-stride")
    n_sched = _count_schedules(layers, product, allowed)
    if n_sched == 0:
        raise OptionError(
            f"--final = {final}: unreachable in {layers} layers with strides in "
            f"{{{','.join(map(str, allowed))}}}: their product must be {input}/{final} = "
            f"{product}; use more --layers or a larger --max-stride"
        )
    if n_sched > limit:
        raise OptionError(
            f"--layers = {layers}: {n_sched:,} schedules reach {final} from {input}, more than "
            f"the limit {limit:,}; use --max-stride or fewer layers"
        )

    k2, half = kernel * kernel, kernel // 2
    raw = []
    for strides in _schedules(layers, product, allowed):
        n, c_prev, prev = input, in_channels, 0  # the input itself is live throughout
        jump, rf, offset = 1, 1, 0
        acts = macs = params = peak = 0
        sizes = []
        for s, c in zip(strides, ch):
            n = -(-n // s)
            rf += (kernel - 1) * jump
            offset -= half * jump
            jump *= s
            out = c * n * n
            macs += out * c_prev * k2
            params += c_prev * c * k2 + c
            acts += out
            peak = max(peak, prev + out)
            prev, c_prev = out, c
            sizes.append(n)
        seen = _seen(input, strides, tuple(sizes), kernel)
        peak += in_channels * input * input
        raw.append(
            (strides, tuple(sizes), acts * size * batch, peak * size * batch, macs * batch)
            + (params, rf, jump, offset, seen * seen)
        )
    keys: dict[str, Callable[[tuple[Any, ...]], tuple[Any, ...]]] = {
        "memory": lambda r: (r[2], r[3], r[4], -r[6], r[0]),
        "peak": lambda r: (r[3], r[2], r[4], -r[6], r[0]),
        "macs": lambda r: (r[4], r[2], r[3], -r[6], r[0]),
        "rf": lambda r: (-r[6], r[2], r[4], r[0]),
    }
    raw.sort(key=keys[rank])
    front = _pareto([(r[2], r[4], -r[6], -r[9]) for r in raw])
    rows = tuple(
        ScheduleRow(
            strides=r[0],
            sizes=r[1],
            activations_bytes=r[2],
            peak_bytes=r[3],
            macs=r[4],
            params=r[5],
            rf=r[6],
            rf_stride=r[7],
            rf_offset=r[8],
            pixels_seen=r[9],
            input_pixels=input * input,
            rank=i,
            pareto=p,
        )
        for i, (r, p) in enumerate(zip(raw, front), 1)
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


# ================================================================ fine-tuning (Q5)


def layer_rates(layers: int, lr0: Any, alpha: Any) -> list[Fraction]:
    """``η_l = η0·α^(L−l)`` for ``l = 1 … L`` (exact fractions; the last layer gets η0).

    >>> [float(r) for r in layer_rates(3, "0.01", "0.1")]
    [0.0001, 0.001, 0.01]
    """
    eta, a = _exact(lr0, "--lr0"), _exact(alpha, "--alpha")
    if eta <= 0:
        raise OptionError(f"--lr0 = {lr0!r}: must be positive")
    if not 0 < a <= 1:
        raise OptionError(f"--alpha = {alpha!r}: must be in (0, 1] (earlier layers learn slower)")
    return [eta * a ** (layers - lv) for lv in range(1, layers + 1)]


def _module_hint(names: Sequence[str]) -> str:
    top = list(dict.fromkeys(n.split(".")[0] for n in names))
    shown = ", ".join(top[:8]) + (", …" if len(top) > 8 else "")
    return shown


def resolve_freeze(
    freeze: int | str, names: Sequence[str], weighted: Sequence[bool], model: str = "model"
) -> int:
    """How many layers with weights (conv/linear, counted in order) ``freeze`` freezes.

    An int ``N`` freezes the first ``N`` (a negative one counts from the end: ``-1`` trains
    only the last layer); a name freezes every layer up to and including the last one whose
    name is ``freeze`` or starts with ``freeze + "."`` (a module such as ``features``).

    >>> resolve_freeze("b", ["a", "r", "b", "c"], [True, False, True, True])
    2
    """
    total = sum(weighted)
    if isinstance(freeze, str) and re.fullmatch(r"\s*-?\d+\s*", freeze):
        freeze = int(freeze)
    if isinstance(freeze, bool):
        raise OptionError(f"--freeze = {freeze!r}: must be a number of layers or a layer name")
    if isinstance(freeze, int):
        n = freeze + total if freeze < 0 else freeze
        if not 0 <= n < total:
            raise OptionError(
                f"--freeze = {freeze}: model '{model}' has {total} layers with weights; valid: "
                f"0..{total - 1}, -{total}..-1 (from the end) or a layer name"
            )
        return n
    if not isinstance(freeze, str) or not freeze:
        raise OptionError(f"--freeze = {freeze!r}: must be a number of layers or a layer name")
    hits = [i for i, nm in enumerate(names) if nm == freeze or nm.startswith(freeze + ".")]
    if not hits:
        raise OptionError(
            f"--freeze = {freeze!r}: model '{model}' has no layer or module '{freeze}'; valid: "
            f"0..{total - 1} or a name such as {_module_hint(names)}"
        )
    n = sum(weighted[: hits[-1] + 1])
    if n >= total:
        last = [nm for nm, w in zip(names, weighted) if w][-1]
        raise OptionError(
            f"--freeze = {freeze!r}: freezes all {total} layers with weights (through "
            f"'{last}'); nothing is left to train — name an earlier layer"
        )
    return n


def layer_groups(has_params: Sequence[bool], weighted: Sequence[bool]) -> list[int]:
    """The layer (1-based) each entry's parameters belong to, 0 for none: a conv/linear
    starts a layer; a norm or scale joins the layer before it (the first, if none)."""
    out, current = [], 0
    for p, w in zip(has_params, weighted):
        if w:
            current += 1
            out.append(current)
        else:
            out.append(max(current, 1) if p else 0)
    return out


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step: all weights, gradients and optimizer state of the
    trainable ones, and the activations autograd saves for backward."""

    weights: int
    gradients: int
    optimizer: int
    activations: int

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
        """The memory comparison: one row per component, then the total."""
        fz, fu = self.frozen.to_dict(), self.full.to_dict()
        return [[k, fz[k], fu[k], fu[k] - fz[k]] for k in fz]

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
    if optimizer not in OPTIMIZERS:
        raise OptionError(f"--optimizer = {optimizer!r}: must be one of {', '.join(OPTIMIZERS)}")
    m = apply_head(load_model(model, input), head, classes)
    s = summary(m, input=input, batch=batch, dtype=dtype)
    if is_symbolic(s.batch) or any(is_symbolic(d) for d in s.input_shape):
        raise OptionError("--input/--batch: finetune needs numbers, not symbols")
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
    rates = layer_rates(total_layers, lr0, alpha)
    size = itemsize(dtype)
    shapes = infer_shapes(s.model, s.input_shape)

    def cost(frozen_layers: int) -> tuple[int, TrainingMemory]:
        trainable = sum(params[nm] for nm, g in zip(names, groups) if g > frozen_layers)
        saved = _saved_bytes(s.model, shapes, nbatch, size, groups, frozen_layers)
        k = OPTIMIZERS[optimizer]
        return trainable, TrainingMemory(
            s.params * size, trainable * size, k * trainable * size, saved
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
        lr0=_exact(lr0, "--lr0"),
        alpha=_exact(alpha, "--alpha"),
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


# ================================================================ FCN vs sliding window (Q3b)


@dataclass(frozen=True)
class FcnReport:
    """A sliding-window classifier against one pass of the convolutionalised model."""

    model: str
    input_hw: tuple[int, int]
    window: tuple[int, int]
    stride: tuple[int, int]
    batch: int
    dtype: str
    windows_hw: tuple[int, int]
    macs_window: int
    macs_sliding: int
    macs_fcn: int
    #: the FCN's output map (classes, h, w) and its effective stride in pixels
    fcn_output: tuple[int, ...]
    fcn_stride: tuple[int, int]
    peak_window_bytes: int
    peak_sliding_batched_bytes: int
    peak_fcn_bytes: int
    activations_sliding_bytes: int
    activations_fcn_bytes: int

    header: ClassVar[list[str]] = ["quantity", "sliding window", "FCN (one pass)", "ratio"]

    @property
    def windows(self) -> int:
        return self.windows_hw[0] * self.windows_hw[1]

    @property
    def speedup(self) -> Fraction:
        """MACs of the sliding window over those of one FCN pass."""
        return Fraction(self.macs_sliding, self.macs_fcn)

    @property
    def same_grid(self) -> bool:
        """The FCN's map has one prediction per window, at the same stride (values differ
        only where zero padding of a crop meets real pixels in the whole image)."""
        return tuple(self.fcn_output[1:]) == self.windows_hw and self.fcn_stride == self.stride

    def rows(self) -> list[list[Any]]:
        def r(name: str, a: int, b: int) -> list[Any]:
            return [name, a, b, f"{_ratio(Fraction(a, b))}" if b else "-"]

        return [
            ["predictions", self.windows, self.fcn_output[1] * self.fcn_output[2], ""],
            r("MACs", self.macs_sliding, self.macs_fcn),
            r("peak bytes (one window at a time)", self.peak_window_bytes, self.peak_fcn_bytes),
            r("peak bytes (all windows batched)", self.peak_sliding_batched_bytes,
              self.peak_fcn_bytes),
            r("activation bytes (all outputs)", self.activations_sliding_bytes,
              self.activations_fcn_bytes),
        ]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input": list(self.input_hw),
            "window": list(self.window),
            "stride": list(self.stride),
            "batch": self.batch,
            "dtype": self.dtype,
            "windows_per_axis": list(self.windows_hw),
            "windows": self.windows,
            "macs_window": self.macs_window,
            "macs_sliding": self.macs_sliding,
            "macs_fcn": self.macs_fcn,
            "speedup": _ratio(self.speedup),
            "speedup_exact": str(self.speedup),
            "fcn_output": list(self.fcn_output),
            "fcn_stride": list(self.fcn_stride),
            "same_grid": self.same_grid,
            "memory": {
                "peak_window_bytes": self.peak_window_bytes,
                "peak_sliding_batched_bytes": self.peak_sliding_batched_bytes,
                "peak_fcn_bytes": self.peak_fcn_bytes,
                "activations_sliding_bytes": self.activations_sliding_bytes,
                "activations_fcn_bytes": self.activations_fcn_bytes,
            },
        }


def fcn_cost(
    model: Model | str,
    input: Any = 512,
    window: Any = 224,
    stride: Any = 32,
    *,
    batch: int | str = 1,
    dtype: str = "float32",
    classes: int | None = None,
) -> FcnReport:
    """Classify every ``window`` of an ``input`` image with ``stride`` (exam Q3(b)).

    Sliding window: ``floor((H − h)/s) + 1`` windows per axis (crops inside the image, no
    padding), each a forward pass of the model with its own head at the window size. FCN:
    one pass of the ``--head conv`` model (:mod:`archcalc.engine.heads`) over the whole image.
    Memory: the inference peak of one window, of all windows in one batch, and of the FCN
    pass, and the bytes of every output (all windows together for the sliding window).

    >>> r = fcn_cost("alexnet", 512, 224, 32)
    >>> r.windows, r.fcn_output[1:], r.same_grid    # ((512 − 224)//32 + 1)² = 10²
    (100, (10, 10), True)
    """
    m = load_model(model)
    fcn = summary(m, input=_as_input(input), batch=batch, dtype=dtype, head="conv",
                  classes=classes)  # fmt: skip
    hw = _spatial(fcn, "--input")
    win = _pair(window, "--window")
    st = _pair(stride, "--stride")
    for axis, (n, w) in enumerate(zip(hw, win)):
        if w > n:
            raise OptionError(
                f"--window = {win[0]}x{win[1]}: larger than the input {hw[0]}x{hw[1]} "
                f"({'height' if axis == 0 else 'width'})"
            )
    counts = (windows(hw[0], win[0], st[0]), windows(hw[1], win[1], st[1]))
    total = counts[0] * counts[1]
    one = summary(m, input=win, batch=fcn.batch, dtype=dtype, head="fc", classes=classes)
    batched = summary(m, input=win, batch=fcn.batch * total, dtype=dtype, head="fc",
                      classes=classes)  # fmt: skip
    if fcn.rf is None or fcn.rf.is_global:
        raise OptionError(f"model '{m.name}': its --head conv output has no receptive field")
    return FcnReport(
        model=m.name,
        input_hw=hw,
        window=win,
        stride=st,
        batch=fcn.batch,
        dtype=dtype,
        windows_hw=counts,
        macs_window=one.macs,
        macs_sliding=total * one.macs,
        macs_fcn=fcn.macs,
        fcn_output=tuple(fcn.output_shape),
        fcn_stride=(int(fcn.rf.stride[0]), int(fcn.rf.stride[1])),
        peak_window_bytes=one.memory.peak_inference_bytes,
        peak_sliding_batched_bytes=batched.memory.peak_inference_bytes,
        peak_fcn_bytes=fcn.memory.peak_inference_bytes,
        activations_sliding_bytes=total * one.memory.activations_bytes,
        activations_fcn_bytes=fcn.memory.activations_bytes,
    )


def _as_input(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


# ================================================================ saliency cost (Q6)


@dataclass(frozen=True)
class MethodCost:
    """Passes, MACs and memory (bytes) of one saliency method."""

    method: str
    forward_passes: int
    backward_passes: int
    macs: int
    #: with one pass (or step) at a time
    memory_bytes: int
    #: with every pass of the method in one batch
    memory_batched_bytes: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ExplainReport:
    """The cost of explaining one prediction (per batch of images) with each method."""

    model: str
    input_shape: tuple[int, ...]
    batch: int
    dtype: str
    head: str
    forward_macs: int
    steps: int
    window: tuple[int, int]
    stride: tuple[int, int]
    windows_hw: tuple[int, int] | None
    methods: tuple[MethodCost, ...]

    header: ClassVar[list[str]] = [
        "method",
        "forward",
        "backward",
        "MACs",
        "x gradient",
        "memory B",
        "batched B",
        "note",
    ]
    convention: ClassVar[str] = (
        "a backward pass to the input costs the MACs of one forward pass (each conv/linear "
        "mirrored by its transpose; no weight gradients), so a gradient costs 2x forward"
    )

    def method(self, name: str) -> MethodCost:
        for c in self.methods:
            if c.method == name:
                return c
        raise OptionError(f"--method = {name!r}: not computed here")

    def rows(self) -> list[list[Any]]:
        grad = 2 * self.forward_macs
        return [
            [
                c.method,
                c.forward_passes,
                c.backward_passes,
                c.macs,
                f"{_ratio(Fraction(c.macs, grad))}",
                c.memory_bytes,
                c.memory_batched_bytes,
                c.note,
            ]
            for c in self.methods
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "head": self.head,
            "forward_macs": self.forward_macs,
            "steps": self.steps,
            "window": list(self.window),
            "stride": list(self.stride),
            "windows_per_axis": None if self.windows_hw is None else list(self.windows_hw),
            "convention": self.convention,
            "methods": [c.to_dict() for c in self.methods],
        }


def explain_cost(
    model: Model | str,
    method: str | Sequence[str] = "all",
    *,
    input: Any = None,
    steps: int = 50,
    window: Any = 16,
    stride: Any = 8,
    batch: int | str = 1,
    dtype: str = "float32",
    head: str = "fc",
    classes: int | None = None,
) -> ExplainReport:
    """Passes, MACs and memory of saliency methods for ``model`` at ``input`` (exam Q6).

    With ``F`` the forward MACs, ``S`` the bytes saved for backward, ``I`` the input's bytes,
    ``P`` the inference peak (all for the batch) and the convention that a backward pass to
    the input costs ``F`` (:attr:`ExplainReport.convention`):

    ==========================  =========  =================  ==============================
    method                      passes     MACs               memory (one pass at a time)
    ==========================  =========  =================  ==============================
    gradient                    1 f + 1 b  ``2F``             ``S + I`` (the input gradient)
    integrated-gradients (m)    m f + m b  ``2mF``            ``S + 2I`` (+ the running sum)
    occlusion (N windows)       N + 1 f    ``(N + 1)·F``      ``P`` + the N scores
    cam                         1 f        ``F + C·h·w``      ``P`` + the h×w map
    ==========================  =========  =================  ==============================

    Occlusion slides a ``window`` by ``stride`` inside the image (``floor((H − w)/s) + 1``
    positions per axis) and adds one unoccluded pass. CAM weighs the ``C`` maps of the last
    feature map ``(C, h, w)`` for one class (``C·h·w`` MACs per image; it presumes a
    GAP + linear head, ``head="gap"``). *Batched* memory runs every pass of a method in one
    batch (memory grows linearly with the batch).

    >>> r = explain_cost("alexnet", "occlusion", window=32, stride=16)
    >>> r.windows_hw, r.method("occlusion").forward_passes     # (224 − 32)//16 + 1 = 13
    ((13, 13), 170)
    """
    chosen = _methods(method)
    steps = _pos_int(steps, "--steps")
    m = load_model(model, input)
    s = summary(m, input=input, batch=batch, dtype=dtype, head=head, classes=classes)
    hw = _spatial(s, "--input")
    b = int(s.batch)
    size = itemsize(dtype)
    f = s.macs
    mem = s.memory
    big_s, big_i, big_p = (
        mem.saved_for_backward_bytes,
        mem.input_bytes,
        mem.peak_inference_bytes,
    )
    win, st = _pair(window, "--window"), _pair(stride, "--stride")
    counts = None
    out = []
    for name in chosen:
        if name == "gradient":
            out.append(
                MethodCost(name, 1, 1, 2 * f, big_s + big_i, big_s + big_i, "input gradient")
            )
        elif name == "integrated-gradients":
            out.append(
                MethodCost(
                    name,
                    steps,
                    steps,
                    2 * steps * f,
                    big_s + 2 * big_i,
                    steps * (big_s + big_i) + big_i,
                    f"{steps} steps",
                )
            )
        elif name == "occlusion":
            for axis, (n, w) in enumerate(zip(hw, win)):
                if w > n:
                    raise OptionError(
                        f"--window = {win[0]}x{win[1]}: larger than the input {hw[0]}x{hw[1]} "
                        f"({'height' if axis == 0 else 'width'})"
                    )
            counts = (windows(hw[0], win[0], st[0]), windows(hw[1], win[1], st[1]))
            n_win = counts[0] * counts[1]
            scores = b * n_win * size
            out.append(
                MethodCost(
                    name,
                    n_win + 1,
                    0,
                    (n_win + 1) * f,
                    big_p + scores,
                    (n_win + 1) * big_p + scores,
                    f"{counts[0]}x{counts[1]} windows + 1",
                )
            )
        else:  # cam
            feat = features_node(s.model)
            shape = s.input_shape if feat == INPUT else s.layer(feat).output_shape
            if len(shape) != 3:
                raise OptionError(
                    f"--method cam: model '{m.name}' has no convolutional feature map"
                )
            c, h, w = (int(v) for v in shape)
            cam_map = b * h * w * size
            out.append(
                MethodCost(
                    name,
                    1,
                    0,
                    f + b * c * h * w,
                    big_p + cam_map,
                    big_p + cam_map,
                    f"{c} maps of {h}x{w} at '{feat}'",
                )
            )
    return ExplainReport(
        model=m.name,
        input_shape=tuple(int(v) for v in s.input_shape),
        batch=b,
        dtype=dtype,
        head=head,
        forward_macs=f,
        steps=steps,
        window=win,
        stride=st,
        windows_hw=counts,
        methods=tuple(out),
    )


def _methods(method: str | Sequence[str]) -> tuple[str, ...]:
    names = [p.strip() for p in method.split(",")] if isinstance(method, str) else list(method)
    if names == ["all"]:
        return METHODS
    for n in names:
        if n not in METHODS:
            raise OptionError(f"--method = {n!r}: must be one of {', '.join(METHODS)} or all")
    return tuple(dict.fromkeys(names))
