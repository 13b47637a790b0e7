"""The zoo mirror of torchvision's swin_t: torchvision's published figures, node for node the
import of the real model, and archcalc's torch build (numel and output shapes)."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.zoo.swin import swin_t

# torchvision's published figures (weights meta of Swin_T_Weights.IMAGENET1K_V1)
PUBLISHED = {"swin_t": (28_288_354, 4.491)}


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


def test_swin_t_macs_are_torchvision_gflops():
    s = archcalc.summary(zoo.get("swin_t"))
    assert round(s.macs / 1e9, 3) == PUBLISHED["swin_t"][1]
    m = zoo.get("swin_t")
    assert sum(count(m, infer_shapes(m), 1, "torchvision").values()) == s.macs


torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
at = pytest.importorskip("archcalc.torch")


def test_published_figures_are_torchvision_s():
    meta = torchvision.models.get_model_weights("swin_t").DEFAULT.meta
    assert (meta["num_params"], meta["_ops"]) == PUBLISHED["swin_t"]


def test_mirror_is_the_import_node_for_node():
    imported = at.from_torch(torchvision.models.swin_t().eval(), (3, 64, 64))
    mirror = swin_t(image_size=64)
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
