"""The CNN exam, audited: every numeric claim of its worked answers, recomputed by archcalc.

The exam (CENG 403, January 2025; seven questions with worked answers) is where archcalc
started. :func:`audit` returns one :class:`Claim` per concrete numeric or behavioural claim of
the answers: what the exam says, what archcalc computes *from a model it builds* (a
``sequential`` stack, a zoo model, a head — never the answer's own arithmetic), a verdict and
a one-line reason:

* ``agrees`` — archcalc's value equals the exam's (to the digits the exam shows);
* ``differs`` — it does not; the reason names the slip (left-out biases, an off-by-one in a
  window count, an arithmetic slip, a false invariance — with a minimal counterexample);
* ``ambiguous`` — the question leaves an assumption open (the reason gives both readings), or
  the claim is an empirical figure that no model fixes.

Formula claims are checked symbolically: the model is built with sympy symbols for its sizes
(``C``, ``H``, ``F`` …) and the engine's formula is compared with the exam's. Behavioural
claims (translation invariance, the GAP gradient) are also property-tested against torch in
``tests/test_exam_properties.py``; the counterexamples here come from small deterministic
searches in plain Python and are re-verified there with torch.

>>> from archcalc.exam import audit
>>> fc1 = next(c for c in audit(2) if c.key == "alexnet-fc1-params")
>>> fc1.exam_value, fc1.archcalc_value, fc1.verdict      # (6·6·256 + 1)·4096
(37748736, 37752832, 'differs')

Nothing here prints; sympy is imported only when :func:`audit` runs, torch never.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

from .._errors import OptionError
from ..engine.graph import Model, sequential
from ..kinds import (
    Conv2d,
    CoordAugment,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool2d,
    ReLU,
)
from ..summary import Summary, summary

__all__ = [
    "Claim",
    "VERDICTS",
    "QUESTIONS",
    "SETTINGS",
    "audit",
    "exam_markdown",
    "ShiftCounterexample",
    "maxpool_shift_counterexample",
    "GapGradientCounterexample",
    "ConvShiftCounterexample",
    "conv_shift_counterexample",
    "gap_gradient_counterexample",
    "window_count",
    "layer_rates",
]

VERDICTS = ("agrees", "differs", "ambiguous")

#: the exam's seven questions, by number
QUESTIONS = {
    1: "Position-sensitive convolution",
    2: "Global average pooling vs fully connected layers",
    3: "Fully convolutional networks",
    4: "CNN architecture design principles",
    5: "Transfer learning",
    6: "Visualization (saliency) methods",
    7: "The comprehensive network",
}

#: figures the answers *choose* (hyper-parameters, data-set sizes, test settings): inputs of
#: a design, not claims that can be right or wrong, so they get no verdict — listed here so
#: that nothing numeric in the answers is passed over in silence
SETTINGS: dict[int, tuple[str, ...]] = {
    1: (
        "(c) synthetic images of 224×224",
        "(c) significance level α = 0.05 with a Bonferroni correction",
    ),
    3: ("(b) the example h = w = 224, s = 32, H = W = 512 (used as the inputs of 3(b) here)",),
    4: ("(b) the 8-layer stride schedule 4, 2, 1, 2, 1, 2, 1, 1 (audited as a model)",),
    5: (
        "(c) decay factor α typically 0.1 to 0.5",
        "(c) a warm-up period with even lower rates",
    ),
    6: (
        "(a) 20-300 integration steps; (c) m = 50-300 (used as the inputs of 6(c) here)",
        "(b) occlusion strides of 1 and w/2",
    ),
    7: (
        "(a) Dropout 0.5; learning rate 10^-1 with cosine decay for 100-200 epochs",
        "(a) stage 3: learning rates 10^-5 to 10^-4 for 10-20 epochs",
    ),
}


@dataclass(frozen=True)
class Claim:
    """One claim of the worked answers and archcalc's verdict on it.

    ``exam_value`` is what the answer states (an ``int`` where it states an exact count, else
    its text); ``archcalc_value`` is archcalc's figure (an exact ``int``, or text built from
    exact figures). ``how`` says which model archcalc built and which figure it read.
    """

    key: str
    question: int
    part: str
    claim: str
    exam_value: int | str
    archcalc_value: int | str
    verdict: str
    reason: str
    how: str
    counterexample: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:  # pragma: no cover - a bug of this module
            raise ValueError(f"claim {self.key}: verdict {self.verdict!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (every field; ints stay ints)."""
        return dataclasses.asdict(self)


def audit(question: int | None = None) -> list[Claim]:
    """Every audited claim of the exam, or of one ``question`` (1-7), in the exam's order.

    >>> sorted({c.verdict for c in audit()})
    ['agrees', 'ambiguous', 'differs']
    """
    if question is None:
        return [c for q in QUESTIONS for c in _claims(q)]
    if isinstance(question, bool) or not isinstance(question, int) or question not in QUESTIONS:
        raise OptionError(
            f"--question = {question!r}: must be 1 to 7 (the exam has seven questions)"
        )
    return list(_claims(question))


@cache
def _claims(question: int) -> tuple[Claim, ...]:
    return tuple(_BUILDERS[question]())


# ============================================================== exact formatting and verdicts


def _n(x: int) -> str:
    return f"{x:,}"


def _dec(x: Fraction | int, digits: int) -> str:
    """``x`` rounded half up to ``digits`` decimals, exactly."""
    q = Fraction(x) * 10**digits
    sign = "-" if q < 0 else ""
    r = math.floor(abs(q) + Fraction(1, 2))
    if digits == 0:
        return f"{sign}{r}"
    s = str(r).rjust(digits + 1, "0")
    return f"{sign}{s[:-digits]}.{s[-digits:]}"


def _pct(x: Fraction, digits: int = 2) -> str:
    return _dec(100 * x, digits) + "%"


def _times(x: Fraction, digits: int = 2) -> str:
    return _dec(x, digits) + "×"


def _mega(x: int, digits: int = 1) -> str:
    return _dec(Fraction(x, 10**6), digits) + "M"


def _mb(x: int, digits: int = 1) -> str:
    return _dec(Fraction(x, 10**6), digits) + " MB"


def _giga(x: int, digits: int = 1) -> str:
    return _dec(Fraction(x, 10**9), digits) + "G"


def _verdict(ok: bool) -> str:
    return "agrees" if ok else "differs"


def _readings(first: bool, second: bool) -> str:
    """Verdict of a claim with two readings: agrees/differs when both say so."""
    if first and second:
        return "agrees"
    if not first and not second:
        return "differs"
    return "ambiguous"


def _sympy() -> Any:
    import sympy

    return sympy


def _symbols(*names: str) -> list[Any]:
    from ..engine.shapes import symbol

    return [symbol(n) for n in names]


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _f(expr: Any) -> str:
    """A sympy expression as the exam writes it: ``·`` for products, superscript powers."""
    text = re.sub(r"\*\*(\d+)", lambda m: m.group(1).translate(_SUPERSCRIPT), str(expr))
    return text.replace("**", "^").replace("*", "·").replace(" - ", " − ")


def _rate(x: Fraction) -> str:
    """A learning rate: ``10^-k`` when it is one, else the fraction."""
    k = len(str(x.denominator)) - 1
    return f"10^-{k}" if k and x == Fraction(1, 10**k) else str(x)


def _same(a: Any, b: Any) -> bool:
    return bool(_sympy().simplify(a - b) == 0)


def _chain(name: str, layers: Sequence[Any], shape: Sequence[Any], **kw: Any) -> Summary:
    return summary(sequential(name, list(layers), input_shape=tuple(shape)), **kw)


def _empirical(key: str, question: int, part: str, claim: str, exam: str, note: str) -> Claim:
    return Claim(
        key,
        question,
        part,
        claim,
        exam,
        "not computable",
        "ambiguous",
        f"an empirical figure that no model fixes and the exam gives no source for; {note}",
        "nothing: archcalc counts, it does not train",
    )


# ============================================================== counterexamples (plain Python)


@dataclass(frozen=True)
class ShiftCounterexample:
    """An image on which max pooling's output unit (0, 0) changes under a translation by
    ``shift`` pixels on both axes, ``X′(i, j) = X(i + δ, j + δ)``."""

    kernel: int
    stride: int
    shift: int
    image: tuple[tuple[int, ...], ...]
    before: int
    after: int

    def __str__(self) -> str:
        n = len(self.image)
        ones = [(i, j) for i in range(n) for j in range(n) if self.image[i][j]]
        where = ", ".join(f"X[{i},{j}] = 1" for i, j in ones)
        return (
            f"{self.kernel}×{self.kernel} max pool, stride {self.stride}, δ = {self.shift}: "
            f"X = {n}×{n} zeros with {where}; MaxPool(X)[0,0] = {self.before} but "
            f"MaxPool(X′)[0,0] = {self.after}"
        )


def maxpool_shift_counterexample(kernel: int, stride: int, shift: int) -> ShiftCounterexample:
    """The first 0/1 image (fewest ones, then reading order) on which unit (0, 0) of
    ``MaxPool2d(kernel, stride)`` changes when the input is translated by ``shift ≥ 1``.

    The window's extent is read from archcalc's receptive field of the pool. Images are
    ``(kernel + shift)²`` so that both windows lie inside.

    >>> str(maxpool_shift_counterexample(2, 2, 1))
    '2×2 max pool, stride 2, δ = 1: X = 3×3 zeros with X[0,0] = 1; MaxPool(X)[0,0] = 1 but MaxPool(X′)[0,0] = 0'
    """
    if shift < 1:
        raise OptionError(f"shift = {shift!r}: must be >= 1 (δ = 0 changes nothing)")
    rf = _chain("pool", [MaxPool2d(kernel, stride)], (1, kernel + shift, kernel + shift)).rf
    assert rf is not None and not rf.is_global
    r = int(rf.size[0])
    n = r + shift
    cells = [(i, j) for i in range(n) for j in range(n)]
    for ones in range(1, n * n + 1):
        for chosen in itertools.combinations(cells, ones):
            lit = set(chosen)
            x = tuple(tuple(int((i, j) in lit) for j in range(n)) for i in range(n))
            before = max(x[i][j] for i in range(r) for j in range(r))
            after = max(x[i + shift][j + shift] for i in range(r) for j in range(r))
            if before != after:
                return ShiftCounterexample(kernel, stride, shift, x, before, after)
    raise AssertionError("unreachable: a single one at (0, 0) always changes unit (0, 0)")


