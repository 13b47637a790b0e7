"""YAML for spec files: libyaml's parser when present, a bounded, strict construction.

``yaml.safe_load`` shares an aliased node between its uses, but everything that later walks
the data (str, repr, validation) expands it again: a 1 kB "billion laughs" file becomes
billions of items. Here the node graph that the (C) parser composes is turned into Python data
by one walk that

* counts the nodes every alias adds (however aliases nest) and stops past ``max_alias_nodes``;
* refuses a key given twice in one mapping (``safe_load`` keeps the last silently);
* builds only YAML's plain types (str, int, float, bool, null, list, mapping); any other tag
  is an error, so no tag ever constructs a Python object;
* builds each distinct scalar once (a 200,000-layer file repeats a few dozen of them).

>>> load_yaml("a: [1, 2]\\nb: {c: true}\\n", 10)
{'a': [1, 2], 'b': {'c': True}}
>>> load_yaml("a: &x [1, 2]\\nb: *x\\n", 10)
{'a': [1, 2], 'b': [1, 2]}
"""

from __future__ import annotations

import gc
from typing import Any

import yaml

from .._errors import FileFormatError

__all__ = ["load_yaml"]

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
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        return None if node is None else _Builder(max_alias_nodes).build(node)
    finally:
        if enabled:
            gc.enable()


def _line(node: Any) -> str:
    return f"line {node.start_mark.line + 1}"


class _Builder:
    def __init__(self, max_alias_nodes: int) -> None:
        self.limit = max_alias_nodes
        self.aliased = 0
        self.done: dict[int, tuple[Any, int]] = {}  # id(node) -> (data, nodes it holds)
        self.scalars: dict[tuple[str, str], Any] = {}
        self.constructor = yaml.SafeLoader("")

    def build(self, node: Any) -> Any:
        return self._node(node)[0]

    def _node(self, node: Any) -> tuple[Any, int]:
        key = id(node)
        seen = self.done.get(key)
        if seen is not None:  # an alias: the same node again
            self.aliased += seen[1]
            if self.aliased > self.limit:
                raise FileFormatError(
                    f"YAML aliases expand to more than {self.limit:,} nodes ({_line(node)}); "
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
            raise FileFormatError(f"tag {tag} ({_line(node)}) is not allowed in a spec file")
        data = (
            value
            if tag == _STR
            else self.constructor.yaml_constructors[tag](self.constructor, node)
        )
        self.scalars[k] = data
        return data

    def _sequence(self, node: Any) -> tuple[Any, int]:
        if node.tag != _SEQ:
            raise FileFormatError(f"tag {node.tag} ({_line(node)}) is not allowed in a spec file")
        items, count = [], 1
        for child in node.value:
            data, n = self._node(child)
            items.append(data)
            count += n
        return items, count

    def _mapping(self, node: Any) -> tuple[Any, int]:
        if node.tag != _MAP:
            raise FileFormatError(f"tag {node.tag} ({_line(node)}) is not allowed in a spec file")
        d: dict[Any, Any] = {}
        count = 1
        for knode, vnode in node.value:
            k, nk = self._node(knode)
            if isinstance(k, (list, dict)):
                raise FileFormatError(f"a mapping key must be a scalar ({_line(knode)})")
            if k in d:
                raise FileFormatError(
                    f"key {k!r} is given twice in one mapping ({_line(knode)}); keys must be unique"
                )
            v, nv = self._node(vnode)
            d[k] = v
            count += nk + nv
        return d, count
