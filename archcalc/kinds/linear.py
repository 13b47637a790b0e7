"""Fully connected layers: ``Linear``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError
from .._math import Num, prod
from ._base import (
    GLOBAL,
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    _check_int,
    _eq_known_false,
    _fmt,
    _Global,
    register,
)
from .conv import Conv2d


@register
@dataclass(frozen=True, slots=True)
class Linear(Layer):
    """Fully connected layer, as ``torch.nn.Linear``.

    On a flat input ``(F,)`` it is the usual layer; on a ``(C, H, W)`` map it acts on the
    channels of every position (a channels-last ``nn.Linear``, as in ConvNeXt).

    >>> Linear(9216, 4096).params(((9216,),))
    37752832
    """

    in_features: Any
    out_features: Any
    bias: bool = True

    weighted: ClassVar[bool] = True
    classifier: ClassVar[bool] = True
    head_role: ClassVar[str | None] = "dense"

    def with_outputs(self, n: int) -> Layer | None:
        """This layer with ``n`` output features."""
        return dataclasses.replace(self, out_features=n)

    def as_conv(self, flat: tuple[Any, Any, Any] | None) -> Layer:
        """The same weights as a convolution: ``Conv2d(C, out, (h, w))`` after a Flatten of a
        ``(C, h, w)`` map, else a 1×1 convolution."""
        if flat is not None:
            cin, fh, fw = flat
            return Conv2d(cin, self.out_features, (fh, fw), bias=self.bias)
        return Conv2d(self.in_features, self.out_features, 1, bias=self.bias)

    def __post_init__(self) -> None:
        _check_int(self.kind, "in_features", self.in_features, 1)
        _check_int(self.kind, "out_features", self.out_features, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if _eq_known_false(s[0], self.in_features):
            raise ShapeError(
                f"{self.kind}.in_features = {self.in_features} but the input has "
                f"{s[0]} {'features' if len(s) == 1 else 'channels'} (shape {_fmt(s)})"
            )
        return (self.out_features, *s[1:])

    def params(self, ins: Shapes) -> Num:
        # weight out x in, bias out
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(ins[0]) * self.out_features

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return GLOBAL if len(ins[0]) == 1 else ((1, 1, 0), (1, 1, 0))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)