@dataclass(frozen=True)
class GapGradientCounterexample:
    """A GAP → Linear(C → N) → cross-entropy network, at a feature map ``F = 0`` with zero
    biases (so the softmax is uniform and every figure an exact fraction), on which the exam's
    gradient ``w_{k,c}/(HW)·∂L/∂s_c`` is wrong. ``weights[j]`` is ``w_{1,j}``."""

    height: int
    width: int
    classes: int
    weights: tuple[int, ...]
    target: int
    gradient: Fraction
    exam: Fraction
    exam_literal: Fraction

    def __str__(self) -> str:
        return (
            f"C = 1, H = W = {self.height}, N = {self.classes} classes, F = 0, "
            f"w = {self.weights}, zero biases, target c = {self.target}: ∂L/∂F(x, y) = "
            f"{self.gradient} at every position, but w_{{k,c}}/(HW)·∂L/∂s_c = {self.exam} "
            f"(and w_{{k,c}}/(HW)·∂L/∂P_c = {self.exam_literal})"
        )


def gap_gradient_counterexample(height: int = 2, width: int = 2) -> GapGradientCounterexample:
    """The first case (fewest classes, weights from {0, 1, −1}) where the exam's GAP gradient
    differs from the true one under both readings of its ``∂L/∂P(y = c|x)``.

    With scores ``s_j = w_j·g + b_j`` and ``L = −log softmax(s)_c``, the true gradient is
    ``(1/HW)·Σ_j w_j·(P_j − [j = c])``: every class contributes, not only ``c``.

    >>> str(gap_gradient_counterexample())
    'C = 1, H = W = 2, N = 2 classes, F = 0, w = (0, 1), zero biases, target c = 0: ∂L/∂F(x, y) = 1/8 at every position, but w_{k,c}/(HW)·∂L/∂s_c = 0 (and w_{k,c}/(HW)·∂L/∂P_c = 0)'
    """
    hw = height * width
    for n in range(1, 4):
        p = Fraction(1, n)  # F = 0, zero biases: every score is 0
        for w in itertools.product((0, 1, -1), repeat=n):
            c = 0
            true = sum((w[j] * (p - (j == c)) for j in range(n)), Fraction(0)) / hw
            exam = w[c] * (p - 1) / Fraction(hw)  # ∂L/∂s_c = P_c − 1
            literal = w[c] * (-1 / p) / hw  # ∂L/∂P_c = −1/P_c
            if true != exam and true != literal:
                return GapGradientCounterexample(height, width, n, w, c, true, exam, literal)
    raise AssertionError("unreachable: N = 2, w = (0, 1) is a counterexample")


@dataclass(frozen=True)
class ConvShiftCounterexample:
    """A one-hot image on which a strided convolution is not translation equivariant: the
    output of the shifted image is not the shifted output."""

    stride: int
    shift: int
    size: int
    one_at: tuple[int, int]
    output: tuple[tuple[int, ...], ...]
    shifted_output: tuple[tuple[int, ...], ...]

    def __str__(self) -> str:
        return (
            f"1×1 conv of weight 1, stride {self.stride}; X = {self.size}×{self.size} zeros "
            f"with X[{self.one_at[0]},{self.one_at[1]}] = 1, shifted by Δ = {self.shift} on "
            f"both axes: Conv(X) = {_grid(self.output)}, so a shifted output would be "
            f"{_grid(_shift(self.output, self.shift))}, but Conv(X shifted) = "
            f"{_grid(self.shifted_output)}"
        )


Grid = tuple[tuple[int, ...], ...]


def _grid(g: Grid) -> str:
    return "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in g) + "]"


def _shift(g: Grid, d: int) -> Grid:
    """``g`` moved by ``d`` rows and columns (down-right), zeros filling in."""
    n, m = len(g), len(g[0])
    return tuple(
        tuple(g[i - d][j - d] if 0 <= i - d < n and 0 <= j - d < m else 0 for j in range(m))
        for i in range(n)
    )


def conv_shift_counterexample(stride: int = 2, shift: int = 1) -> ConvShiftCounterexample:
    """The first one-hot image (reading order) on which ``Conv2d(1, 1, 1, stride)`` with
    weight 1 — a pure subsampling — breaks ``Conv(shift(X)) = shift(Conv(X))``. The
    subsampling step is archcalc's effective stride of that layer.

    >>> str(conv_shift_counterexample())
    '1×1 conv of weight 1, stride 2; X = 4×4 zeros with X[0,0] = 1, shifted by Δ = 1 on both axes: Conv(X) = [[1, 0], [0, 0]], so a shifted output would be [[0, 0], [0, 1]], but Conv(X shifted) = [[0, 0], [0, 0]]'
    """
    size = 2 * stride
    rf = _chain("conv", [Conv2d(1, 1, 1, stride=stride)], (1, size, size)).rf
    assert rf is not None and not rf.is_global
    step = int(rf.stride[0])

    def conv(x: Grid) -> Grid:
        return tuple(tuple(row[::step]) for row in x[::step])

    for i, j in itertools.product(range(size), repeat=2):
        x = tuple(tuple(int((a, b) == (i, j)) for b in range(size)) for a in range(size))
        out, moved = conv(x), conv(_shift(x, shift))
        if moved != _shift(out, shift):
            return ConvShiftCounterexample(stride, shift, size, (i, j), out, moved)
    raise OptionError(f"stride {stride}, shift {shift}: the convolution is equivariant")


def window_count(size: int, window: int, stride: int) -> int:
    """Positions of a ``window`` sliding by ``stride`` inside ``size`` pixels, as archcalc
    counts them: the output length of a pooling layer with that kernel and stride.

    >>> window_count(512, 224, 32)
    10
    """
    s = _chain("windows", [MaxPool2d(window, stride)], (1, size, size))
    return int(s.output_shape[1])


def layer_rates(layers: int, eta0: Fraction, alpha: Fraction) -> list[Fraction]:
    """Layer-wise learning rates, layer 1 first: the last layer gets ``eta0`` and each layer
    ``alpha`` times the rate of the layer after it (so ``η_l = η0·α^(L−l)``).

    >>> layer_rates(3, Fraction(1, 100), Fraction(1, 10))
    [Fraction(1, 10000), Fraction(1, 1000), Fraction(1, 100)]
    """
    rates = [Fraction(eta0)]
    for _ in range(layers - 1):
        rates.append(rates[-1] * alpha)
    return rates[::-1]


def _exhaustive(check: Callable[[tuple[int, ...], int], bool]) -> bool:
    """``check(window, eps)`` on every 2×2 window of values 0..2 and every ε in −2..2."""
    return all(check(w, e) for w in itertools.product(range(3), repeat=4) for e in range(-2, 3))


# ============================================================== Question 1


