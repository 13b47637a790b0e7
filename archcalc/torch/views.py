"""Views and aliases (reshape, flatten, permute, transpose, contiguous, expand, repeat, casts):
the converter follows which archcalc tensor they show and in which layout (channels-last,
channel shuffle, a lazy view, the batch folded or moved); a flatten to ``(N, C·H·W)`` is a
Flatten layer, a permute no layout covers a ``Permute`` layer, and a lazy view becomes a
``Reshape`` layer when an operation reads it (:func:`materialize`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import kinds as K
from .._math import prod
from ..engine.graph import Node
from ..kinds.tensor import Expand
from .values import (
    BATCH,
    T,
    Unmappable,
    archcalc_shape,
    batch_axis,
    fold_at,
    fold_axis,
    layout_at,
    listify,
    reshape_layout,
    torch_shape,
)

if TYPE_CHECKING:
    from .tracer import Event

#: views and aliases, followed without a layer
VIEWS = {
    **dict.fromkeys(
        (
            "Tensor.flatten",
            "torch.flatten",
            "Tensor.view",
            "Tensor.reshape",
            "torch.reshape",
            "Tensor.squeeze",
            "torch.squeeze",
            "Tensor.unsqueeze",
            "torch.unsqueeze",
            "Tensor.unflatten",
            "Tensor.view_as",
            "Tensor.reshape_as",
        ),
        "reshape",
    ),
    "Tensor.permute": "permute",
    "torch.permute": "permute",
    "Tensor.transpose": "transpose",
    "torch.transpose": "transpose",
    "Tensor.swapaxes": "transpose",
    "torch.swapaxes": "transpose",
    "Tensor.swapdims": "transpose",
    "torch.swapdims": "transpose",
    "Tensor.mT": "transpose",
    "Tensor.contiguous": "alias",
    "Tensor.detach": "alias",
    "Tensor.to": "cast",
    "Tensor.float": "cast",
    "Tensor.type": "cast",
    "Tensor.type_as": "cast",
    "Tensor.expand": "expand",
    "Tensor.repeat": "repeat",
    "Tensor.expand_as": "expand",
    "nn.Flatten": "reshape",
    "nn.Unflatten": "reshape",
}


def follow_view(self: Any, ev: Event, view: str, args: list[Any], x: T) -> T:
    """The value of a view or alias of ``x`` (``self`` is the converter) in the layouts
    archcalc follows without a layer; raises :class:`Unmappable` for any other permute (the
    caller then offers it to the kinds, then to :func:`generic_view`)."""
    tshape = self.tshape(ev)
    if view == "reshape":
        return _reshape(self, ev, x, tshape)
    if view in ("alias", "cast"):
        if view == "cast" and ev.out.dtype != ev.args[0].dtype:
            raise Unmappable("a change of dtype")
        if tuple(tshape) != tuple(x.tshape):  # pragma: no cover - aliases keep shapes
            raise Unmappable(f"changes the shape {x.tshape} to {tshape}")
        return x
    if view == "repeat" or (view == "expand" and x.layout in ("one", "const")):
        return _to_batch(self, ev, view, args, x, tshape)
    if view == "expand":
        if x.layout == "const":
            return x  # the same for every sample: its users broadcast it
        if x.layout == "view":  # ECA's gate: (N, 1, C) viewed back as (N, C, 1, 1)
            x = materialize(self, ev, x)
        # a broadcast view (x * gate.expand_as(x)): a product takes it as the gate; another
        # operation reads it as an Expand layer
        if x.layout == "std":
            return T(x.node, x.shape, "bcast", tshape, None, self.node_name(ev))
        x = materialize(self, ev, x)
        if tuple(tshape) == tuple(x.tshape):
            return x
        shape = tuple(int(d) for d in archcalc_shape(tuple(tshape), x.layout))
        return add_node(self, ev, Expand(shape), x, x.layout, tshape)
    perm = permutation(ev, view, args, len(x.tshape))
    nd = len(x.tshape)
    if perm == list(range(nd)):
        return x
    if _is_group_view(x) and nd == 5 and perm == [0, 2, 1, 3, 4]:
        # channel shuffle: (N, g, C/g, H, W) -> (N, C/g, g, H, W), viewed back as (N, C, H, W)
        return T(x.node, x.shape, "shuffle", tshape)
    if x.layout == "std" and nd == 4 and perm == [0, 2, 3, 1] and len(x.shape) == 3:
        return T(x.node, x.shape, "nhwc", tshape)
    if x.layout == "nhwc" and perm == [0, 3, 1, 2]:
        return T(x.node, x.shape, "std", tshape)
    raise Unmappable(f"a permutation {tuple(perm)} of a tensor of shape {x.tshape}")


def _to_batch(self: Any, ev: Event, view: str, args: list[Any], x: T, tshape: Any) -> T:
    """A batch of one (``one``) or a constant repeated or expanded along the batch: the
    same tensor for every sample (``std``); a constant's other broadcasts stay ``const``."""
    reps = listify(args[1] if len(args) == 2 else args[1:])
    if view == "expand" and x.layout == "const" and tshape[0] != BATCH:
        return x
    if (
        len(reps) == len(x.tshape)
        and x.tshape[0] == 1
        and tshape[0] == BATCH
        and tuple(tshape[1:]) == tuple(x.tshape[1:])
        and x.layout in ("one", "const")
    ):
        if x.layout == "one":
            return T(x.node, x.shape, "std", tshape)
        shape = tuple(int(d) for d in x.tshape[1:])
        return add_node(self, ev, K.Reshape(shape), x, "std", tshape)
    if view == "expand" and x.layout == "const":
        return x
    raise Unmappable(f"a {view} of a tensor of shape {tuple(x.tshape)} to {tuple(tshape)}")


