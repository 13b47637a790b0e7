"""Spec files (YAML, TOML, JSON): the examples in docs/, round trips and malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import archcalc
from archcalc.load.specfile import load_spec, model_to_dict

DOCS = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_yaml_example_figures():
    s = archcalc.summary(str(DOCS / "tiny_resnet.yaml"))
    # conv1 3*16*9, bn1 2*16, conv2 16*16*9, bn2 2*16, fc (16 + 1)*10
    assert s.params == 3 * 16 * 9 + 32 + 16 * 16 * 9 + 32 + 17 * 10
    # two 3x3 convs on the residual path: 1 + 2*2 = 5
    assert s.rf.size == (5, 5) and s.rf_layer == "relu2"


def test_toml_example_figures():
    s = archcalc.summary(str(DOCS / "coordconv.toml"))
    assert s.layers[0].output_shape == (3 + 2, 64, 64)
    assert s.params == 5 * 32 * 9 + 32
    assert s.macs == 32 * 64 * 64 * 5 * 9


def test_round_trip_through_yaml(tmp_path):
    m = archcalc.zoo.get("alexnet")
    p = tmp_path / "alex.yaml"
    p.write_text(yaml.safe_dump(model_to_dict(m)))
    again = load_spec(p)
    assert again.nodes == m.nodes


def test_json_spec(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(
        json.dumps(
            {
                "input": [1, 8, 8],
                "layers": [
                    {"kind": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3}
                ],
            }
        )
    )
    assert archcalc.summary(str(p)).params == 2 * 9 + 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layers: [", "not valid YAML"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("layers: []\n", "non-empty list"),
        ("input: [3, 0, 8]\nlayers: [{kind: ReLU}]\n", "input = [3, 0, 8]"),
        ("layers: [{kind: Conv9d}]\n", "layer 0 '0': kind = 'Conv9d': unknown layer kind"),
        ("layers: [{kind: ReLU, slope: 2}]\n", "unknown field(s) slope"),
        (
            "layers: [{name: a, kind: ReLU}, {kind: Add, inputs: [a, b]}]\n",
            "input 'b' is not the model input or an earlier layer",
        ),
        (
            "layers: [{kind: Conv2d, in_channels: 3, out_channels: 4, kernel_size: 3, stride: 0}]\n",
            "layer 0 '0': Conv2d.stride = 0: must be >= 1",
        ),
        ("layers: [{kind: ReLU}]\nextra: 1\n", "unknown top-level key(s) extra"),
        ("!!python/object:os.system {}\n", "not valid YAML"),
    ],
)
def test_malformed_files(tmp_path, text, message):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(archcalc.ArchcalcError) as e:
        archcalc.summary(str(p))
    assert message in str(e.value)
    assert str(e.value).startswith("bad.yaml")
