"""Zoo models mirroring torchvision (VGG, ResNet/ResNeXt/Wide ResNet, SqueezeNet, DenseNet,
GoogLeNet) against torchvision's published figures and a few hand derivations.

The published figures are the ``num_params`` and ``_ops`` (GMACs, shown as "GFLOPS" in
the documentation's model table, two decimals) of each model's weights ``meta`` in
torchvision. torchvision itself is not needed here.
"""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo

#: torchvision's published parameter count and GFLOPS (MACs / 1e9, two decimals)
PUBLISHED: dict[str, tuple[int, float]] = {
    "vgg11": (132_863_336, 7.61),
    "vgg11_bn": (132_868_840, 7.61),
    "vgg13": (133_047_848, 11.31),
    "vgg13_bn": (133_053_736, 11.31),
    "vgg16": (138_357_544, 15.47),
    "vgg16_bn": (138_365_992, 15.47),
    "vgg19": (143_667_240, 19.63),
    "vgg19_bn": (143_678_248, 19.63),
    "resnet18": (11_689_512, 1.81),
    "resnet34": (21_797_672, 3.66),
    "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80),
    "resnet152": (60_192_808, 11.51),
    "resnext50_32x4d": (25_028_904, 4.23),
    "wide_resnet50_2": (68_883_240, 11.40),
    "googlenet": (6_624_904, 1.50),
    "densenet121": (7_978_856, 2.83),
    "squeezenet1_0": (1_248_424, 0.82),
    "squeezenet1_1": (1_235_496, 0.35),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_params_and_macs_match_torchvision_published(name):
    params, gflops = PUBLISHED[name]
    s = archcalc.summary(name)
    assert s.params == params  # torchvision's published number
    assert round(s.macs / 1e9, 2) == gflops  # torchvision's published GFLOPS
    assert s.output_shape == (1000,)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_receptive_field_layer_is_the_input_of_the_global_pool(name):
    m = zoo.get(name)
    s = archcalc.summary(name)
    if name.startswith("vgg"):
        # AdaptiveAvgPool2d(7) is not global: the RF is reported at the input of flatten,
        # i.e. avgpool's output (the identity at 224, so the same RF as features.N)
        assert s.rf_layer == "avgpool"
        assert m.node("avgpool").inputs[0] == m.features
    elif name.startswith("squeezenet"):
        # the global pool is classifier.3; its input is the ReLU after the final 1x1 conv
        assert s.rf_layer == "classifier.2" == m.node("classifier.3").inputs[0]
        assert m.features == "features.12.cat"
    else:
        pool = "adaptive_avg_pool2d" if name.startswith("densenet") else "avgpool"
        assert s.rf_layer == m.node(pool).inputs[0] == m.features


def test_vgg16_receptive_field_is_212_stride_32():
    # 13 3x3 convs (stride 1) and 5 2x2/2 pools; r += (k - 1) * jump:
    # 1 + 2*2*1 + 1*1 = 6 (jump 2); + 2*2*2 + 1*2 = 16 (jump 4); + 3*2*4 + 4 = 44 (jump 8);
    # + 3*2*8 + 8 = 100 (jump 16); + 3*2*16 + 16 = 212 (jump 32).
    # Published: 212 for VGG-16 (Araujo et al., "Computing Receptive Fields of CNNs",
    # Distill 2019).
    s = archcalc.summary("vgg16")
    rf = s.layer("features.30").rf
    assert rf is not None
    assert rf.size == (212, 212) and rf.stride == (32, 32)
    assert s.rf is not None and s.rf.size == (212, 212)


def test_resnet18_hand_figures():
    s = archcalc.summary("resnet18")
    # fc: Linear(512, 1000): (512 weights + 1 bias) per class
    assert s.layer("fc").params == (512 + 1) * 1000
    # stem: conv1 stride 2 (224 -> 112), maxpool stride 2 (-> 56); layer2 halves to 28
    assert s.layer("layer2.1.relu_1").output_shape == (128, 28, 28)
    assert s.layer("layer4.1.relu_1").output_shape == (512, 7, 7)
    # layer2.0.downsample.0: 1x1 conv 64 -> 128, stride 2, no bias
    assert s.layer("layer2.0.downsample.0").params == 64 * 128
    assert s.layer("layer2.0.downsample.0").output_shape == (128, 28, 28)


def test_bottleneck_names_and_widths():
    m = zoo.get("resnet50")
    # ResNet's one ReLU module per Bottleneck, called three times (torch.fx names)
    assert m.node("layer1.0.relu").inputs == ("layer1.0.bn1",)
    assert m.node("layer1.0.relu_1").inputs == ("layer1.0.bn2",)
    assert m.node("layer1.0.add").inputs == ("layer1.0.bn3", "layer1.0.downsample.1")
    assert m.node("layer1.0.relu_2").inputs == ("layer1.0.add",)
    assert m.node("layer1.1.add").inputs == ("layer1.1.bn3", "layer1.0.relu_2")
    s = archcalc.summary("resnext50_32x4d")
    # width = 64 * 4 / 64 * 32 = 128; grouped 3x3 conv: 128 * (128 / 32) * 9 weights
    assert s.layer("layer1.0.conv2").params == 128 * 4 * 9
    s = archcalc.summary("wide_resnet50_2")
    # width = 64 * 128 / 64 = 128: a 3x3 conv 128 -> 128
    assert s.layer("layer1.0.conv2").params == 128 * 128 * 9


def test_concat_shapes():
    # GoogLeNet inception3a: 64 + 128 + 32 + 32 channels at 28x28 (224 / 8)
    assert archcalc.summary("googlenet").layer("inception3a.cat").output_shape == (256, 28, 28)
    # DenseNet-121 block 1: 64 + 6 * 32 channels at 56x56
    d = archcalc.summary("densenet121")
    assert d.layer("features.denseblock1.cat").output_shape == (256, 56, 56)
    assert d.layer("features.norm5").output_shape == (1024, 7, 7)
    # the first dense layer's torch.cat([x]) is a one-input concat (a copy)
    m = zoo.get("densenet121")
    assert m.node("features.denseblock1.denselayer1.cat").inputs == ("features.pool0",)
    assert m.node("features.denseblock1.denselayer2.cat").inputs == (
        "features.pool0",
        "features.denseblock1.denselayer1.conv2",
    )
    # SqueezeNet 1.0: 7x7/2 conv 224 -> 109; ceil-mode 3x3/2 pools 109 -> 54 -> 27 -> 13
    s = archcalc.summary("squeezenet1_0")
    assert s.layer("features.2").output_shape == (96, 54, 54)
    assert s.layer("features.12.cat").output_shape == (512, 13, 13)


def test_other_input_size():
    # resnet50 at 64x64: 64 -> 32 (conv1) -> 16 (maxpool) -> 16, 8, 4, 2 (stages)
    s = archcalc.summary("resnet50", input=64)
    assert s.layer("layer4.2.relu_2").output_shape == (2048, 2, 2)
    assert s.params == 25_557_032