def _q1() -> list[Claim]:
    sp = _sympy()
    C, H, W, k, Co = _symbols("C", "H", "W", "k", "C_out")
    out: list[Claim] = []

    aug = _chain("coords", [CoordAugment()], (C, H, W))
    channels = aug.output_shape[0]
    out.append(
        Claim(
            "coord-channels",
            1,
            "a",
            "The augmented input X_aug(i, j) = [X(i, j), i/H, j/W] has C + 2 channels",
            "C + 2",
            _f(channels),
            _verdict(_same(channels, C + 2)),
            "two coordinate channels are appended to the C feature channels",
            "sequential([CoordAugment()]) on a C×H×W input (C, H, W symbols): output channels",
        )
    )
    size = 224
    top = Fraction(size - 1, size)
    out.append(
        Claim(
            "coord-range",
            1,
            "a",
            "i/H and j/W are normalized coordinates in [0, 1]",
            "[0, 1]",
            f"0 … {top} for H = {size} (0-based i)",
            "ambiguous",
            "inside [0, 1] but never 1 with 0-based i (never 0 with 1-based i); CoordConv "
            "uses linspace(−1, 1), which reaches both ends. The range changes no count",
            "i/H for i = 0 … H − 1 at the 224-pixel input of Q7(a)",
        )
    )
    q7 = summary("exam_q7a")
    assert q7.rf is not None
    cx_conv = conv_shift_counterexample(2, 1)
    out.append(
        Claim(
            "conv-equivariance",
            1,
            "a",
            "Convolution is translation equivariant: a shift by Δ shifts the output by Δ",
            "output shifts by Δ",
            f"by Δ/s, and only when s divides Δ (s = {q7.rf.stride[0]} for Q7(a)'s network)",
            "ambiguous",
            "exact for stride-1 layers away from the borders; a network of effective stride "
            "s moves its output by Δ/s, so shifts that are not multiples of s change it",
            "effective stride of summary('exam_q7a'); search over one-hot images for a "
            "stride-2 1×1 conv (torch property tests)",
            str(cx_conv),
        )
    )
    factor = sp.simplify(aug.memory.activations_bytes / aug.memory.input_bytes)
    out.append(
        Claim(
            "coord-memory-factor",
            1,
            "a",
            "Memory grows by the factor (C + 2)/C = 1 + 2/C",
            "(C + 2)/C",
            _f(factor),
            _verdict(_same(factor, (C + 2) / C)),
            "the augmented tensor has C + 2 maps of H×W where the input has C",
            "the same model: bytes of the CoordAugment output / bytes of the input",
        )
    )
    a256 = _chain("coords", [CoordAugment()], (256, 56, 56))
    r256 = Fraction(a256.memory.activations_bytes, a256.memory.input_bytes)
    out.append(
        Claim(
            "coord-memory-256",
            1,
            "a",
            "For C = 256: 1 + 2/256 = 1.0078 (0.78% increase)",
            "1.0078 (0.78%)",
            f"{_dec(r256, 4)} ({_pct(r256 - 1)}) = {r256}",
            _verdict(_dec(r256, 4) == "1.0078" and _pct(r256 - 1) == "0.78%"),
            "exactly 258/256 = 1.0078125",
            "sequential([CoordAugment()]) on 256×56×56: output bytes / input bytes",
        )
    )
    plain = _chain("conv", [Conv2d(C, Co, k, padding="same")], (C, H, W))
    coord = _chain("coordconv", [CoordAugment(), Conv2d(C + 2, Co, k, padding="same")], (C, H, W))
    flops = sp.simplify(coord.flops / plain.flops)
    out.append(
        Claim(
            "coordconv-flops-factor",
            1,
            "a",
            "A k×k convolution on the augmented input costs (C + 2)/C times the FLOPs",
            "(C + 2)/C",
            _f(flops),
            _verdict(_same(flops, (C + 2) / C)),
            f"the conv costs {_f(sp.factor(coord.flops))} FLOPs against "
            f"{_f(sp.factor(plain.flops))}; making the coordinates costs no MACs",
            "CoordAugment + Conv2d(C + 2, C_out, k, 'same') vs Conv2d(C, C_out, k, 'same'), "
            "all sizes symbols: total FLOPs",
        )
    )

    def overhead(c: int) -> Fraction:
        s = _chain("coords", [CoordAugment()], (c, 8, 8))
        return Fraction(s.memory.activations_bytes, s.memory.input_bytes) - 1

    lo, hi = 1, 1024  # overhead falls with C: the first C below 1%
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if overhead(mid) < Fraction(1, 100) else (mid + 1, hi)
    rgb = _chain("stem", [Conv2d(3, 64, 7, stride=2, padding=3, bias=False)], (3, 224, 224))
    stem = Fraction(q7.layer("conv1").macs, rgb.macs)
    out.append(
        Claim(
            "coord-overhead-small",
            1,
            "a",
            "The overhead is minimal (typically < 1%)",
            "< 1%",
            f"< 1% only for C ≥ {lo}; +{_pct(stem - 1, 1)} at an RGB input (C = 3)",
            "ambiguous",
            f"true deep in a network (C ≥ {lo}); false at the input, where Q7(a) puts it: its "
            f"7×7 stem costs {_n(q7.layer('conv1').macs)} MACs instead of {_n(rgb.macs)}",
            "CoordAugment on C×8×8 (bisection on C); exam_q7a's conv1 MACs vs the same conv "
            "on 3 channels",
        )
    )

    cx = maxpool_shift_counterexample(2, 2, 1)
    out.append(
        Claim(
            "maxpool-shift-below-stride",
            1,
            "b",
            "Max pooling is translation invariant for |δ| < s: MaxPool(X′) = MaxPool(X)",
            "invariant for |δ| < s",
            "invariant for no δ ≠ 0",
            "differs",
            "a shift moves every window; unit (i, j) keeps its value only when the maximum "
            "over both windows lies in their overlap, which no stride guarantees",
            "search over 0/1 images, windows from archcalc's receptive field of MaxPool2d "
            "(torch re-check in tests)",
            str(cx),
        )
    )
    out.append(
        Claim(
            "maxpool-2x2-tolerance",
            1,
            "b",
            "2×2 pooling, stride 2: perfect invariance for |δ| < 1",
            "|δ| < 1",
            "δ = 0 only",
            "ambiguous",
            "for pixel shifts |δ| < 1 means δ = 0, where invariance is trivially true; "
            "read as 'up to one pixel', it is false: δ = 1 changes outputs",
            "search over 0/1 images (as above)",
            str(cx),
        )
    )
    cx3 = maxpool_shift_counterexample(3, 2, 1)
    rf3 = _chain("pool", [MaxPool2d(3, 2)], (1, 16, 16)).rf
    assert rf3 is not None
    keep = Fraction(int(rf3.size[0]) - 1, int(rf3.size[0]))
    out.append(
        Claim(
            "maxpool-3x3-tolerance",
            1,
            "b",
            "3×3 pooling, stride 2: partial invariance for |δ| < 2, perfect for |δ| < 1",
            "partial for |δ| < 2",
            f"δ = 1 keeps {keep} of the rows and columns ({keep**2} of the window)",
            "ambiguous",
            "'perfect for |δ| < 1' is only δ = 0; at δ = 1 a unit survives iff the maximum "
            "of both windows lies in the shared part — 'partial' is right, no δ ≠ 0 is safe",
            "receptive field of MaxPool2d(3, 2) (size 3): (R − δ)/R; search over 0/1 images",
            str(cx3),
        )
    )
    shared = []
    for r, s in ((2, 2), (3, 2)):
        rf = _chain("pool", [MaxPool2d(r, s)], (1, 16, 16)).rf
        assert rf is not None
        size, step = int(rf.size[0]), int(rf.stride[0])
        shared.append(f"{Fraction(max(size - step, 0), size)} for {r}×{r}/{s}")
    out.append(
        Claim(
            "maxpool-overlap",
            1,
            "b",
            "General case: tolerance decreases as (R − s)/R of the receptive field overlaps",
            "(R − s)/R",
            "adjacent windows share " + ", ".join(shared),
            "ambiguous",
            "(R − s)/R is the share of a window its neighbour also covers; what a shift δ "
            "keeps is (R − |δ|)/R, and even that guarantees nothing for every input",
            "receptive field (size R, stride s) of MaxPool2d(R, s): (size − stride)/size",
        )
    )
    same_eps = _exhaustive(lambda w, e: max(v + e for v in w) == max(w) + e)
    out.append(
        Claim(
            "max-plus-constant",
            1,
            "b",
            "max(a + ε, b + ε) = max(a, b) + ε only if the same element remains maximum",
            "only if the argmax stays",
            "always (adding one ε never moves the argmax)" if same_eps else "not always",
            "ambiguous",
            "with one ε for all elements the identity always holds, so max pooling commutes "
            "with adding a constant exactly as average pooling does; only with noise ε_i per "
            "element is the condition real",
            "exhaustive check on 2×2 windows of 0..2 and ε in −2..2 (torch property test)",
        )
    )
    avg_ok = _exhaustive(lambda w, e: Fraction(sum(v + e for v in w), 4) == Fraction(sum(w), 4) + e)
    out.append(
        Claim(
            "avg-plus-constant",
            1,
            "b",
            "Average pooling is linear: (1/R²)·Σ(X + ε) = (1/R²)·ΣX + ε",
            "(1/R²)·ΣX + ε",
            "(1/R²)·ΣX + ε" if avg_ok else "fails",
            _verdict(avg_ok),
            "the mean of a shifted window is the shifted mean",
            "exhaustive check on 2×2 windows of 0..2 and ε in −2..2 (torch property test)",
        )
    )
    return out


# ============================================================== Question 2


def _q2() -> list[Claim]:
    sp = _sympy()
    C, H, W, N = _symbols("C", "H", "W", "N")
    out: list[Claim] = []
    fc = _chain("fc_head", [Flatten(), Linear(C * H * W, N)], (C, H, W))
    gap = _chain("gap_head", [GlobalAvgPool(), Flatten(), Linear(C, N)], (C, H, W))
    out.append(
        Claim(
            "fc-head-formula",
            2,
            "a",
            "FC head: (H·W·C)·N weights + N biases = (H·W·C + 1)·N parameters",
            "(H·W·C + 1)·N",
            _f(sp.factor(fc.params)),
            _verdict(_same(fc.params, (H * W * C + 1) * N)),
            "one weight per input feature and output, one bias per output",
            "Flatten + Linear(C·H·W, N) on C×H×W (symbols): params",
        )
    )
    out.append(
        Claim(
            "gap-head-formula",
            2,
            "a",
            "GAP head: 0 parameters for the pooling, C·N + N for the classifier = (C + 1)·N",
            "(C + 1)·N",
            _f(sp.factor(gap.params)),
            _verdict(_same(gap.params, (C + 1) * N)),
            "global average pooling has no parameters",
            "GlobalAvgPool + Flatten + Linear(C, N) on C×H×W (symbols): params",
        )
    )
    fc_mem = sp.factor((fc.memory.saved_for_backward_bytes + fc.layers[-1].activation_bytes) / 4)
    gap_mem = sp.factor((gap.memory.saved_for_backward_bytes + gap.layers[-1].activation_bytes) / 4)
    out.append(
        Claim(
            "head-training-memory",
            2,
            "a",
            "Training memory per sample: FC stores H·W·C + N values, GAP stores C + N",
            "H·W·C + N; C + N",
            f"{_f(fc_mem)}; {_f(gap_mem)}",
            _verdict(_same(fc_mem, H * W * C + N) and _same(gap_mem, C + N)),
            "the Linear keeps its input for backward (the flattened map, or the C averages: "
            "the mean keeps nothing) and writes N scores — for a one-layer head",
            "the two heads above, float32: (saved-for-backward bytes + output bytes)/4",
        )
    )
    alex = summary("alexnet")
    feat = alex.layer(alex.model.features or "features.12").output_shape
    out.append(
        Claim(
            "alexnet-feature-map",
            2,
            "a",
            "AlexNet's last feature map is 6×6×256 (then 4096 → 4096 → 1000)",
            "6×6×256",
            f"{feat[1]}×{feat[2]}×{feat[0]}",
            _verdict(tuple(feat) == (256, 6, 6)),
            "torchvision's AlexNet at 224×224",
            "summary('alexnet'): output shape of its features node",
        )
    )
    fc_layers = [
        ("alexnet-fc1-params", "classifier.1", "FC1: 6×6×256×4096", 37_748_736),
        ("alexnet-fc2-params", "classifier.4", "FC2: 4096×4096", 16_777_216),
        ("alexnet-fc3-params", "classifier.6", "FC3: 4096×1000", 4_096_000),
    ]
    total_biases = 0
    for key, node, text, exam in fc_layers:
        row = alex.layer(node)
        layer = alex.model.node(node).layer
        assert isinstance(layer, Linear)
        weights = Linear(layer.in_features, layer.out_features, bias=False).params(
            ((layer.in_features,),)
        )
        biases = row.params - weights
        total_biases += biases
        out.append(
            Claim(
                key,
                2,
                "a",
                f"{text} = {_n(exam)} parameters",
                exam,
                row.params,
                _verdict(row.params == exam),
                f"counts the {_n(weights)} weights and leaves out the {_n(biases)} biases "
                f"its own formula (H·W·C + 1)·N includes",
                f"summary('alexnet').layer('{node}').params",
            )
        )
    head_fc = sum(alex.layer(n).params for _, n, _, _ in fc_layers)
    out.append(
        Claim(
            "alexnet-fc-total",
            2,
            "a",
            "Total FC parameters: 58,621,952",
            58_621_952,
            head_fc,
            _verdict(head_fc == 58_621_952),
            f"the sum of the three weight counts is right; the {_n(total_biases)} biases "
            "are missing",
            "summary('alexnet'): params of classifier.1 + classifier.4 + classifier.6",
        )
    )
    gapnet = summary("alexnet", head="gap")
    gap_fc = gapnet.layer("gap.fc").params
    out.append(
        Claim(
            "alexnet-gap-params",
            2,
            "a",
            "GAP alternative: 256×1000 = 256,000 parameters",
            256_000,
            gap_fc,
            _verdict(gap_fc == 256_000),
            "leaves out the 1,000 biases of its own (C + 1)·N",
            "summary('alexnet', head='gap').layer('gap.fc').params",
        )
    )
    cut = Fraction(head_fc - gap_fc, head_fc)
    whole = Fraction(alex.params - gapnet.params, alex.params)
    out.append(
        Claim(
            "alexnet-gap-reduction",
            2,
            "a",
            "Reduction: (58,621,952 − 256,000)/58,621,952 = 99.56%",
            "99.56%",
            _pct(cut),
            _verdict(_pct(cut) == "99.56%"),
            f"the biases cancel out at this precision; of the whole network's "
            f"{_n(alex.params)} parameters the GAP head saves {_pct(whole)}",
            "summary('alexnet') vs summary('alexnet', head='gap'): head params",
        )
    )
    out.append(
        Claim(
            "gap-gradient-uniform",
            2,
            "b",
            "All spatial locations (x, y) of channel k receive the same gradient",
            "the same at every (x, y)",
            "the same at every (x, y)",
            "agrees",
            "the mean weighs every position by 1/(HW), so its gradient is spread evenly",
            "torch autograd through GAP → Linear → cross-entropy (tests/test_exam_properties.py)",
        )
    )
    cx = gap_gradient_counterexample()
    out.append(
        Claim(
            "gap-gradient-formula",
            2,
            "b",
            "∂L/∂F_k(x, y) = w_{k,c}/(HW) · ∂L/∂P(y = c|x)",
            "w_{k,c}/(HW)·∂L/∂P_c",
            "(1/HW)·Σ_j w_{k,j}·∂L/∂s_j",
            "differs",
            "every class score depends on g_k, so the gradient sums over all N classes (and "
            "differentiates the scores, not the probability)",
            "exact search over small GAP → Linear → cross-entropy cases (torch re-check)",
            str(cx),
        )
    )
    shapes = [gapnet.layer(n).output_shape for n in ("gap.flatten", "gap.fc")]
    flat = alex.layer("flatten").output_shape[0]
    out.append(
        Claim(
            "gap-bottleneck",
            2,
            "c",
            "Information bottleneck H×W×C → C → N",
            "9216 → 256 → 1000 for AlexNet",
            f"{flat} → {shapes[0][0]} → {shapes[1][0]}",
            _verdict((flat, shapes[0][0], shapes[1][0]) == (9216, 256, 1000)),
            "the FC head sees the flattened map, the GAP head one average per channel",
            "summary('alexnet') and summary('alexnet', head='gap'): flatten and gap shapes",
        )
    )
    return out


