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


# ---------------------------------------------------------------- hostile files (issue 15)

BOMB = "".join(
    f"{a}: &{a} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for a, p in zip("abcdefghi", [""] + list("abcdefgh"))
)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_alias_bomb_fails_fast(tmp_path):
    import time

    # 9 levels of 9 aliases: 9**9 (387 million) strings once expanded, in under 1 kB
    p = _write(tmp_path, "bomb.yaml", BOMB + "layers: [{kind: ReLU}]\n")
    assert p.stat().st_size < 1024
    t0 = time.perf_counter()
    with pytest.raises(archcalc.FileFormatError, match="aliases expand to more than 100,000"):
        load_spec(p)
    assert time.perf_counter() - t0 < 2


def test_aliases_within_the_limit_are_shared(tmp_path):
    text = (
        "input: [4, 8, 8]\nlayers:\n"
        "  - &c {kind: Conv2d, in_channels: 4, out_channels: 4, kernel_size: 3, padding: 1}\n"
        "  - *c\n  - *c\n"
    )
    m = load_spec(_write(tmp_path, "ok.yaml", text))
    assert [n.name for n in m.nodes] == ["0", "1", "2"]
    # three 3x3 convs of 4 channels: 3 * (4*4*9 + 4)
    assert archcalc.summary(m).params == 3 * (4 * 4 * 9 + 4)


def test_alias_limit_is_configurable(tmp_path, monkeypatch):
    text = "input: [1, 4, 4]\nlayers:\n  - &r {kind: ReLU}\n" + "  - *r\n" * 10
    p = _write(tmp_path, "r.yaml", text)
    monkeypatch.setenv("ARCHCALC_MAX_ALIAS_NODES", "5")
    with pytest.raises(archcalc.FileFormatError, match="more than 5 nodes"):
        load_spec(p)
    monkeypatch.setenv("ARCHCALC_MAX_ALIAS_NODES", "100")
    assert len(load_spec(p).nodes) == 11


@pytest.mark.parametrize(
    ("name", "text", "key"),
    [
        ("d.yaml", "name: a\nname: b\nlayers: [{kind: ReLU}]\n", "'name'"),
        ("d.yaml", "layers: [{kind: ReLU, kind: Sigmoid}]\n", "'kind'"),
        ("d.json", '{"layers": [{"kind": "ReLU"}], "layers": []}', "layers"),
        ("d.json", '{"layers": [{"kind": "ReLU", "kind": "Sigmoid"}]}', "kind"),
    ],
)
def test_duplicate_keys_are_errors(tmp_path, name, text, key):
    with pytest.raises(archcalc.FileFormatError, match=f"{key}.* given twice") as e:
        load_spec(_write(tmp_path, name, text))
    assert "\n" not in str(e.value) and str(e.value).startswith(name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layers: [{kind: ReLU}]\noutput: input\n", "output = 'input' selects no layer"),
        ("layers: [{kind: ReLU}]\noutput: nope\n", "output 'nope' is not a layer name"),
        ("layers: [{kind: ReLU}]\noutput: [a]\n", "output = ['a']: must be a string"),
        ("layers: [{kind: ReLU}]\nfeatures: [c]\n", "features = ['c']: must be a string"),
        ("a: !!python/name:os.system ''\nlayers: [{kind: ReLU}]\n", "not valid YAML"),
        ("a: !!binary aGk=\nlayers: [{kind: ReLU}]\n", "tag:yaml.org,2002:binary"),
    ],
)
def test_outputs_and_tags(tmp_path, text, message):
    with pytest.raises(
        archcalc.ArchcalcError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        load_spec(_write(tmp_path, "o.yaml", text))


def test_file_conditions_are_one_line_errors(tmp_path):
    import os

    def err(path, **kw):
        with pytest.raises(archcalc.ArchcalcError) as e:
            load_spec(path, **kw)
        msg = str(e.value)
        assert "\n" not in msg and str(path) in msg, msg
        return msg

    assert "no such file" in err(tmp_path / "missing.yaml")
    (tmp_path / "dir.yaml").mkdir()
    assert "is a directory" in err(tmp_path / "dir.yaml")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert "is a FIFO" in err(fifo)  # refused without opening it (opening would block)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\nlayers: [{kind: ReLU}]\n".encode("latin-1"))
    assert f"not UTF-8 text (byte 0xe9 at offset {len('name: caf')})" in err(bad)
    big = _write(tmp_path, "big.yaml", "layers: [{kind: ReLU}]\n" + "#" * 100 + "\n")
    assert "is 124 bytes; spec files are limited to 100 bytes" in err(big, max_bytes=100)
    if os.geteuid() != 0:  # root reads any file
        locked = _write(tmp_path, "locked.yaml", "layers: [{kind: ReLU}]\n")
        locked.chmod(0)
        assert "cannot be read" in err(locked)


def test_size_limit_from_the_environment(tmp_path, monkeypatch):
    p = _write(tmp_path, "s.yaml", "layers: [{kind: ReLU}]\n")
    monkeypatch.setenv("ARCHCALC_MAX_SPEC_BYTES", "10")
    with pytest.raises(archcalc.FileFormatError, match="limited to 10 bytes"):
        load_spec(p)
    monkeypatch.setenv("ARCHCALC_MAX_SPEC_BYTES", "lots")
    with pytest.raises(archcalc.FileFormatError, match="ARCHCALC_MAX_SPEC_BYTES = 'lots'"):
        load_spec(p)


def test_inputs_of_any_rank_in_files(tmp_path):
    text = '{"input": [10], "layers": [{"kind": "Linear", "in_features": 10, "out_features": 4}]}'
    s = archcalc.summary(str(_write(tmp_path, "v.json", text)))
    assert s.input_shape == (10,) and s.params == 10 * 4 + 4


def test_long_layer_lists_are_composed_in_chunks(monkeypatch):
    from archcalc.load import _yaml

    monkeypatch.setattr(_yaml, "CHUNK", 7)
    items = "".join(
        f"  - {{kind: Conv2d, in_channels: 4, out_channels: 4, kernel_size: {1 + i % 3}}}\n"
        f"  - {{name: r{i}, kind: ReLU}}  # comment\n"
        for i in range(2000)
    )
    text = f"name: long\ninput: [4, 8, 8]\nlayers:\n{items}description: after the layers\n"
    assert _yaml._split_layers(text) is not None  # the chunked path is taken
    assert _yaml.load_yaml(text, 10) == yaml.safe_load(text)
    # an error in a later chunk is reported at its line in the whole file
    bad = text.replace("name: r1500,", "name: r1500, name: again,")
    line = bad[: bad.index("name: again")].count("\n") + 1
    with pytest.raises(archcalc.FileFormatError, match=f"'name' is given twice .*line {line}\\)"):
        _yaml.load_yaml(bad, 10)
