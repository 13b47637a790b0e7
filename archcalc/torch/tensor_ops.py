"""archcalc's own modules for the tensor kinds of archcalc/kinds/tensor.py (their
``to_torch``): one module per tensor operation, and the sources of a parameter or a
constant as batch-first tensors (the same tensor for every sample)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["TensorOp", "ParamSource", "ConstantSource", "PerRowModule", "SharedModule"]


class SharedModule(nn.Module):
    """A later call of a module whose parameters another call owns (archcalc's ``Shared``
    counts none): ``inner`` runs here; built alone it holds a copy of them (not tied)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x)


class PerRowModule(nn.Module):
    """``inner`` on each row of ``(N, k, ...)``: run as ``(N·k, ...)`` and unfolded back."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x.flatten(0, 1)).unflatten(0, tuple(x.shape[:2]))


class TensorOp(nn.Module):
    """A tensor operation with fixed arguments (torch axes: the batch is axis 0)."""

    def __init__(self, op: str, *args: Any) -> None:
        super().__init__()
        self.op, self.args = op, args

    def forward(self, x: Tensor, *rest: Tensor) -> Tensor:
        op, a = self.op, self.args
        if op == "permute":
            return x.permute(*a)
        if op == "reshape":
            return x.reshape(x.shape[0], *a[1:])
        if op == "narrow_step":
            dim, start, stop, step = a
            idx = [slice(None)] * x.dim()
            idx[dim] = slice(start, stop, step)
            return x[tuple(idx)]
        if op == "select":
            return x.select(a[0], a[1])
        if op == "index":  # the index tensor is the same for every sample (a constant)
            lead: list[Any] = [slice(None)] * a[0]
            at = rest[0][0].long().clamp(0, x.shape[a[0]] - 1)  # in range in any build
            return x[(*lead, at)]
        if op == "cat":
            return torch.cat((x, *rest), dim=a[0])
        if op == "stack":
            return torch.stack((x, *rest), dim=a[0])
        if op == "expand":
            return x.expand(x.shape[0], *a)
        if op == "repeat":
            return x.repeat(*a)
        if op == "roll":
            return torch.roll(x, a[0], a[1])
        if op == "assign":
            out = x.clone()
            key: list[Any] = [slice(None)] * x.dim()
            for axis, lo, hi, st in zip(*a):
                key[axis + 1] = slice(lo, hi, st)
            out[tuple(key)] = rest[0]
            return out
        if op == "pad":
            pads = [0] * (2 * x.dim())
            for axis, lo, hi in zip(*a):
                j = x.dim() - 1 - axis
                pads[2 * j], pads[2 * j + 1] = lo, hi
            return torch.nn.functional.pad(x, pads)
        raise ValueError(f"unknown tensor operation {op!r}")  # pragma: no cover

    def extra_repr(self) -> str:
        return f"{self.op}{self.args}"


class ParamSource(nn.Module):
    """A parameter (``trainable``) or buffer of per-sample ``shape``, broadcast over the
    batch of its input (which it does not read otherwise)."""

    def __init__(self, shape: tuple[int, ...], trainable: bool) -> None:
        super().__init__()
        self.shape, self.trainable = tuple(shape), trainable
        t = torch.zeros(self.shape)
        if trainable:
            self.value = nn.Parameter(t)
        else:
            self.register_buffer("value", t)

    def forward(self, x: Tensor) -> Tensor:
        # (under no_grad a view of a parameter still requires grad but has no grad_fn, which
        # FlopCounterMode's module tracker rejects: read the parameter detached then)
        v = self.value if torch.is_grad_enabled() else self.value.detach()
        return v.unsqueeze(0).expand(x.shape[0], *self.shape)


class ConstantSource(nn.Module):
    """A constant of per-sample ``shape`` (zeros), broadcast over the batch of its input."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.new_zeros(self.shape).unsqueeze(0).expand(x.shape[0], *self.shape)
