"""Output shapes of every layer, for inputs of any rank.

A shape is a per-sample tuple of sizes: ``(C, H, W)`` for a map, ``(L, C)`` for a token
sequence, ``(F,)`` for a vector, or any layout the kinds define; the engine only passes
shapes from one layer to the next and multiplies their sizes.

>>> from archcalc import zoo
>>> from archcalc.engine.shapes import infer_shapes
>>> infer_shapes(zoo.get("alexnet"))["features.12"]
(256, 6, 6)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .._errors import OptionError
from .._math import is_symbolic
from ..kinds import Layer
from .graph import INPUT, Model, Node, each_node

__all__ = ["Shape", "infer_shapes", "node_shape", "resolve_input", "symbol"]

Shape = tuple[Any, ...]


def symbol(name: str) -> Any:
    """A positive integer sympy symbol (the same object for the same name)."""
    import sympy

    return sympy.Symbol(name, positive=True, integer=True)


def _dim(value: Any, what: str) -> Any:
    if is_symbolic(value):
        return value
    if isinstance(value, str):
        v = value.strip()
        if v.isascii() and v.lstrip("-").isdigit():
            value = int(v)
        elif v.isidentifier():
            return symbol(v)
        else:
            raise OptionError(
                argument="input",
                value=value,
                reason=f"{what} must be a positive integer or a symbol name like H",
            )
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(
            argument="input", value=value, reason=f"{what} must be a positive integer"
        )
    return value


def resolve_input(model: Model, input_shape: Sequence[Any] | str | None) -> Shape:
    """Normalise ``input`` to a per-sample shape of any rank.

    ``None`` is the model's default input; a sequence or a string ``"3x224x224"`` /
    ``"16x768"`` gives every size. For a model whose input is a ``(C, H, W)`` map, fewer
    sizes name the spatial ones and keep the channels: ``(H, W)``, ``"224x224"``, or one int
    (square). Sizes may be symbol names (``"3xHxW"``).
    """
    default = tuple(model.input_shape)
    if input_shape is None:
        parts: list[Any] = list(default)
    elif isinstance(input_shape, str):
        parts = re.split(r"[xX×]", input_shape.strip())
        if not all(parts):
            raise OptionError(
                argument="input",
                value=input_shape,
                reason="write the sizes separated by x, e.g. 3x224x224 (or 224x224 for a map)",
            )
    elif isinstance(input_shape, int) and not isinstance(input_shape, bool):
        parts = [input_shape]
    elif isinstance(input_shape, (tuple, list)):
        parts = list(input_shape)
    else:
        raise OptionError(
            argument="input",
            value=input_shape,
            reason="must be a shape (a tuple of sizes), a string like '3x224x224' or an int",
        )
    if len(parts) != len(default):
        if len(default) == 3 and len(parts) in (1, 2):
            # a map's spatial sizes; one size is square
            parts = [default[0], *(parts * 2 if len(parts) == 1 else parts)]
        else:
            layout = "CxHxW, HxW or one size" if len(default) == 3 else "every size"
            raise OptionError(
                argument="input",
                value=input_shape,
                reason=(
                    f"model '{model.name}' takes a rank-{len(default)} input "
                    f"({_fmt(default)}); give {layout} (got {len(parts)} sizes)"
                ),
            )
    return tuple(_dim(p, f"size {i}") for i, p in enumerate(parts))


def _fmt(shape: Sequence[Any]) -> str:
    return "x".join(str(d) for d in shape)


def node_shape(layer: Layer, ins: tuple[Shape, ...]) -> Shape:
    """Output shape (per sample) of ``layer`` on inputs of shapes ``ins``."""
    return layer.out_shape(ins)


def infer_shapes(model: Model, input_shape: Sequence[Any] | str | None = None) -> dict[str, Shape]:
    """Shape (per sample) of the input and of every live node's output."""
    shapes: dict[str, Shape] = {INPUT: resolve_input(model, input_shape)}

    def one(i: int, node: Node) -> None:
        shapes[node.name] = node_shape(node.layer, tuple(shapes[s] for s in node.inputs))

    each_node(model, one)
    return shapes
