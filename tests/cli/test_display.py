"""Summary in Python: repr, notebook displays, DataFrame, Markdown, LaTeX, HTML, to_dict."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.report import group_layers, readable


@pytest.fixture(scope="module")
def s():
    return archcalc.summary("resnet50")


def test_short_repr(s):
    text = repr(s)
    assert len(text) < 400 and "resnet50" in text and "25,557,032" in text


def test_notebook_displays(s):
    assert s._repr_html_().startswith('<table class="archcalc-summary">')
    assert "| layer1.0.conv1 |" in s._repr_markdown_()
    import io

    from rich.console import Console

    console = Console(width=300, record=True, file=io.StringIO())
    console.print(s)
    assert "layer4.2.conv3" in console.export_text()


def test_dataframe_sums_to_params(s):
    pytest.importorskip("pandas")
    df = s.to_dataframe()
    assert len(df) == len(s.layers) and int(df["params"].sum()) == 25_557_032
    grouped = s.to_dataframe(depth=1)
    assert int(grouped["params"].sum()) == 25_557_032


def test_latex_booktabs_and_escaping(s):
    tex = s.to_latex(depth=1)
    assert "\\toprule" in tex and "\\bottomrule" in tex and "25{,}557{,}032" not in tex
    assert "2{,}049{,}000" in tex  # fc: (2048 + 1) * 1000


def test_symbolic_latex():
    sym = archcalc.summary("docs/examples/tiny_resnet.yaml", input="3xHxW")
    tex = sym.to_latex(view="flops")
    assert "$" in tex and "floor" not in tex.replace("\\lfloor", "")
    assert "\\lfloor" in tex or "H W" in tex


def test_to_dict_one_type_per_field(s):
    rfs = [layer["receptive_field"] for layer in s.to_dict()["layers"]]
    assert all(isinstance(rf, dict) and isinstance(rf["global"], bool) for rf in rfs)
    assert rfs[-1]["global"] is True and rfs[0]["global"] is False


def test_groups_and_units(s):
    groups = group_layers(s, 1)
    assert sum(g.params for g in groups) == s.params
    assert sum(g.macs for g in groups) == s.macs
    assert readable(1536, "B", "iec") == "1.50 KiB" and readable(999) == "999"
