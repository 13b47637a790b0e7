"""VGG-11/13/16/19, with and without batch norm, as torchvision builds them
(``torchvision.models.vgg``): vgg16 138,357,544 params, vgg16_bn 138,365,992.
"""

from __future__ import annotations

from .._errors import SpecError
from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    MaxPool2d,
    ReLU,
)

__all__ = ["vgg", "CFGS"]

#: torchvision's ``cfgs``: conv output channels, ``"M"`` a 2×2 max pool (configs A, B, D, E)
CFGS: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [
        *(64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"),
        *(512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
    ],
}


def vgg(depth: int, batch_norm: bool = False, num_classes: int = 1000) -> Model:
    """torchvision's VGG (Simonyan & Zisserman 2015), ``torchvision.models.vgg{depth}[_bn]``.

    Input 3×224×224. ``features`` is torchvision's ``make_layers``: every number of the
    config is a 3×3 conv (padding 1, with bias) followed by BatchNorm2d (``_bn`` only) and
    ReLU, every ``"M"`` a MaxPool2d(2, 2); the nodes are ``features.<position>`` as in the
    ``nn.Sequential``. The last max pool (512×7×7 at 224) is the feature map. Then
    ``avgpool`` (AdaptiveAvgPool2d(7), the identity at 224), ``flatten`` and ``classifier``
    Linear(25088, 4096)-ReLU-Dropout-Linear(4096, 4096)-ReLU-Dropout-Linear(4096, classes).
    """
    if depth not in CFGS:
        raise SpecError(f"vgg depth = {depth!r}: must be one of {', '.join(map(str, CFGS))}")
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"
    b = Builder(name, (3, 224, 224), f"VGG-{depth}{' with batch norm' if batch_norm else ''}")
    layers: list[Layer] = []
    cin = 3
    for v in CFGS[depth]:
        if v == "M":
            layers.append(MaxPool2d(2, 2))
            continue
        assert isinstance(v, int)
        layers.append(Conv2d(cin, v, 3, padding=1))
        if batch_norm:
            layers.append(BatchNorm2d(v))
        layers.append(ReLU())
        cin = v
    features = b.seq("features", layers)
    b.add("avgpool", AdaptiveAvgPool2d(7))
    b.add("flatten", Flatten())
    b.seq(
        "classifier",
        [
            Linear(512 * 7 * 7, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, num_classes),
        ],
    )
    return b.build(features=features)
