"""vit_b_16: the zoo mirror against torchvision's published figures, the import of the real
torchvision model (params = numel, the fvcore convention = fvcore's total), and its receptive
field reported global (every token sees every token after the first attention).

Per-kind tool checks are in tests/kinds/test_tokens.py; here a small ViT (image 32, patch 8,
2 layers, hidden 64) runs every tool, and vit_b_16 itself only fvcore at 224 (about 3 s).
"""

from __future__ import annotations

import warnings

import pytest
from foreign_tools import tool_totals

import archcalc
from archcalc import zoo
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.zoo.vit import vision_transformer

# torchvision's published figures (weights meta of ViT_B_16_Weights.IMAGENET1K_V1)
PUBLISHED_PARAMS = 86_567_656
PUBLISHED_GFLOPS = 17.564


def test_mirror_params_by_hand():
    d, m, layers, length = 768, 3072, 12, 14 * 14 + 1
    per_layer = (
        2 * 2 * d  # ln_1, ln_2
        + (4 * d * d + 4 * d)  # self_attention: in_proj 3d×d + 3d, out_proj d×d + d
        + (d * m + m)
        + (m * d + d)  # mlp.0, mlp.3
    )
    expected = (
        (3 * 16 * 16 * d + d)  # conv_proj
        + d  # class_token
        + length * d  # encoder.pos_embedding
        + layers * per_layer
        + 2 * d  # encoder.ln
        + (d * 1000 + 1000)  # heads.head
    )
    s = archcalc.summary(zoo.get("vit_b_16"))
    assert s.params == expected == PUBLISHED_PARAMS


def test_mirror_macs_are_torchvision_gflops():
    d, m, n = 768, 3072, 197
    # conv_proj on 14×14 patches; per layer: projections 4·n·d², QKᵀ and AV 2·n²·d, MLP
    # 2·n·d·m; the head d·1000
    macs = 3 * 16 * 16 * d * 196 + 12 * (4 * n * d * d + 2 * n * n * d + 2 * n * d * m) + d * 1000
    s = archcalc.summary(zoo.get("vit_b_16"))
    assert s.macs == macs
    assert round(s.macs / 1e9, 3) == PUBLISHED_GFLOPS
    tv = count(zoo.get("vit_b_16"), infer_shapes(zoo.get("vit_b_16")), 1, "torchvision")
    assert sum(tv.values()) == macs


def test_receptive_field_is_global():
    s = archcalc.summary(zoo.get("vit_b_16"))
    rows = {r.name: r.rf for r in s.layers}
    assert rows["conv_proj"].size == (16, 16) and rows["conv_proj"].stride == (16, 16)
    assert rows["encoder.layers.encoder_layer_0.ln_1"].size == (16, 16)  # one patch
    assert rows["encoder.layers.encoder_layer_0.self_attention"].is_global
    # the residual sum of the attention and its input: the union is the whole image
    assert rows["encoder.layers.encoder_layer_0.add"].is_global
    assert s.rf.is_global and rows["heads.head"].is_global


# ---------------------------------------------------------------- the real torchvision model

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
at = pytest.importorskip("archcalc.torch")


def _small():
    return torchvision.models.VisionTransformer(32, 8, 2, 4, 64, 128, num_classes=10).eval()


def test_published_figures_are_torchvision_s():
    meta = torchvision.models.get_model_weights("vit_b_16").DEFAULT.meta
    assert (meta["num_params"], meta["_ops"]) == (PUBLISHED_PARAMS, PUBLISHED_GFLOPS)


def test_mirror_is_the_import_node_for_node():
    imported = at.from_torch(_small(), (3, 32, 32))
    mirror = vision_transformer(32, 8, 2, 4, 64, 128, 10)
    assert [(n.name, n.layer, n.inputs) for n in imported.live_nodes()] == [
        (n.name, n.layer, n.inputs) for n in mirror.live_nodes()
    ]


def test_small_vit_every_tool():
    """Every foreign convention on the imported small ViT equals its tool on the real module
    (grad enabled, as the tools are usually called)."""
    net = _small()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    model = at.from_torch(net, (3, 32, 32))
    shapes = infer_shapes(model)
    measured = tool_totals(net, x)
    ours = {c: sum(count(model, shapes, 2, c).values()) for c in measured}
    assert ours == measured
    assert archcalc.summary(model).params == sum(p.numel() for p in net.parameters())


def test_vit_b_16_imports_exactly():
    net = torchvision.models.vit_b_16().eval()
    model = at.from_torch(net, (3, 224, 224))
    s = archcalc.summary(model)
    assert s.params == sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMS
    assert s.rf.is_global
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(net, (torch.zeros(1, 3, 224, 224),))
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        total = a.total()
    ours = sum(count(model, infer_shapes(model), 1, "fvcore").values())
    # fvcore: conv_proj and every linear (incl. the attention projections); sdpa has no handle
    d, m, n = 768, 3072, 197
    by_hand = 3 * 16 * 16 * d * 196 + 12 * (4 * n * d * d + 2 * n * d * m) + 5 * 25 * n * d
    assert ours == total == by_hand + d * 1000
    # the zoo mirror is the same network
    mirror = zoo.get("vit_b_16")
    assert [(n.name, n.layer) for n in model.live_nodes()] == [
        (n.name, n.layer) for n in mirror.live_nodes()
    ]
