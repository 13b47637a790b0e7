"""Training-time regularisers and scales: ``Dropout``, ``StochasticDepth``, ``LayerScale``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError
from .._math import Num, prod
from ._base import (
    Extra,
    Shape,
    Shapes,
    _check_int,
    _check_probability,
    _eq_known_false,
    register,
)
from .activation import _Elementwise


@register
@dataclass(frozen=True, slots=True)
class Dropout(_Elementwise):
    """Dropout. Inference: identity (a view). Training: autograd keeps the scaled noise
    tensor (torch's CPU path; the CUDA kernel keeps a bool mask, a quarter of it)."""

    p: float = 0.5
    alias: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_probability(self.kind, self.p)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.p == 0:
            return ()  # torch returns the input itself: nothing kept
        # torch's CPU path computes input * noise and keeps the noise tensor (activation
        # dtype); CUDA's fused native_dropout keeps a 1-byte mask instead
        return (Extra(batch * prod(out), None, "dropout noise"),)

    def is_view(self, training: bool) -> bool:
        return not training or self.p == 0


@register
@dataclass(frozen=True, slots=True)
class StochasticDepth(_Elementwise):
    """Row-mode stochastic depth (torchvision). Inference: identity; training: x·noise,
    where autograd keeps the per-sample noise (one element per sample)."""

    p: float = 0.0
    alias: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_probability(self.kind, self.p)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.p == 0:
            return ()  # torchvision returns the input itself: nothing kept
        return (Extra(batch, None, "stochastic depth noise"),)

    def is_view(self, training: bool) -> bool:
        return not training or self.p == 0


@register
@dataclass(frozen=True, slots=True)
class LayerScale(_Elementwise):
    """Per-channel learned scale (ConvNeXt): C parameters, one multiply per element."""

    channels: Any = 1
    flops_per_element: ClassVar[int] = 1

    def __post_init__(self) -> None:
        _check_int(self.kind, "channels", self.channels, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        if _eq_known_false(ins[0][0], self.channels):
            raise ShapeError(
                f"{self.kind}.channels = {self.channels} but the input has {ins[0][0]} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return self.channels
