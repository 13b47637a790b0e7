"""The values the converter follows: a traced tensor (:class:`T`), a parameter (:class:`P`),
a tensor left out (:class:`X`), and the two orientations of a map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the batch of the meta run: not 1 (told from a broadcast axis), and a prime that few axes
#: of a network have (told from a 2 or 3 of heads or q/k/v, and found folded into axis 0:
#: Swin's windows (N·nW, L, C))
BATCH = 13


class Unmappable(Exception):
    """An operation archcalc cannot map; the message is the reason."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class T:
    """A tensor: archcalc node ``node`` of per-sample shape ``shape``, seen by torch as
    ``tshape`` in layout

    - ``std``: ``(N, *shape)``, the batch first;
    - ``fold``: the batch folded into axis 0, ``(N·k, *shape[1:])`` for ``shape = (k, ...)``
      (Swin's windows ``(N·nW, L, C)``, LeViT's ``x.flatten(0, 1)``); ``fold@j``: folded
      into axis ``j`` (the per-sample axes are torch's, axis ``j`` divided by the batch);
    - ``batch@j``: the batch at torch axis ``j`` (``qkv.permute(2, 0, 3, 1, 4)``);
    - ``const``: no batch axis: a parameter, buffer or constant, the same for every sample
      (``tshape == shape``);
    - ``one``: a constant ``(1, *shape)`` that a module with parameters reads as a batch of
      one (XCiT's projection of its Fourier position features): archcalc counts that module
      per sample (torch runs it once per batch), and a ``repeat``/``expand`` to the batch
      makes it ``std``;
    - ``nhwc``: the channels-last permute of a ``(C, H, W)`` map;
    - ``bcast``: an ``expand`` of it, which only a product takes;
    - ``shuffle``: ShuffleNet's ``(N, C/g, g, H, W)`` transpose of a group view;
    - ``view``: any other view of it (``of``: the tensor it is a view of), made into a
      ``Reshape`` layer when an operation reads it."""

    node: str
    shape: tuple[Any, ...]
    layout: str
    tshape: tuple[int, ...]
    of: T | None = None
    #: a view: the name of the call that made it (its Reshape layer is named so)
    made: str = ""


@dataclass(frozen=True)
class C:
    """A constant built in ``forward`` from no input tensor and no parameter (``torch.zeros``,
    ``arange``, a mask): a ``Constant`` layer where an operation on the input reads it."""

    tshape: tuple[int, ...]


@dataclass(frozen=True)
class P:
    """A parameter or buffer (or a view of one)."""

    target: str
    is_param: bool
    tshape: tuple[int, ...]
    numel: int


@dataclass(frozen=True)
class X:
    """A tensor left out by a partial import, or one made without the input (a constant)."""

    tshape: tuple[int, ...]


def batch_axis(layout: str) -> int | None:
    """Torch's batch axis in ``layout`` (``None`` for a constant; the axis the batch is
    folded into for ``fold``/``fold@j``)."""
    if layout == "const":
        return None
    if layout.startswith("batch@"):
        return int(layout[6:])
    if layout.startswith("fold@"):
        return int(layout[5:])
    return 0


def fold_axis(layout: str) -> int | None:
    """The torch axis the batch is folded into, ``None`` when it is not folded."""
    if layout == "fold":
        return 0
    return int(layout[5:]) if layout.startswith("fold@") else None


def fold_at(j: int) -> str:
    return "fold" if j == 0 else f"fold@{j}"


def layout_at(j: int) -> str:
    return "std" if j == 0 else f"batch@{j}"


def torch_shape(shape: tuple[Any, ...], layout: str) -> tuple[Any, ...]:
    if layout == "nhwc":
        c, h, w = shape
        return (BATCH, h, w, c)
    if layout == "const":
        return tuple(shape)
    if layout == "one":
        return (1, *shape)
    f = fold_axis(layout)
    if f is not None:
        return (*shape[:f], BATCH * shape[f], *shape[f + 1 :])
    j = batch_axis(layout) or 0
    return (*shape[:j], BATCH, *shape[j:])


