"""Output made for people: nothing cut at any width or when piped, names escaped, units,
--depth subtotals, convention labels, compare, hygiene. Expected figures are derived or
published, never copied from archcalc's output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app

runner = CliRunner()
ARCHCALC = [sys.executable, "-c", "from archcalc.cli import main; main()"]


def run(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


def shell(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    """A real process whose stdout is a pipe (not a terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [*ARCHCALC, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _every_name_and_digit(out: str, model: str) -> None:
    s = archcalc.summary(model)
    cells = {c.strip() for line in out.splitlines() for c in line.split("│")}
    for r in s.layers:
        assert r.name in cells, r.name  # the whole name in one cell: not cut, not folded
        for v in (r.params, r.macs):
            assert f"{v:,}" in cells, (r.name, v)


@pytest.mark.parametrize("columns", [None, 80, 120])
def test_piped_and_narrow_tables_keep_every_name_and_digit(columns):
    p = shell("summary", "mobilenet_v3_large", columns=columns)
    assert p.returncode == 0, p.stderr
    _every_name_and_digit(p.stdout, "mobilenet_v3_large")
    if columns is not None:
        assert max(len(line) for line in p.stdout.splitlines()) <= columns
    assert "…" not in p.stdout


def test_piped_resnet50_keeps_everything():
    p = shell("summary", "resnet50")
    assert p.returncode == 0, p.stderr
    _every_name_and_digit(p.stdout, "resnet50")
    assert "25,557,032" in p.stdout  # torchvision's published count


def test_title_names_every_setting():
    r = run("summary", "alexnet", "--batch", "4", "--dtype", "float16", "--head", "gap")
    first = r.output.strip().splitlines()[0]
    for part in ("alexnet", "input 3x224x224", "batch 4", "float16", "head gap", "archcalc"):
        assert part in first


def test_convention_named_beside_its_number():
    r = run("flops", "resnet50", "--convention", "fvcore")
    assert r.exit_code == 0, r.output
    (line,) = [x for x in r.output.splitlines() if "4,111,512,576" in x]  # fvcore's published
    assert "fvcore" in line and "archcalc" not in line


def test_units_beside_exact_integers():
    r = run("params", "resnet50")
    assert "25,557,032 (25.56 M)" in r.output
    r = run("memory", "resnet50", "--units", "iec")
    # the input: 3*224*224 float32 values = 602,112 B = 588 KiB
    assert f"{3 * 224 * 224 * 4:,} (588.00 KiB)" in r.output
    r = run("params", "resnet50", "--units", "exact")
    assert "25,557,032" in r.output and "25.56 M" not in r.output


def test_size_block():
    out = run("memory", "alexnet").output
    for label in ("input bytes", "weights bytes", "peak inference bytes", "estimated total"):
        assert label in out


def test_depth_1_json_groups_add_up_to_the_published_count():
    d = json.loads(run("summary", "resnet50", "--depth", "1", "--format", "json").output)
    names = [g["name"] for g in d["layers"]]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"] + [
        "avgpool",
        "flatten",
        "fc",
    ]
    assert sum(g["params"] for g in d["layers"]) == 25_557_032
    # fc: (2048 + 1) * 1000; its share of the total
    (fc,) = [g for g in d["layers"] if g["name"] == "fc"]
    assert fc["params"] == 2049 * 1000
    assert fc["params_share"] == pytest.approx(2049 * 1000 / 25_557_032)


def test_depth_table_and_tree():
    out = run("summary", "resnet50", "--depth", "2").output
    assert "layer1.0" in out and "% params" in out
    tree = run("params", "resnet50", "--format", "tree", "--depth", "2").output
    assert "layer4 [" in tree and "conv1 (Conv2d)" in tree and "conv3 (Conv2d)" not in tree


def test_names_are_escaped(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text(
        "name: evil\ninput: [3, 8, 8]\nlayers:\n"
        "  - {name: '[red]evil[/red]', kind: Conv2d, in_channels: 3, out_channels: 4, "
        "kernel_size: 3}\n"
        "  - {name: 'a|b', kind: ReLU}\n",
        encoding="utf-8",
    )
    assert "[red]evil[/red]" in run("summary", str(spec)).output
    md = run("summary", str(spec), "-f", "markdown").output
    assert "a\\|b" in md and "\\[red\\]evil\\[/red\\]" in md


def test_hygiene_version_choices_and_options_per_command():
    assert run("--version").output.strip() == f"archcalc {archcalc.__version__}"
    help_ = run("summary", "--help", terminal_width=200).output
    assert "fc|gap|conv" in help_ and "float8" in help_ and "fvcore" in help_
    rf_help = run("rf", "--help").output
    assert "--convention" not in rf_help and "--dtype" not in rf_help
    assert "--batch" not in run("params", "--help").output


def test_compare_models_json():
    r = run("compare", "resnet50", "convnext_tiny", "--format", "json")
    assert r.exit_code == 0, r.output
    a, b = json.loads(r.output)["variants"]
    assert (a["model"], a["params"]) == ("resnet50", 25_557_032)
    assert b["model"] == "convnext_tiny" and b["params"] == 28_589_128  # torchvision's count
    assert b["ratios"]["params"] == pytest.approx(28_589_128 / 25_557_032, abs=1e-4)


def test_compare_heads_table():
    r = run("compare", "alexnet", "--head", "fc", "--head", "gap")
    assert r.exit_code == 0, r.output
    assert "head gap" in r.output and "61,100,840" in r.output and "x)" in r.output


def test_docs_refuses_empty_and_unrelated_targets(tmp_path, monkeypatch):
    assert run("docs", "").exit_code == 2
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    r = run("docs", str(f))
    assert r.exit_code == 2 and "is a file" in r.output
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep", encoding="utf-8")
    assert run("docs", str(other)).exit_code == 2
    monkeypatch.chdir(tmp_path)
    r = run("docs")  # outside the project: no default, nothing written
    assert r.exit_code == 2 and "OUT_DIR" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]


def test_missing_extra_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    r = run("docs", str(tmp_path / "out"), "--plots")
    assert r.exit_code == 2 and "pip install 'archcalc[plots]'" in r.output


def test_huge_figures_print_exactly():
    big = 10**2200  # its figures pass Python's 4,300-digit int->str limit
    p = shell("shapes", "docs/examples/tiny_resnet.yaml", "--input", f"3x{big}x{big}", "-f", "csv")
    assert p.returncode == 0, p.stderr[-500:]
    assert f"16x{big}x{big}" in p.stdout


def test_long_values_are_capped_in_errors():
    r = run("params", "n" * 100_000)
    assert r.exit_code == 2 and len(r.output) < 1000 and "characters" in r.output


def test_error_attributes_translate_to_flags():
    from archcalc._errors import OptionError
    from archcalc.cli.flags import describe

    e = OptionError(argument="max_stride", value=0, reason="must be positive")
    assert (e.argument, e.value) == ("max_stride", 0)
    assert str(e) == "max_stride = 0: must be positive"
    assert describe(e) == "--max-stride = 0: must be positive"


def test_no_traceback_or_ansi_when_piped():
    p = shell("flops", "alexnet", "--depth", "1")
    assert p.returncode == 0 and "\x1b[" not in p.stdout
    assert re.search(r"features\s+│\s+block", p.stdout)
