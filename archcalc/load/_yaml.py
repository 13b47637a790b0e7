"""YAML for spec files: libyaml's parser when present, a bounded, strict construction.

``yaml.safe_load`` shares an aliased node between its uses, but everything that later walks
the data (str, repr, validation) expands it again: a 1 kB "billion laughs" file becomes
billions of items. Here the node graph that the (C) parser composes is turned into Python data
by one walk that

* counts the nodes every alias adds (however aliases nest) and stops past ``max_alias_nodes``;
* refuses a key given twice in one mapping (``safe_load`` keeps the last silently);
* builds only YAML's plain types (str, int, float, bool, null, list, mapping); any other tag
  is an error, so no tag ever constructs a Python object;
* builds each distinct scalar once (a 200,000-layer file repeats a few dozen of them);
* reads a long top-level ``layers:`` block whose items are one-line flow mappings
  (``  - {kind: ReLU}``) line by line, each distinct line parsed once by the same YAML
  parser and construction (a 200,000-layer file has a few distinct lines);
* composes any other long ``layers:`` block in chunks of items, so that libyaml's node
  graph (some 300 bytes a node, seven nodes a one-line layer) never holds the whole file.

>>> load_yaml("a: [1, 2]\\nb: {c: true}\\n", 10)
{'a': [1, 2], 'b': {'c': True}}
>>> load_yaml("a: &x [1, 2]\\nb: *x\\n", 10)
{'a': [1, 2], 'b': [1, 2]}
"""

from __future__ import annotations

import gc
import re
from typing import Any, NamedTuple

import yaml

from .._errors import FileFormatError

__all__ = ["load_yaml"]

#: items of the ``layers:`` block composed at a time
CHUNK = 20_000
_LAYERS = re.compile(r"^layers:[ \t]*(#.*)?\n", re.M)
_PLAIN_BLOCK_END = re.compile(r"^[^\s#]", re.M)
_MARKERS = re.compile(r"^(---|\.\.\.|%)", re.M)
#: characters that send a text to the whole-document path: anchors, aliases, tags, and line
#: breaks YAML knows but a split on "\n" does not
_WHOLE = ("&", "*", "!", "\r", "\x85", "\u2028", "\u2029")
_SKIP = object()  # a blank or comment line of a layers block

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def load_yaml(text: str, max_alias_nodes: int) -> Any:
    """The data of one YAML document (``None`` for an empty one)."""
    # the node graph is acyclic and dropped at the end: the cycle collector's passes over
    # millions of young objects would only double the time
    enabled = gc.isenabled()
    gc.disable()
    try:
        block = _layers_block(text)
        if block is not None:
            try:
                data = _load_lines(block, max_alias_nodes)
                if data is not None:
                    return data
                split = _split_layers(text)
                if split is not None:
                    return _load_split(*split, max_alias_nodes)
            except Exception:
                pass  # report errors as the whole file has them (line numbers and all)
        return _load_one(text, _Builder(max_alias_nodes, aliases="*" in text))
    finally:
        if enabled:
            gc.enable()


def _load_one(text: str, builder: _Builder, first_line: int = 0) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    builder.first_line = first_line
    builder.done = {}  # keyed by id(node): ids of a freed graph are reused by the next
    return None if node is None else builder.build(node)


class _Block(NamedTuple):
    """A top-level ``layers:`` block: the document without it, its first line in the file,
    its text, the indentation of its items and where each item starts in the text."""

    rest: str
    line0: int
    text: str
    indent: str
    starts: list[int]


