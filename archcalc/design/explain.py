"""Passes, MACs and memory of saliency methods: gradient, integrated gradients, occlusion and
CAM (exam Q6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import OptionError
from ..engine.graph import INPUT, Model
from ..engine.heads import features_node
from ..engine.memory import itemsize
from ..summary import load_model, summary
from ._common import bad, check_window, hw, pos_int, ratio, spatial, windows

__all__ = ["METHODS", "MethodCost", "ExplainReport", "explain_cost"]

#: saliency methods of :func:`explain_cost`
METHODS = ("gradient", "integrated-gradients", "occlusion", "cam")


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
        raise bad("method", name, "not computed here")

    def rows(self) -> list[list[Any]]:
        grad = 2 * self.forward_macs
        return [
            [
                c.method,
                c.forward_passes,
                c.backward_passes,
                c.macs,
                f"{ratio(Fraction(c.macs, grad))}",
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
    steps = pos_int(steps, "steps")
    m = load_model(model, input)
    s = summary(m, input=input, batch=batch, dtype=dtype, head=head, classes=classes)
    image = spatial(s.input_shape, "input")
    mem = s.memory
    run = _Run(
        forward=s.macs,
        saved=mem.saved_for_backward_bytes,
        input=mem.input_bytes,
        peak=mem.peak_inference_bytes,
        batch=int(s.batch),
        itemsize=itemsize(dtype),
        steps=steps,
        image=image,
        window=hw(window, "window"),
        stride=hw(stride, "stride"),
        summary=s,
    )
    costs = tuple(_COSTS[name](run) for name in chosen)
    counts = None
    if "occlusion" in chosen:
        counts = _windows(run)
    return ExplainReport(
        model=m.name,
        input_shape=tuple(int(v) for v in s.input_shape),
        batch=run.batch,
        dtype=dtype,
        head=head,
        forward_macs=run.forward,
        steps=steps,
        window=run.window,
        stride=run.stride,
        windows_hw=counts,
        methods=costs,
    )


@dataclass(frozen=True)
class _Run:
    """The figures every method's cost is made of (bytes and MACs for the whole batch)."""

    forward: int
    saved: int
    input: int
    peak: int
    batch: int
    itemsize: int
    steps: int
    image: tuple[int, int]
    window: tuple[int, int]
    stride: tuple[int, int]
    summary: Any


def _gradient(r: _Run) -> MethodCost:
    mem = r.saved + r.input
    return MethodCost("gradient", 1, 1, 2 * r.forward, mem, mem, "input gradient")


def _integrated(r: _Run) -> MethodCost:
    m = r.steps
    return MethodCost(
        "integrated-gradients",
        m,
        m,
        2 * m * r.forward,
        r.saved + 2 * r.input,
        m * (r.saved + r.input) + r.input,
        f"{m} steps",
    )


def _windows(r: _Run) -> tuple[int, int]:
    check_window(r.image, r.window)
    return (
        windows(r.image[0], r.window[0], r.stride[0]),
        windows(r.image[1], r.window[1], r.stride[1]),
    )


def _occlusion(r: _Run) -> MethodCost:
    counts = _windows(r)
    n = counts[0] * counts[1]
    scores = r.batch * n * r.itemsize
    return MethodCost(
        "occlusion",
        n + 1,
        0,
        (n + 1) * r.forward,
        r.peak + scores,
        (n + 1) * r.peak + scores,
        f"{counts[0]}x{counts[1]} windows + 1",
    )


def _cam(r: _Run) -> MethodCost:
    s = r.summary
    feat = features_node(s.model)
    shape = s.input_shape if feat == INPUT else s.layer(feat).output_shape
    if len(shape) != 3:
        raise OptionError(
            argument="method",
            value="cam",
            reason=f"model '{s.model.name}' has no convolutional feature map",
        )
    c, h, w = (int(v) for v in shape)
    cam_map = r.batch * h * w * r.itemsize
    mem = r.peak + cam_map
    return MethodCost(
        "cam", 1, 0, r.forward + r.batch * c * h * w, mem, mem, f"{c} maps of {h}x{w} at '{feat}'"
    )


_COSTS = {
    "gradient": _gradient,
    "integrated-gradients": _integrated,
    "occlusion": _occlusion,
    "cam": _cam,
}


def _methods(method: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(method, str):
        names = [p.strip() for p in method.split(",")]
    else:
        try:
            names = list(method)
        except TypeError:
            raise bad("method", method, f"must be one of {', '.join(METHODS)} or all") from None
    if names == ["all"]:
        return METHODS
    for n in names:
        if n not in METHODS:
            raise bad("method", n, f"must be one of {', '.join(METHODS)} or all")
    return tuple(dict.fromkeys(names))
