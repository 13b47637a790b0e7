"""Zoo, modern torchvision mirrors: ShuffleNetV2 ×1.0, RegNetY-400MF, MNASNet 1.0 and
EfficientNetV2-S.

Expected figures come from torchvision, never from archcalc: the parameter counts and GFLOPS
are the literals of each model's weights ``meta`` (``num_params`` and ``_ops``, GMACs at the
weights' evaluation crop, three decimals), checked against the installed torchvision when it
is there; the layer-by-layer test runs the real torchvision model (``weights=None``) at a small
input with forward hooks on every leaf module.
"""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.zoo.regnet import block_params

#: name -> (weights, meta["num_params"], meta["_ops"]) in torchvision 0.29.1
PUBLISHED: dict[str, tuple[str, int, float]] = {
    # ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1: num_params 2278604, _ops 0.145
    "shufflenet_v2_x1_0": ("ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1", 2_278_604, 0.145),
    # RegNet_Y_400MF_Weights.IMAGENET1K_V2: num_params 4344144, _ops 0.402
    "regnet_y_400mf": ("RegNet_Y_400MF_Weights.IMAGENET1K_V2", 4_344_144, 0.402),
    # MNASNet1_0_Weights.IMAGENET1K_V1: num_params 4383312, _ops 0.314
    "mnasnet1_0": ("MNASNet1_0_Weights.IMAGENET1K_V1", 4_383_312, 0.314),
    # EfficientNet_V2_S_Weights.IMAGENET1K_V1: num_params 21458488, _ops 8.366 (at 384x384)
    "efficientnet_v2_s": ("EfficientNet_V2_S_Weights.IMAGENET1K_V1", 21_458_488, 8.366),
}
MODELS = sorted(PUBLISHED)

#: the last names of nodes that are function or method calls in torchvision's ``forward``
#: (no module, so no hook): torch.cat, x.chunk, channel_shuffle's view, Tensor.mean, flatten,
#: the residual and squeeze-excitation products
FUNCTIONAL = {"add", "mul", "cat", "chunk", "chunk_1", "view", "mean", "mean_flatten", "flatten"}


@pytest.mark.parametrize("name", MODELS)
def test_published_params_and_gflops(name: str) -> None:
    _, params, gflops = PUBLISHED[name]
    s = archcalc.summary(name)
    assert s.params == params
    assert round(s.macs / 1e9, 3) == gflops  # at the published precision
    assert s.output_shape == (1000,)


@pytest.mark.parametrize("name", MODELS)
def test_published_figures_are_torchvisions(name: str) -> None:
    """The literals above are what the installed torchvision publishes, at the input size
    (crop) its weights are evaluated at."""
    models = pytest.importorskip("torchvision.models")
    weights, params, gflops = PUBLISHED[name]
    w = models.get_model_weights(name).DEFAULT
    assert str(w) == weights
    assert (w.meta["num_params"], w.meta["_ops"]) == (params, gflops)
    crop = w.transforms().crop_size[0]
    assert zoo.get(name).input_shape == (3, crop, crop)


def _torchvision_layers(name: str, shape: tuple[int, ...]) -> tuple[dict[str, tuple], int]:
    """Run the real model once: per leaf module called, (output shape, own parameters)."""
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    net = models.get_model(name, weights=None).eval()
    rows: dict[str, tuple] = {}

    def hook(module_name: str):  # type: ignore[no-untyped-def]
        def record(mod, inputs, out):  # type: ignore[no-untyped-def]
            assert module_name not in rows, f"{module_name} is called twice"
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            rows[module_name] = (tuple(out.shape[1:]), own)

        return record

    for module_name, m in net.named_modules():
        if not list(m.children()):
            m.register_forward_hook(hook(module_name))
    with torch.no_grad():
        net(torch.zeros(1, *shape))
    return rows, sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("name", MODELS)
def test_layer_by_layer_equals_torchvision(name: str) -> None:
    shape = (3, 64, 64)
    real, total = _torchvision_layers(name, shape)
    s = archcalc.summary(name, input=shape)
    ours = {r.name: (tuple(r.output_shape), r.params) for r in s.layers}
    # every module torchvision calls is a node of that name, same output shape and params
    assert {k: ours.get(k) for k in real} == real
    # the other nodes are torchvision's function and method calls
    assert {k.rsplit(".", 1)[-1] for k in set(ours) - set(real)} <= FUNCTIONAL
    assert s.params == total


# ---------------------------------------------------------------- hand figures


