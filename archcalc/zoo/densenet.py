"""DenseNet-121 as torchvision builds it (``torchvision.models.densenet121``): 7,978,856 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)

__all__ = ["densenet121", "densenet"]


def densenet(
    growth_rate: int = 32,
    block_config: tuple[int, ...] = (6, 12, 24, 16),
    num_init_features: int = 64,
    bn_size: int = 4,
    num_classes: int = 1000,
    name: str = "densenet121",
) -> Model:
    """torchvision's ``DenseNet`` (Huang et al. 2017, DenseNet-BC), memory_efficient=False,
    drop_rate 0. See :func:`densenet121` for the layout."""
    b = Builder(name, (3, 224, 224), f"{name}, torchvision")
    b.seq(
        "features",
        [
            ("conv0", Conv2d(3, num_init_features, 7, stride=2, padding=3, bias=False)),
            ("norm0", BatchNorm2d(num_init_features)),
            ("relu0", ReLU()),
            ("pool0", MaxPool2d(3, 2, padding=1)),
        ],
    )
    x = b.last
    c = num_init_features
    inner = bn_size * growth_rate
    for i, n_layers in enumerate(block_config, 1):
        blk = f"features.denseblock{i}"
        feats = [x]
        for j in range(1, n_layers + 1):
            p = f"{blk}.denselayer{j}"
            cin = c + (j - 1) * growth_rate
            # _DenseLayer.bn_function: torch.cat of every earlier map (a copy for one map)
            b.add(f"{p}.cat", Concat(), *feats, via="function")
            b.add(f"{p}.norm1", BatchNorm2d(cin))
            b.add(f"{p}.relu1", ReLU())
            b.add(f"{p}.conv1", Conv2d(cin, inner, 1, bias=False))
            b.add(f"{p}.norm2", BatchNorm2d(inner))
            b.add(f"{p}.relu2", ReLU())
            feats.append(b.add(f"{p}.conv2", Conv2d(inner, growth_rate, 3, padding=1, bias=False)))
        x = b.add(f"{blk}.cat", Concat(), *feats, via="function")
        c += n_layers * growth_rate
        if i != len(block_config):
            t = f"features.transition{i}"
            b.seq(
                t,
                [
                    ("norm", BatchNorm2d(c)),
                    ("relu", ReLU()),
                    ("conv", Conv2d(c, c // 2, 1, bias=False)),
                    ("pool", AvgPool2d(2, 2)),
                ],
                x,
            )
            x = b.last
            c //= 2
    b.add("features.norm5", BatchNorm2d(c), x)
    # DenseNet.forward: F.relu, F.adaptive_avg_pool2d and torch.flatten, called as functions
    features = b.add("relu", ReLU(), via="function")
    b.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1), via="function")
    b.add("flatten", Flatten(), via="function")
    b.add("classifier", Linear(c, num_classes))
    return b.build(features=features)


def densenet121(num_classes: int = 1000) -> Model:
    """torchvision's DenseNet-121 (Huang et al. 2017), ``torchvision.models.densenet121``:
    growth rate 32, blocks (6, 12, 24, 16), 64 initial features, bottleneck 4·32 = 128.

    Input 3×224×224. Stem ``features.conv0`` (7×7/2, no bias), ``norm0``, ``relu0``,
    ``pool0`` (3×3/2, padding 1). Each ``features.denseblockI.denselayerJ`` is torchvision's
    ``_DenseLayer``: ``cat`` of the block input and every earlier layer's new maps (for the
    first layer a one-input cat, which torch runs as a copy), then ``norm1``, ``relu1``,
    ``conv1`` (1×1 to 128), ``norm2``, ``relu2``, ``conv2`` (3×3 to 32); the block ends with
    ``features.denseblockI.cat`` of all of them. ``features.transitionI``: norm, relu, 1×1
    conv halving the channels, 2×2 average pool. Then ``features.norm5`` (1024 channels),
    the functional ReLU ``relu`` (the feature map), ``adaptive_avg_pool2d`` (to 1×1),
    ``flatten`` and ``classifier`` Linear(1024, classes). The cats, ``relu``,
    ``adaptive_avg_pool2d`` and ``flatten`` are function calls in torchvision's ``forward``
    (``via="function"``: hook-based counters such as thop do not see them).
    """
    return densenet(32, (6, 12, 24, 16), 64, 4, num_classes, "densenet121")
