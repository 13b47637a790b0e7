"""Parameters (trainable) and buffers (non-trainable state) of every layer.

>>> from archcalc import zoo
>>> from archcalc.engine.shapes import infer_shapes
>>> from archcalc.engine.params import count_params
>>> m = zoo.get("alexnet")
>>> sum(p for p, _ in count_params(m, infer_shapes(m)).values())
61100840
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..kinds import Layer
from .graph import Model, Node, each_node

__all__ = ["ParamCount", "count_params", "node_params"]


class ParamCount(NamedTuple):
    """Trainable parameters and buffers (non-trainable state) of one layer."""

    params: Any
    buffers: Any


def node_params(layer: Layer, ins: tuple[tuple[Any, ...], ...]) -> ParamCount:
    """Parameters and buffers of ``layer`` on inputs of shapes ``ins``."""
    return ParamCount(layer.params(ins), layer.buffers(ins))


def count_params(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, ParamCount]:
    """``{layer name: (params, buffers)}`` for every live node."""

    def one(i: int, node: Node) -> tuple[str, ParamCount]:
        return node.name, node_params(node.layer, tuple(shapes[s] for s in node.inputs))

    return dict(each_node(model, one))
