"""Zoo, part B: MobileNetV2/V3, EfficientNet-B0, ConvNeXt-T and the exam's networks (Q4(b),
Q7(a)).

Runs without torch or torchvision: torchvision's figures are literals taken from its weights
tables (``meta["num_params"]`` and ``meta["_ops"]``, the "GFLOPS" column of the torchvision
model docs), the exam figures are derived by hand below.
"""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import StochasticDepth

#: name -> (torchvision's published parameter count, its published GFLOPS)
PUBLISHED = {
    "mobilenet_v2": (3_504_872, 0.30),  # torchvision: num_params 3504872, _ops 0.301
    "mobilenet_v3_large": (5_483_032, 0.22),  # torchvision: num_params 5483032, _ops 0.217
    "mobilenet_v3_small": (2_542_856, 0.06),  # torchvision: num_params 2542856, _ops 0.057
    "efficientnet_b0": (5_288_548, 0.39),  # torchvision: num_params 5288548, _ops 0.386
    "convnext_tiny": (28_589_128, 4.46),  # torchvision: num_params 28589128, _ops 4.456
}

#: exact conv + linear MACs at 3x224x224 (cross-checked against torch forward hooks on the
#: torchvision models; torchvision's GFLOPS column is these, rounded)
EXACT_MACS = {
    "mobilenet_v2": 300_774_272,
    "mobilenet_v3_large": 216_589_760,
    "mobilenet_v3_small": 56_510_400,
    "efficientnet_b0": 385_814_752,
    "convnext_tiny": 4_455_531_264,
}

#: the last convolutional feature map (input of the global pool) and its shape at 224
FEATURES = {
    "mobilenet_v2": ("features.18.2", (1280, 7, 7)),
    "mobilenet_v3_large": ("features.16.2", (960, 7, 7)),
    "mobilenet_v3_small": ("features.12.2", (576, 7, 7)),
    "efficientnet_b0": ("features.8.2", (1280, 7, 7)),
    "convnext_tiny": ("features.7.2.add", (768, 7, 7)),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_params_and_gflops(name: str) -> None:
    params, gflops = PUBLISHED[name]
    s = archcalc.summary(name)
    assert s.params == params
    assert round(s.macs / 1e9, 2) == gflops
    assert s.macs == EXACT_MACS[name]
    assert s.output_shape == (1000,)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_features_node(name: str) -> None:
    node, shape = FEATURES[name]
    m = zoo.get(name)
    assert m.features == node
    assert infer_shapes(m)[node] == shape


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        # torchvision module names; functional ops named after the module they sit in
        ("mobilenet_v2", ["features.0.0", "features.1.conv.0.0", "features.1.conv.1",
                          "features.2.conv.3", "features.3.add", "adaptive_avg_pool2d",
                          "flatten", "classifier.1"]),
        ("mobilenet_v3_large", ["features.1.block.0.0", "features.4.block.2.fc1",
                                "features.4.block.2.scale_activation", "features.4.block.2.mul",
                                "features.5.add", "avgpool", "flatten", "classifier.3"]),
        ("mobilenet_v3_small", ["features.1.block.1.mul", "features.1.block.2.0",
                                "classifier.3"]),
        ("efficientnet_b0", ["features.1.0.block.1.mul", "features.2.1.block.3.1",
                             "features.2.1.stochastic_depth", "features.2.1.add",
                             "classifier.1"]),
        ("convnext_tiny", ["features.0.0", "features.0.1", "features.1.0.block.0",
                           "features.1.0.block.5", "features.1.0.layer_scale",
                           "features.1.0.stochastic_depth", "features.1.0.add", "features.2.1",
                           "classifier.0", "classifier.2"]),
    ],
)  # fmt: skip
def test_torchvision_names(name: str, nodes: list[str]) -> None:
    names = {n.name for n in zoo.get(name).nodes}
    assert set(nodes) <= names


def test_squeeze_excitation_channels() -> None:
    # MobileNetV3-Large features.4: expanded 72, squeeze _make_divisible(72 // 4, 8) = 24
    m = zoo.get("mobilenet_v3_large")
    fc1 = m.node("features.4.block.2.fc1").layer
    assert (fc1.in_channels, fc1.out_channels) == (72, 24)
    # EfficientNet-B0 features.2.0: input 16, expanded 96, squeeze max(1, 16 // 4) = 4
    fc1 = zoo.get("efficientnet_b0").node("features.2.0.block.2.fc1").layer
    assert (fc1.in_channels, fc1.out_channels) == (96, 4)


def test_stochastic_depth_probabilities() -> None:
    # EfficientNet-B0: 0.2 * block / 16, only on residual blocks (9 of 16)
    eff = [n for n in zoo.get("efficientnet_b0").nodes if isinstance(n.layer, StochasticDepth)]
    assert len(eff) == 9
    assert zoo.get("efficientnet_b0").node("features.2.1.stochastic_depth").layer.p == 0.2 * 2 / 16
    # ConvNeXt-T: 0.1 * block / 17 for blocks 0..17, on every block
    cn = [n.layer.p for n in zoo.get("convnext_tiny").nodes if isinstance(n.layer, StochasticDepth)]
    assert len(cn) == 18
    assert cn[0] == 0.0 and cn[-1] == pytest.approx(0.1)