# ============================================================== Question 3


def _q3() -> list[Claim]:
    out: list[Claim] = []
    fc = summary("alexnet")
    conv224 = summary("alexnet", head="conv")
    conv512 = summary("alexnet", head="conv", input=512)
    lin, cv = fc.layer("classifier.1"), conv224.layer("classifier.1")
    kernel = conv224.model.node("classifier.1").layer
    assert isinstance(kernel, Conv2d)
    out.append(
        Claim(
            "fc-as-conv",
            3,
            "a",
            "A Linear layer on an H0×W0×C0 map equals a conv with an H0×W0 kernel",
            "same output, same weights",
            f"Conv2d {kernel.kernel_size[0]}×{kernel.kernel_size[1]}: {_n(cv.params)} params, "
            f"{_n(cv.macs)} MACs",
            _verdict(cv.params == lin.params and cv.macs == lin.macs),
            "AlexNet's FC1 as a 6×6 convolution: the same parameters and MACs "
            "(outputs equal in torch: tests)",
            "summary('alexnet', head='conv').layer('classifier.1') vs the Linear of --head fc",
        )
    )
    shape224 = conv224.output_shape
    out.append(
        Claim(
            "fcn-output-same-size",
            3,
            "a",
            "When H′ = H and W′ = W the output is 1×1",
            "1×1",
            f"{shape224[1]}×{shape224[2]}",
            _verdict(tuple(shape224[1:]) == (1, 1)),
            "the convolutionalised AlexNet at its training size",
            "summary('alexnet', head='conv') at 224×224: output shape",
        )
    )
    f224 = conv224.layer("features.12").output_shape
    f512 = conv512.layer("features.12").output_shape
    o512 = conv512.output_shape
    maps = (f512[1] - f224[1] + 1, f512[2] - f224[2] + 1) == tuple(o512[1:])
    pixels = tuple(o512[1:]) == (512 - 224 + 1, 512 - 224 + 1)
    out.append(
        Claim(
            "fcn-output-map",
            3,
            "a",
            "Input H′×W′ → a (H′ − H + 1)×(W′ − W + 1) map of predictions",
            "(H′ − H + 1)×(W′ − W + 1)",
            f"{o512[1]}×{o512[2]} at 512×512",
            _readings(maps, pixels),
            f"true with H, H′ the feature-map sizes ({f512[1]} − {f224[1]} + 1 = {o512[1]}); "
            f"with the 224- and 512-pixel inputs it would give {512 - 224 + 1}×{512 - 224 + 1}",
            "summary('alexnet', head='conv', input=512): features and output shapes",
        )
    )
    n = window_count(512, 224, 32)
    windows = n * n
    out.append(
        Claim(
            "sliding-window-count",
            3,
            "b",
            "Windows: (512 − 224)/32 × (512 − 224)/32 = 9 × 9 = 81 forward passes",
            81,
            windows,
            _verdict(windows == 81),
            f"off by one: window starts 0, 32, …, 288 are ⌊(512 − 224)/32⌋ + 1 = {n} per "
            f"axis — the same {o512[1]}×{o512[2]} grid as the FCN's predictions",
            "MaxPool2d(224, stride=32) on 512×512: output positions",
        )
    )
    speed = Fraction(windows * fc.macs, conv512.macs)
    out.append(
        Claim(
            "fcn-speedup",
            3,
            "b",
            "Theoretical speedup 81× (81 window passes vs 1 FCN pass)",
            "81×",
            _times(speed),
            _verdict(speed == 81),
            f"{windows} windows × {_n(fc.macs)} MACs against {_n(conv512.macs)} for one pass "
            f"at 512×512, which costs {_times(Fraction(conv512.macs, fc.macs), 1)} one window",
            "AlexNet: summary at 224 (fc head) × windows vs summary(head='conv', input=512)",
        )
    )
    out.append(
        _empirical(
            "fcn-practical-speedup",
            3,
            "b",
            "Practical speedup 40-60×",
            "40-60×",
            f"a wall-clock figure; in MACs the FCN pass is only {_times(speed)} cheaper "
            "(for AlexNet)",
        )
    )
    act = windows * fc.memory.activations_bytes
    out.append(
        Claim(
            "sliding-window-memory",
            3,
            "b",
            "Sliding window stores 81 × activation_memory",
            "81 × activation memory",
            f"{windows} × {_n(fc.memory.activations_bytes)} B = {_n(act)} B",
            "differs",
            f"{windows} windows, not 81 (if all are batched; one at a time needs "
            f"{_n(fc.memory.peak_inference_bytes)} B at the peak)",
            "summary('alexnet'): activations bytes × window count",
        )
    )
    exam_ratio = Fraction(81 * 224 * 224, 512 * 512)
    ratio = Fraction(act, conv512.memory.activations_bytes)
    out.append(
        Claim(
            "sliding-window-memory-ratio",
            3,
            "b",
            "Memory ratio ≈ number of windows / image-size ratio",
            f"81/(512²/224²) ≈ {_dec(exam_ratio, 1)}",
            _dec(ratio, 1),
            _verdict(_dec(ratio, 1) == _dec(exam_ratio, 1)),
            f"with the right {windows} windows the approximation gives "
            f"{_dec(Fraction(windows * 224 * 224, 512 * 512), 1)}; the FCN's activations grow "
            f"{_times(Fraction(conv512.memory.activations_bytes, fc.memory.activations_bytes))}"
            f" from 224² to 512², not {_times(Fraction(512 * 512, 224 * 224))}",
            "AlexNet: windows × activations at 224 / activations of --head conv at 512",
        )
    )
    return out


# ============================================================== Question 4


