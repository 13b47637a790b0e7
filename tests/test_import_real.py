"""Real models imported with :func:`archcalc.torch.from_torch`: torchvision's and timm's, built
with random weights, against torch and fvcore.

An import is *exact* when archcalc's parameters equal ``sum(p.numel())`` and its FLOPs under
the ``fvcore`` convention equal ``fvcore.nn.FlopCountAnalysis(model, x).total()`` on the same
module at the same input. A model archcalc cannot import must fail with a named
:class:`~archcalc.UnsupportedError` naming the op and where it is called (``EXPECTED``).

The default run takes a sample (small inputs, small models: a few seconds). The extended set,
every torchvision classification and segmentation model and one timm model per family, runs
when ``ARCHCALC_REAL_MODELS=1`` (minutes; models are built on the meta device and fvcore runs
only below 30 M parameters). docs/import.md lists the outcome.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402

import archcalc  # noqa: E402
from archcalc.torch import from_torch  # noqa: E402

EXTENDED = os.environ.get("ARCHCALC_REAL_MODELS") == "1"
#: fvcore runs the model for real: only below this many parameters
FVCORE_LIMIT = 30_000_000

#: models archcalc cannot import yet, and the named error each one raises (a regex)
EXPECTED: dict[str, str] = {
    **dict.fromkeys(
        ("swin_t", "swin_s", "swin_b"),
        r"cannot map (operator\.getitem|Tensor\.permute|torch\.nn\.functional\.pad)",
    ),
    **dict.fromkeys(
        ("swin_v2_t", "swin_v2_s", "swin_v2_b"),
        r"cannot map (nn\.Linear|operator\.getitem|torch\.nn\.functional\.pad)",
    ),
    "maxvit_t": r"cannot map Tensor\.permute \(call 'permute', in module 'blocks\.0\.layers",
}

#: imports whose params are exact but whose fvcore-convention FLOPs are not (the reason)
FLOPS_DIFFER: dict[str, str] = {}

#: the default sample at 3x64x64, with fvcore's total for it (fvcore 0.1.5, recorded from
#: ``FlopCountAnalysis(model, torch.randn(1, 3, 64, 64)).total()`` on these torchvision
#: builds; the extended set and ``test_fvcore_live`` run fvcore itself). Their forward calls
#: cover conv/BN/ReLU stacks, depthwise and squeeze-excitation blocks, dense concatenation,
#: split/chunk/channel shuffle, channels-last LayerNorm/Linear with layer scale, a dict output
SAMPLE: dict[str, int] = {
    "resnet18": 148_965_376,
    "mobilenet_v3_small": 6_772_736,
    "efficientnet_b0": 34_540_032,
    "densenet121": 234_862_592,
    "squeezenet1_1": 21_593_576,
    "shufflenet_v2_x0_5": 4_411_776,
    "regnet_x_400mf": 34_667_712,
    "googlenet": 123_787_648,
    "convnext_tiny": 365_642_496,
    "lraspp_mobilenet_v3_large": 33_796_096,
}


def torchvision_builder(name: str) -> Callable[[], nn.Module]:
    from torchvision import models

    kwargs: dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False  # auxiliary heads: unused in eval, not in the output
        kwargs["init_weights"] = False
    if name in models.list_models(module=models.segmentation):
        kwargs["weights_backbone"] = None
    return lambda: models.get_model(name, **kwargs)


def build(make: Callable[[], nn.Module], meta: bool) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if meta:
            try:
                with torch.device("meta"):
                    return make().eval()
            except Exception:  # an initialiser that reads values (torchvision's regnet)
                pass
        return make().eval()


def fvcore_total(net: nn.Module, shape: tuple[int, ...]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        f = FlopCountAnalysis(net, (torch.randn(1, *shape),))
        f.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(f.total())


def check_model(name: str, make: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
    """Import ``name`` at ``shape``: exact, or the expected named error."""
    net = build(make, meta=True)
    if name in EXPECTED:
        with pytest.raises(archcalc.UnsupportedError, match=EXPECTED[name]):
            from_torch(net, shape)
        return
    s = archcalc.summary(from_torch(net, shape), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    if sum(p.numel() for p in net.parameters()) > FVCORE_LIMIT:
        return
    if next(net.parameters()).is_meta:
        net = net.to_empty(device="cpu")
        for b in net.buffers():
            if b.is_floating_point():
                b.fill_(1.0)
    got, want = int(s.flops), fvcore_total(net, shape)
    if name in FLOPS_DIFFER:
        assert got != want, f"{name} is exact now: take it out of FLOPS_DIFFER"
        return
    assert got == want


@pytest.mark.parametrize("name", SAMPLE)
def test_torchvision_sample(name: str) -> None:
    net = build(torchvision_builder(name), meta=True)
    s = archcalc.summary(from_torch(net, (3, 64, 64)), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    if name in FLOPS_DIFFER:
        assert s.flops != SAMPLE[name], f"{name} is exact now: take it out of FLOPS_DIFFER"
    else:
        assert s.flops == SAMPLE[name]


def test_fvcore_live() -> None:
    """One model against fvcore run here (the recorded totals above come from such runs)."""
    check_model("resnet18", torchvision_builder("resnet18"), (3, 32, 32))


def _torchvision_all() -> list[str]:
    from torchvision import models

    return models.list_models(module=models) + models.list_models(module=models.segmentation)


@pytest.mark.skipif(not EXTENDED, reason="extended set: ARCHCALC_REAL_MODELS=1")
@pytest.mark.parametrize("name", _torchvision_all() if EXTENDED else [])
def test_torchvision_all(name: str) -> None:
    shape = (3, 299, 299) if name == "inception_v3" else (3, 64, 64)
    if name.startswith(("vit_", "swin", "maxvit")):
        shape = (3, 224, 224)  # fixed image size
    check_model(name, torchvision_builder(name), shape)


def test_expected_errors_name_op_and_place() -> None:
    """A model that does not import says what and where (MaxViT's window partition)."""
    net = build(torchvision_builder("maxvit_t"), meta=True)
    with pytest.raises(archcalc.UnsupportedError) as e:
        from_torch(net, (3, 224, 224))
    msg = str(e.value)
    assert re.search(EXPECTED["maxvit_t"], msg)
    assert "torchvision/models/maxvit.py:" in msg and "partial=True" in msg


# ---------------------------------------------------------------- timm

#: timm families that import exactly at 3x64x64, with fvcore's total for them (recorded as
#: above): ghost modules' channel slicing, Res2Net's split, CSP's halves, timm's
#: BatchNormAct2d (F.batch_norm) and squeeze-excitation written as x.mean((2, 3))
TIMM_SAMPLE: dict[str, int] = {
    "ghostnet_050": 5_830_144,
    "res2net50_14w_8s": 345_191_296,
    "cs3darknet_focus_l": 292_225_024,
    "efficientnet_b0": 34_351_744,
    "rexnet_100": 35_844_990,
}

#: timm ViTs at their own 3x224x224 (TimmAttention), with fvcore's total: recorded from
#: ``FlopCountAnalysis(model, torch.randn(1, 3, 224, 224)).total()`` on these timm 1.0.31
#: builds (random weights, CPU, fvcore 0.1.5); vit_base_patch16_224, deit_base_patch16_224
#: and vit_base_mci_224 were checked the same way (16,867,412,736; 16,867,412,736;
#: 17,013,050,112) and are in TIMM_EXACT
TIMM_SAMPLE_224: dict[str, int] = {
    "vit_tiny_patch16_224": 1_079_579_328,
    "deit_tiny_patch16_224": 1_079_579_328,
}

#: every timm family that imports exactly (one model each; docs/import.md lists the others
#: and why they do not import)
TIMM_EXACT = [
    "convmixer_768_32",
    "convnext_atto",
    "cs3darknet_focus_l",
    "cspnext_l",
    "densenet121",
    "dla34",
    "dpn48b",
    "efficientnet_b0",
    "fbnetv3_b",
    "ghostnet_050",
    "hardcorenas_a",
    "hrnet_w18",
    "inception_next_atto",
    "lcnetv2_base",
    "legacy_xception",
    "regnetv_040",
    "repghostnet_050",
    "res2net50_14w_8s",
    "resnetv2_18",
    "rexnet_100",
    "starnet_s1",
    "xception41",
    "fasternet_l",
    "hgnet_base",
    "legacy_senet154",
    "rdnet_base",
    "selecsls42",
    "vgg11",
    "nasnetalarge",
    "pnasnet5large",
    "inception_v3",
    "inception_v4",
    "inception_resnet_v2",
    "vit_base_patch16_224",
    "deit_base_patch16_224",
    "vit_base_mci_224",
]


def timm_builder(name: str) -> Callable[[], nn.Module]:
    timm = pytest.importorskip("timm")
    return lambda: timm.create_model(name, pretrained=False)


@pytest.mark.parametrize("name", TIMM_SAMPLE)
def test_timm_sample(name: str) -> None:
    net = build(timm_builder(name), meta=True)
    s = archcalc.summary(from_torch(net, (3, 64, 64)), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    assert s.flops == TIMM_SAMPLE[name]


@pytest.mark.parametrize("name", TIMM_SAMPLE_224)
def test_timm_vit_sample(name: str) -> None:
    net = build(timm_builder(name), meta=True)
    s = archcalc.summary(from_torch(net, (3, 224, 224)), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    assert s.flops == TIMM_SAMPLE_224[name]


@pytest.mark.skipif(not EXTENDED, reason="extended set: ARCHCALC_REAL_MODELS=1")
@pytest.mark.parametrize("name", TIMM_EXACT if EXTENDED else [])
def test_timm_families(name: str) -> None:
    big = ("inception_v3", "inception_v4", "inception_resnet_v2", "nasnetalarge", "pnasnet5large")
    shape = (3, 299, 299) if name in big else (3, 64, 64)
    if "vit" in name or name.startswith("deit"):
        shape = (3, 224, 224)  # fixed image size
    check_model(name, timm_builder(name), shape)


def test_timm_unsupported_is_named() -> None:
    """A timm family that does not import names the op and where (its patch tokens and
    attention import; DeiT III's LayerScale on tokens, ``x * gamma``, does not yet)."""
    net = build(timm_builder("deit3_base_patch16_224"), meta=True)
    with pytest.raises(archcalc.UnsupportedError) as e:
        from_torch(net, (3, 224, 224))
    msg = str(e.value)
    assert "cannot map operator.mul (call 'mul', in module 'blocks.0.ls1'" in msg
    assert "timm/layers/layer_scale.py:" in msg and "x * self.gamma" in msg
