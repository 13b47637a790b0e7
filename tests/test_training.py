"""The analytic training step (archcalc/engine/training.py), ``memory --train`` and ``fit``:
derivations by hand, laws (breakdown adds up, symbolic = numeric, fit's bracket), errors.
No torch here: tests/test_training_torch.py compares with torch's measured peak."""

import json
import subprocess
import sys

import pytest
import sympy
from typer.testing import CliRunner

from archcalc._errors import OptionError
from archcalc.cli.app import app
from archcalc.engine.graph import sequential
from archcalc.engine.training import (
    OPTIMIZERS,
    fit_batch,
    fit_input,
    parse_bytes,
    torchvision_inplace,
    training_step,
)
from archcalc.kinds import BatchNorm2d, Conv2d, Flatten, Linear, ReLU
from archcalc.load.resolve import load_model

runner = CliRunner()


def tiny():
    return sequential(
        "t", [Conv2d(1, 2, 3), ReLU(), Flatten(), Linear(8, 3)], input_shape=(1, 4, 4)
    )


def test_tiny_derivation_sgd():
    r = training_step(tiny(), batch=2, optimizer="sgd")
    weights = (2 * 1 * 3 * 3 + 2 + 8 * 3 + 3) * 4
    assert r.weights_bytes == weights
    # ReLU's backward: weights, linear gradient (27 floats), input 2·16 floats, target 2
    # int64, conv/ReLU output kept (2·8 floats), incoming and outgoing gradient (2·8 floats
    # each), the loss and backward's ones (one float each)
    assert r.peak_bytes == weights + 27 * 4 + 2 * 16 * 4 + 2 * 8 + 3 * 2 * 8 * 4 + 4 + 4
    assert (r.peak_phase, r.peak_layer) == ("backward", "1")
    assert r.gradients_bytes == 27 * 4
    assert r.saved_activations_bytes == 2 * 8 * 4
    assert r.all_gradients_bytes == (20 + 27) * 4


def test_tiny_adam_step_temporaries():
    # the step holds every gradient and state; Adam's for-loop adds sqrt and denom of one
    # parameter tensor, the previous tensor's denom and the float64 scalar divisor
    r = training_step(tiny(), batch=2, optimizer="adam")
    weights = (20 + 27) * 4
    base = weights + 2 * 16 * 4 + 2 * 8 + weights + 2 * weights + 4 * 4
    # tensors in order: conv weight 18, conv bias 2, linear weight 24, linear bias 3
    assert r.optimizer_state_bytes == 2 * weights + 4 * 4
    assert r.peak_bytes == base + (2 + 2 * 24) * 4 + 8
    assert (r.peak_phase, r.peak_layer) == ("step", "3")


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "densenet121", "alexnet"])
def test_breakdown_adds_up(name, optimizer):
    r = training_step(load_model(name), (3, 64, 64), 3, optimizer=optimizer)
    assert r.peak_bytes == (
        r.weights_bytes + r.gradients_bytes + r.optimizer_state_bytes + r.other_bytes
    )
    assert 0 <= r.saved_activations_bytes <= r.other_bytes
    assert r.peak_bytes == max(v for v, *_ in r.timeline)


def test_optimizer_state_resnet18():
    m = load_model("resnet18")
    params = 11_689_512 * 4  # torchvision's published count, float32
    tensors = 62  # 20 convs, 20 batch norms (weight and bias), the fc (weight and bias)
    want = {"sgd": 0, "momentum": params, "adam": 2 * params + 4 * tensors}
    for opt, state in want.items():
        assert training_step(m, optimizer=opt).optimizer_state_bytes == state


def test_symbolic_batch_equals_numeric():
    m = load_model("resnet18")
    b = sympy.Symbol("B", positive=True, integer=True)
    for opt in ("sgd", "adam"):
        r = training_step(m, (3, 64, 64), b, optimizer=opt)
        for n in (1, 2, 3, 5, 17, 64):
            assert (
                r.peak_bytes.subs(b, n)
                == training_step(m, (3, 64, 64), n, optimizer=opt).peak_bytes
            )


