"""MobileNetV2 and MobileNetV3 as torchvision builds them (``torchvision.models.mobilenetv2``,
``torchvision.models.mobilenetv3``): 3,504,872 / 5,483,032 / 2,542,856 params.

Also the building blocks shared with :mod:`archcalc.zoo.efficientnet`: torchvision's
``_make_divisible`` channel rounding, ``Conv2dNormActivation`` and ``SqueezeExcitation``.
"""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Layer,
    Linear,
    Mul,
    ReLU,
    ReLU6,
)

__all__ = ["mobilenet_v2", "mobilenet_v3", "make_divisible", "conv_norm_act", "squeeze_excitation"]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's ``_make_divisible``: round ``v`` to the nearest multiple of ``divisor``
    (at least ``min_value``), never more than 10% below ``v``.

    >>> make_divisible(72 // 4), make_divisible(960 // 4), make_divisible(16 * 0.75)
    (24, 240, 16)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_norm_act(
    b: Builder,
    prefix: str,
    cin: int,
    cout: int,
    kernel: int = 3,
    stride: int = 1,
    groups: int = 1,
    act: Layer | None = None,
    dilation: int = 1,
    x: str | None = None,
) -> str:
    """torchvision's ``Conv2dNormActivation`` with BatchNorm: ``prefix.0`` conv (no bias,
    padding ``(k - 1) // 2 * dilation``), ``prefix.1`` BatchNorm2d, ``prefix.2`` activation
    (omitted when ``act`` is None). Returns the last node's name."""
    layers: list[Layer] = [
        Conv2d(
            cin,
            cout,
            kernel,
            stride=stride,
            padding=(kernel - 1) // 2 * dilation,
            dilation=dilation,
            groups=groups,
            bias=False,
        ),
        BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act)
    return b.seq(prefix, layers, x)


def squeeze_excitation(
    b: Builder,
    prefix: str,
    channels: int,
    squeeze: int,
    act: Layer,
    scale_act: Layer,
    x: str,
) -> str:
    """torchvision's ``SqueezeExcitation``: avgpool → fc1 (1×1 conv with bias) → activation
    → fc2 → scale_activation, then ``prefix.mul`` = scale × input (broadcast over H, W)."""
    b.add(f"{prefix}.avgpool", AdaptiveAvgPool2d(1), x)
    b.add(f"{prefix}.fc1", Conv2d(channels, squeeze, 1))
    b.add(f"{prefix}.activation", act)
    b.add(f"{prefix}.fc2", Conv2d(squeeze, channels, 1))
    scale = b.add(f"{prefix}.scale_activation", scale_act)
    return b.add(f"{prefix}.mul", Mul(), scale, x)


# ---------------------------------------------------------------- MobileNetV2

#: expansion t, output channels c, repeats n, first stride s (torchvision's table)
_V2_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2) -> Model:
    """torchvision's MobileNetV2 (Sandler et al. 2018), ``torchvision.models.mobilenet_v2``.

    Stem ``features.0`` Conv-BN-ReLU6 (3→32, stride 2); ``features.1``-``features.17``
    inverted residuals ``features.i.conv.*`` (1×1 expand Conv-BN-ReLU6 when t ≠ 1, 3×3
    depthwise Conv-BN-ReLU6, 1×1 linear projection Conv + BN) with the residual
    ``features.i.add`` where stride is 1 and channels are unchanged; ``features.18``
    Conv-BN-ReLU6 to 1280. torchvision pools and flattens functionally in ``forward``:
    the nodes are named ``adaptive_avg_pool2d`` and ``flatten`` (torch.fx names) and
    called as functions (``via="function"``; the residual ``+`` is ``via="method"``), then
    ``classifier.0`` Dropout(0.2) and ``classifier.1`` Linear(1280, classes). Channel counts
    use torchvision's ``_make_divisible(c · width_mult, 8)``.
    """
    b = Builder("mobilenet_v2", (3, 224, 224), "MobileNetV2, torchvision")
    cin = make_divisible(32 * width_mult, 8)
    last = make_divisible(1280 * max(1.0, width_mult), 8)
    x = conv_norm_act(b, "features.0", 3, cin, 3, stride=2, act=ReLU6())
    i = 1
    for t, c, n, s in _V2_SETTING:
        cout = make_divisible(c * width_mult, 8)
        for j in range(n):
            stride = s if j == 0 else 1
            hidden = int(round(cin * t))
            p = f"features.{i}.conv"
            k = 0
            y = x
            if t != 1:
                y = conv_norm_act(b, f"{p}.{k}", cin, hidden, 1, act=ReLU6(), x=y)
                k += 1
            y = conv_norm_act(
                b, f"{p}.{k}", hidden, hidden, 3, stride=stride, groups=hidden, act=ReLU6(), x=y
            )
            b.add(f"{p}.{k + 1}", Conv2d(hidden, cout, 1, bias=False))
            y = b.add(f"{p}.{k + 2}", BatchNorm2d(cout))
            if stride == 1 and cin == cout:
                y = b.add(f"features.{i}.add", Add(), x, y, via="method")  # x + self.conv(x)
            x, cin = y, cout
            i += 1
    features = conv_norm_act(b, f"features.{i}", cin, last, 1, act=ReLU6(), x=x)
    b.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1), via="function")
    b.add("flatten", Flatten(), via="function")
    b.seq("classifier", [Dropout(dropout), Linear(last, num_classes)])
    return b.build(features=features)


