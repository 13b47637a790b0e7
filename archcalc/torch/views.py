"""Views and aliases (reshape, flatten, permute, transpose, contiguous, expand, casts): they
make no layer, except a flatten to ``(N, C·H·W)``; the converter follows which archcalc tensor
they show and in which layout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import kinds as K
from .._math import prod
from ..engine.graph import Node
from .values import T, Unmappable, listify, torch_shape

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
    "Tensor.contiguous": "alias",
    "Tensor.detach": "alias",
    "Tensor.to": "cast",
    "Tensor.float": "cast",
    "Tensor.type": "cast",
    "Tensor.type_as": "cast",
    "Tensor.expand": "expand",
    "Tensor.expand_as": "expand",
    "nn.Flatten": "reshape",
    "nn.Unflatten": "reshape",
}


def follow_view(self: Any, ev: Event, view: str, args: list[Any], x: T) -> T:
    """The value of a view or alias of ``x`` (``self`` is the converter)."""
    tshape = self.tshape(ev)
    if view == "reshape":
        return _reshape(self, ev, x, tshape)
    if view in ("alias", "cast"):
        if view == "cast" and ev.out.dtype != ev.args[0].dtype:
            raise Unmappable("a change of dtype")
        if tuple(tshape) != tuple(x.tshape):  # pragma: no cover - aliases keep shapes
            raise Unmappable(f"changes the shape {x.tshape} to {tshape}")
        return x
    if view == "expand":
        # a broadcast view (x * gate.expand_as(x)): only a product takes it, as the gate
        if x.layout != "std":
            raise Unmappable(f"an expansion of a {x.layout} view")
        return T(x.node, x.shape, "bcast", tshape)
    nd = len(x.tshape)
    rest = args[1:]
    if view == "transpose":
        d0, d1 = int(rest[0]) % nd, int(rest[1]) % nd
        perm = list(range(nd))
        perm[d0], perm[d1] = perm[d1], perm[d0]
    else:
        dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        if not dims and "dims" in ev.kwargs:
            dims = ev.kwargs["dims"]
        perm = [int(d) % nd for d in listify(dims)]
    if perm == list(range(nd)):
        return x
    if _is_group_view(x) and nd == 5 and perm == [0, 2, 1, 3, 4]:
        # channel shuffle: (N, g, C/g, H, W) -> (N, C/g, g, H, W), viewed back as (N, C, H, W)
        return T(x.node, x.shape, "shuffle", tshape)
    if x.layout == "std" and nd == 4 and perm == [0, 2, 3, 1]:
        return T(x.node, x.shape, "nhwc", tshape)
    if x.layout == "nhwc" and perm == [0, 3, 1, 2]:
        return T(x.node, x.shape, "std", tshape)
    raise Unmappable(
        f"a permutation {tuple(perm)} of a tensor of shape {x.tshape}; archcalc follows "
        f"NCHW and its channels-last permute (0, 2, 3, 1) only"
    )


def _reshape(self: Any, ev: Event, x: T, tshape: tuple[int, ...]) -> T:
    if x.layout == "nhwc":
        if tuple(tshape) == tuple(x.tshape):
            return x
        raise Unmappable(f"a reshape of a channels-last view {x.tshape} to {tshape}")
    std = torch_shape(x.shape, "std")
    if x.layout == "shuffle" and tuple(tshape) == tuple(std):
        name = self.unique(self.node_name(ev))
        shuffle = K.ChannelShuffle(int(x.tshape[2]))
        self.nodes.append(Node(name, shuffle, (x.node,)))
        self.via[name] = (ev.called_as, ev.display)
        return T(name, x.shape, "std", tshape)
    if tuple(tshape) == tuple(std):
        return T(x.node, x.shape, "std", tshape)
    if len(tshape) == 2 and len(x.shape) > 1 and tshape[1] == prod(x.shape):
        name = self.unique(self.node_name(ev))
        flat = K.Flatten()
        self.nodes.append(Node(name, flat, (x.node,)))
        self.via[name] = (ev.called_as, ev.display)
        return T(name, tuple(flat.out_shape((x.shape,))), "std", tshape)
    return T(x.node, x.shape, "view", tshape)


def _is_group_view(x: T) -> bool:
    """``x`` is a ``(C, H, W)`` map viewed as ``(N, g, C/g, H, W)``."""
    t = x.tshape
    return (
        x.layout == "view"
        and len(x.shape) == 3
        and len(t) == 5
        and t[1] * t[2] == x.shape[0]
        and tuple(t[3:]) == tuple(x.shape[1:])
    )
