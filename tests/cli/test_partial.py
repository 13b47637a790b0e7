"""``--partial``: a ``file.py:factory`` model whose torch code calls an operation archcalc
cannot map (here ``torch.cumsum``) is analysed with that operation as a listed gap instead of
failing; each gap is a line on stderr (the operation, the module path, the source line) and
an entry under ``gaps`` in JSON. Expected figures are derived from the factory's layers."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

pytest.importorskip("torch")

runner = CliRunner()

FACTORY = textwrap.dedent(
    """\
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            x = self.conv(x)
            x = torch.cumsum(x, dim=1)
            return self.fc(self.pool(x).flatten(1))


    def net():
        return Net()
    """
)
CUMSUM_LINE = 1 + FACTORY.splitlines().index("        x = torch.cumsum(x, dim=1)")
PARAMS = (3 * 3 * 3 * 8 + 8) + (8 * 10 + 10)  # conv weights + bias, linear weights + bias


@pytest.fixture
def factory(tmp_path: Path) -> str:
    path = tmp_path / "cumnet.py"
    path.write_text(FACTORY)
    return f"{path}:net"


def run(*args: str):
    return runner.invoke(app, list(args))


def test_without_partial_the_op_is_a_named_error_that_points_at_the_flag(factory):
    r = run("summary", factory, "-i", "3x16x16")
    assert r.exit_code == 2
    assert "torch.cumsum" in r.stderr
    assert f"cumnet.py:{CUMSUM_LINE}" in r.stderr
    assert "--partial" in r.stderr
    assert "partial=True" not in r.stderr


def test_partial_prints_each_gap_on_stderr_and_analyses_the_rest(factory):
    r = run("params", factory, "-i", "3x16x16", "--partial", "-f", "csv")
    assert r.exit_code == 0, r.output
    gaps = [line for line in r.stderr.splitlines() if line.startswith("gap: ")]
    assert len(gaps) == 1
    assert gaps[0].startswith("gap: torch.cumsum (")
    assert "module 'Net'" in gaps[0] or "Net.forward" in gaps[0]  # where: the caller
    assert f"cumnet.py:{CUMSUM_LINE}" in gaps[0]  # the source line
    assert "Identity placeholder" in gaps[0]
    rows = [line.split(",") for line in r.stdout.splitlines()[1:]]
    assert [(row[1], row[2], int(row[4])) for row in rows] == [
        ("conv", "Conv2d", 3 * 3 * 3 * 8 + 8),
        ("cumsum", "Identity", 0),  # the placeholder: torch.cumsum keeps the shape
        ("pool", "AdaptiveAvgPool2d", 0),
        ("flatten", "Flatten", 0),
        ("fc", "Linear", 8 * 10 + 10),
    ]


def test_partial_json_lists_the_gaps(factory):
    r = run("summary", factory, "-i", "3x16x16", "--partial", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["params"] == PARAMS
    [gap] = d["gaps"]
    assert gap["op"] == "torch.cumsum"
    assert f"cumnet.py:{CUMSUM_LINE}" in gap["where"]
    assert gap["action"] == "identity"
    assert gap["placeholder"] in {row["name"] for row in d["layers"]}


@pytest.mark.parametrize("command", ["summary", "params", "flops", "memory", "rf", "shapes"])
def test_every_per_layer_command_takes_partial(factory, command):
    r = run(command, factory, "-i", "3x16x16", "--partial", "-f", "json")
    assert r.exit_code == 0, r.output
    assert [g["op"] for g in json.loads(r.stdout)["gaps"]] == ["torch.cumsum"]
    assert "gap: torch.cumsum" in r.stderr


def test_compare_lists_the_gaps_of_each_model_once(factory):
    r = run("compare", factory, "resnet18", "-i", "3x32x32", "--partial", "-f", "json")
    assert r.exit_code == 0, r.output
    gaps = json.loads(r.stdout)["gaps"]
    assert [(g["model"], g["op"]) for g in gaps] == [(factory, "torch.cumsum")]
    assert r.stderr.count("gap: torch.cumsum") == 1


def test_check_takes_partial(factory):
    r = run("check", factory, "-i", "3x8x8", "--no-rf", "--partial", "-f", "json")
    assert r.exit_code == 0, r.output
    assert [g["op"] for g in json.loads(r.stdout)["gaps"]] == ["torch.cumsum"]


def test_partial_on_a_model_without_gaps(factory):
    r = run("params", "resnet18", "--partial", "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["gaps"] == []
    assert r.stderr == ""
    # without --partial the JSON is as before: no gaps key
    assert "gaps" not in json.loads(run("params", "resnet18", "-f", "json").stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["memory", "--train"],
        ["fit", "--memory", "1GiB"],
        ["finetune"],
        ["explain-cost", "--method", "gradient"],
    ],
    ids=["memory-train", "fit", "finetune", "explain-cost"],
)
def test_training_and_design_commands_take_partial(factory, args):
    command, *rest = args
    r = run(command, factory, *rest, "-i", "3x16x16")
    assert r.exit_code == 2 and "--partial" in r.stderr  # without it: the named op
    r = run(command, factory, *rest, "-i", "3x16x16", "--partial")
    assert r.exit_code == 0, r.output
    assert r.stderr.count("gap: torch.cumsum") == 1
