"""Long spec files: the line-by-line reading of a ``layers:`` block of one-line flow mappings
gives exactly what YAML gives for the whole file, takes only what it can read that way, and
reports errors as the whole file has them."""

from __future__ import annotations

import pytest
import yaml

import archcalc
from archcalc.load import _yaml

CONV = "{kind: Conv2d, in_channels: 4, out_channels: 4, kernel_size: %s}"
LINES = [
    "  - " + CONV % "1",
    "  - " + CONV % "[1, 3]" + "  # a nested list",
    "  - {name: 'r: x', kind: ReLU}",
    '  - {kind: "ReLU", extra: [yes, no, ~, 1.5, 0x10, 1_000, .inf, "#"]}',
    "",
    "  # a comment line",
    "# a comment at column 0",
    "  - {kind: ReLU, map: {a: 1, b: [2, {c: 3}]}}",
]


def _yaml_load(text: str) -> object:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _text(lines: list[str], repeat: int = 400) -> str:
    body = "\n".join(lines * repeat)
    return f"name: long\ninput: [4, 8, 8]\nlayers:\n{body}\ndescription: after the layers\n"


def _lines_taken(text: str) -> bool:
    block = _yaml._layers_block(text)
    try:
        return block is not None and _yaml._load_lines(block, 10) is not None
    except Exception:  # load_yaml reads the whole file then
        return False


def test_line_by_line_equals_yaml():
    text = _text(LINES)
    assert _lines_taken(text)
    data = _yaml.load_yaml(text, 10)
    assert data == _yaml_load(text)
    layers = data["layers"]
    assert len(layers) == 5 * 400
    # each item its own data: no list or dict shared between items
    assert layers[0] is not layers[5] and layers[1]["kernel_size"] is not layers[6]["kernel_size"]
    assert layers[4]["map"]["b"] is not layers[9]["map"]["b"]


@pytest.mark.parametrize(
    "odd",
    [
        "  - {kind: Conv2d,\n      in_channels: 4}",  # a mapping over two lines
        "  - kind: ReLU",  # a block mapping
        "  - |\n    # text, not a comment",  # a block scalar
        "  -  {kind: ReLU}",  # another indentation of the flow mapping
        "  - {kind: ReLU}\n  - ",  # an empty item
        "  - [1, 2]",
    ],
)
def test_other_blocks_are_read_whole(odd):
    text = _text([LINES[0], odd])
    assert not _lines_taken(text)
    assert _yaml.load_yaml(text, 10) == _yaml_load(text)


@pytest.mark.parametrize("mark", ["&a ", "!!str ", "\r"])
def test_anchors_tags_and_other_line_breaks_are_read_whole(mark):
    text = _text([LINES[0], "  - {kind: ReLU, x: " + mark + "1}"])
    assert _yaml._layers_block(text) is None


def test_errors_name_their_line_in_the_whole_file(tmp_path):
    lines = [LINES[0], "  - {kind: ReLU}"] * 3_000
    lines[4_001] = "  - {kind: ReLU, kind: Sigmoid}"
    text = _text(lines, 1)
    line = text.count("\n", 0, text.index("kind: Sigmoid")) + 1
    with pytest.raises(archcalc.FileFormatError, match=f"'kind' is given twice .*line {line}\\)"):
        _yaml.load_yaml(text, 10)
    p = tmp_path / "dup.yaml"
    p.write_text(text)
    with pytest.raises(archcalc.FileFormatError, match=f"^dup.yaml: .*line {line}\\)"):
        archcalc.summary(str(p))


def test_a_long_file_summarises_like_its_json_twin(tmp_path):
    import json

    lines = ["  - " + CONV % "1", "  - {kind: ReLU}"] * 3_000
    y = tmp_path / "m.yaml"
    y.write_text(_text(lines, 1))
    j = tmp_path / "m.json"
    j.write_text(json.dumps(_yaml_load(y.read_text())))
    assert archcalc.summary(str(y)).to_dict() == archcalc.summary(str(j)).to_dict()