# ---------------------------------------------------------------- MobileNetV3

#: input, kernel, expanded, output, SE, activation ("RE" ReLU / "HS" Hardswish), stride
_V3_LARGE = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
_V3_SMALL = [
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def mobilenet_v3(arch: str = "large", num_classes: int = 1000, dropout: float = 0.2) -> Model:
    """torchvision's MobileNetV3 (Howard et al. 2019), ``torchvision.models.mobilenet_v3_large``
    / ``mobilenet_v3_small`` (``arch`` ``"large"`` or ``"small"``; width 1.0, no reduced tail,
    no dilation).

    Stem ``features.0`` Conv-BN-Hardswish (3→16, stride 2). Each bneck ``features.i.block.*``:
    1×1 expand Conv-BN-act (omitted when expanded = input channels), k×k depthwise
    Conv-BN-act, squeeze-excitation where the table says so (``SqueezeExcitation`` with
    ReLU and Hardsigmoid, squeeze channels ``_make_divisible(expanded // 4, 8)``; its
    product is ``features.i.block.j.mul``), 1×1 projection Conv-BN; the residual
    ``features.i.add`` where stride is 1 and channels are unchanged. Last ``features``
    Conv-BN-Hardswish to 6× the channels, ``avgpool``, ``flatten`` (torch.flatten in
    ``forward``), ``classifier`` Linear-Hardswish-Dropout(0.2)-Linear (1280 / 1024 hidden).
    BatchNorm's eps/momentum (0.001/0.01) change no count.
    """
    if arch not in ("large", "small"):
        raise ValueError(f"mobilenet_v3: arch = {arch!r}: must be 'large' or 'small'")
    setting, last_channel = (_V3_LARGE, 1280) if arch == "large" else (_V3_SMALL, 1024)
    last_channel = make_divisible(last_channel, 8)
    b = Builder(
        f"mobilenet_v3_{arch}", (3, 224, 224), f"MobileNetV3-{arch.capitalize()}, torchvision"
    )
    x = conv_norm_act(b, "features.0", 3, setting[0][0], 3, stride=2, act=Hardswish())
    for i, (cin, k, exp, cout, se, nl, stride) in enumerate(setting, 1):
        cin, exp, cout = (make_divisible(c, 8) for c in (cin, exp, cout))

        act: type[Layer] = Hardswish if nl == "HS" else ReLU
        p = f"features.{i}.block"
        j = 0
        y = x
        if exp != cin:
            y = conv_norm_act(b, f"{p}.{j}", cin, exp, 1, act=act(), x=y)
            j += 1
        y = conv_norm_act(b, f"{p}.{j}", exp, exp, k, stride=stride, groups=exp, act=act(), x=y)
        j += 1
        if se:
            y = squeeze_excitation(
                b, f"{p}.{j}", exp, make_divisible(exp // 4, 8), ReLU(), Hardsigmoid(), y
            )
            j += 1
        y = conv_norm_act(b, f"{p}.{j}", exp, cout, 1, act=None, x=y)
        if stride == 1 and cin == cout:
            y = b.add(f"features.{i}.add", Add(), y, x)
        x = y
    cin = setting[-1][3]
    features = conv_norm_act(
        b, f"features.{len(setting) + 1}", cin, 6 * cin, 1, act=Hardswish(), x=x
    )
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.seq(
        "classifier",
        [
            Linear(6 * cin, last_channel),
            Hardswish(),
            Dropout(dropout),
            Linear(last_channel, num_classes),
        ],
    )
    return b.build(features=features)
