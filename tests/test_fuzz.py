"""Hostile input, generated: random malformed spec files and random CLI argument lists.

Every run must end in success or in an :class:`~archcalc.ArchcalcError` whose message is one
line (exit 2 from the CLI, never a traceback or an "internal error"), within a time bound.
The vocabularies mix valid values with the kinds of hostile value that broke archcalc before
(issue "Hostile input"): strings for numbers and bools, negative, zero and huge sizes,
superscript digits, huge exponents, unhashable lists, rich markup in names.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import archcalc
from archcalc import ArchcalcError
from archcalc.cli import app
from archcalc.kinds import LAYER_KINDS
from archcalc.load.specfile import model_from_dict

#: seconds one generated case may take (a valid hostile input's work is bounded by design)
BOUND = 20.0

FIELD_NAMES = sorted(
    {f for cls in LAYER_KINDS.values() for f in getattr(cls, "__dataclass_fields__", {})}
)
SCALARS = st.one_of(
    st.integers(-3, 12),
    st.sampled_from([0, 1, 2, 3, 64, 2**31, 10**12]),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "same", "valid", "false", "abc", "1e999999999", "²", "[red]x[/red]"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@st.composite
def layer_dicts(draw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "kind": draw(st.one_of(st.sampled_from(sorted(LAYER_KINDS)), SCALARS)),
    }
    for name in draw(st.lists(st.sampled_from([*FIELD_NAMES, "bogus"]), max_size=5)):
        d[name] = draw(VALUES)
    if draw(st.booleans()):
        d["name"] = draw(st.one_of(st.text(max_size=8), SCALARS))
    if draw(st.booleans()):
        d["inputs"] = draw(st.one_of(st.lists(st.text(max_size=4), max_size=3), SCALARS))
    return d


@st.composite
def spec_dicts(draw: Any) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)  # not even a mapping
    spec: dict[str, Any] = {"name": "fuzz"}
    spec["input"] = draw(
        st.one_of(
            st.lists(st.integers(-1, 40), min_size=0, max_size=4),
            st.just([3, 16, 16]),
            VALUES,
        )
    )
    spec["layers"] = draw(st.one_of(st.lists(layer_dicts(), max_size=4), VALUES))
    for key in draw(st.lists(st.sampled_from(["output", "features", "description", "x"]))):
        spec[key] = draw(st.one_of(st.text(max_size=6), VALUES))
    return spec


def _one_line(msg: str) -> bool:
    return bool(msg.strip()) and "\n" not in msg.strip()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(spec_dicts())
def test_malformed_spec_data_ends_in_figures_or_a_one_line_error(spec: Any) -> None:
    t0 = time.perf_counter()
    try:
        model = model_from_dict(spec)
        s = archcalc.summary(model)
        json.dumps(s.to_dict(), default=str)
    except ArchcalcError as e:
        assert _one_line(str(e)), repr(str(e))
    assert time.perf_counter() - t0 < BOUND


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_dicts(), st.sampled_from(["yaml", "json"]))
def test_malformed_spec_files_exit_2_with_one_line(
    tmp_path_factory: Any, spec: Any, fmt: str
) -> None:
    path = tmp_path_factory.mktemp("spec") / f"net.{fmt}"
    text = json.dumps(spec, default=str)  # JSON is YAML too
    path.write_text(text)
    t0 = time.perf_counter()
    r = CliRunner().invoke(app, ["summary", str(path), "--format", "json"])
    assert time.perf_counter() - t0 < BOUND
    assert r.exit_code in (0, 2), (r.exit_code, r.output, text)
    if r.exit_code == 2:
        assert "internal error" not in r.output and "Traceback" not in r.output
        errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, r.output


MODELS = ["alexnet", "exam_q7a", "docs/examples/tiny_resnet.yaml", "no_such_model", ""]
OPTION_VALUES = {
    "--input": ["3x64x64", "64x64", "3xHxW", "3x²x224", "0x0", "-3x8x8", "3x65536", "x", ""],
    "--batch": ["1", "4", "0", "-1", "³", "B", "1e999999999", "abc"],
    "--dtype": ["float32", "float16", "fp16", "int3", ""],
    "--head": ["fc", "gap", "conv", "bogus"],
    "--classes": ["10", "0", "-5", "many"],
    "--format": ["table", "json", "csv", "markdown", "xml"],
    "--convention": ["archcalc", "fvcore", "ptflops", "thop", "nope"],
}
COMMANDS = ["summary", "params", "flops", "memory", "rf", "shapes"]


@st.composite
def cli_args(draw: Any) -> list[str]:
    args = [draw(st.sampled_from(COMMANDS)), draw(st.sampled_from(MODELS))]
    for opt in draw(st.lists(st.sampled_from(sorted(OPTION_VALUES)), max_size=4, unique=True)):
        args += [opt, draw(st.sampled_from(OPTION_VALUES[opt]))]
    return args


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cli_args())
def test_random_cli_arguments_exit_0_or_2(args: list[str]) -> None:
    t0 = time.perf_counter()
    r = CliRunner().invoke(app, args)
    assert time.perf_counter() - t0 < BOUND, args
    assert r.exit_code in (0, 2), (args, r.exit_code, r.output)
    assert "internal error" not in r.output and "Traceback" not in r.output, (args, r.output)
    if r.exit_code == 2:
        errors = [ln for ln in r.output.splitlines() if ln.startswith(("error:", "Error", "Usage"))]
        assert errors, (args, r.output)
