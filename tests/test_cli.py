"""The CLI through Typer's CliRunner: outputs, formats, exit codes, no tracebacks."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_params_gap_prints_table_total_and_saving():
    r = run("params", "alexnet", "--head", "gap")
    assert r.exit_code == 0, r.output
    assert "gap.fc" in r.output
    # GAP head: (256 + 1) * 1000 = 257,000; total = AlexNet features 2,469,696 + 257,000
    features = (
        (3 * 121 + 1) * 64
        + (64 * 25 + 1) * 192
        + (192 * 9 + 1) * 384
        + (384 * 9 + 1) * 256
        + (256 * 9 + 1) * 256
    )
    assert f"{features + 257_000:,}" in r.output
    assert f"{61_100_840 - features - 257_000:,}" in r.output  # saving against --head fc


def test_summary_json():
    r = run("summary", "alexnet", "--format", "json")
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["params"] == 61_100_840  # torchvision's published count
    assert d["receptive_field"]["size"] == [195, 195]
    assert d["receptive_field"]["stride"] == [32, 32]
    assert isinstance(d["macs"], int) and isinstance(d["flops"], int)


def test_params_gap_json_has_saving():
    d = json.loads(run("params", "alexnet", "--head", "gap", "-f", "json").output)
    assert d["saving_vs_fc"] == d["params_head_fc"] - d["params"]


@pytest.mark.parametrize("command", ["params", "flops", "memory", "rf", "shapes", "summary"])
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_command_every_format(command, fmt):
    batch = ["--batch", "2"] if command in ("summary", "flops", "memory") else []
    r = run(command, "alexnet", "--format", fmt, *batch)
    assert r.exit_code == 0, r.output
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.output)))
        assert rows[0][:2] == ["#", "layer"] and len(rows) == 1 + 22
    if fmt == "markdown":
        assert r.output.count("| features.0 |") == 1


def test_symbolic_cli():
    r = run("flops", "docs/examples/tiny_resnet.yaml", "--input", "3xHxW", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert "H" in d["macs"] and "W" in d["macs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("params", "nonet"), "not in the zoo"),
        (("params", "resnet1"), "did you mean resnet18"),
        (("params", "alexnet", "--input", "3x0x224"), " = 0"),
        (("params", "alexnet", "--input", "3x32x32"), "larger than the padded input"),
        (("summary", "alexnet", "--batch", "-1"), "--batch"),
        # choices are validated by the parser, which lists them
        (("params", "alexnet", "--dtype", "float12"), "'float12' is not one of"),
        (("params", "alexnet", "--head", "mlp"), "'mlp' is not one of 'fc', 'gap', 'conv'"),
        (("params", "alexnet", "--format", "xml"), "'xml' is not one of"),
        # digits Python reads but sizes are not written with
        (("params", "alexnet", "--input", "3x\u00b2x224"), "--input = "),
        (("summary", "alexnet", "--batch", "\u00b3"), "--batch = "),
        (("params", "alexnet", "--classes", "0"), "--classes = 0"),
        (("params", "missing.yaml"), "no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert message in r.output
    assert "Traceback" not in r.output


def test_models_lists_zoo():
    r = run("models", "-f", "json")
    assert r.exit_code == 0
    names = {m["name"] if "name" in m else m["model"] for m in json.loads(r.output)}
    assert {"alexnet", "resnet50", "exam_q7a"} <= names


@pytest.mark.parametrize(
    ("convention", "published"),
    [
        # resnet50 at 224, batch 1, as each tool prints it (references.md; re-checked against the
        # installed tools in tests/test_conventions.py)
        ("fvcore", 4_111_512_576),
        ("flopcounter", 8_178_368_512),
        ("torchvision", 4_087_136_256 + 2_048_000),
        ("ptflops", 4_132_436_968),
        ("thop", 4_133_742_592),
        ("torchinfo", 4_089_238_376),
    ],
)
def test_summary_convention_json(convention, published):
    d = json.loads(run("summary", "resnet50", "--convention", convention, "-f", "json").output)
    assert d["convention"] == convention
    assert d["flops"] == published
    assert sum(layer["flops"] for layer in d["layers"]) == published


def test_bad_convention():
    r = run("flops", "alexnet", "--convention", "fvcore2")
    assert r.exit_code == 2 and "'fvcore2' is not one of" in r.output
