"""torch modules of the kinds that stand for timm's own layers (``kinds/conv.py``'s
StdConv2d, ``kinds/norm.py``'s RMSNorm2d): timm's class itself, so that the counting tools see the exact type a real timm
model has; timm must be installed to build them."""

from __future__ import annotations

import importlib
import math
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from .._errors import MissingDependencyError

__all__ = [
    "std_conv2d",
    "SamePadConv2d",
    "rms_norm2d",
    "Folded",
    "Interpolate",
    "timm_layer",
    "LayerNormSubclass",
    "ChannelsLastLayerNorm",
    "GroupNormSubclass",
]


def _timm_layers(module: str, needed_for: str) -> Any:
    try:
        return importlib.import_module(f"timm.layers.{module}")
    except ImportError as e:
        raise MissingDependencyError(package="timm", needed_for=needed_for) from e


def timm_layer(module: str, name: str, *args: Any, **kwargs: Any) -> nn.Module:
    """timm's class ``name`` of ``timm.layers.<module>`` built with ``args``/``kwargs`` (the
    kind names the class: the counting tools then see the type a real timm model has)."""
    return getattr(_timm_layers(module, f"building {name}"), name)(*args, **kwargs)


def rms_norm2d(layer: Any) -> nn.Module:
    """timm's ``RmsNorm2d`` for the kind ``layer`` (RMS over the channels of a map)."""
    norm = _timm_layers("norm", "building RMSNorm2d")
    return norm.RmsNorm2d(layer.num_channels, eps=layer.eps, affine=layer.affine)


class SamePadConv2d(nn.Conv2d):
    """A plain convolution padding its input as TensorFlow's 'SAME' (timm's ``pad_same``):
    the receptive-field probe's stand-in for a weight-standardised convolution."""

    def forward(self, x: Tensor) -> Tensor:
        pads = []
        for size, k, s, d in zip(x.shape[-2:], self.kernel_size, self.stride, self.dilation):
            total = max((math.ceil(size / s) - 1) * s + d * (k - 1) + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        (pt, pb), (pl, pr) = pads
        return super().forward(F.pad(x, (pl, pr, pt, pb)))


def std_conv2d(layer: Any, timm_class: str, probe: bool = False) -> nn.Module:
    """timm's class ``timm_class`` of ``timm.layers.std_conv`` (the kind names it) for the
    kind ``layer``; with ``probe``, a plain convolution of the same geometry (the probe's
    weights must stay positive: a standardised weight would not)."""
    s = layer
    same = s.padding == "same"
    if probe:
        cls = SamePadConv2d if same else nn.Conv2d
        return cls(
            s.in_channels,
            s.out_channels,
            s.kernel_size,
            stride=s.stride,
            padding=0 if same else s.padding,
            dilation=s.dilation,
            groups=s.groups,
            bias=s.bias,
        )
    sc = _timm_layers("std_conv", "building StdConv2d")
    kwargs: dict[str, Any] = dict(
        stride=s.stride, dilation=s.dilation, groups=s.groups, bias=s.bias, eps=s.eps
    )
    kwargs["padding"] = "SAME" if same else s.padding
    m = getattr(sc, timm_class)(s.in_channels, s.out_channels, s.kernel_size, **kwargs)
    return m


class Folded(nn.Module):
    """``inner`` on a sample's ``k`` rows folded into the batch: ``(N, k, ...)`` is run as
    ``(N·k, ...)`` and unfolded back (LeViT's ``bn(x.flatten(0, 1)).reshape_as(x)``, TNT's
    convolution of every patch)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        y = self.inner(x.flatten(0, 1))
        return y.unflatten(0, tuple(x.shape[:2]))


class Interpolate(nn.Module):
    """``F.interpolate`` as a forward calls it (not ``nn.Upsample``, which the counting
    tools hook): archcalc's build of a Resize with ``op="interpolate"``."""

    def __init__(self, size: Any, scale_factor: Any, mode: str, align_corners: Any) -> None:
        super().__init__()
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(
            x, self.size, self.scale_factor, mode=self.mode, align_corners=self.align_corners
        )


class LayerNormSubclass(nn.LayerNorm):
    """``nn.LayerNorm`` under another type, as timm's ``LayerNorm`` / ``LayerNormNoBias``
    are: ptflops and thop, which look modules up by exact type, do not hook it."""


class ChannelsLastLayerNorm(nn.Module):
    """torch's own ``nn.LayerNorm`` over the channels of an ``(N, C, H, W)`` map (permuted
    channels-last and back, as torchvision's ConvNeXt blocks run it) or of ``(N, C)``: the
    counting tools hook the inner ``nn.LayerNorm``."""

    def __init__(self, channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            return self.norm(x)
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GroupNormSubclass(nn.GroupNorm):
    """``nn.GroupNorm`` under another type, as timm's ``GroupNorm`` / ``GroupNorm1`` are:
    ptflops, which looks modules up by exact type, does not hook it."""
