"""A sliding-window classifier against one pass of the fully convolutional model (exam Q3(b))."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import OptionError
from ..engine.graph import Model
from ..summary import load_model, summary
from ._common import check_window, hw, ratio, spatial, windows

__all__ = ["FcnReport", "fcn_cost"]


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
            return [name, a, b, f"{ratio(Fraction(a, b))}" if b else "-"]

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
            "speedup": ratio(self.speedup),
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
    size = spatial(fcn.input_shape, "input")
    win = hw(window, "window")
    st = hw(stride, "stride")
    check_window(size, win)
    counts = (windows(size[0], win[0], st[0]), windows(size[1], win[1], st[1]))
    total = counts[0] * counts[1]
    one = summary(m, input=win, batch=fcn.batch, dtype=dtype, head="fc", classes=classes)
    batched = summary(m, input=win, batch=fcn.batch * total, dtype=dtype, head="fc",
                      classes=classes)  # fmt: skip
    if fcn.rf is None or fcn.rf.is_global:
        raise OptionError(f"model '{m.name}': its `head` conv output has no receptive field")
    return FcnReport(
        model=m.name,
        input_hw=size,
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
