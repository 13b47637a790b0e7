"""MACs and FLOPs of every layer, per sample, under archcalc's convention.

MACs are the multiply-accumulates of convolution, transposed convolution and linear layers
(torchvision's "GFLOPS" column counts these). FLOPs are 2·MACs for those layers plus the
per-element operations of every other layer (docs/conventions.md lists each constant).

>>> from archcalc.kinds import Conv2d
>>> from archcalc.engine.graph import sequential
>>> from archcalc.engine.shapes import infer_shapes
>>> m = sequential("c", [Conv2d(3, 8, 3, padding=1)], input_shape=(3, 4, 4))
>>> count_flops(m, infer_shapes(m))["0"]
Cost(macs=3456, flops=6912)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..kinds import Layer
from .graph import Model, Node, each_node

__all__ = ["Cost", "count_flops", "node_cost"]


class Cost(NamedTuple):
    """Multiply-accumulates and FLOPs of one layer, per sample."""

    macs: Any
    flops: Any


def node_cost(layer: Layer, ins: tuple[tuple[Any, ...], ...], out: tuple[Any, ...]) -> Cost:
    """MACs and FLOPs (archcalc's convention) of ``layer``, per sample."""
    return Cost(layer.macs(ins, out), layer.flops(ins, out))


def count_flops(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, Cost]:
    """``{layer name: (macs, flops)}`` per sample for every live node."""

    def one(i: int, node: Node) -> tuple[str, Cost]:
        ins = tuple(shapes[s] for s in node.inputs)
        return node.name, node_cost(node.layer, ins, shapes[node.name])

    return dict(each_node(model, one))