def test_frozen_layers_shrink_every_part():
    m = load_model("resnet18")
    full = training_step(m, optimizer="adam", batch=2)
    head = training_step(m, optimizer="adam", batch=2, trainable=lambda n: n.name == "fc")
    assert head.optimizer_state_bytes == 2 * (512 * 1000 + 1000) * 4 + 2 * 4
    assert head.all_gradients_bytes == (512 * 1000 + 1000) * 4
    assert head.all_saved_bytes < full.all_saved_bytes
    assert head.peak_bytes < full.peak_bytes


def test_amp_halves_activations_keeps_fp32_master():
    m = load_model("resnet18")
    fp32 = training_step(m, batch=4, optimizer="momentum")
    bf16 = training_step(m, batch=4, optimizer="momentum", amp="bf16")
    assert bf16.weights_bytes == fp32.weights_bytes
    assert bf16.optimizer_state_bytes == fp32.optimizer_state_bytes
    assert bf16.all_gradients_bytes == fp32.all_gradients_bytes
    assert bf16.peak_bytes < fp32.peak_bytes


def test_inplace_convention():
    m = load_model("resnet18")
    place = torchvision_inplace(m)
    assert "relu" in place and "layer1.0.add" in place and "layer1.0.relu_1" in place
    assert not any(n.startswith("layer1.0.conv") for n in place)
    # in place or not, the same tensors are kept: only forward transients differ
    a = training_step(m, batch=2)
    b = training_step(m, batch=2, inplace=())
    assert a.all_saved_bytes == b.all_saved_bytes


def test_batchnorm_counter_is_int64():
    m = sequential("bn", [Conv2d(3, 4, 1, bias=False), BatchNorm2d(4)], input_shape=(3, 2, 2))
    r = training_step(m, optimizer="sgd")
    assert r.weights_bytes == (3 * 4 + 2 * 4) * 4 + 2 * 4 * 4 + 8


@pytest.mark.parametrize(
    "text, n",
    [
        ("24GiB", 24 * 2**30),
        ("16GB", 16 * 10**9),
        ("512 MiB", 512 * 2**20),
        ("1.5kB", 1500),
        ("1000", 1000),
        ("3B", 3),
        ("2kib", 2048),
    ],
)
def test_parse_bytes(text, n):
    assert parse_bytes(text) == n


def test_parse_bytes_of_thousands_of_digits_is_exact():
    # a huge valid budget is exact: 10**4000 bytes, and 10**4000 · 2**30 with GiB
    assert parse_bytes("1" + "0" * 4000) == 10**4000
    assert parse_bytes("1" + "0" * 4000 + "GiB") == 10**4000 * 2**30


@pytest.mark.parametrize(
    "text", ["0", "0GB", "-1GB", "GB", "1.2.3GB", "5 XB", "", "1e9", "9" * 10_001, "٣GB", None, 1.5]
)
def test_parse_bytes_refuses(text):
    with pytest.raises(OptionError, match="memory"):
        parse_bytes(text)


def test_fit_batch_brackets_the_budget():
    m = load_model("resnet18")
    for budget in (300_000_000, 10**9, 3 * 2**30):
        for opt in ("sgd", "adamw"):
            f = fit_batch(m, budget, (3, 64, 64), optimizer=opt)
            assert f.peak_bytes <= budget < f.next_peak_bytes
            nxt = training_step(m, (3, 64, 64), f.batch + 1, optimizer=opt)
            assert nxt.peak_bytes == f.next_peak_bytes


def test_fit_input_brackets_the_budget():
    m = load_model("resnet18")
    f = fit_input(m, "200MB", 2, optimizer="sgd")
    h = f.input_shape[1]
    assert (
        f.peak_bytes
        <= 200 * 10**6
        < training_step(m, (3, h + 1, h + 1), 2, optimizer="sgd").peak_bytes
    )


