"""The zoo mirrors of torchvision's swin_t and maxvit_t: torchvision's published figures, node for node the
import of the real model, and archcalc's torch build (numel and output shapes)."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.zoo.maxvit import maxvit_t
from archcalc.zoo.swin import swin_t

# torchvision's published figures (weights meta of Swin_T_Weights.IMAGENET1K_V1)
PUBLISHED = {"swin_t": (28_288_354, 4.491), "maxvit_t": (30_919_624, 5.558)}


def test_swin_t_params_by_hand():
    c, heads, depths = 96, (3, 6, 12, 24), (2, 2, 6, 2)
    total = 3 * 16 * c + c + 2 * c  # patch embedding Conv2d(3, 96, 4, stride 4), LayerNorm
    for i, (h, d) in enumerate(zip(heads, depths)):
        ci = c * 2**i
        block = (
            2 * 2 * ci  # norm1, norm2
            + 4 * ci * ci
            + 4 * ci  # qkv, proj
            + 13 * 13 * h  # relative position bias table (2·7 − 1)² × heads
            + (ci * 4 * ci + 4 * ci)
            + (4 * ci * ci + ci)  # mlp
        )
        total += d * block
        if i < 3:
            total += 4 * ci * 2 * ci + 2 * 4 * ci  # PatchMerging: reduction, LayerNorm(4C)
    total += 2 * 768 + 768 * 1000 + 1000  # norm, head
    assert archcalc.summary(zoo.get("swin_t")).params == total == PUBLISHED["swin_t"][0]


def _mbconv(cin, cout, stride):
    mid, sqz = 4 * cout, cout // 4
    proj = cin * cout + cout if stride == 2 else 0  # the 1×1 projection of the first layer
    return (
        proj
        + 2 * cin  # pre_norm
        + cin * mid + 2 * mid  # conv_a (no bias) + BatchNorm
        + 9 * mid + 2 * mid  # depthwise conv_b (no bias) + BatchNorm
        + (mid * sqz + sqz) + (sqz * mid + mid)  # squeeze-excitation fc1, fc2
        + mid * cout + cout  # conv_c
    )  # fmt: skip


def _partition(c):
    return (
        2 * c + (3 * c * c + 3 * c) + (c * c + c)  # norm, to_qkv, merge
        + 13 * 13 * (c // 32)  # relative position bias table (2·7 − 1)² × heads
        + 2 * c + (c * 4 * c + 4 * c) + (4 * c * c + c)  # mlp: norm, two linears
    )  # fmt: skip


def test_maxvit_t_params_by_hand():
    total = 3 * 9 * 64 + 2 * 64 + (64 * 9 * 64 + 64)  # stem
    cin = 64
    for cout, layers in zip((64, 128, 256, 512), (2, 2, 5, 2)):
        for j in range(layers):
            total += _mbconv(cin if j == 0 else cout, cout, 2 if j == 0 else 1)
            total += 2 * _partition(cout)  # window and grid attention
        cin = cout
    total += 2 * 512 + (512 * 512 + 512) + 512 * 1000  # classifier
    assert archcalc.summary(zoo.get("maxvit_t")).params == total == PUBLISHED["maxvit_t"][0]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_macs_are_torchvision_gflops(name):
    m = zoo.get(name)
    s = archcalc.summary(m)
    assert round(s.macs / 1e9, 3) == PUBLISHED[name][1]
    assert sum(count(m, infer_shapes(m), 1, "torchvision").values()) == s.macs


def test_swin_t_field_per_phase_in_the_summary():
    """The field of swin_t's output (stride 32, 7 phases of the last stage's windows): its
    per-phase offsets and sizes are in the summary's JSON, and the holds_for text says so."""
    s = archcalc.summary(zoo.get("swin_t"))
    rf = s.to_dict(layers=False)["receptive_field"]
    assert rf["exact"] is False and "per phase" in rf["holds_for"]
    assert len(rf["per_phase"]) == 2 and len(rf["per_phase"][0]) == rf["phases"][0]
    # phase 0 places the reported offset; the reported size is the largest over the phases
    assert rf["per_phase"][0][0][0] == rf["offset"][0]
    assert max(size for _, size in rf["per_phase"][0]) == rf["size"][0]


torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
at = pytest.importorskip("archcalc.torch")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_figures_are_torchvision_s(name):
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    assert (meta["num_params"], meta["_ops"]) == PUBLISHED[name]


@pytest.mark.parametrize("name, size", [("swin_t", 64), ("maxvit_t", 224)])
def test_mirror_is_the_import_node_for_node(name, size):
    imported = at.from_torch(getattr(torchvision.models, name)().eval(), (3, size, size))
    mirror = {"swin_t": swin_t, "maxvit_t": maxvit_t}[name](image_size=size)
    assert [(n.name, n.layer, n.inputs, n.via) for n in imported.live_nodes()] == [
        (n.name, n.layer, n.inputs, n.via) for n in mirror.live_nodes()
    ]


def test_torch_build_numel_and_shapes():
    model = swin_t(num_classes=10, image_size=64)
    net = at.to_torch(model).eval()
    assert sum(p.numel() for p in net.parameters()) == archcalc.summary(model).params
    with torch.no_grad():
        y = net(torch.zeros(1, 3, 64, 64))
    assert tuple(y.shape) == (1, 10)
    shapes = infer_shapes(model)
    assert shapes["features.5.5.add_1"] == (384, 4, 4)
    assert shapes["features.6"] == (768, 2, 2)


def test_maxvit_torch_build_numel_and_shapes():
    model = maxvit_t(num_classes=10, image_size=224)
    net = at.to_torch(model).eval()
    assert sum(p.numel() for p in net.parameters()) == archcalc.summary(model).params
    with torch.no_grad():
        y = net(torch.zeros(1, 3, 224, 224))
    assert tuple(y.shape) == (1, 10)
    shapes = infer_shapes(model)
    assert shapes["blocks.0.layers.0.layers.grid_attention"] == (64, 56, 56)
    assert shapes["blocks.3.layers.1.layers.grid_attention"] == (512, 7, 7)
