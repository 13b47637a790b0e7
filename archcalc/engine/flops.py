"""MACs and FLOPs of every layer, per sample, under archcalc's convention.

MACs are the multiply-accumulates of convolution, transposed convolution and linear layers
(torchvision's "GFLOPS" column counts these). FLOPs are 2·MACs for those layers plus the
per-element operations of every other layer (docs/conventions.md lists each constant).

>>> from archcalc.kinds import Conv2d
>>> from archcalc.engine.graph import sequential
>>> from archcalc.engine.shapes import infer_shapes
>>> m = sequential("c", [Conv2d(3, 8, 3, padding=1)], input_shape=(3, 4, 4))
>>> count_flops(m, infer_shapes(m))["0"]
(3456, 6912)
"""

from __future__ import annotations

from typing import Any

from .graph import Model, Node, each_node

__all__ = ["count_flops"]


def count_flops(model: Model, shapes: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, Any]]:
    """``{layer name: (macs, flops)}`` per sample for every live node."""

    def one(i: int, node: Node) -> tuple[str, tuple[Any, Any]]:
        ins = tuple(shapes[s] for s in node.inputs)
        out = shapes[node.name]
        return node.name, (node.layer.macs(ins, out), node.layer.flops(ins, out))

    return dict(each_node(model, one))