def permutation(ev: Event, view: str, args: list[Any], nd: int) -> list[int]:
    """The torch permutation of a ``permute``/``transpose`` call on a rank-``nd`` tensor."""
    rest = args[1:]
    if view == "transpose":
        if ev.op == "Tensor.mT":
            rest = [-2, -1]
        d0 = rest[0] if rest else ev.kwargs.get("dim0", ev.kwargs.get("axis0"))
        d1 = rest[1] if len(rest) > 1 else ev.kwargs.get("dim1", ev.kwargs.get("axis1"))
        if d0 is None or d1 is None:
            raise Unmappable("a transpose without its two axes")
        d0, d1 = int(d0) % nd, int(d1) % nd
        perm = list(range(nd))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return perm
    dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
    if not dims and "dims" in ev.kwargs:
        dims = ev.kwargs["dims"]
    return [int(d) % nd for d in listify(dims)]


def _reshape(self: Any, ev: Event, x: T, tshape: tuple[int, ...]) -> T:
    if x.layout == "nhwc":
        if tuple(tshape) == tuple(x.tshape):
            return x
        c, h, w = x.shape
        if tuple(tshape) == (BATCH, h * w, c):  # a channels-last map read as tokens
            return add_node(self, ev, K.Tokens(), T(x.node, x.shape, "std", ()), "std", tshape)
        x = materialize(self, ev, x)
    if x.layout == "shuffle" and tuple(tshape) == tuple(torch_shape(x.shape, "std")):
        name = self.unique(self.node_name(ev))
        shuffle = K.ChannelShuffle(int(x.tshape[2]))
        self.nodes.append(Node(name, shuffle, (x.node,)))
        self.via[name] = (ev.called_as, ev.display)
        return T(name, x.shape, "std", tshape)
    base = x.of if x.layout == "view" else x
    if base is None or base.layout in ("shuffle", "bcast", "view", "nhwc"):
        base = materialize(self, ev, x)
    if tuple(tshape) == tuple(base.tshape):
        return base
    if base.layout == "std" and tuple(tshape) == tuple(torch_shape(base.shape, "std")):
        return T(base.node, base.shape, "std", tshape)
    if (
        base.layout == "std"
        and len(tshape) == 2
        and len(base.shape) > 1
        and tshape[0] == BATCH
        and tshape[1] == prod(base.shape)
    ):
        name = self.unique(self.node_name(ev))
        flat = K.Flatten()
        self.nodes.append(Node(name, flat, (base.node,)))
        self.via[name] = (ev.called_as, ev.display)
        return T(name, tuple(flat.out_shape((base.shape,))), "std", tshape)
    made = x.made if x.layout == "view" and x.made else self.node_name(ev)
    return T(base.node, base.shape, "view", tshape, base, made)


