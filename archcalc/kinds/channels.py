"""Channel selection and reordering: ``Slice`` (a range of channels: ``split``, ``chunk``,
``x[:, a:b]``) and ``ChannelShuffle`` (ShuffleNet's interleaving of channel groups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    invalid,
    register,
)
from ._rules import Parameterless, counts_zero, fvcore_ignored, ptflops_no_patch, thop_no_hook


def _channel_dim(call: TorchCall, dim: Any, what: str) -> None:
    """``dim`` must be the channel axis (1) of a tensor archcalc holds as it is."""
    ndim = len(call.inputs[0]) + 1
    if call.layouts[0] != "std" or not isinstance(dim, int) or dim % ndim != 1:
        raise UnsupportedError(f"{what} along dim {dim}; archcalc takes channels (dim 1)")


@register
@dataclass(frozen=True, slots=True)
class Slice(Parameterless, Layer):
    """Channels ``start`` to ``stop`` (exclusive) of the input: ``x[:, start:stop]``, one
    output of ``torch.split``/``chunk``. A view: no FLOPs, nothing saved, each output unit
    sees what the input unit at its position sees.

    >>> Slice(8, 24).out_shape(((32, 7, 7),))
    (16, 7, 7)
    """

    start: Any
    stop: Any

    alias: ClassVar[bool] = True
    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_ignored("slice / aten::split / aten::chunk")
    count_ptflops_hook = counts_zero("a tensor slice is not a module: no ptflops hook")
    count_ptflops_functional = ptflops_no_patch("Tensor.__getitem__ / torch.split / chunk")
    count_thop = thop_no_hook("a tensor slice (not a module)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.ChannelSlice",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.split",
        "torch.split",
        "Tensor.chunk",
        "torch.chunk",
        "Tensor.tensor_split",
        "Tensor.narrow",
        "torch.narrow",
        "Tensor.__getitem__",
    )

    def __post_init__(self) -> None:
        _check_int(self.kind, "start", self.start, 0)
        _check_int(self.kind, "stop", self.stop, 1)
        if not isinstance(self.start, int) or not isinstance(self.stop, int):
            return
        if self.stop <= self.start:
            raise invalid(self.kind, "stop", self.stop, f"must exceed start (={self.start})")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(2, 6), ((8, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if isinstance(c, int) and isinstance(self.stop, int) and c < self.stop:
            raise ShapeError(f"Slice.stop = {self.stop} but the input has {c} channels")
        return (self.stop - self.start, *ins[0][1:])

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(int(call.module.start), int(call.module.stop))
        if "getitem" in call.op:
            return cls._from_index(call, call.arg(1, "indices"))
        if "narrow" in call.op:
            _channel_dim(call, call.arg(1, "dim"), "narrow")
            start = int(call.arg(2, "start"))
            return cls(start, start + int(call.output[0]))
        _channel_dim(call, call.arg(2, "dim", 0), call.op)
        start = sum(int(o[0]) for o in call.outputs[: call.output_index])
        return cls(start, start + int(call.output[0]))

    @classmethod
    def _from_index(cls, call: TorchCall, idx: Any) -> Any:
        idx = idx if isinstance(idx, tuple) else (idx,)
        full = slice(None)
        rest = [i for i in idx[2:] if i is not Ellipsis]
        if (
            len(idx) < 2
            or call.layouts[0] != "std"
            or idx[0] != full
            or not isinstance(idx[1], slice)
            or idx[1].step not in (None, 1)
            or any(i != full for i in rest)
        ):
            raise UnsupportedError(
                f"indexing {idx!r}: archcalc takes a range of channels (x[:, a:b]) only"
            )
        start, stop, _ = idx[1].indices(int(call.inputs[0][0]))
        return cls(start, stop)

    def to_torch(self, tb: Any) -> Any:
        return tb.ChannelSlice(self.start, self.stop)


@register
@dataclass(frozen=True, slots=True)
class ChannelShuffle(Parameterless, Layer):
    """ShuffleNet's channel shuffle in ``groups``: ``view(N, g, C/g, H, W)``,
    ``transpose(1, 2)``, ``view(N, C, H, W)`` (``nn.ChannelShuffle``). A copy that moves
    channels: no FLOPs, nothing saved, each unit sees what its input unit sees.

    >>> ChannelShuffle(2).out_shape(((8, 5, 5),))
    (8, 5, 5)
    """

    groups: Any

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_ignored("view / aten::transpose / aten::contiguous")
    count_ptflops_hook = counts_zero("view/transpose are not modules: no ptflops hook")
    count_ptflops_functional = ptflops_no_patch("Tensor.view / torch.transpose")
    count_thop = thop_no_hook("nn.ChannelShuffle (or view/transpose)")

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.ChannelShuffle",)

    def __post_init__(self) -> None:
        _check_int(self.kind, "groups", self.groups, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(2), ((8, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if isinstance(c, int) and isinstance(self.groups, int) and c % self.groups:
            raise ShapeError(
                f"ChannelShuffle.groups = {self.groups} does not divide the {c} channels"
            )
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls(int(call.module.groups))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.ChannelShuffle(self.groups)
