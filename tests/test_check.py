"""`archcalc check` over the zoo: every figure against torch, fvcore and autograd."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

import archcalc  # noqa: E402
from archcalc.cli import app  # noqa: E402
from archcalc.kinds import Conv2d  # noqa: E402
from archcalc.torch.check import check  # noqa: E402


def small_input(name: str) -> tuple[int, int, int]:
    """The smallest square input from 64 up at which the architecture runs."""
    model = archcalc.zoo.get(name)
    for size in range(64, 225, 8):
        try:
            archcalc.summary(model, input=(model.input_shape[0], size, size))
        except archcalc.ShapeError:
            continue
        return (model.input_shape[0], size, size)
    raise AssertionError(f"{name}: no valid input up to 224")


#: zoo models whose receptive field ``check`` cannot probe at their small input, and why;
#: every other model's field is compared with the gradient support (at 64x64 the adaptive
#: pool of AlexNet and the VGGs upsamples a 1x1/2x2 map: a fractional stride; vgg16's field
#: is checked at 224 below, where that pool is the identity)
RF_NOT_CHECKED = {
    **dict.fromkeys(
        ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn"]
        + ["vgg19", "vgg19_bn"],
        "misaligned or fractional stride",
    ),
    **dict.fromkeys(
        ["mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0"]
        + ["regnet_y_400mf", "efficientnet_v2_s"],
        "squeeze-excitation gates: every unit sees the whole image",
    ),
}


def assert_rf_checked(report) -> None:
    """The receptive-field rows were compared (not skipped) and all agree."""
    rf_rows = [r for r in report.rows if r.check.startswith("receptive field")]
    assert rf_rows
    assert all(r.ok is True for r in rf_rows), rf_rows


#: zoo models with known check rows that disagree, and why (owners in the reason)
CHECK_GAPS = {
    "convnext_tiny": "the training-step peak is ~0.06% low: after LayerNorm2d's channels-last "
    "permute the 2x2 downsampling convs get channels-last weight gradients, which autograd "
    "copies to the parameter's layout; archcalc does not model memory formats "
    "(engine/training.py; docs/conventions.md, Training memory)",
    "vit_b_16": "fvcore's ActivationCountAnalysis also counts nn.MultiheadAttention's "
    "in/out-projection outputs, check's rule only the layer output (torch/check.py); the "
    "training-step peak is 1.2 MB off (attention temporaries, engine/training.py)",
    "swin_t": "fvcore's ActivationCountAnalysis also counts the qkv/proj linears and the "
    "q·kᵀ, attn·v matmuls inside ShiftedWindowAttention and PatchMerging's reduction, check's "
    "rule only the layer output (torch/check.py); the training-step peak is 0.05% off "
    "(attention temporaries, engine/training.py)",
    "maxvit_t": "torchvision fixes maxvit_t's partition grids at construction: it runs only "
    "at 224x224, where check's memory cap (2 GiB at batch 2, ARCHCALC_CHECK_MAX_BYTES) "
    "refuses it; its figures are checked in tests/test_zoo_windows.py and test_windows.py",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=CHECK_GAPS[n], strict=True))
        if n in CHECK_GAPS
        else n
        for n in archcalc.zoo.names()
    ],
)
def test_zoo_model_checks_clean(name):
    report = check(name, small_input(name), batch=2)
    assert not report.mismatches, report.mismatches
    checked = {r.check for r in report.rows if r.ok}
    assert {
        "shape",
        "params",
        "saved for backward bytes",
        "peak inference bytes",
        "fvcore flops",
        "fvcore activations",
    } <= checked
    if name in RF_NOT_CHECKED:
        rf_rows = [r for r in report.rows if r.check.startswith("receptive field")]
        assert [(r.ok, r.note) for r in rf_rows] == [(None, RF_NOT_CHECKED[name])]
    else:
        assert_rf_checked(report)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_full_size_checks_clean(name):
    report = check(name, (3, 224, 224))
    assert not report.mismatches, report.mismatches
    assert_rf_checked(report)


def test_a_wrong_formula_is_caught(monkeypatch):
    """Break one formula on purpose: the cross-check must report it."""
    real = Conv2d.params
    monkeypatch.setattr(Conv2d, "params", lambda self, ins: real(self, ins) + 1)
    report = check("resnet18", (3, 64, 64), rf=False)
    bad = {(r.check, r.layer) for r in report.mismatches}
    assert ("params", "conv1") in bad and ("params", "total") in bad


def test_a_wrong_receptive_field_is_caught(monkeypatch):
    real = Conv2d.geometry

    def off_by_one(self, ins, out):
        (kh, sh, ah), (kw, sw, aw) = real(self, ins, out)
        return ((kh + 1, sh, ah), (kw, sw, aw))

    monkeypatch.setattr(Conv2d, "geometry", off_by_one)
    # a model whose field (5x5) is smaller than its input, so interior units are checked
    report = check("docs/examples/tiny_resnet.yaml", fvcore=False)
    assert any(r.check.startswith("receptive field") for r in report.mismatches)


def test_cli_check_exit_codes(monkeypatch):
    from typer.testing import CliRunner

    runner = CliRunner()
    ok = runner.invoke(app, ["check", "docs/examples/tiny_resnet.yaml", "-f", "json"])
    assert ok.exit_code == 0, ok.output
    real = Conv2d.macs
    monkeypatch.setattr(Conv2d, "macs", lambda self, ins, out: real(self, ins, out) * 2)
    monkeypatch.setattr(Conv2d, "flops", lambda self, ins, out: 4 * real(self, ins, out))
    monkeypatch.setattr(Conv2d, "count_fvcore", lambda s, i, o, b: 2 * b * real(s, i, o))
    bad = runner.invoke(app, ["check", "docs/examples/tiny_resnet.yaml", "--no-rf"])
    assert bad.exit_code == 1
    assert "MISMATCH" in bad.output
