"""Counterexamples to the exam's behavioural claims, found by small exact searches in plain
Python (windows and strides read from archcalc's receptive fields); torch re-checks each in
``tests/test_exam_properties.py``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from archcalc import Conv2d, MaxPool2d, OptionError

from ._claim import chain

__all__ = [
    "ShiftCounterexample",
    "maxpool_shift_counterexample",
    "maxpool_invariant",
    "GapGradientCounterexample",
    "gap_gradient_counterexample",
    "ConvShiftCounterexample",
    "conv_shift_counterexample",
    "conv_equivariant",
    "exhaustive",
]


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
    rf = chain("pool", [MaxPool2d(kernel, stride)], (1, kernel + shift, kernel + shift)).rf
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
    rf = chain("conv", [Conv2d(1, 1, 1, stride=stride)], (1, size, size)).rf
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


def maxpool_invariant(kernel: int, stride: int, shift: int) -> bool:
    """Whether unit (0, 0) of ``MaxPool2d(kernel, stride)`` keeps its value on every 0/1 image
    under a translation by ``shift`` (``0`` changes nothing)."""
    if shift == 0:
        return True
    cx = maxpool_shift_counterexample(kernel, stride, shift)
    return cx.before == cx.after


def conv_equivariant(stride: int, shift: int) -> bool:
    """Whether ``Conv2d(1, 1, 1, stride)`` of weight 1 shifts its output by ``shift`` on every
    one-hot image (no counterexample found)."""
    try:
        conv_shift_counterexample(stride, shift)
    except OptionError:
        return True
    return False


def exhaustive(check: Callable[[tuple[int, ...], int], bool]) -> bool:
    """``check(window, eps)`` on every 2×2 window of values 0..2 and every ε in −2..2."""
    return all(check(w, e) for w in itertools.product(range(3), repeat=4) for e in range(-2, 3))