def archcalc_shape(tshape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "nhwc":
        _, h, w, c = tshape
        return (c, h, w)
    if layout == "const":
        return tuple(tshape)
    f = fold_axis(layout)
    if f is not None:
        return (*tshape[:f], tshape[f] // BATCH, *tshape[f + 1 :])
    j = batch_axis(layout) or 0
    return (*tshape[:j], *tshape[j + 1 :])


def result_layout(tshape: tuple[int, ...], hint: str) -> str:
    """The layout of an operation's result of torch shape ``tshape`` whose (first batched)
    input is in layout ``hint``: the batch stays where it was, or moves into axis 0 folded."""
    if hint == "const":
        return "const"
    if hint == "one" and tshape and tshape[0] == 1:
        return "one"
    if hint == "nhwc":
        return "nhwc" if len(tshape) == 4 and tshape[0] == BATCH else "std"
    j = batch_axis(hint) or 0
    f = fold_axis(hint)
    if f is not None and 0 < f < len(tshape) and tshape[f] % BATCH == 0:
        return hint
    if j < len(tshape) and tshape[j] == BATCH:
        return layout_at(j)
    if tshape and tshape[0] == BATCH:
        return "std"
    if tshape and tshape[0] % BATCH == 0 and f is not None:
        return "fold"
    if BATCH in tshape:  # moved (torch.stack(xs, dim=0): (k, N, ...))
        return layout_at(tshape.index(BATCH))
    if tshape and tshape[0] % BATCH == 0:  # folded (x.repeat_interleave(k, dim=0))
        return "fold"
    raise Unmappable(
        f"its result of shape {tuple(tshape)} has no batch axis (the batch was {BATCH})"
    )


def layout_for(tshape: tuple[int, ...], shape: tuple[Any, ...], first: str) -> str:
    """The layout in which torch's ``tshape`` is archcalc's per-sample ``shape``: ``first``
    if it fits, else the batch at the first axis that fits, else folded into axis 0."""
    n = len(tshape)
    cands = [first, "std", *(f"batch@{j}" for j in range(1, n)), "fold"]
    cands += [f"fold@{j}" for j in range(1, n)]
    for c in cands:
        if c == "nhwc" and n != 4:
            continue
        j = batch_axis(c)
        if j is not None and j >= n:
            continue
        f = fold_axis(c)
        if f is not None and tshape[f] % BATCH:
            continue
        if j is not None and f is None and c != "nhwc" and tshape[j] != BATCH:
            continue
        if tuple(archcalc_shape(tshape, c)) == tuple(shape):
            return c
    raise Unmappable(f"torch's result {tuple(tshape)} is not archcalc's {tuple(shape)}")


def reshape_layout(base: T, tshape: tuple[int, ...]) -> str:
    """Where the batch is after torch reshapes ``base`` (materialised) to ``tshape``: a
    reshape keeps the batch axis when the axes before it keep their product, and folds it
    into axis 0 when nothing is before it."""
    if base.layout == "const":
        return "const"
    if base.layout == "one":
        if tshape and tshape[0] == 1:
            return "one"
        raise Unmappable(f"a reshape of a batch of one {tuple(base.tshape)} to {tuple(tshape)}")
    src = base.tshape
    j = batch_axis(base.layout) or 0
    before = 1
    for d in src[:j]:
        before *= d
    q = 1
    for i, d in enumerate(tshape):
        if q == before and d % BATCH == 0 and d > 0:
            return layout_at(i) if d == BATCH else fold_at(i)
        q *= d
        if q > before:
            break
    raise Unmappable(
        f"a reshape of {tuple(src)} to {tuple(tshape)} mixes the batch axis with others"
    )


def listify(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return list(v)
    return [v]
