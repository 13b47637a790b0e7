"""Output shapes and the stride schedule.

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
from .graph import INPUT, Model, Node, each_node

__all__ = ["infer_shapes", "resolve_input", "symbol"]

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
        if v.lstrip("-").isdigit():
            value = int(v)
        elif v.isidentifier():
            return symbol(v)
        else:
            raise OptionError(
                f"input {what} = {value!r}: must be a positive integer or a symbol name like H"
            )
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"input {what} = {value!r}: must be a positive integer")
    return value


def resolve_input(model: Model, input_shape: Sequence[Any] | str | None) -> Shape:
    """Normalise ``input``: ``None`` (model default), ``(C, H, W)``, ``(H, W)``, an int
    (square, model's channels) or a string ``"3x224x224"`` / ``"HxW"``."""
    if input_shape is None:
        return tuple(model.input_shape)
    if isinstance(input_shape, str):
        parts: list[Any] = re.split(r"[xX×]", input_shape.strip())
        if not all(parts):
            raise OptionError(
                f"--input = {input_shape!r}: write CxHxW or HxW, e.g. 3x224x224 or 224x224"
            )
    elif isinstance(input_shape, int):
        parts = [input_shape, input_shape]
    else:
        parts = list(input_shape)
    if len(parts) == 1:
        parts = [parts[0], parts[0]]
    if len(parts) == 2:
        parts = [model.input_shape[0], *parts]
    if len(parts) != 3:
        raise OptionError(
            f"input = {input_shape!r}: must be CxHxW or HxW (got {len(parts)} numbers)"
        )
    return tuple(_dim(p, w) for p, w in zip(parts, ("channels", "height", "width")))


def infer_shapes(model: Model, input_shape: Sequence[Any] | str | None = None) -> dict[str, Shape]:
    """Shape (per sample) of the input and of every live node's output."""
    shapes: dict[str, Shape] = {INPUT: resolve_input(model, input_shape)}

    def one(i: int, node: Node) -> None:
        shapes[node.name] = node.layer.out_shape(tuple(shapes[s] for s in node.inputs))

    each_node(model, one)
    return shapes