def _layers_block(text: str) -> _Block | None:
    """The top-level block ``layers:`` of a long text; ``None`` when there is no such
    indented block, or the file has anchors, aliases, tags, document markers or line breaks
    other than ``\\n`` (read it whole)."""
    if len(text) < 100_000 or any(c in text for c in _WHOLE):
        return None
    m = _LAYERS.search(text)
    if m is None or _MARKERS.search(text):
        return None
    start = m.end()
    end_m = _PLAIN_BLOCK_END.search(text, start)
    end = end_m.start() if end_m else len(text)
    block = text[start:end]
    first = re.search(r"^( +)- ", block, re.M)
    if first is None:
        return None
    indent = first.group(1)
    starts = [i.start() for i in re.finditer(rf"^{indent}- ", block, re.M)]
    if block[: starts[0]].strip(" \n\t#") != "":
        return None
    line0 = text.count("\n", 0, start)
    return _Block(text[:start] + text[end:], line0, block, indent, starts)


def _split_layers(text: str) -> tuple[str, list[tuple[int, str]]] | None:
    """The document without the items of its top-level block ``layers:``, and those items in
    chunks (first line, text); ``None`` when there is no such block with more than one chunk
    (see :func:`_layers_block`)."""
    b = _layers_block(text)
    if b is None or len(b.starts) <= CHUNK:
        return None
    chunks = []
    bounds = [*b.starts[::CHUNK], len(b.text)]
    for lo, hi in zip(bounds, bounds[1:]):
        chunks.append((b.line0 + b.text.count("\n", 0, lo), b.text[lo:hi]))
    return b.rest, chunks


def _load_rest(rest: str, builder: _Builder) -> dict[Any, Any]:
    data = _load_one(rest, builder)
    if not isinstance(data, dict) or data.get("layers", 0) is not None:
        raise ValueError("not the expected layout")
    return data


def _load_split(rest: str, chunks: list[tuple[int, str]], max_alias_nodes: int) -> Any:
    builder = _Builder(max_alias_nodes, aliases=False)  # _split_layers saw no "*"
    data = _load_rest(rest, builder)
    layers: list[Any] = []
    for line, chunk in chunks:
        items = _load_one(chunk, builder, line)
        if not isinstance(items, list):
            raise ValueError("not a block sequence")
        layers.extend(items)
    data["layers"] = layers
    return data


def _load_lines(block: _Block, max_alias_nodes: int) -> Any:
    """The document of a ``layers:`` block whose lines are each blank, a comment or one item
    that is a flow mapping closed on its line (``  - {kind: ReLU}  # note``); ``None`` for
    any other block. Such an item means the same alone as in the file (no construct spans
    its line: no anchors, aliases, tags or block scalars), so each distinct line is parsed
    once, by the parser and construction of the whole file, and its data copied."""
    builder = _Builder(max_alias_nodes, aliases=False)  # _layers_block saw no "*"
    item = block.indent + "- {"
    parsed: dict[str, Any] = {}  # line -> its item (a dict), or _SKIP
    layers: list[Any] = []
    append = layers.append
    for line in block.text.split("\n"):
        d = parsed.get(line)
        if d is None:
            d = parsed[line] = _parse_line(line, item, builder)
            if d is None:
                return None
        if d is not _SKIP:
            append(d.copy() if type(d) is _Flat else _fresh(d))
    data = _load_rest(block.rest, builder)
    data["layers"] = layers
    return data


class _Flat(dict):  # type: ignore[type-arg]
    """An item whose values are all scalars: a shallow copy is a fresh one."""

    def copy(self) -> dict[Any, Any]:  # type: ignore[override]
        return dict(self)


def _parse_line(line: str, item: str, builder: _Builder) -> Any:
    if not line.strip() or line.lstrip().startswith("#"):
        return _SKIP
    if not line.startswith(item):
        return None
    data = _load_one(line, builder)
    if type(data) is not list or len(data) != 1 or type(data[0]) is not dict:
        return None
    d = data[0]
    if all(type(v) not in (list, dict) for v in d.values()):
        return _Flat(d)
    return d


def _fresh(x: Any) -> Any:
    """A copy of plain data, every list and dict new (scalars are immutable)."""
    t = type(x)
    if t is dict:
        return {k: _fresh(v) for k, v in x.items()}
    if t is list:
        return [_fresh(v) for v in x]
    return x


