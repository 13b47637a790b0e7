"""GoogLeNet (Inception v1) as torchvision builds it (``torchvision.models.googlenet``),
without the auxiliary heads: 6,624,904 params.
"""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)

__all__ = ["googlenet", "INCEPTIONS"]

#: name -> (in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5" (a 3x3 in torchvision), pool proj)
INCEPTIONS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


def _basic_conv(
    b: Builder,
    p: str,
    cin: int,
    cout: int,
    k: int,
    stride: int = 1,
    padding: int = 0,
    x: str | None = None,
) -> str:
    """torchvision's ``BasicConv2d``: ``p.conv`` (no bias), ``p.bn`` (eps 0.001), and the
    functional ReLU ``p.relu``."""
    return b.seq(
        p,
        [
            ("conv", Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)),
            ("bn", BatchNorm2d(cout)),
            ("relu", ReLU()),
        ],
        x,
    )


def _inception(b: Builder, p: str, cfg: tuple[int, int, int, int, int, int, int], x: str) -> str:
    """torchvision's ``Inception``: four branches concatenated as ``p.cat``."""
    cin, c1, r3, c3, r5, c5, pp = cfg
    b1 = _basic_conv(b, f"{p}.branch1", cin, c1, 1, x=x)
    _basic_conv(b, f"{p}.branch2.0", cin, r3, 1, x=x)
    b2 = _basic_conv(b, f"{p}.branch2.1", r3, c3, 3, padding=1)
    _basic_conv(b, f"{p}.branch3.0", cin, r5, 1, x=x)
    b3 = _basic_conv(b, f"{p}.branch3.1", r5, c5, 3, padding=1)
    b.add(f"{p}.branch4.0", MaxPool2d(3, 1, padding=1, ceil_mode=True), x)
    b4 = _basic_conv(b, f"{p}.branch4.1", cin, pp, 1)
    return b.add(f"{p}.cat", Concat(), b1, b2, b3, b4)


def googlenet(num_classes: int = 1000) -> Model:
    """torchvision's GoogLeNet (Szegedy et al. 2015), ``torchvision.models.googlenet``, in
    inference form: the auxiliary heads ``aux1``/``aux2`` (run only in training) are left
    out, and ``transform_input`` (an affine per-channel map) changes no figure counted here.

    Input 3×224×224. Every conv is a ``BasicConv2d`` (conv without bias, BatchNorm2d with
    eps 0.001, ReLU): ``conv1`` 7×7/2 to 64, ``maxpool1``, ``conv2`` 1×1, ``conv3`` 3×3 to
    192, ``maxpool2``, inceptions 3a-3b, ``maxpool3``, 4a-4e, ``maxpool4`` (2×2/2), 5a-5b;
    all max pools use ``ceil_mode=True``. Inception branches: ``branch1`` 1×1;
    ``branch2`` 1×1 then 3×3; ``branch3`` 1×1 then a 3×3 (torchvision's known deviation
    from the paper's 5×5, pytorch/vision#906); ``branch4`` 3×3/1 max pool then 1×1;
    concatenated as ``inceptionXY.cat``. The feature map is ``inception5b.cat``
    (1024×7×7 at 224), then ``avgpool``, ``flatten``, ``dropout`` (0.2) and ``fc``.
    """
    b = Builder("googlenet", (3, 224, 224), "GoogLeNet (Inception v1), torchvision, no aux heads")
    _basic_conv(b, "conv1", 3, 64, 7, stride=2, padding=3)
    b.add("maxpool1", MaxPool2d(3, 2, ceil_mode=True))
    _basic_conv(b, "conv2", 64, 64, 1)
    _basic_conv(b, "conv3", 64, 192, 3, padding=1)
    x = b.add("maxpool2", MaxPool2d(3, 2, ceil_mode=True))
    for name, cfg in INCEPTIONS.items():
        x = _inception(b, name, cfg, x)
        if name == "inception3b":
            x = b.add("maxpool3", MaxPool2d(3, 2, ceil_mode=True))
        elif name == "inception4e":
            x = b.add("maxpool4", MaxPool2d(2, 2, ceil_mode=True))
    features = x
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.add("dropout", Dropout(0.2))
    b.add("fc", Linear(1024, num_classes))
    return b.build(features=features)
