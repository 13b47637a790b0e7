"""ShuffleNetV2 ×1.0 as torchvision builds it (``torchvision.models.shufflenet_v2_x1_0``):
2,278,604 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    BatchNorm2d,
    ChannelShuffle,
    Concat,
    Conv2d,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool2d,
    ReLU,
    Slice,
)

__all__ = ["shufflenet_v2", "STAGES"]

#: width -> output channels of conv1, stage2-4 and conv5 (torchvision's ``stages_out_channels``)
STAGES: dict[str, tuple[int, int, int, int, int]] = {
    "x0_5": (24, 48, 96, 192, 1024),
    "x1_0": (24, 116, 232, 464, 1024),
    "x1_5": (24, 176, 352, 704, 1024),
    "x2_0": (24, 244, 488, 976, 2048),
}
#: blocks per stage (``stages_repeats``, the same for every width)
_REPEATS = (4, 8, 4)


def _branch2(b: Builder, p: str, cin: int, c: int, stride: int, x: str) -> str:
    """``p.branch2``: 1×1 Conv-BN-ReLU, 3×3 depthwise Conv(stride)-BN, 1×1 Conv-BN-ReLU."""
    return b.seq(
        f"{p}.branch2",
        [
            Conv2d(cin, c, 1, bias=False),
            BatchNorm2d(c),
            ReLU(),
            Conv2d(c, c, 3, stride=stride, padding=1, groups=c, bias=False),
            BatchNorm2d(c),
            Conv2d(c, c, 1, bias=False),
            BatchNorm2d(c),
            ReLU(),
        ],
        x,
    )


def _unit(b: Builder, p: str, cin: int, cout: int, stride: int, x: str) -> str:
    """torchvision's ``InvertedResidual``. Stride 2: ``p.branch1`` (3×3 depthwise
    Conv(stride)-BN, 1×1 Conv-BN-ReLU) and ``p.branch2`` both read the input. Stride 1:
    ``x.chunk(2, dim=1)`` gives ``p.chunk`` (kept) and ``p.chunk_1`` (into branch2). Then
    ``p.cat`` and ``channel_shuffle(out, 2)`` (view-transpose-view, named after its first
    op ``p.view``)."""
    c = cout // 2
    if stride > 1:
        left = b.seq(
            f"{p}.branch1",
            [
                Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
                BatchNorm2d(cin),
                Conv2d(cin, c, 1, bias=False),
                BatchNorm2d(c),
                ReLU(),
            ],
            x,
        )
        right = _branch2(b, p, cin, c, stride, x)
    else:
        left = b.add(f"{p}.chunk", Slice(0, c), x)
        half = b.add(f"{p}.chunk_1", Slice(c, 2 * c), x)
        right = _branch2(b, p, c, c, 1, half)
    b.add(f"{p}.cat", Concat(), left, right)
    return b.add(f"{p}.view", ChannelShuffle(2))


def shufflenet_v2(width: str = "x1_0", num_classes: int = 1000) -> Model:
    """torchvision's ShuffleNetV2 (Ma et al. 2018), ``torchvision.models.shufflenet_v2_{width}``.

    ``conv1`` Conv-BN-ReLU (3→24, stride 2), ``maxpool`` (3×3, stride 2, padding 1);
    stages ``stage2``-``stage4`` of 4, 8, 4 units (:func:`_unit`; the first of each with
    stride 2); ``conv5`` 1×1 Conv-BN-ReLU; ``x.mean([2, 3])`` in ``forward`` (``mean``, a
    global average by ``Tensor.mean``, and ``mean_flatten`` dropping the 1×1 axes), ``fc``.
    """
    if width not in STAGES:
        raise ValueError(f"shufflenet_v2: width = {width!r}: must be one of {', '.join(STAGES)}")
    chans = STAGES[width]
    name = f"shufflenet_v2_{width}"
    b = Builder(name, (3, 224, 224), f"ShuffleNetV2 {width[1:].replace('_', '.')}×, torchvision")
    b.seq("conv1", [Conv2d(3, chans[0], 3, stride=2, padding=1, bias=False),
                    BatchNorm2d(chans[0]), ReLU()])  # fmt: skip
    x = b.add("maxpool", MaxPool2d(3, 2, padding=1))
    cin = chans[0]
    for s, (cout, n) in enumerate(zip(chans[1:4], _REPEATS), 2):
        for i in range(n):
            x = _unit(b, f"stage{s}.{i}", cin, cout, 2 if i == 0 else 1, x)
            cin = cout
    features = b.seq(
        "conv5", [Conv2d(cin, chans[4], 1, bias=False), BatchNorm2d(chans[4]), ReLU()], x
    )
    b.add("mean", GlobalAvgPool(op="mean"))
    b.add("mean_flatten", Flatten())
    b.add("fc", Linear(chans[4], num_classes))
    return b.build(features=features)
