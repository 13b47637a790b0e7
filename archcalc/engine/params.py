"""Parameters (trainable) and buffers (non-trainable state) of every layer.

>>> from archcalc import zoo
>>> from archcalc.engine.shapes import infer_shapes
>>> from archcalc.engine.params import count_params
>>> m = zoo.get("alexnet")
>>> sum(p for p, _ in count_params(m, infer_shapes(m)).values())
61100840
"""

from __future__ import annotations

from typing import Any

from .graph import Model, Node, each_node

__all__ = ["count_params"]


def count_params(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, Any]]:
    """``{layer name: (params, buffers)}`` for every live node."""

    def one(i: int, node: Node) -> tuple[str, tuple[Any, Any]]:
        ins = tuple(shapes[s] for s in node.inputs)
        return node.name, (node.layer.params(ins), node.layer.buffers(ins))

    return dict(each_node(model, one))
