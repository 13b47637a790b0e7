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

#: models archcalc cannot import yet, and the named error each one raises (a regex): every
#: torchvision model imports; the timm families that do not are in TIMM_EXPECTED
EXPECTED: dict[str, str] = {}

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


def check_model(
    name: str,
    make: Callable[[], nn.Module],
    shape: tuple[int, ...],
    *more: tuple[int, ...],
    expected: dict[str, str] = EXPECTED,
) -> None:
    """Import ``name`` at ``shape`` (or, if the model refuses that input, at each of
    ``more`` in turn): exact, or the expected named error."""
    net = build(make, meta=True)
    if name in expected:
        with pytest.raises(archcalc.UnsupportedError, match=expected[name]):
            from_torch(net, shape)
        return
    for other in more:
        try:
            from_torch(net, shape)
            break
        except archcalc.ArchcalcError:  # a fixed input size (an assert in the model's forward)
            shape = other
    s = archcalc.summary(from_torch(net, shape), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    if sum(p.numel() for p in net.parameters()) > FVCORE_LIMIT:
        return
    net = build(make, meta=False)  # real buffers: relative-position indices are set at init
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


class _Spectral(nn.Module):
    """A block calling an op no archcalc kind maps (a 2-D FFT)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: Any) -> Any:
        return torch.fft.rfft2(self.conv(x)).abs()


def test_expected_errors_name_op_and_place() -> None:
    """A model that does not import says what, in which module and on which source line."""
    net = nn.Sequential(nn.Conv2d(3, 3, 1), _Spectral())
    with pytest.raises(archcalc.UnsupportedError) as e:
        from_torch(net, (3, 16, 16))
    msg = str(e.value)
    assert "cannot map torch.fft.rfft2" in msg
    assert "in module '1' (_Spectral)" in msg
    assert "tests/test_import_real.py:" in msg and "torch.fft.rfft2(self.conv(x))" in msg
    assert "partial=True" in msg


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
#: 17,013,050,112) and the extended set checks them against fvcore run here
TIMM_SAMPLE_224: dict[str, int] = {
    "vit_tiny_patch16_224": 1_079_579_328,
    "deit_tiny_patch16_224": 1_079_579_328,
    # LayerScale on tokens (x * gamma); EVA-02's SwiGLU, rotary embedding (x * cos + rot(x) * sin)
    # and written-out attention: recorded the same way on 2 December 2026
    "deit3_small_patch16_224": 4_250_674_560,
    "eva02_tiny_patch14_224": 1_399_086_528,
}


def timm_families() -> list[str]:
    """One model per timm architecture family: the first model, alphabetically, of each
    module of ``timm.models`` (benchmarks/survey_models.py surveys the same set)."""
    timm = pytest.importorskip("timm")
    seen: set[Any] = set()
    names = []
    for n in timm.list_models():
        module = timm.models._registry._model_to_module.get(n)
        if module not in seen:
            seen.add(module)
            names.append(n)
    return names


#: timm families that do not import, with the named error each one raises (a regex)
TIMM_EXPECTED: dict[str, str] = {
    # CSATv2's DCT stem reorders the coefficients with a Python list index
    "csatv2": r"cannot map operator\.getitem \(call 'getitem_\d+', in module 'stem_dct'",
    # NaFlexViT resamples its position table with an antialiased interpolate
    "naflexvit_base_patch16_gap": r"cannot map torch\.nn\.functional\.interpolate .*antialias=True",
    # Sequencer's bidirectional LSTMs (a named gap: see docs/import.md)
    "sequencer2d_l": r"cannot map nn\.LSTM \(module 'stages\.0\.blocks\.0\.rnn_tokens\.rnn_v'",
}


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
@pytest.mark.parametrize("name", timm_families() if EXTENDED else [])
def test_timm_families(name: str) -> None:
    timm = pytest.importorskip("timm")
    size = tuple(timm.models.get_pretrained_cfg(name).input_size)
    check_model(name, timm_builder(name), (3, 64, 64), size, expected=TIMM_EXPECTED)


@pytest.mark.skipif(not TIMM_EXPECTED, reason="every timm family imports")
def test_timm_unsupported_is_named() -> None:
    """A timm family that does not import names the op, the module and the source line."""
    name = min(TIMM_EXPECTED)
    timm = pytest.importorskip("timm")
    net = build(timm_builder(name), meta=True)
    size = tuple(timm.models.get_pretrained_cfg(name).input_size)
    with pytest.raises(archcalc.UnsupportedError) as e:
        from_torch(net, size)
    msg = str(e.value)
    assert re.search(TIMM_EXPECTED[name], msg)
    assert re.search(r"in module '[\w.]+' \(\w+\), at \S+/timm/\S+\.py:\d+: `", msg), msg