def test_fit_errors():
    m = load_model("resnet18")
    with pytest.raises(OptionError, match="below the weights alone"):
        fit_batch(m, "10MB")
    with pytest.raises(OptionError, match="batch 1 needs"):
        fit_batch(m, "100MB", optimizer="adam")
    with pytest.raises(OptionError, match="optimizer"):
        training_step(m, optimizer="lion")
    with pytest.raises(OptionError, match="amp"):
        training_step(m, amp="fp8")


def test_cli_memory_train_json():
    res = runner.invoke(app, ["memory", "resnet18", "--train", "--optimizer", "adam", "-f", "json"])
    assert res.exit_code == 0, res.output
    t = json.loads(res.output)["memory"]["training"]
    for k in (
        "peak_bytes",
        "weights_bytes",
        "gradients_bytes",
        "optimizer_state_bytes",
        "saved_activations_bytes",
    ):
        assert isinstance(t[k], int), k
    assert isinstance(t["peak_phase"], str) and isinstance(t["peak_layer"], str)
    r = training_step(load_model("resnet18"), optimizer="adam")
    assert t["peak_bytes"] == r.peak_bytes


def test_cli_memory_without_train_unchanged():
    res = runner.invoke(app, ["memory", "resnet18", "-f", "json"])
    assert res.exit_code == 0
    assert "training" not in json.loads(res.output)["memory"]


def test_cli_fit_json():
    res = runner.invoke(app, ["fit", "resnet18", "--memory", "1GiB", "-i", "3x64x64", "-f", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["peak_bytes"] <= d["budget_bytes"] == 2**30 < d["next_peak_bytes"]
    res = runner.invoke(
        app,
        ["fit", "resnet18", "--memory", "1GB", "--batch", "2", "--solve", "input", "-f", "json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["input"][1] > 224


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "resnet18", "--memory", "10MB"], "below the weights alone"),
        (["fit", "resnet18", "--memory", "0"], "--memory = '0': must be a positive size"),
        (["fit", "resnet18", "--memory", "lots"], "--memory = 'lots': must be a size"),
        (["fit", "resnet18", "--memory", "1GB", "--optimizer", "lion"], "--optimizer = 'lion'"),
        (["memory", "resnet18", "--train", "--amp", "fp8"], "--amp = 'fp8'"),
    ],
)
def test_cli_errors_one_line_exit_2(args, message):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_no_torch_imported():
    code = (
        "import sys; from typer.testing import CliRunner; from archcalc.cli.app import app\n"
        "r = CliRunner()\n"
        "assert r.invoke(app, ['memory', 'resnet18', '--train']).exit_code == 0\n"
        "assert r.invoke(app, ['fit', 'resnet18', '--memory', '1GB']).exit_code == 0\n"
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_freeze_and_amp():
    res = runner.invoke(
        app,
        ["memory", "resnet18", "--train", "--freeze", "-1", "--optimizer", "adam", "-f", "json"],
    )
    assert res.exit_code == 0, res.output
    t = json.loads(res.output)["memory"]["training"]
    assert t["optimizer_state_bytes"] == 2 * (512 * 1000 + 1000) * 4 + 2 * 4  # only the fc
    res = runner.invoke(app, ["memory", "resnet18", "--train", "--amp", "bf16", "-f", "json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["memory", "resnet18", "--train", "--amp", "bf16", "--dtype", "float16"]
    )
    assert res.exit_code == 2 and "needs float32 parameters" in res.output


def test_finetune_reports_the_engine_peak():
    from archcalc.design import finetune

    r = finetune("resnet18", 0, optimizer="sgd")
    assert r.full.peak == training_step(load_model("resnet18"), optimizer="momentum").peak_bytes
    assert r.frozen.peak == r.full.peak
    assert finetune("resnet18", -1, optimizer="adam").frozen.peak < r.full.peak


def test_symbolic_input_refused():
    from archcalc._errors import UnsupportedError
    from archcalc.engine.shapes import symbol

    h = symbol("H")
    with pytest.raises(UnsupportedError, match="numeric sizes"):
        training_step(load_model("resnet18"), (3, h, h), 2)
