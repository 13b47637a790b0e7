"""EfficientNet-B0 as torchvision builds it (``torchvision.models.efficientnet_b0``):
5,288,548 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    Sigmoid,
    SiLU,
    StochasticDepth,
)
from .mobilenet import conv_norm_act, make_divisible, squeeze_excitation

__all__ = ["efficientnet_b0"]

#: expand ratio, kernel, first stride, input channels, output channels, layers (B0's table)
_B0_SETTING = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def efficientnet_b0(
    num_classes: int = 1000, dropout: float = 0.2, stochastic_depth_prob: float = 0.2
) -> Model:
    """torchvision's EfficientNet-B0 (Tan & Le 2019), ``torchvision.models.efficientnet_b0``
    (width and depth multipliers 1.0).

    Stem ``features.0`` Conv-BN-SiLU (3→32, stride 2). Stages ``features.1``-``features.7``,
    block ``features.s.k`` an MBConv ``features.s.k.block.*``: 1×1 expand Conv-BN-SiLU
    (omitted at expand ratio 1), k×k depthwise Conv-BN-SiLU, ``SqueezeExcitation`` with
    SiLU and Sigmoid and ``max(1, input_channels // 4)`` squeeze channels (its product is
    ``...block.j.mul``), 1×1 projection Conv-BN. Blocks with stride 1 and unchanged channels
    run ``features.s.k.stochastic_depth`` (row mode, probability 0.2 · block index / 16,
    as torchvision) and the residual ``features.s.k.add``; the other blocks hold the module
    but never call it, so it is not a node. ``features.8`` Conv-BN-SiLU to 1280, ``avgpool``,
    ``flatten`` (torch.flatten in ``forward``), ``classifier`` Dropout(0.2)-Linear. Channels
    use ``_make_divisible(c, 8)`` (identity at width 1.0).
    """
    b = Builder("efficientnet_b0", (3, 224, 224), "EfficientNet-B0, torchvision")
    setting = [
        (t, k, s, make_divisible(ci, 8), make_divisible(co, 8), n)
        for t, k, s, ci, co, n in _B0_SETTING
    ]
    x = conv_norm_act(b, "features.0", 3, setting[0][3], 3, stride=2, act=SiLU())
    total = sum(n for *_, n in setting)
    block_id = 0
    for stage, (t, k, s, cin, cout, n) in enumerate(setting, 1):
        for j in range(n):
            if j:
                cin, s = cout, 1
            sd_prob = stochastic_depth_prob * float(block_id) / total
            block_id += 1
            p = f"features.{stage}.{j}"
            exp = make_divisible(cin * t, 8)
            m = 0
            y = x
            if exp != cin:
                y = conv_norm_act(b, f"{p}.block.{m}", cin, exp, 1, act=SiLU(), x=y)
                m += 1
            y = conv_norm_act(
                b, f"{p}.block.{m}", exp, exp, k, stride=s, groups=exp, act=SiLU(), x=y
            )
            m += 1
            y = squeeze_excitation(b, f"{p}.block.{m}", exp, max(1, cin // 4), SiLU(), Sigmoid(), y)
            m += 1
            b.add(f"{p}.block.{m}.0", Conv2d(exp, cout, 1, bias=False))
            y = b.add(f"{p}.block.{m}.1", BatchNorm2d(cout))
            if s == 1 and cin == cout:
                b.add(f"{p}.stochastic_depth", StochasticDepth(sd_prob))
                y = b.add(f"{p}.add", Add(), f"{p}.stochastic_depth", x)
            x = y
    cin = setting[-1][4]
    features = conv_norm_act(b, f"features.{len(setting) + 1}", cin, 4 * cin, 1, act=SiLU(), x=x)
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.seq("classifier", [Dropout(dropout), Linear(4 * cin, num_classes)])
    return b.build(features=features)
