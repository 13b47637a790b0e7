"""EfficientNetV2-S as torchvision builds it (``torchvision.models.efficientnet_v2_s``):
21,458,488 params, at torchvision's evaluation size 384×384."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    Add,
    Dropout,
    Flatten,
    Linear,
    Sigmoid,
    SiLU,
    StochasticDepth,
)
from .mobilenet import conv_norm_act, make_divisible, squeeze_excitation

__all__ = ["efficientnet_v2_s"]

#: block ("fused" FusedMBConv / "mb" MBConv), expand ratio, kernel, first stride, input
#: channels, output channels, layers (torchvision's ``_efficientnet_conf("efficientnet_v2_s")``)
_V2_S_SETTING = [
    ("fused", 1, 3, 1, 24, 24, 2),
    ("fused", 4, 3, 2, 24, 48, 4),
    ("fused", 4, 3, 2, 48, 64, 4),
    ("mb", 4, 3, 2, 64, 128, 6),
    ("mb", 6, 3, 1, 128, 160, 9),
    ("mb", 6, 3, 2, 160, 256, 15),
]


def _fused(b: Builder, p: str, t: int, k: int, s: int, cin: int, cout: int, x: str) -> str:
    """torchvision's ``FusedMBConv``: ``p.block.0`` k×k Conv(stride)-BN-SiLU to the expanded
    width and ``p.block.1`` 1×1 Conv-BN to ``cout``; at expand ratio 1 only ``p.block.0``,
    k×k Conv(stride)-BN-SiLU straight to ``cout``."""
    exp = make_divisible(cin * t, 8)
    if exp == cin:
        return conv_norm_act(b, f"{p}.block.0", cin, cout, k, stride=s, act=SiLU(), x=x)
    y = conv_norm_act(b, f"{p}.block.0", cin, exp, k, stride=s, act=SiLU(), x=x)
    return conv_norm_act(b, f"{p}.block.1", exp, cout, 1, x=y)


def _mbconv(b: Builder, p: str, t: int, k: int, s: int, cin: int, cout: int, x: str) -> str:
    """torchvision's ``MBConv``: ``p.block.0`` 1×1 expand Conv-BN-SiLU, ``p.block.1`` k×k
    depthwise Conv(stride)-BN-SiLU, ``p.block.2`` squeeze-excitation (SiLU, Sigmoid;
    ``max(1, cin // 4)`` squeeze channels), ``p.block.3`` 1×1 Conv-BN (every V2-S MBConv
    expands, so the expand conv is always there)."""
    exp = make_divisible(cin * t, 8)
    y = conv_norm_act(b, f"{p}.block.0", cin, exp, 1, act=SiLU(), x=x)
    y = conv_norm_act(b, f"{p}.block.1", exp, exp, k, stride=s, groups=exp, act=SiLU(), x=y)
    y = squeeze_excitation(b, f"{p}.block.2", exp, max(1, cin // 4), SiLU(), Sigmoid(), y)
    return conv_norm_act(b, f"{p}.block.3", exp, cout, 1, x=y)


def efficientnet_v2_s(
    num_classes: int = 1000, dropout: float = 0.2, stochastic_depth_prob: float = 0.2
) -> Model:
    """torchvision's EfficientNetV2-S (Tan & Le 2021), ``torchvision.models.efficientnet_v2_s``.

    Input 3×384×384 (torchvision's weights are evaluated at 384; its published GFLOPS are at
    that size). Stem ``features.0`` Conv-BN-SiLU (3→24, stride 2). Stages ``features.1``-
    ``features.3`` of FusedMBConv blocks (:func:`_fused`), ``features.4``-``features.6`` of
    MBConv blocks (:func:`_mbconv`), block ``features.s.k``. Blocks with stride 1 and unchanged
    channels run ``features.s.k.stochastic_depth`` (row mode, probability 0.2 · block index
    / 40) and the residual ``features.s.k.add``. ``features.7`` 1×1 Conv-BN-SiLU 256→1280,
    ``avgpool``, ``flatten`` (torch.flatten in ``forward``), ``classifier`` Dropout(0.2)-Linear.
    BatchNorm's eps (0.001) changes no count.
    """
    b = Builder("efficientnet_v2_s", (3, 384, 384), "EfficientNetV2-S, torchvision")
    x = conv_norm_act(b, "features.0", 3, _V2_S_SETTING[0][4], 3, stride=2, act=SiLU())
    total = sum(n for *_, n in _V2_S_SETTING)
    block_id = 0
    for stage, (kind, t, k, s, cin, cout, n) in enumerate(_V2_S_SETTING, 1):
        block = _fused if kind == "fused" else _mbconv
        for j in range(n):
            if j:
                cin, s = cout, 1
            p = f"features.{stage}.{j}"
            y = block(b, p, t, k, s, cin, cout, x)
            if s == 1 and cin == cout:
                sd_prob = stochastic_depth_prob * float(block_id) / total
                b.add(f"{p}.stochastic_depth", StochasticDepth(sd_prob), y)
                y = b.add(f"{p}.add", Add(), f"{p}.stochastic_depth", x)
            block_id += 1
            x = y
    cin = _V2_S_SETTING[-1][5]
    features = conv_norm_act(b, f"features.{len(_V2_S_SETTING) + 1}", cin, 1280, 1, act=SiLU(), x=x)
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.seq("classifier", [Dropout(dropout), Linear(1280, num_classes)])
    return b.build(features=features)