def _line(node: Any, first_line: int = 0) -> str:
    return f"line {first_line + node.start_mark.line + 1}"


class _Builder:
    """Python data from a composed node graph; ``aliases=False`` (the text has no ``*``, so no
    node is reached twice) skips the bookkeeping of expansion sizes."""

    def __init__(self, max_alias_nodes: int, aliases: bool = True) -> None:
        self.aliases = aliases
        self.limit = max_alias_nodes
        self.aliased = 0
        self.done: dict[int, tuple[Any, int]] = {}  # id(node) -> (data, nodes it holds)
        self.scalars: dict[tuple[str, str], Any] = {}
        self.constructor = yaml.SafeLoader("")
        self.first_line = 0  # of the text being built, in the file

    def build(self, node: Any) -> Any:
        return self._node(node)[0] if self.aliases else self._plain(node)

    def _plain(self, node: Any) -> Any:
        t = type(node)
        if t is yaml.ScalarNode:
            if node.tag == _STR:
                return node.value
            return self._scalar(node)
        self._check_tag(node, _SEQ if t is yaml.SequenceNode else _MAP)
        if t is yaml.SequenceNode:
            return [self._plain(c) for c in node.value]
        d: dict[Any, Any] = {}
        for knode, vnode in node.value:
            k = self._plain(knode)
            self._check_key(d, k, knode)
            d[k] = self._plain(vnode)
        return d

    def _check_tag(self, node: Any, tag: str) -> None:
        if node.tag != tag:
            raise FileFormatError(
                f"tag {node.tag} ({_line(node, self.first_line)}) is not allowed in a spec file"
            )

    def _check_key(self, d: dict[Any, Any], k: Any, knode: Any) -> None:
        if isinstance(k, (list, dict)):
            raise FileFormatError(
                f"a mapping key must be a scalar ({_line(knode, self.first_line)})"
            )
        if k in d:
            raise FileFormatError(
                f"key {k!r} is given twice in one mapping ({_line(knode, self.first_line)}); "
                f"keys must be unique"
            )

    def _node(self, node: Any) -> tuple[Any, int]:
        key = id(node)
        seen = self.done.get(key)
        if seen is not None:  # an alias: the same node again
            self.aliased += seen[1]
            if self.aliased > self.limit:
                raise FileFormatError(
                    f"YAML aliases expand to more than {self.limit:,} nodes ({_line(node, self.first_line)}); "
                    f"set ARCHCALC_MAX_ALIAS_NODES to raise the limit"
                )
            return seen
        t = type(node)
        if t is yaml.ScalarNode:
            out = (self._scalar(node), 1)
        elif t is yaml.SequenceNode:
            out = self._sequence(node)
        else:
            out = self._mapping(node)
        self.done[key] = out
        return out

    def _scalar(self, node: Any) -> Any:
        tag, value = node.tag, node.value
        k = (tag, value)
        if k in self.scalars:
            return self.scalars[k]
        if tag not in _SCALARS:
            raise FileFormatError(
                f"tag {tag} ({_line(node, self.first_line)}) is not allowed in a spec file"
            )
        data = (
            value
            if tag == _STR
            else self.constructor.yaml_constructors[tag](self.constructor, node)
        )
        self.scalars[k] = data
        return data

    def _sequence(self, node: Any) -> tuple[Any, int]:
        self._check_tag(node, _SEQ)
        items, count = [], 1
        for child in node.value:
            data, n = self._node(child)
            items.append(data)
            count += n
        return items, count

    def _mapping(self, node: Any) -> tuple[Any, int]:
        self._check_tag(node, _MAP)
        d: dict[Any, Any] = {}
        count = 1
        for knode, vnode in node.value:
            k, nk = self._node(knode)
            self._check_key(d, k, knode)
            v, nv = self._node(vnode)
            d[k] = v
            count += nk + nv
        return d, count