def _is_group_view(x: T) -> bool:
    """``x`` is a ``(C, H, W)`` map viewed as ``(N, g, C/g, H, W)``."""
    t = x.tshape
    return (
        x.layout == "view"
        and (x.of is None or x.of.layout == "std")
        and len(x.shape) == 3
        and len(t) == 5
        and t[1] * t[2] == x.shape[0]
        and tuple(t[3:]) == tuple(x.shape[1:])
    )


# ---------------------------------------------------------------- views made layers


def add_node(
    self: Any, ev: Event, layer: Any, src: T, layout: str, tshape: Any, base: str = ""
) -> T:
    """Append ``layer`` reading ``src`` (named ``base``, else after ``ev``'s call); its value."""
    name = self.unique(base or self.node_name(ev))
    self.nodes.append(Node(name, layer, (src.node,)))
    self.via[name] = (ev.called_as, ev.display)
    shape = tuple(layer.out_shape((src.shape,)))
    if tuple(archcalc_shape(tuple(tshape), layout)) != shape:  # pragma: no cover - a bug
        raise Unmappable(f"archcalc's {layer.kind} gives {shape}, torch {tuple(tshape)}")
    return T(name, shape, layout, tuple(tshape))


def materialize(self: Any, ev: Event, t: T) -> T:
    """``t`` as a tensor an operation can read (``std``, ``fold``, ``batch@j`` or
    ``const``): a lazy view becomes a ``Reshape`` layer, a channels-last map a ``Permute``."""
    if t.layout in ("std", "const", "one") or t.layout.startswith(("batch@", "fold")):
        return t
    if t.layout == "nhwc":
        return add_node(
            self, ev, K.Permute((1, 2, 0)), T(t.node, t.shape, "std", ()), "std", t.tshape
        )
    if t.layout == "bcast":
        shape = tuple(int(d) for d in t.tshape[1:])
        src = T(t.node, t.shape, "std", ())
        return add_node(self, ev, Expand(shape), src, "std", t.tshape, t.made)
    if t.layout == "shuffle":
        c, h, w = t.shape
        g = int(t.tshape[2])
        grouped = add_node(
            self, ev, K.Reshape((g, c // g, h, w)), t, "std", (BATCH, g, c // g, h, w)
        )
        return add_node(self, ev, K.Permute((1, 0, 2, 3)), grouped, "std", t.tshape)
    if t.layout == "view":
        base = t.of if t.of is not None else T(t.node, t.shape, "std", torch_shape(t.shape, "std"))
        base = materialize(self, ev, base)
        layout = reshape_layout(base, t.tshape)
        shape = archcalc_shape(t.tshape, layout)
        if tuple(shape) == tuple(base.shape):
            return T(base.node, base.shape, layout, t.tshape)
        return add_node(
            self, ev, K.Reshape(tuple(int(d) for d in shape)), base, layout, t.tshape, t.made
        )
    raise Unmappable(f"its input is a {t.layout} view {tuple(t.tshape)} that no layer takes")


def generic_view(self: Any, ev: Event, view: str, args: list[Any], x: T) -> T:
    """A permute or transpose no special layout covers, as a ``Permute`` layer (per-sample
    axes; the batch axis may move)."""
    tshape = self.tshape(ev)
    perm = permutation(ev, view, args, len(x.tshape))
    x = materialize(self, ev, x)
    if x.layout == "const":
        if perm == list(range(len(perm))):
            return x
        return add_node(self, ev, K.Permute(tuple(perm)), x, "const", tshape)
    f = fold_axis(x.layout)
    if f is not None:  # the per-sample axes are torch's: the same permutation
        dims = tuple(perm)
        layout = fold_at(perm.index(f))
    elif x.layout == "one":
        if perm[0] != 0:
            raise Unmappable(f"a permutation {tuple(perm)} moves the batch of one")
        dims = tuple(p - 1 for p in perm[1:])
        layout = "one"
    else:
        b = batch_axis(x.layout) or 0
        layout = layout_at(perm.index(b))
        dims = tuple(p - (p > b) for p in perm if p != b)
    if dims == tuple(range(len(dims))):
        return T(x.node, x.shape, layout, tshape)
    return add_node(self, ev, K.Permute(dims), x, layout, tshape)
