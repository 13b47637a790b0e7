"""``memory --train --plot``: an SVG of live memory across the step with the peak marked."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app

pytest.importorskip("matplotlib")


def test_plot_marks_the_reports_peak(tmp_path):
    out = tmp_path / "step.svg"
    r = CliRunner().invoke(app, ["memory", "exam_q7a", "--train", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    report = archcalc.training_step(archcalc.load_model("exam_q7a"))
    # the annotation names the same peak, phase and layer as the table
    assert f"peak {report.peak_bytes:,} B" in svg
    assert report.peak_layer in svg
    assert f"{report.peak_bytes:,}" in r.output


def test_plot_without_train_is_refused(tmp_path):
    r = CliRunner().invoke(app, ["memory", "alexnet", "--plot", str(tmp_path / "x.svg")])
    assert r.exit_code == 2
    assert not (tmp_path / "x.svg").exists()


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = CliRunner().invoke(app, ["memory", "alexnet", "--train", "--plot", str(tmp_path / "x.svg")])
    assert r.exit_code == 2, r.output
    assert "matplotlib" in r.output and "plots" in r.output
