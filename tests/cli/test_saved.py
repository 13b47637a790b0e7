"""``archcalc memory MODEL --saved``: one row per tensor autograd keeps, the total equal to the
``saved for backward bytes`` of ``archcalc memory MODEL``; JSON carries the same list; flags it
cannot go with are refused in one line (exit 2). Expected figures derived by hand."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()

SPEC = {
    "name": "cbrp",
    "input": [1, 4, 4],
    "layers": [
        {"name": "conv", "kind": "Conv2d", "in_channels": 1, "out_channels": 2,
         "kernel_size": 3, "padding": 1},
        {"name": "bn", "kind": "BatchNorm2d", "num_features": 2},
        {"name": "relu", "kind": "ReLU"},
        {"name": "pool", "kind": "MaxPool2d", "kernel_size": 2},
    ],
}  # fmt: skip

# batch 2, float32 (4 B); input 1x4x4, conv and bn outputs 2x4x4, pool output 2x2x2
EXPECTED = [
    # the conv keeps the model input: 2*1*4*4 = 32 el * 4 B
    {"layer": "conv", "kind": "Conv2d", "tensor": "input 0 (input)", "elements": 32,
     "bytes": 32 * 4, "kept_by": None},
    # the bn keeps its input, the conv output: 2*2*4*4 = 64 el * 4 B
    {"layer": "bn", "kind": "BatchNorm2d", "tensor": "input 0 (conv)", "elements": 64,
     "bytes": 64 * 4, "kept_by": None},
    # running mean and var, 2*C = 4 el in float32
    {"layer": "bn", "kind": "BatchNorm2d", "tensor": "running stats (module buffer)",
     "elements": 4, "bytes": 4 * 4, "kept_by": None},
    # batch mean and invstd, 2*C = 4 el in the accumulate dtype (float32)
    {"layer": "bn", "kind": "BatchNorm2d", "tensor": "batch mean/invstd", "elements": 4,
     "bytes": 4 * 4, "kept_by": None},
    # the relu keeps its output: 64 el * 4 B
    {"layer": "relu", "kind": "ReLU", "tensor": "output", "elements": 64, "bytes": 64 * 4,
     "kept_by": None},
    # the pool's input is the relu output, kept already
    {"layer": "pool", "kind": "MaxPool2d", "tensor": "input 0 (relu)", "elements": 64,
     "bytes": 0, "kept_by": "relu"},
    # int64 argmax indices, one per output element: 2*2*2*2 = 16 el * 8 B
    {"layer": "pool", "kind": "MaxPool2d", "tensor": "argmax indices", "elements": 16,
     "bytes": 16 * 8, "kept_by": None},
]  # fmt: skip
TOTAL = 128 + 256 + 16 + 16 + 256 + 0 + 128


@pytest.fixture
def spec(tmp_path: Path) -> str:
    p = tmp_path / "cbrp.json"
    p.write_text(json.dumps(SPEC))
    return str(p)


def run(*args: str):
    # a wide terminal: at 80 columns the table wraps a row's cells onto two lines (nothing
    # is cut), which the row parser below would read as two rows
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_json_lists_each_tensor(spec: str) -> None:
    r = run("memory", spec, "--batch", "2", "--saved", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["saved_tensors"] == EXPECTED
    assert d["memory"]["saved_for_backward_bytes"] == TOTAL


def test_table_rows_and_total(spec: str) -> None:
    r = run("memory", spec, "--batch", "2", "--saved", "--units", "exact")
    assert r.exit_code == 0, r.output
    rows = [
        [c.strip() for c in line.strip("│").split("│")]
        for line in r.output.splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        [
            e["layer"],
            e["kind"],
            e["tensor"] if e["kept_by"] is None else f"{e['tensor']}, already kept by relu",
            f"{e['elements']:,}",
            f"{e['bytes']:,}",
        ]
        for e in EXPECTED
    ]
    assert f"saved for backward bytes: {TOTAL:,}" in r.output


def test_csv_has_a_header_and_one_row_per_tensor(spec: str) -> None:
    r = run("memory", spec, "--batch", "2", "--saved", "-f", "csv")
    assert r.exit_code == 0, r.output
    got = list(csv.reader(io.StringIO(r.output)))
    assert got[0] == ["layer", "kind", "tensor", "elements", "bytes"]
    assert [int(row[4]) for row in got[1:]] == [e["bytes"] for e in EXPECTED]


@pytest.mark.parametrize("model", ["alexnet", "resnet18"])
def test_total_equals_the_memory_figure(model: str) -> None:
    plain = run("memory", model, "--units", "exact")
    listed = run("memory", model, "--saved", "--units", "exact")
    assert plain.exit_code == 0 and listed.exit_code == 0
    line = re.compile(r"^saved for backward bytes: [\d,]+$", re.M)
    assert line.findall(plain.output) == line.findall(listed.output)
    assert len(line.findall(listed.output)) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("--train",), "error: --saved lists the tensors"),
        (("--depth", "1"), "error: --depth = 1: --saved lists tensors one by one"),
        (("-f", "tree"), "error: --format = 'tree': --saved lists rows"),
    ],
)
def test_flags_it_cannot_go_with(args: tuple[str, ...], message: str) -> None:
    r = run("memory", "alexnet", "--saved", *args)
    assert r.exit_code == 2
    assert r.output.startswith(message) and r.output.count("\n") == 1
    assert "Traceback" not in r.output