def test_shufflenet_split_and_shuffle() -> None:
    s = archcalc.summary("shufflenet_v2_x1_0")
    # 224 -> 112 (conv1, stride 2) -> 56 (maxpool) -> 28, 14, 7 (the first unit of each stage)
    assert s.layer("stage2.0.view").output_shape == (116, 28, 28)
    assert s.layer("stage4.3.view").output_shape == (464, 7, 7)
    # a stride-1 unit keeps half its channels and transforms the other half
    assert s.layer("stage3.1.chunk").output_shape == (116, 14, 14)
    assert s.layer("stage3.1.chunk_1").output_shape == (116, 14, 14)
    assert s.layer("stage3.1.cat").output_shape == (232, 14, 14)
    # the shuffle and the split move channels: no parameters, no MACs
    assert s.layer("stage3.1.view").params == s.layer("stage3.1.chunk").macs == 0
    m = zoo.get("shufflenet_v2_x1_0")
    assert m.node("stage3.1.branch2.0").inputs == ("stage3.1.chunk_1",)
    assert m.node("stage3.1.cat").inputs == ("stage3.1.chunk", "stage3.1.branch2.7")
    # fc: Linear(1024, 1000)
    assert s.layer("fc").params == (1024 + 1) * 1000


def test_regnet_y_400mf_stages() -> None:
    # RegNetY-400MF: widths 48, 104, 208, 440 over 1, 3, 6, 6 blocks, group width 8
    s = archcalc.summary("regnet_y_400mf")
    assert s.layer("trunk_output.block4.block4-5.activation").output_shape == (440, 7, 7)
    # block2-0's 3x3 conv: 104 channels in 104 / 8 = 13 groups of 8
    assert s.layer("trunk_output.block2.block2-0.f.b.0").params == 104 * 8 * 9
    # its squeeze-excitation: round(0.25 * 48) = 12 squeeze channels (48 is the block's input)
    assert s.layer("trunk_output.block2.block2-0.f.se.fc1").params == 104 * 12 + 12


@pytest.mark.parametrize(
    "args",
    [  # BlockParams.from_init_params(depth, w_0, w_a, w_m, group_width) of every torchvision RegNet
        (16, 48, 27.89, 2.09, 8), (14, 56, 38.84, 2.4, 16), (27, 48, 20.71, 2.65, 24),
        (21, 80, 42.63, 2.66, 24), (17, 192, 76.82, 2.19, 56), (18, 200, 106.23, 2.48, 112),
        (20, 232, 115.89, 2.53, 232), (27, 456, 160.83, 2.52, 264), (22, 24, 24.48, 2.54, 16),
        (16, 56, 35.73, 2.28, 16), (18, 80, 34.01, 2.25, 24), (25, 88, 26.31, 2.25, 48),
        (23, 80, 49.56, 2.88, 120), (22, 216, 55.59, 2.1, 128), (23, 320, 69.86, 2.0, 168),
    ],
)  # fmt: skip
def test_regnet_block_params_equal_torchvisions(args: tuple) -> None:
    regnet = pytest.importorskip("torchvision.models.regnet")
    bp = regnet.BlockParams.from_init_params(*args)
    got = [(st.width, st.depth, st.group_width) for st in block_params(*args)]
    assert got == list(zip(bp.widths, bp.depths, bp.group_widths))


def test_mnasnet_and_efficientnet_v2_blocks() -> None:
    m = archcalc.summary("mnasnet1_0")
    # layers.8.0: 16 -> 16 * 3 = 48 expanded, 3x3 depthwise stride 2, 48 -> 24 (112 -> 56)
    assert m.layer("layers.8.0.layers.3").params == 48 * 9
    assert m.layer("layers.8.0.layers.7").output_shape == (24, 56, 56)
    assert "layers.8.0.add" not in {r.name for r in m.layers}
    e = archcalc.summary("efficientnet_v2_s")
    # features.1: FusedMBConv at expand ratio 1: one 3x3 Conv 24 -> 24 (no bias) + BN + SiLU
    assert e.layer("features.1.0.block.0.0").params == 24 * 24 * 9
    # features.2.0: 3x3 stride-2 Conv 24 -> 96, then 1x1 Conv 96 -> 48; at 384: 192 -> 96
    assert e.layer("features.2.0.block.0.0").params == 24 * 96 * 9
    assert e.layer("features.2.0.block.1.0").output_shape == (48, 96, 96)
    # features.4.0's squeeze-excitation: 64 * 4 = 256 channels, squeeze 64 // 4 = 16
    assert e.layer("features.4.0.block.2.fc1").params == 256 * 16 + 16
    # stochastic depth 0.2 * block / 40; features.6.14 is block 39
    sd = zoo.get("efficientnet_v2_s").node("features.6.14.stochastic_depth").layer
    assert sd.p == pytest.approx(0.2 * 39 / 40)
    assert e.layer("features.7.2").output_shape == (1280, 12, 12)  # 384 / 32


@pytest.mark.parametrize("name", MODELS)
def test_fvcore_convention_equals_fvcore_on_torchvision(name: str) -> None:
    """fvcore on the real module: ``x.mean([2, 3])`` (ShuffleNetV2, MNASNet) counts 0, as
    the mirrors' ``GlobalAvgPool(op="mean")`` says."""
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    net = models.get_model(name, weights=None).eval()
    count = fvcore_nn.FlopCountAnalysis(net, torch.zeros(1, 3, 64, 64))
    count.unsupported_ops_warnings(False)
    count.uncalled_modules_warnings(False)
    s = archcalc.summary(name, input=(3, 64, 64), convention="fvcore")
    assert s.flops == count.total()
