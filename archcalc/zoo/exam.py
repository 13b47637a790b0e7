"""The exam's own networks (CENG 403, January 2025): the 8-layer stride schedule of
Question 4(b) and the comprehensive CoordConv + ResNet-style + GAP network of Question 7(a).

The exam gives sizes, strides and a few widths; every choice it leaves open is stated in
the builder's docstring.
"""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Conv2d,
    CoordAugment,
    Dropout,
    Flatten,
    Linear,
    ReLU,
)

__all__ = ["q4b_schedule", "q7a_network", "Q4B_STRIDES", "Q4B_CHANNELS", "Q7A_WIDTHS"]

#: Q4(b)'s stride schedule, layers 1..8
Q4B_STRIDES = (4, 2, 1, 2, 1, 2, 1, 1)
#: output channels of layers 1..8 (assumed; 64 and 128 are the exam's, then doubling)
Q4B_CHANNELS = (64, 128, 128, 256, 256, 512, 512, 512)
#: Q7(a)'s stage widths; stage i runs at 112 / 2**(i - 1)
Q7A_WIDTHS = (64, 128, 256, 512, 1024)


def q4b_schedule() -> Model:
    """Exam Q4(b): the 8-layer network with the stride schedule 4, 2, 1, 2, 1, 2, 1, 1
    (224 → 56 → 28 → 28 → 14 → 14 → 7 → 7 → 7).

    Nodes ``conv1``..``conv8``, each followed by ``relu1``..``relu8``; output 512×7×7
    (``features`` = ``relu8``). No classifier: the exam's layers 7-8 give the
    "classification features"; put a head on with ``--head gap``.

    Assumptions (the exam leaves them open):

    * every layer is a 3×3 convolution with bias, followed by ReLU; no BatchNorm, no pooling;
    * layer 1: 3→64, stride 4, **no padding**, as the exam's own memory calculation
      (⌊(224 − 3)/4⌋ + 1 = 56, 56²·64 elements); layer 2 has 128 channels as in that
      calculation;
    * layers 2-8: padding 1 ('same'-style), so a stride-2 layer halves the size exactly
      (⌊(n + 2 − 3)/2⌋ + 1 = n/2 for even n) and a stride-1 layer keeps it;
    * widths 64, 128, 128, 256, 256, 512, 512, 512: channels double at each halving of the
      size (the exam's "increasing channel depth as spatial dimensions decrease", Q4(c)).
    """
    b = Builder("exam_q4b", (3, 224, 224), "Exam Q4(b): 8-layer stride schedule 4,2,1,2,1,2,1,1")
    cin = 3
    for i, (s, c) in enumerate(zip(Q4B_STRIDES, Q4B_CHANNELS), 1):
        b.add(f"conv{i}", Conv2d(cin, c, 3, stride=s, padding=0 if i == 1 else 1))
        b.add(f"relu{i}", ReLU())
        cin = c
    return b.build(features=b.last)


def _basic_block(b: Builder, prefix: str, cin: int, cout: int, stride: int) -> str:
    """torchvision's ResNet BasicBlock: 3×3 conv (stride here) - BN - ReLU - 3×3 conv - BN,
    a 1×1 conv + BN projection shortcut when the shape changes, add, ReLU."""
    x = b.last
    b.seq(
        prefix,
        [
            ("conv1", Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)),
            ("bn1", BatchNorm2d(cout)),
            ("relu", ReLU()),
            ("conv2", Conv2d(cout, cout, 3, padding=1, bias=False)),
            ("bn2", BatchNorm2d(cout)),
        ],
    )
    y = b.last
    if stride != 1 or cin != cout:
        b.seq(
            f"{prefix}.downsample",
            [Conv2d(cin, cout, 1, stride=stride, bias=False), BatchNorm2d(cout)],
            x,
        )
        x = b.last
    b.add(f"{prefix}.add", Add(), y, x)
    return b.add(f"{prefix}.relu_1", ReLU())


def q7a_network(num_classes: int = 1000) -> Model:
    """Exam Q7(a): the comprehensive network — position-sensitive input block, ResNet-style
    backbone 64→128→256→512→1024 at 112→56→28→14→7, global-average-pooling head.

    Layers: ``coords`` CoordAugment (3→5 channels), ``conv1`` 7×7 stride 2 conv 5→64,
    ``bn1``, ``relu`` (112×112×64); stages ``layer1``..``layer5`` of one BasicBlock each
    (64@112, 128@56, 256@28, 512@14, 1024@7); ``avgpool`` (GAP, 1024×1×1), ``flatten``,
    ``dropout`` (0.5), ``fc`` Linear(1024, classes). Names follow torchvision's ResNet
    (``layerN.0.conv1`` ..., the block's second ReLU call is ``relu_1``).

    Assumptions (the exam leaves them open):

    * stem conv has **no bias** (the exam counts 7²·5·64 = 15,680) and padding 3
      (224 → 112), followed by BatchNorm and ReLU ("batch normalization and ReLU");
    * **no max-pool after the stem**: the exam pairs the five widths with the five sizes
      112, 56, 28, 14, 7, so stage 1 runs at 112 and stages 2-5 each halve the size;
    * one **BasicBlock** (two 3×3 convs) per stage, torchvision's: stride in the first
      conv, convs without bias, BN after each, 1×1 conv + BN projection shortcut where the
      shape changes (stages 2-5). This reproduces the exam's figures: ≈19.6M backbone
      parameters ("≈20M"), ≈4.0 G multiply-accumulates ("≈4 GFLOPs"), 20,623,272 in all;
    * head order GAP → flatten → Dropout(0.5) → Linear; 1000 classes (the exam's C = 1000);
    * the coordinate channels are counted as two extra input channels; their value range
      ([0, 1] in the exam, [−1, 1] in CoordConv) changes no count.
    """
    b = Builder("exam_q7a", (3, 224, 224), "Exam Q7(a): CoordConv + ResNet-style + GAP")
    b.add("coords", CoordAugment())
    b.add("conv1", Conv2d(5, 64, 7, stride=2, padding=3, bias=False))
    b.add("bn1", BatchNorm2d(64))
    b.add("relu", ReLU())
    cin = 64
    for i, c in enumerate(Q7A_WIDTHS, 1):
        _basic_block(b, f"layer{i}.0", cin, c, 1 if i == 1 else 2)
        cin = c
    features = b.last
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.add("dropout", Dropout(0.5))
    b.add("fc", Linear(cin, num_classes))
    return b.build(features=features)
