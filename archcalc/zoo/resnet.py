"""ResNet-18/34/50/101/152, ResNeXt-50 32×4d and Wide ResNet-50-2 as torchvision builds them
(``torchvision.models.resnet``): resnet50 25,557,032 params, resnet18 11,689,512.
"""

from __future__ import annotations

from .._errors import SpecError
from ..engine.graph import Builder, Model
from ..kinds import AdaptiveAvgPool2d, Add, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["resnet", "LAYERS"]

#: depth -> (block kind, blocks per stage) as in torchvision's ``resnet{depth}``
LAYERS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def _downsample(b: Builder, p: str, cin: int, cout: int, stride: int, x: str) -> str:
    """``p.downsample``: conv1x1 (stride, no bias) and BatchNorm2d."""
    return b.seq(
        f"{p}.downsample", [Conv2d(cin, cout, 1, stride=stride, bias=False), BatchNorm2d(cout)], x
    )


def _basic(b: Builder, p: str, cin: int, planes: int, stride: int, x: str) -> str:
    """torchvision's ``BasicBlock``: conv3x3(stride)-bn1-relu-conv3x3-bn2, add, relu_1."""
    b.add(f"{p}.conv1", Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False), x)
    b.add(f"{p}.bn1", BatchNorm2d(planes))
    b.add(f"{p}.relu", ReLU())
    b.add(f"{p}.conv2", Conv2d(planes, planes, 3, padding=1, bias=False))
    out = b.add(f"{p}.bn2", BatchNorm2d(planes))
    identity = x
    if stride != 1 or cin != planes:
        identity = _downsample(b, p, cin, planes, stride, x)
    b.add(f"{p}.add", Add(), out, identity)
    return b.add(f"{p}.relu_1", ReLU())


def _bottleneck(
    b: Builder, p: str, cin: int, planes: int, stride: int, groups: int, base_width: int, x: str
) -> str:
    """torchvision's ``Bottleneck`` (ResNet v1.5: the stride is on the 3×3 conv):
    conv1x1-bn1-relu-conv3x3(stride, groups)-bn2-relu_1-conv1x1-bn3, add, relu_2."""
    width = planes * base_width // 64 * groups
    cout = planes * 4
    b.add(f"{p}.conv1", Conv2d(cin, width, 1, bias=False), x)
    b.add(f"{p}.bn1", BatchNorm2d(width))
    b.add(f"{p}.relu", ReLU())
    b.add(
        f"{p}.conv2",
        Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False),
    )
    b.add(f"{p}.bn2", BatchNorm2d(width))
    b.add(f"{p}.relu_1", ReLU())
    b.add(f"{p}.conv3", Conv2d(width, cout, 1, bias=False))
    out = b.add(f"{p}.bn3", BatchNorm2d(cout))
    identity = x
    if stride != 1 or cin != cout:
        identity = _downsample(b, p, cin, cout, stride, x)
    b.add(f"{p}.add", Add(), out, identity)
    return b.add(f"{p}.relu_2", ReLU())


def resnet(
    depth: int,
    groups: int = 1,
    width_per_group: int = 64,
    name: str | None = None,
    num_classes: int = 1000,
) -> Model:
    """torchvision's ResNet (He et al. 2016), ``torchvision.models.resnet{depth}``; with
    ``groups=32, width_per_group=4`` ResNeXt-50 32×4d (Xie et al. 2017), with
    ``width_per_group=128`` Wide ResNet-50-2 (Zagoruyko & Komodakis 2016).

    Input 3×224×224. Stem ``conv1`` (7×7, stride 2, no bias), ``bn1``, ``relu``, ``maxpool``
    (3×3, stride 2, padding 1); stages ``layer1``-``layer4`` of 64/128/256/512 planes, the
    first block of stages 2-4 with stride 2, blocks ``layerS.i`` as in :func:`_basic` /
    :func:`_bottleneck` (bottleneck width ``planes · width_per_group / 64 · groups``,
    output ``4 · planes``), a ``layerS.i.downsample`` (1×1 conv + BN) where the stride or
    the channels change. The residual sum is ``layerS.i.add`` and the block's one ReLU
    module, called 2 or 3 times, gives ``relu``, ``relu_1`` (, ``relu_2``) as torch.fx
    names them. Then ``avgpool`` (AdaptiveAvgPool2d(1)), ``flatten`` and ``fc``.
    Inplace ReLUs are counted as separate layers.
    """
    if depth not in LAYERS:
        raise SpecError(f"resnet depth = {depth!r}: must be one of {', '.join(map(str, LAYERS))}")
    kind, blocks = LAYERS[depth]
    if kind == "basic" and (groups != 1 or width_per_group != 64):
        raise SpecError(
            f"resnet{depth}: BasicBlock only supports groups=1 and width_per_group=64 "
            f"(got {groups}, {width_per_group})"
        )
    name = name or f"resnet{depth}"
    b = Builder(name, (3, 224, 224), f"{name}, torchvision")
    b.add("conv1", Conv2d(3, 64, 7, stride=2, padding=3, bias=False))
    b.add("bn1", BatchNorm2d(64))
    b.add("relu", ReLU())
    x = b.add("maxpool", MaxPool2d(3, 2, padding=1))
    cin = 64
    for s, (planes, n) in enumerate(zip((64, 128, 256, 512), blocks), 1):
        for i in range(n):
            stride = 2 if s > 1 and i == 0 else 1
            p = f"layer{s}.{i}"
            if kind == "basic":
                x = _basic(b, p, cin, planes, stride, x)
                cin = planes
            else:
                x = _bottleneck(b, p, cin, planes, stride, groups, width_per_group, x)
                cin = planes * 4
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.add("fc", Linear(cin, num_classes))
    return b.build(features=x)