def _q4() -> list[Claim]:
    sp = _sympy()
    C, F, H, W = _symbols("C", "F", "H", "W")
    out: list[Claim] = []

    def stack(n: int, kernel: Any, width: Any = C) -> Summary:
        pad = "same" if not isinstance(kernel, int) else (kernel - 1) // 2
        return _chain(
            f"{n}x{kernel}",
            [Conv2d(width, width, kernel, padding=pad, bias=False) for _ in range(n)],
            (width, H, W),
        )

    d3 = stack(3, F)
    exam_b = 3 * C**2 * F**2 * H * W * C
    out.append(
        Claim(
            "budget-formula",
            4,
            "a",
            "FLOPs budget B = D × W² × F² × H × W × C (W = width)",
            "D·W²·F²·H·W·C",
            f"D·C²·F²·H·W (D = 3: {_f(d3.macs)})",
            _verdict(_same(d3.macs, exam_b)),
            "one factor of channels too many: D layers of width C cost D·C²·F²·H·W MACs (the "
            "exam also writes W for both the width and the image width)",
            "3 × Conv2d(C, C, F, 'same', bias=False) on C×H×W (symbols): MACs",
        )
    )
    per_pixel = sp.simplify(d3.macs / (H * W))
    out.append(
        Claim(
            "budget-tradeoff",
            4,
            "a",
            "Trade-off: D × W² × F² = constant (at a fixed H×W)",
            "D·W²·F²",
            f"{_f(per_pixel)} per output pixel (D = 3)",
            _verdict(_same(per_pixel, 3 * C**2 * F**2)),
            "MACs per pixel are D·C²·F², so at a fixed budget and image size depth, width² and "
            "kernel area trade one for one",
            "the same model: MACs / (H·W)",
        )
    )
    two3, one5 = stack(2, 3), stack(1, 5)
    biased = [
        _chain("b", [Conv2d(C, C, k_, padding=k_ // 2) for _ in range(n_)], (C, H, W)).params
        for n_, k_ in ((2, 3), (1, 5))
    ]
    assert two3.rf is not None and one5.rf is not None
    out.append(
        Claim(
            "two-3x3-params",
            4,
            "a",
            "Two 3×3 layers: 2 × (9C²) = 18C² parameters",
            "18C²",
            _f(two3.params),
            _verdict(_same(two3.params, 18 * C**2)),
            f"weights only (with biases: {_f(sp.expand(biased[0]))})",
            "2 × Conv2d(C, C, 3, padding=1, bias=False) (C a symbol): params",
        )
    )
    out.append(
        Claim(
            "one-5x5-params",
            4,
            "a",
            "One 5×5 layer: 25C² parameters",
            "25C²",
            _f(one5.params),
            _verdict(_same(one5.params, 25 * C**2)),
            f"weights only (with a bias: {_f(sp.expand(biased[1]))})",
            "Conv2d(C, C, 5, padding=2, bias=False): params",
        )
    )
    saving = sp.nsimplify(sp.simplify((one5.params - two3.params) / one5.params))
    out.append(
        Claim(
            "two-3x3-saving",
            4,
            "a",
            "Savings: (25C² − 18C²)/25C² = 28%",
            "28%",
            _pct(Fraction(int(saving.p), int(saving.q)), 0),
            _verdict(saving == sp.Rational(7, 25)),
            "7/25 exactly, for every C",
            "the two models above: (params₅ − params₃)/params₅",
        )
    )
    out.append(
        Claim(
            "two-3x3-rf",
            4,
            "a",
            "Two 3×3 layers see the same field as one 5×5",
            "5 = 5",
            f"{two3.rf.size[0]} = {one5.rf.size[0]}",
            _verdict(two3.rf.size == one5.rf.size == (5, 5)),
            "with 2 ReLUs instead of 1",
            "receptive field of both models",
        )
    )
    deep = _chain("deep", [Conv2d(8, 8, 3, padding=1), ReLU()] * 2, (8, 16, 16))
    wide = _chain("wide", [Conv2d(8, 8, 5, padding=2), ReLU()], (8, 16, 16))
    relus = [sum(r.kind == "ReLU" for r in x.layers) for x in (deep, wide)]
    out.append(
        Claim(
            "two-3x3-relus",
            4,
            "a",
            "2 layers of 3×3: 2 ReLU activations; 1 layer of 5×5: 1",
            "2 vs 1",
            f"{relus[0]} vs {relus[1]}",
            _verdict(relus == [2, 1]),
            "one non-linearity per conv layer",
            "conv-ReLU stacks: ReLU layers counted",
        )
    )
    fields = [stack(n, F).rf for n in (1, 2, 3)]
    sizes = [rf.size[0] for rf in fields if rf is not None]
    exam_sizes = [F, 2 * F - 1, 3 * F - 2]
    out.append(
        Claim(
            "rf-stack",
            4,
            "a",
            "Receptive field of L layers of F×F: F, 2F − 1, 3F − 2, …, 1 + L(F − 1)",
            "F, 2F − 1, 3F − 2",
            ", ".join(_f(s) for s in sizes),
            _verdict(all(_same(a, b) for a, b in zip(sizes, exam_sizes))),
            "each stride-1 layer adds F − 1 (every L: property test)",
            "L × Conv2d(C, C, F, 'same') for L = 1, 2, 3 (F a symbol): receptive field",
        )
    )
    three3, one7 = stack(3, 3), stack(1, 7)
    assert three3.rf is not None and one7.rf is not None
    out.append(
        Claim(
            "three-3x3-vs-7x7",
            4,
            "a",
            "3 layers × 3×3 vs 1 layer × 7×7: the same receptive field",
            "7 = 7",
            f"{three3.rf.size[0]} = {one7.rf.size[0]} ({_f(three3.params)} vs "
            f"{_f(one7.params)} params)",
            _verdict(three3.rf.size == one7.rf.size == (7, 7)),
            "the deeper stack also has 27C² weights against 49C²",
            "3 × Conv2d(C, C, 3, padding=1) vs Conv2d(C, C, 7, padding=3), bias-free",
        )
    )
    out.append(
        Claim(
            "params-linear-in-depth",
            4,
            "a",
            "Parameters per layer F²×C²; for L layers L × F² × C²",
            "L·F²·C²",
            f"{_f(d3.params)} (L = 3)",
            _verdict(_same(d3.params, 3 * F**2 * C**2)),
            "weights only; linear in L",
            "3 × Conv2d(C, C, F, bias=False): params",
        )
    )
    out.append(
        Claim(
            "expressiveness-bound",
            4,
            "a",
            "Each layer implements ≤ 2^(F²·C²) Boolean functions; L layers 2^(L·F²·C²)",
            "2^(L·F²·C²)",
            f"2^(parameters) = 2^({_f(d3.params)}) for L = 3",
            "ambiguous",
            "not a count archcalc (or the exam) derives; the exponent is just the weight "
            "count, so the bound grows as fast with width (C²) as with depth (L)",
            "the parameter count of the same model",
        )
    )

    # ---- (b) memory of stride 1 vs stride 4 in the first layer
    s1 = _chain("stride1", [Conv2d(3, 64, 3), Conv2d(64, 128, 3)], (3, 224, 224))
    s4 = _chain("stride4", [Conv2d(3, 64, 3, stride=4), Conv2d(64, 128, 3)], (3, 224, 224))
    inp = s1.memory.input_bytes // 4
    out.append(
        Claim(
            "input-elements",
            4,
            "b",
            "Input: 224 × 224 × 3 = 150,528 elements",
            150_528,
            inp,
            _verdict(inp == 150_528),
            "",
            "summary of either model below: input bytes / 4",
        )
    )
    stride_claims = [
        ("stride1-layer1", s1, 0, "Stride 1, layer 1: 222² × 64 = 3,154,176 elements", 3_154_176),
        ("stride1-layer2", s1, 1, "Stride 1, layer 2: 220² × 128 = 6,195,200 elements", 6_195_200),
        ("stride4-layer1", s4, 0, "Stride 4, layer 1: 56² × 64 = 201,216 elements", 201_216),
        ("stride4-layer2", s4, 1, "Stride 4, layer 2: 54² × 128 = 373,248 elements", 373_248),
    ]
    for key, s, i, text, exam in stride_claims:
        row = s.layers[i]
        got = row.activation_elements
        c, h, w = row.output_shape
        reason = f"{c}×{h}×{w}"
        if got != exam:
            reason = f"arithmetic slip: {h}² = {h * w:,} and {h * w:,} × {c} = {_n(got)}"
        out.append(
            Claim(
                key,
                4,
                "b",
                text,
                exam,
                got,
                _verdict(got == exam),
                reason,
                f"{'Conv2d(3, 64, 3, stride=4)' if s is s4 else 'Conv2d(3, 64, 3)'} then "
                f"Conv2d(64, 128, 3) on 3×224×224: output elements of layer {i + 1}",
            )
        )
    rf4 = _chain("l1", [Conv2d(3, 64, 3, stride=4)], (3, 224, 224)).rf
    assert rf4 is not None
    seen = Fraction(min(rf4.size[0], rf4.stride[0]), rf4.stride[0]) ** 2
    size4 = s4.layers[0].output_shape[1]
    out.append(
        Claim(
            "stride4-size",
            4,
            "b",
            "Stride 4, layer 1: ⌊(224 − 3)/4⌋ + 1 = 56",
            56,
            size4,
            _verdict(size4 == 56),
            f"but a 3×3 kernel at stride 4 never reads {1 - seen} of the pixels "
            f"(receptive field {rf4.size[0]}, stride {rf4.stride[0]})",
            "Conv2d(3, 64, 3, stride=4) on 3×224×224: output size and receptive field",
        )
    )
    peaks = []
    for key, s, shown in (("stride1-peak", s1, "6.2M"), ("stride4-peak", s4, "0.37M")):
        largest = max(r.activation_elements for r in s.layers)
        live = s.memory.peak_inference_bytes // 4
        digits = 1 if shown == "6.2M" else 2
        peaks.append((largest, live))
        out.append(
            Claim(
                key,
                4,
                "b",
                f"Peak memory ~{shown} elements for activations "
                f"({'stride 1' if s is s1 else 'stride 4'})",
                f"~{shown}",
                f"largest tensor {_n(largest)}; live peak {_n(live)}",
                _readings(_mega(largest, digits) == shown, _mega(live, digits) == shown),
                "right for the largest single output; the live peak of an inference pass "
                "counts every tensor held at once (layer 2's input and output, the input)",
                "the same models: max output elements; peak_inference_bytes / 4",
            )
        )
    red_largest = Fraction(peaks[0][0] - peaks[1][0], peaks[0][0])
    red_live = Fraction(peaks[0][1] - peaks[1][1], peaks[0][1])
    out.append(
        Claim(
            "stride4-reduction",
            4,
            "b",
            "Memory reduction (6.2M − 0.37M)/6.2M = 94%",
            "94%",
            f"{_pct(red_largest)} (largest tensors), {_pct(red_live)} (live peaks)",
            _readings(_pct(red_largest, 0) == "94%", _pct(red_live, 0) == "94%"),
            "94% if 'peak' is the largest tensor (the answer's reading); the live peaks give "
            + _pct(red_live, 0),
            "the peaks above",
        )
    )
    q4b = summary("exam_q4b")
    convs = [r for r in q4b.layers if r.kind == "Conv2d"]
    sizes4b = [r.output_shape[1] for r in convs]
    out.append(
        Claim(
            "q4b-schedule",
            4,
            "b",
            "8 layers, strides 4, 2, 1, 2, 1, 2, 1, 1: 224 → 56 → 28 → 28 → 14 → 14 → 7 → 7 → 7",
            "56, 28, 28, 14, 14, 7, 7, 7",
            ", ".join(str(s) for s in sizes4b),
            _verdict(sizes4b == [56, 28, 28, 14, 14, 7, 7, 7]),
            "3×3 convs: layer 1 unpadded as in the exam's own calculation, then padding 1",
            "summary('exam_q4b'): output size of conv1..conv8",
        )
    )
    halving = [r for r in convs if r.rf is not None and r.output_shape[1] in (56, 28, 14, 7)]
    firsts: dict[int, int] = {}
    for r in halving:
        firsts.setdefault(r.output_shape[1], r.activation_elements)
    elems = [firsts[s] for s in (56, 28, 14, 7)]
    out.append(
        Claim(
            "q4b-memory-decay",
            4,
            "b",
            "Memory usage decreases exponentially: 56² → 28² → 14² → 7²",
            "÷4 per halving",
            " → ".join(_n(e) for e in elems),
            _readings(True, all(b * 4 == a for a, b in zip(elems, elems[1:]))),
            "each map shrinks 4×, but with the channels doubled (as the exam advises) a "
            "layer's memory only halves",
            "summary('exam_q4b'): output elements of the first layer at each size",
        )
    )

    # ---- (c) design patterns
    r50 = summary("resnet50")
    steps: list[int] = []
    for r in r50.layers:
        if len(r.output_shape) == 3 and r.output_shape[1] > 1 and r.output_shape[1] not in steps:
            steps.append(r.output_shape[1])
    out.append(
        Claim(
            "resnet-resolution",
            4,
            "c",
            "Successful architectures go 224 → 112 → 56 → 28 → 14 → 7",
            "112, 56, 28, 14, 7",
            ", ".join(str(s) for s in steps) + " (ResNet-50)",
            _verdict(steps == [112, 56, 28, 14, 7]),
            "",
            "summary('resnet50'): the distinct output sizes in order",
        )
    )
    assert r50.rf is not None
    total = int(r50.rf.stride[0])
    stages = total.bit_length() - 1
    out.append(
        Claim(
            "reduction-stages",
            4,
            "c",
            "L = log(S_f/S_0)/log(r): for 224 → 7, L = log(7/224)/log(0.5) = 5.0 stages",
            "5.0",
            f"{stages} (total stride {total} = 2^{stages})",
            _verdict(2**stages == total and 224 // total == 7 and stages == 5),
            "7/224 = 1/32 = 0.5^5",
            "summary('resnet50'): effective stride of the last feature map",
        )
    )
    kept = Fraction(
        r50.layer("maxpool").output_shape[1] ** 2, r50.layer("conv1").output_shape[1] ** 2
    )
    out.append(
        Claim(
            "halving-removes",
            4,
            "c",
            "Each 2× reduction removes ~75% of spatial information",
            "75%",
            _pct(1 - kept, 0) + " of the positions",
            _verdict(_pct(1 - kept, 0) == "75%"),
            "a 2× smaller map has 1/4 of the positions",
            "summary('resnet50'): positions after vs before the max-pool",
        )
    )
    r18 = summary("resnet18")
    st18 = [r18.layer(f"layer{i}.1.relu_1") for i in range(1, 5)]
    widths = [r.output_shape[0] for r in st18]
    out.append(
        Claim(
            "resnet-widths",
            4,
            "c",
            "ResNet: 64 → 128 → 256 → 512 (doubling with each spatial halving)",
            "64, 128, 256, 512",
            ", ".join(str(w) for w in widths),
            _verdict(widths == [64, 128, 256, 512]),
            "doubling is ×1/r, not the ×1/r² the answer's compensation principle asks: the "
            "stage outputs shrink " + " → ".join(_n(r.activation_elements) for r in st18),
            "summary('resnet18'): output of each stage",
        )
    )
    vgg = summary("vgg16")
    vw: list[int] = []
    for r in vgg.layers:
        if r.kind == "Conv2d" and r.output_shape[0] not in vw:
            vw.append(r.output_shape[0])
    out.append(
        Claim(
            "vgg-widths",
            4,
            "c",
            "VGG: gradual increase 64 → 128 → 256 → 512",
            "64, 128, 256, 512",
            ", ".join(str(w) for w in vw),
            _verdict(vw == [64, 128, 256, 512]),
            "",
            "summary('vgg16'): distinct conv widths",
        )
    )
    Ci, Co, k = _symbols("C_in", "C_out", "k")
    std = _chain("standard", [Conv2d(Ci, Co, k, padding="same", bias=False)], (Ci, H, W))
    dws = _chain(
        "separable",
        [
            Conv2d(Ci, Ci, k, padding="same", groups=Ci, bias=False),
            Conv2d(Ci, Co, 1, bias=False),
        ],
        (Ci, H, W),
    )
    out.append(
        Claim(
            "separable-cost",
            4,
            "c",
            "Standard H·W·C_in·C_out·k²; depthwise separable H·W·C_in·k² + H·W·C_in·C_out",
            "H·W·C_in·k² + H·W·C_in·C_out",
            f"{_f(std.macs)}; {_f(dws.macs)}",
            _verdict(
                _same(std.macs, H * W * Ci * Co * k**2)
                and _same(dws.macs, H * W * Ci * k**2 + H * W * Ci * Co)
            ),
            "MACs of a k×k depthwise conv then a 1×1 pointwise conv",
            "Conv2d(C_in, C_out, k) vs Conv2d(C_in, C_in, k, groups=C_in) + Conv2d(C_in, C_out, "
            "1), 'same' padding, all symbols: MACs",
        )
    )
    ratio = sp.simplify(dws.macs / std.macs)
    out.append(
        Claim(
            "separable-ratio",
            4,
            "c",
            "Reduction factor 1/C_out + 1/k²",
            "1/C_out + 1/k²",
            _f(sp.together(ratio)),
            _verdict(_same(ratio, 1 / Co + 1 / k**2)),
            "",
            "the two models above: MACs ratio",
        )
    )

    def speedup(c: int) -> Fraction:
        a = _chain("std", [Conv2d(c, c, 3, padding=1, bias=False)], (c, 14, 14))
        b = _chain(
            "sep",
            [Conv2d(c, c, 3, padding=1, groups=c, bias=False), Conv2d(c, c, 1, bias=False)],
            (c, 14, 14),
        )
        return Fraction(a.macs, b.macs)

    ratios = {c: speedup(c) for c in (32, 64, 128, 256, 512, 1024)}
    first8 = next(c for c in range(1, 1025) if speedup(c) >= 8)
    out.append(
        Claim(
            "separable-typical",
            4,
            "c",
            "Typically an 8-9× reduction",
            "8-9×",
            ", ".join(f"{_times(v, 1)} (C = {c})" for c, v in ratios.items()),
            _verdict(all(8 <= v < 9 for c, v in ratios.items() if c >= first8)),
            f"for k = 3 and C_out ≥ {first8}; narrower layers save less, never 9×",
            "3×3 standard vs separable conv at C_in = C_out = C on 14×14: MACs ratio",
        )
    )
    mb2 = summary("mobilenet_v2")
    out.append(
        _empirical(
            "mobilenet-tradeoff",
            4,
            "c",
            "MobileNet: 1% accuracy loss for a 10× speedup",
            "1% for 10×",
            f"in MACs MobileNet-v2 is {_times(Fraction(r50.macs, mb2.macs), 1)} cheaper than "
            f"ResNet-50 and {_times(Fraction(vgg.macs, mb2.macs), 1)} than VGG-16 — "
            "the factor depends on the baseline",
        )
    )
    w16 = summary("resnet50", dtype="float16").weights_bytes
    w8 = summary("resnet50", dtype="int8").weights_bytes
    out.append(
        _empirical(
            "pruning-quantization",
            4,
            "c",
            "Pruning + quantization: an additional 2-4× speedup",
            "2-4×",
            f"quantizing float32 weights shrinks them "
            f"{_times(Fraction(r50.weights_bytes, w16), 0)} (float16) to "
            f"{_times(Fraction(r50.weights_bytes, w8), 0)} (int8); speed depends on hardware",
        )
    )
    return out


# ============================================================== Question 5


def _stage_names(model: Model) -> list[str]:
    stages: list[str] = []
    for n in model.live_nodes():
        top = n.name.split(".")[0]
        if top.startswith("layer") and top not in stages:
            stages.append(top)
    return stages


def _q5() -> list[Claim]:
    out: list[Claim] = []
    q7 = summary("exam_q7a").model
    stages = _stage_names(q7)
    eta0, alpha = Fraction(1, 1000), Fraction(1, 10)
    rates = layer_rates(len(stages), eta0, alpha)
    closed = [eta0 * alpha ** (len(stages) - lv) for lv in range(1, len(stages) + 1)]
    out.append(
        Claim(
            "layerwise-lr",
            5,
            "a",
            "η_l = η0·α^(L−l) with α < 1: the last layer gets η0, earlier layers less",
            "η_L = η0, η_l < η_(l+1)",
            ", ".join(f"{s}: {_rate(r)}" for s, r in zip(stages, rates)),
            _verdict(
                rates == closed
                and rates[-1] == eta0
                and all(a < b for a, b in zip(rates, rates[1:]))
            ),
            "each layer gets α times the rate of the layer after it (η0 = 10^-3, α = 0.1 "
            "over exam_q7a's stages)",
            "the stages of summary('exam_q7a'), rates by the recurrence η_(l−1) = α·η_l",
        )
    )
    out.append(
        _empirical(
            "transferability-figures",
            5,
            "b",
            "Early layers > 90% transferability, later layers < 50%",
            "> 90%; < 50%",
            "the metric (CKA, linear probing) and the tasks are not fixed either",
        )
    )
    out.append(
        _empirical(
            "high-lr-disrupts",
            5,
            "c",
            "Learning rates > 10^-2 cause an accuracy drop and slower convergence",
            "> 10^-2",
            "it depends on the optimizer, the batch size and the pretrained model",
        )
    )
    need = {n: (2 / (n - 1)) for n in range(3, 8)}
    alphas = ", ".join(f"L = {n}: α = {10**-e:.3f}" for n, e in need.items())
    l5 = len(stages)
    out.append(
        Claim(
            "lr-endpoints",
            5,
            "c",
            "Start with η_1 = 10^-5 and η_L = 10^-3",
            "η_1 = 10^-5, η_L = 10^-3",
            alphas,
            "ambiguous",
            f"consistent with η_l = η0·α^(L−l) iff α^(L−1) = 1/100 — the question leaves L "
            f"open; for Q7(a)'s {l5} stages α = {10 ** -(2 / (l5 - 1)):.3f}, yet Q7(a) itself "
            f"uses α = 0.1, which gives η_1 = {_rate(rates[0])}",
            "the recurrence above; α = 10^(−2/(L−1))",
        )
    )
    return out


# ============================================================== Question 6


def _q6() -> list[Claim]:
    out: list[Claim] = []
    alex = summary("alexnet")
    f = alex.macs
    grad = 2 * f  # one forward + one backward to the input (a transposed pass, same MACs)
    out.append(
        Claim(
            "gradient-cost",
            6,
            "c",
            "Gradient saliency: O(Forward + Backward) = O(2 × Forward)",
            "2 × forward",
            f"{_n(grad)} MACs = 2 × forward (input gradients only); {_n(3 * f)} = 3 × with "
            "weight gradients",
            "ambiguous",
            "a backward pass to the input mirrors every conv/linear (the forward's MACs); "
            "autograd also computes weight gradients unless the parameters are frozen",
            "summary('alexnet').macs; backward = the transposed convs (FLOPs checked in torch)",
        )
    )
    lo, hi = 50, 300
    ig = [Fraction(2 * m * f, grad) for m in (lo, hi)]
    out.append(
        Claim(
            "ig-cost",
            6,
            "c",
            "Integrated gradients: m = 50-300 steps, so 50-600× slower than simple gradients",
            "50-600×",
            f"{_times(ig[0], 0)}-{_times(ig[1], 0)}",
            _verdict(ig == [50, 600]),
            "m forward and m backward passes cost m times one gradient: the upper end is "
            "300×, not 600×",
            "AlexNet: m·(forward + backward) MACs / (forward + backward) MACs",
        )
    )
    n224 = window_count(224, 32, 8)
    exam_n = Fraction(224 - 32, 8) ** 2
    small = next(
        (h, w, s)
        for h in range(1, 5)
        for w in range(1, h + 1)
        for s in range(1, h + 1)
        if Fraction(h - w, s) ** 2 != window_count(h, w, s) ** 2
    )
    out.append(
        Claim(
            "occlusion-windows",
            6,
            "c",
            "Occlusion windows: N = (H − w)/s × (W − w)/s",
            f"{exam_n} at H = W = 224, w = 32, s = 8 (the formula evaluated)",
            n224 * n224,
            _verdict(n224 * n224 == exam_n),
            "off by one per axis: ⌊(H − w)/s⌋ + 1 positions (the window at 0 counts)",
            "MaxPool2d(w, stride=s) on H×W: output positions",
            f"H = W = {small[0]}, w = {small[1]}, s = {small[2]}: "
            f"{window_count(*small) ** 2} window, the formula gives {Fraction(small[0] - small[1], small[2]) ** 2}",
        )
    )
    occ = (n224 * n224 + 1) * f
    out.append(
        Claim(
            "occlusion-cost",
            6,
            "c",
            "Occlusion time: O(N_windows × Forward)",
            "N × forward",
            f"(N + 1) × forward = {_n(occ)} MACs for 224², w = 32, s = 8",
            "agrees",
            "plus one unoccluded pass for f(x); no backward pass",
            "summary('alexnet').macs × (window count + 1)",
        )
    )
    m100 = Fraction(2 * 100 * f, grad)
    out.append(
        Claim(
            "table-ig-runtime",
            6,
            "c",
            "Runtime table: integrated gradients 100×",
            "100×",
            _times(m100, 0) + " at m = 100",
            _verdict(m100 == 100),
            "m× a gradient, so 100× means m = 100 steps",
            "as for the IG cost above",
        )
    )
    examples = [(16, 4), (32, 8), (32, 16)]
    ratios = []
    for w, s in examples:
        k = window_count(224, w, s) ** 2
        ratios.append(f"w = {w}, s = {s}: {k} windows, {_times(Fraction((k + 1) * f, grad), 0)}")
    out.append(
        Claim(
            "table-occlusion-runtime",
            6,
            "c",
            "Runtime table: occlusion 1000×",
            "1000×",
            "; ".join(ratios),
            "ambiguous",
            "(N + 1)/2 gradients for N windows: 1000× needs about 2000 windows — the window "
            "and stride are left open",
            "AlexNet at 224²: (windows + 1) × forward MACs / gradient MACs",
        )
    )
    saved = alex.memory.saved_for_backward_bytes + alex.memory.input_bytes
    peak = alex.memory.peak_inference_bytes
    out.append(
        Claim(
            "table-memory",
            6,
            "c",
            "Memory table: gradients, integrated gradients and occlusion all 1×",
            "1×, 1×, 1×",
            f"gradient {_n(saved)} B; occlusion one window at a time {_n(peak)} B "
            f"({_times(Fraction(peak, saved))})",
            "ambiguous",
            "holds for IG one step at a time; occlusion needs no backward, so only the "
            "inference peak; batching the m steps or N windows multiplies either",
            "summary('alexnet'): saved-for-backward + input bytes vs peak_inference_bytes",
        )
    )
    out.append(
        _empirical(
            "table-quality",
            6,
            "c",
            "Quality: integrated gradients +15%, occlusion +25% over gradients",
            "+15%; +25%",
            "neither the quality metric nor the data set is named",
        )
    )
    return out


# ============================================================== Question 7


def _q7() -> list[Claim]:
    out: list[Claim] = []
    s = summary("exam_q7a")
    m = s.model
    coords = s.layer("coords").output_shape
    out.append(
        Claim(
            "q7-coords",
            7,
            "a",
            "Coordinate augmentation: 224 × 224 × 5 (RGB + x, y)",
            "224×224×5",
            f"{coords[1]}×{coords[2]}×{coords[0]}",
            _verdict(tuple(coords) == (5, 224, 224)),
            "",
            "summary('exam_q7a').layer('coords').output_shape",
        )
    )
    stem = s.layer("conv1").output_shape
    unpadded = _chain("stem", [Conv2d(5, 64, 7, stride=2)], (5, 224, 224)).output_shape
    out.append(
        Claim(
            "q7-stem-shape",
            7,
            "a",
            "Position-sensitive conv 7×7, stride 2, 64 channels: 112 × 112 × 64",
            "112×112×64",
            f"{stem[1]}×{stem[2]}×{stem[0]}",
            _verdict(tuple(stem) == (64, 112, 112)),
            f"with padding 3 (left open; unpadded it is {unpadded[1]}×{unpadded[2]})",
            "summary('exam_q7a').layer('conv1')",
        )
    )
    stages = _stage_names(m)
    ends = [s.layer(f"{st}.0.relu_1").output_shape for st in stages]
    out.append(
        Claim(
            "q7-stages",
            7,
            "a",
            "Channels 64 → 128 → 256 → 512 → 1024 at 112 → 56 → 28 → 14 → 7",
            "64@112, 128@56, 256@28, 512@14, 1024@7",
            ", ".join(f"{c}@{h}" for c, h, _ in ends),
            _verdict(
                [(c, h) for c, h, _ in ends]
                == [(64, 112), (128, 56), (256, 28), (512, 14), (1024, 7)]
            ),  # fmt: skip
            "one BasicBlock per stage, the stride in stages 2-5",
            "summary('exam_q7a'): output of each stage",
        )
    )
    pool = s.layer("avgpool").output_shape
    out.append(
        Claim(
            "q7-gap",
            7,
            "a",
            "GAP: 7 × 7 × 1024 → 1 × 1 × 1024",
            "1×1×1024",
            f"{pool[1]}×{pool[2]}×{pool[0]}",
            _verdict(tuple(pool) == (1024, 1, 1)),
            "",
            "summary('exam_q7a').layer('avgpool')",
        )
    )
    stem_p = s.layer("conv1").params
    with_bias = Conv2d(5, 64, 7, stride=2, padding=3).params(((5, 224, 224),))
    out.append(
        Claim(
            "q7-stem-params",
            7,
            "a",
            "Position-sensitive conv: 7² × 5 × 64 = 15,680 parameters",
            15_680,
            stem_p,
            _verdict(stem_p == 15_680),
            f"a bias-free conv before BatchNorm, as in ResNet; with a bias {_n(with_bias)}",
            "summary('exam_q7a').layer('conv1').params",
        )
    )
    backbone = sum(r.params for r in s.layers if r.name.split(".")[0] in stages)
    r50 = summary("resnet50")
    r50_backbone = r50.params - r50.layer("fc").params
    out.append(
        Claim(
            "q7-backbone-params",
            7,
            "a",
            "Standard conv blocks: ≈ 20M parameters (ResNet-50 baseline)",
            "≈ 20M",
            f"{_n(backbone)} (exam_q7a); {_n(r50_backbone)} (ResNet-50 without fc)",
            _readings(_mega(backbone, 0) == "20M", _mega(r50_backbone, 0) == "20M"),
            "the exam names no block layout: with one BasicBlock per stage ≈ 20M holds; "
            f"ResNet-50's own backbone is ≈ {_mega(r50_backbone)}",
            "summary('exam_q7a'): params of layer1..layer5; summary('resnet50') minus its fc",
        )
    )
    fc = s.layer("fc").params
    out.append(
        Claim(
            "q7-fc-params",
            7,
            "a",
            "Classification layer: 1024 × C parameters (C = 1000)",
            1_024_000,
            fc,
            _verdict(fc == 1_024_000),
            "leaves out the 1,000 biases",
            "summary('exam_q7a').layer('fc').params",
        )
    )
    own = 15_680 + 20_000_000 + 1_024_000
    out.append(
        Claim(
            "q7-total-params",
            7,
            "a",
            "Total: ≈ 20.1M parameters (for C = 1000)",
            "≈ 20.1M",
            s.params,
            _verdict(_mega(s.params) == "20.1M"),
            f"≈ {_mega(s.params)}; the answer's own terms 15,680 + 20M + 1,024,000 add up to "
            f"≈ {_mega(own)}, not 20.1M",
            "summary('exam_q7a').params",
        )
    )
    aug = s.layer("coords").activation_bytes
    out.append(
        Claim(
            "q7-input-memory",
            7,
            "a",
            "Input + coordinates: 224² × 5 × 4 = 1.0 MB",
            "1.0 MB",
            aug,
            _verdict(_mb(aug) == "1.0 MB"),
            f"{_mb(aug, 2)} (10^6 bytes) for the 5-channel tensor; the 3-channel input "
            f"itself adds {_n(s.memory.input_bytes)} B",
            "summary('exam_q7a').layer('coords').activation_bytes (float32)",
        )
    )
    every = s.memory.activations_bytes
    big = [r.activation_bytes for r in s.layers if tuple(r.output_shape) == (64, 112, 112)]
    conv_only = sum(r.activation_bytes for r in s.layers if r.kind == "Conv2d")
    out.append(
        Claim(
            "q7-feature-maps",
            7,
            "a",
            "Feature maps: Σ_l H_l × W_l × C_l × 4 ≈ 15 MB",
            "≈ 15 MB",
            f"{_mb(every)} (every output); {_mb(conv_only)} (conv outputs only)",
            _readings(_mb(every, 0) == "15 MB", _mb(conv_only, 0) == "15 MB"),
            f"a 64-channel 112×112 map alone is {_mb(big[0])}, and the network writes "
            f"{len(big)} of them",
            "summary('exam_q7a'): activations_bytes; the sum over its Conv2d rows",
        )
    )
    peak = s.memory.peak_inference_bytes
    train = s.memory.saved_for_backward_bytes + s.memory.input_bytes
    out.append(
        Claim(
            "q7-peak",
            7,
            "a",
            "Peak memory ≈ 16 MB per image",
            "≈ 16 MB",
            f"{_mb(peak)} (inference peak); {_mb(train)} (kept for backward + input)",
            _readings(_mb(peak, 0) == "16 MB", _mb(train, 0) == "16 MB"),
            "the answer adds input and feature maps (1 + 15); inference frees tensors, "
            "training keeps far more",
            "summary('exam_q7a'): peak_inference_bytes; saved_for_backward + input bytes",
        )
    )
    b32 = summary("exam_q7a", batch=32)
    peak32 = b32.memory.peak_inference_bytes
    train32 = b32.memory.saved_for_backward_bytes + b32.memory.input_bytes
    out.append(
        Claim(
            "q7-batch32",
            7,
            "a",
            "Batch size 32: ≈ 512 MB activation memory",
            "≈ 512 MB",
            f"{_mb(peak32, 0)} (inference peak); {_mb(train32, 0)} (training)",
            _readings(_mb(peak32, 0) == "512 MB", _mb(train32, 0) == "512 MB"),
            "32 × 16 MB is right arithmetic on a wrong per-image figure",
            "summary('exam_q7a', batch=32): the same two figures",
        )
    )
    conv_macs = sum(r.macs for r in s.layers if r.kind == "Conv2d")
    out.append(
        Claim(
            "q7-conv-flops",
            7,
            "a",
            "Convolutional layers: ≈ 4 × 10^9 FLOPs",
            "≈ 4G",
            f"{_n(conv_macs)} MACs = {_giga(2 * conv_macs)} FLOPs",
            _readings(_giga(conv_macs, 0) == "4G", _giga(2 * conv_macs, 0) == "4G"),
            "right if a FLOP is a multiply-accumulate (torchvision's 'GFLOPS'); a multiply "
            "and an add are 2 FLOPs each",
            "summary('exam_q7a'): MACs of the Conv2d rows",
        )
    )
    out.append(
        Claim(
            "q7-total-flops",
            7,
            "a",
            "Total: ≈ 4 GFLOPs per forward pass",
            "≈ 4G",
            f"{_n(s.macs)} MACs; {_n(s.flops)} FLOPs (archcalc)",
            _readings(_giga(s.macs, 0) == "4G", _giga(s.flops, 0) == "4G"),
            "4 G multiply-accumulates; archcalc's FLOPs also count BatchNorm, ReLU, adds",
            "summary('exam_q7a'): macs and flops",
        )
    )
    rgb = _chain("stem", [Conv2d(3, 64, 7, stride=2, padding=3, bias=False)], (3, 224, 224))
    extra = s.layer("conv1").macs - rgb.macs
    out.append(
        Claim(
            "q7-augmentation-cost",
            7,
            "a",
            "Position augmentation: O(HW), negligible",
            "negligible",
            f"0 MACs to build; +{_n(extra)} MACs in the stem = {_pct(Fraction(extra, s.macs))}"
            " of the network",
            _verdict(s.layer("coords").flops == 0 and Fraction(extra, s.macs) < Fraction(1, 20)),
            "making the channels is free, but the stem convolves 5 channels instead of 3",
            "summary('exam_q7a'): coords FLOPs; conv1 MACs vs the same conv on 3 channels",
        )
    )
    gap_flops = s.layer("avgpool").flops
    out.append(
        Claim(
            "q7-gap-cost",
            7,
            "a",
            "GAP: O(HWC), negligible next to the convolutions",
            "negligible",
            f"{_n(gap_flops)} FLOPs = {_pct(Fraction(gap_flops, s.flops), 4)}",
            _verdict(Fraction(gap_flops, s.flops) < Fraction(1, 1000)),
            "",
            "summary('exam_q7a').layer('avgpool').flops",
        )
    )
    rates = layer_rates(len(stages), Fraction(1, 1000), Fraction(1, 10))
    given = {4: Fraction(1, 10**4), 5: Fraction(1, 10**4)}
    mismatch = [i for i, r in given.items() if rates[i - 1] != r]
    out.append(
        Claim(
            "q7-layer-rates",
            7,
            "a",
            "Fine-tune layers 4-5 at 10^-4, head at 10^-3; η_l = 10^-3 × 0.1^(5−l)",
            "layers 4-5: 10^-4",
            ", ".join(f"{st}: {_rate(r)}" for st, r in zip(stages, rates)),
            _verdict(not mismatch),
            f"the formula gives layer 5 {_rate(rates[4])}, the head's rate, not 10^-4, and the "
            "frozen layers 1-3 rates they never use",
            "the stages of summary('exam_q7a'), rates by layer_rates(5, 10^-3, 0.1)",
        )
    )
    first = Fraction(s.layer("coords").activation_bytes, s.memory.input_bytes)
    out.append(
        Claim(
            "q7-early-overhead",
            7,
            "b",
            "(C + 2)/C: minimal for large C, significant for early layers",
            "significant at the input",
            f"{first} at the RGB input",
            _verdict(first > Fraction(3, 2)),
            f"+{_pct(first - 1, 1)} memory at C = 3, against +0.78% at C = 256",
            "summary('exam_q7a'): coords bytes / input bytes",
        )
    )
    out.append(
        _empirical(
            "q7-small-images",
            7,
            "b",
            "For inputs < 64×64 position information gives little benefit",
            "< 64×64",
            "it depends on the task",
        )
    )
    return out


_BUILDERS: dict[int, Callable[[], list[Claim]]] = {
    1: _q1,
    2: _q2,
    3: _q3,
    4: _q4,
    5: _q5,
    6: _q6,
    7: _q7,
}


# ============================================================== Markdown


HEADER = "<!-- generated by `archcalc docs` (or `archcalc exam --format markdown`); do not edit by hand -->\n\n"


def _cell(v: Any) -> str:
    text = _n(v) if isinstance(v, int) and not isinstance(v, bool) else str(v)
    return text.replace("|", "\\|") or "—"


def _table(claims: Iterable[Claim]) -> str:
    lines = [
        "| # | claim | exam | archcalc | verdict | why |",
        "|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(claims, 1):
        verdict = f"**{c.verdict}**" if c.verdict == "differs" else c.verdict
        lines.append(
            f"| {c.question}{c.part}.{i} | {_cell(c.claim)} | {_cell(c.exam_value)} | "
            f"{_cell(c.archcalc_value)} | {verdict} | {_cell(c.reason)} |"
        )
    return "\n".join(lines) + "\n"


def _counts(claims: Sequence[Claim]) -> str:
    n = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    return (
        f"{len(claims)} claims: {n['agrees']} agree, {n['differs']} differ, "
        f"{n['ambiguous']} ambiguous"
    )


def exam_markdown(question: int | None = None) -> str:
    """docs/exam.md: the audit grouped by question — each claim with the exam's value,
    archcalc's, the verdict and why — then how each value was computed and the
    counterexamples (or one question's section of it)."""
    claims = audit(question)
    questions = [question] if question is not None else list(QUESTIONS)
    parts = [HEADER, "# The CNN exam, audited\n\n"]
    if question is None:
        parts.append(
            "The exam this project starts from (CENG 403, January 2025, seven questions with "
            "worked answers) makes many numeric claims. Each one below is recomputed by "
            "archcalc from a model it builds — a `sequential` stack, a zoo model "
            "(`exam_q4b`, `exam_q7a`, `alexnet`, …) or a head — not by redoing the answer's "
            "arithmetic. Formulas are checked with symbolic sizes (`C`, `H`, `F`, …), so the "
            "engine derives the formula itself. Verdicts:\n\n"
            "* **agrees** — archcalc's value equals the exam's, to the digits it shows;\n"
            "* **differs** — it does not, and *why* names the slip; a false behavioural "
            "claim gets a minimal counterexample;\n"
            "* **ambiguous** — the question leaves an assumption open (*why* gives both "
            "readings), or the figure is empirical and no model fixes it.\n\n"
            "Figures follow [conventions.md](conventions.md): float32, batch 1, a MAC is a "
            "multiply-accumulate and archcalc's FLOPs count 2 per MAC. Every general "
            "formula also has a property test (hypothesis, and torch where the claim is "
            "about behaviour) in `tests/test_exam_properties.py`. Regenerate with "
            "`archcalc docs`; `archcalc exam --format json` gives the same audit as data.\n\n"
            f"**{_counts(claims)}.**\n\n## The slips\n\n"
        )
        for c in claims:
            if c.verdict == "differs":
                parts.append(
                    f"* Q{c.question}({c.part}) {c.claim}: the exam has "
                    f"{_cell(c.exam_value)}, archcalc {_cell(c.archcalc_value)} — {c.reason}.\n"
                )
        parts.append("\n")
    for q in questions:
        mine = [c for c in claims if c.question == q]
        parts.append(f"## Question {q}: {QUESTIONS[q]}\n\n{_counts(mine)}.\n\n")
        parts.append(_table(mine))
        parts.append("\nHow archcalc computed each value:\n\n")
        for i, c in enumerate(mine, 1):
            parts.append(f"{i}. {c.how}\n")
        cx = [(i, c) for i, c in enumerate(mine, 1) if c.counterexample]
        if cx:
            parts.append("\nCounterexamples:\n\n")
            for i, c in cx:
                parts.append(f"* {c.question}{c.part}.{i}: {c.counterexample}\n")
        if SETTINGS.get(q):
            parts.append(
                "\nSettings the answer chooses rather than claims (no verdict): "
                + "; ".join(SETTINGS[q])
                + ".\n"
            )
        parts.append("\n")
    return "".join(parts).rstrip() + "\n"
