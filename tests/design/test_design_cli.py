"""The design commands of the CLI: output formats and one-line errors in the CLI's flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _design_data import ALEXNET_MACS

from archcalc.design import EXAM_Q4B

# ================================================================ CLI and imports


def test_cli_schedule_json_and_table(cli):
    r = cli("schedule", "--format", "json", "--top", "3")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["count"] == 792 and len(d["schedules"]) == 3
    assert d["highlight"]["strides"] == list(EXAM_Q4B) and d["highlight"]["rf"] == 235
    r = cli("schedule", "--format", "markdown", "--top", "3")
    assert r.exit_code == 0 and "exam Q4(b) 4,2,1,2,1,2,1,1" in r.output
    assert "| 4,2,1,2,1,2,1,1 | 56,28,28,14,14,7,7,7 |" in r.output


def test_cli_sweep_csv_json(cli):
    args = ["sweep", "--family", "plain", "--depth", "1:8", "--width", "32,64", "--kernel",
            "3,5", "--resolution", "64", "--budget", "40M", "--tolerance", "0.1"]  # fmt: skip
    r = cli(*args, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["band"] == [36_000_000, 44_000_000] and d["evaluated"] == 32
    r = cli(*args, "--format", "csv")
    assert r.output.splitlines()[0].startswith("set,family,depth")
    assert "on_budget,plain,4,32,3,64,32," in r.output


def test_cli_finetune_fcn_explain(cli):
    r = cli("finetune", "alexnet", "--freeze", "features", "--optimizer", "adam")
    assert r.exit_code == 0, r.output
    assert "classifier.1" in r.output and f"{(9216 + 1) * 4096:,}" in r.output
    r = cli("fcn", "alexnet", "--format", "json")
    assert json.loads(r.output)["windows"] == 100
    r = cli("explain-cost", "alexnet", "--method", "occlusion", "--window", "32", "--stride",
            "16", "--format", "csv")  # fmt: skip
    assert r.exit_code == 0 and f"occlusion,170,0,{170 * ALEXNET_MACS}" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "--input", "227"], "error: --final = 7: unreachable from --input 227"),
        (["sweep", "--budget", "1"], "error: --budget = 1 (macs"),
        (["finetune", "alexnet", "--freeze", "layer9"], "error: --freeze = 'layer9'"),
        (["explain-cost", "alexnet", "--method", "x"], "error: --method = 'x'"),
        (["fcn", "alexnet", "--window", "600"], "error: --window = 600x600"),
    ],
)
def test_cli_errors_are_one_line(cli, args, message):
    r = cli(*args)
    assert r.exit_code == 2
    assert r.output.startswith(message) and r.output.count("\n") == 1


def test_design_modules_do_not_import_torch():
    code = (
        "import sys, archcalc, archcalc.design, archcalc.design.sweep, archcalc.cli.design; "
        "print('torch' in sys.modules, 'archcalc.torch.groups' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