def test_convnext_block_figures() -> None:
    # a CNBlock of width C: dw 7x7 (49C + C) + LN (2C) + Linear(C, 4C) (4C^2 + 4C)
    # + Linear(4C, C) (4C^2 + C) + layer scale (C) = 8C^2 + 58C
    s = archcalc.summary("convnext_tiny")
    c = 96
    block = sum(r.params for r in s.layers if r.name.startswith("features.1.0."))
    assert block == 8 * c * c + 58 * c
    # the channels-last Linear acts on every position: MACs = H*W*C*4C at 56x56
    assert s.layer("features.1.0.block.3").macs == 56 * 56 * c * 4 * c


# ---------------------------------------------------------------- exam Q4(b)


def test_q4b_stride_schedule() -> None:
    m = zoo.get("exam_q4b")
    shapes = infer_shapes(m)
    # layer 1: 3x3, stride 4, no padding: floor((224 - 3) / 4) + 1 = 56 (the exam's formula);
    # layers 2-8: 3x3, padding 1: floor((n + 2 - 3) / s) + 1 = n / s for even n
    sizes = [224]
    for i, s in enumerate((4, 2, 1, 2, 1, 2, 1, 1)):
        n = sizes[-1]
        sizes.append((n - 3) // s + 1 if i == 0 else (n + 2 - 3) // s + 1)
    assert sizes == [224, 56, 28, 28, 14, 14, 7, 7, 7]
    assert [shapes[f"conv{i}"][1:] for i in range(1, 9)] == [(n, n) for n in sizes[1:]]
    assert [shapes[f"conv{i}"][0] for i in range(1, 9)] == [64, 128, 128, 256, 256, 512, 512, 512]
    assert shapes[m.output] == (512, 7, 7)


def test_q4b_figures() -> None:
    s = archcalc.summary("exam_q4b")
    # 3x3 convs with bias: (9 * C_in + 1) * C_out per layer
    assert s.params == (
        (9 * 3 + 1) * 64
        + (9 * 64 + 1) * 128
        + (9 * 128 + 1) * 128
        + (9 * 128 + 1) * 256
        + (9 * 256 + 1) * 256
        + (9 * 256 + 1) * 512
        + 2 * (9 * 512 + 1) * 512
    )  # = 7,008,256
    # MACs: H_out * W_out * C_out * 9 * C_in per layer
    assert s.macs == (
        56 * 56 * 64 * 9 * 3
        + 28 * 28 * 128 * 9 * 64
        + 28 * 28 * 128 * 9 * 128
        + 14 * 14 * 256 * 9 * 128
        + 14 * 14 * 256 * 9 * 256
        + 7 * 7 * 512 * 9 * 256
        + 2 * 7 * 7 * 512 * 9 * 512
    )  # = 641,249,280
    # the exam's stride-4 layer 1: 56^2 * 64 elements (the exam prints 201,216, a slip:
    # 3136 * 64 = 200,704)
    assert s.layer("conv1").activation_elements == 56 * 56 * 64 == 200_704


# ---------------------------------------------------------------- exam Q7(a)


def test_q7a_shapes() -> None:
    m = zoo.get("exam_q7a")
    shapes = infer_shapes(m)
    assert shapes["coords"] == (5, 224, 224)  # RGB + 2 coordinate channels
    # 7x7, stride 2, padding 3: floor((224 + 6 - 7) / 2) + 1 = 112
    assert shapes["conv1"] == (64, 112, 112)
    widths, sizes = (64, 128, 256, 512, 1024), (112, 56, 28, 14, 7)
    for i, (c, n) in enumerate(zip(widths, sizes), 1):
        assert shapes[f"layer{i}.0.relu_1"] == (c, n, n)
    assert m.features == "layer5.0.relu_1"
    assert shapes["avgpool"] == (1024, 1, 1)
    assert shapes["fc"] == (1000,)


def test_q7a_figures() -> None:
    s = archcalc.summary("exam_q7a")
    # the exam's position-sensitive conv: 7^2 * 5 * 64 = 15,680 (no bias)
    assert s.layer("conv1").params == 5 * 7 * 7 * 64 == 15_680

    def block(cin: int, cout: int, shortcut: bool) -> int:
        # BasicBlock: 3x3 conv cin->cout, BN (2*cout), 3x3 conv cout->cout, BN,
        # projection shortcut 1x1 conv cin->cout + BN where the shape changes
        p = 9 * cin * cout + 2 * cout + 9 * cout * cout + 2 * cout
        return p + (cin * cout + 2 * cout if shortcut else 0)

    backbone = (
        5 * 7 * 7 * 64 + 2 * 64  # stem conv + bn1
        + block(64, 64, False)
        + block(64, 128, True)
        + block(128, 256, True)
        + block(256, 512, True)
        + block(512, 1024, True)
    )  # fmt: skip
    assert backbone == 19_598_272  # the exam's "standard conv blocks: ~20M"
    assert s.params == backbone + 1024 * 1000 + 1000  # + fc = 20,623,272
    # MACs: stem 112^2 * 64 * 5 * 49; stage 1 two 3x3 64->64 convs at 112^2; stages 2-5
    # each C_out * (9 C_in + 9 C_out + C_in) * H * W, the same 719,323,136 at every stage
    stage = [c * (9 * c // 2 + 9 * c + c // 2) * n * n for c, n in ((128, 56), (256, 28),
                                                                    (512, 14), (1024, 7))]  # fmt: skip
    assert len(set(stage)) == 1
    macs = 112 * 112 * 64 * 5 * 49 + 112 * 112 * 2 * 9 * 64 * 64 + sum(stage) + 1024 * 1000
    assert s.macs == macs == 3_999_850_496  # the exam's "~4 GFLOPs" (as MACs)
