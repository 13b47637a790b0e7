"""How the operands of an elementwise op or a product line up per sample: torch's
broadcasting of per-sample shapes (:func:`broadcast`) and the importer's layouts of the
operands (:func:`elementwise_operands`). Shared by the merges (``Add``, ``Mul``), the
arithmetic (``Sub``, ``Div``) and the compute ops of :mod:`.tensor_math`; holds no kind, so
importing it registers nothing (the registry keeps the order of :mod:`archcalc.kinds`)."""

from __future__ import annotations

from typing import Any

from .._errors import ShapeError, UnsupportedError
from ._base import Shape, Shapes, TorchCall, _eq_known_false, _fmt

__all__ = ["broadcast", "elementwise_operands", "batch_at"]


def broadcast(kind: str, shapes: Shapes) -> Shape:
    """The shape torch broadcasts ``shapes`` to, trailing axes aligned (a 1 stretches; a
    symbolic size equals itself only).

    >>> broadcast("Add", ((3, 5, 7), (5, 1)))
    (3, 5, 7)
    """
    out: Shape = tuple(shapes[0])
    for i, s in enumerate(shapes[1:], 1):
        rank = max(len(out), len(s))
        a = (1,) * (rank - len(out)) + tuple(out)
        b = (1,) * (rank - len(s)) + tuple(s)
        merged: list[Any] = []
        for x, y in zip(a, b):
            if y == 1 or (x != 1 and not _eq_known_false(x, y)):
                merged.append(x)
            elif x == 1:
                merged.append(y)
            else:
                raise ShapeError(
                    f"{kind}: input {i} has shape {_fmt(s) or '()'}, which does not broadcast "
                    f"to {_fmt(out) or '()'}; valid are equal sizes or 1, trailing axes aligned"
                )
        out = tuple(merged)
    return out


def batch_at(layout: str) -> int | None:
    """Torch's batch axis of an activation in ``layout`` (``std``: 0, ``batch@j``: ``j``,
    ``fold``: folded into axis 0; ``None`` for any other layout)."""
    if layout in ("std", "fold", "nhwc"):  # nhwc: a channels-last map (N, H, W, C)
        return 0
    if layout.startswith("batch@") and layout[6:].isdigit():
        return int(layout[6:])
    return None


def elementwise_operands(call: TorchCall, what: str) -> None:
    """The operands of an elementwise op (``+``, ``*``, ``-``, ``/``) align per sample as
    torch's do: every batched one in one layout (``std``, ``batch@j`` or ``fold``; ``bcast``
    reads as ``std``), and each ``const`` one (a parameter, buffer or constant, the same for
    every sample) no longer than the axes after the batch, so that it never meets the batch
    axis. Raises :class:`UnsupportedError` naming ``what`` otherwise."""
    batched = {("std" if v == "bcast" else v) for v in call.layouts if v != "const"}
    if not batched:
        return  # constants only (a parameter times a buffer): the same for every sample
    layout = next(iter(batched), None)
    j = batch_at(layout) if layout is not None else None
    if len(batched) != 1 or j is None:
        raise UnsupportedError(
            f"{what} of tensors in different layouts ({', '.join(call.layouts)})"
        )
    x = next(s for s, v in zip(call.inputs, call.layouts) if v != "const")
    after = len(x) - (j if layout != "fold" else 1)
    for s, v in zip(call.inputs, call.layouts):
        if v == "const" and len(s) > after:
            raise UnsupportedError(
                f"{what} of a tensor with a constant operand of shape {s} that reaches the batch axis"
            )
