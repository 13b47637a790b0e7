"""Tensors that do not come from the input, as the converter meets them: constants built in
``forward`` (``torch.zeros``, ``arange``, ``x.new_ones``: values :class:`~.values.C`, folded
while only constants meet), and parameters or buffers an operation reads directly (values
:class:`~.values.P`). A kind that takes a parameter as such (``LayerScale``, ``ClassToken``,
``PositionEmbedding``, a convolution's weight) gets it as a :class:`~archcalc.kinds.TensorArg`;
otherwise the parameter becomes one ``Param`` layer (its elements counted once, however many
operations read it) and a constant a ``Constant`` layer, read like any tensor (layout
``const``: the same for every sample)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import Tensor

from .. import kinds as K
from ..engine.graph import INPUT, Node
from .values import BATCH, C, P, T, Unmappable
from .views import add_node, materialize

if TYPE_CHECKING:
    from .tracer import Event

#: calls that make a constant of a tensor's shape (their values are never read)
MAKERS = frozenset(
    {
        "Tensor.new_zeros",
        "Tensor.new_ones",
        "Tensor.new_full",
        "Tensor.new_empty",
        "Tensor.new_tensor",
        "torch.zeros_like",
        "torch.ones_like",
        "torch.full_like",
        "torch.empty_like",
        "torch.rand_like",
        "torch.randn_like",
    }
)


def _map(v: Any, fn: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return type(v)(_map(x, fn) for x in v)
    if isinstance(v, dict):
        return {k: _map(x, fn) for k, x in v.items()}
    return fn(v)


def without_input(conv: Any, ev: Event, view: str | None, flat: list[Any], several: bool) -> Any:
    """The value of a call none of whose operands comes from the input, when no layer is
    needed: a constant (``C``) from constants, a view of a parameter (still that parameter);
    ``None`` to map the call as any other (its parameters then become layers)."""
    tensors = [v for v in flat if isinstance(v, (T, P, C))]
    if view == "cast" and flat and isinstance(flat[0], C):
        return C(conv.tshape(ev))  # constant.to(parameter): the constant, in its dtype
    weighted = ev.module is not None and any(True for _ in ev.module.parameters())
    if all(isinstance(v, C) for v in tensors) and not weighted:
        # (a module with parameters on a constant, e.g. XCiT's projection of its Fourier
        # position features, is a layer: its parameters and FLOPs count)
        if several:
            return tuple(C(tuple(int(d) for d in t.shape)) for t in ev.out)
        return C(conv.tshape(ev))
    params = [v for v in tensors if isinstance(v, P)]
    if view in ("reshape", "alias", "cast", "expand") and len(params) == 1 and len(tensors) == 1:
        src = params[0]
        if view == "expand":
            # a broadcast of a parameter (ViT's class_token.expand(n, -1, -1)): still that
            # parameter, of its own shape (the op it feeds broadcasts it)
            return src
        # a view of a parameter (timm's gamma.view(1, -1, 1, 1)): still that parameter
        return P(src.target, src.is_param, tuple(ev.out.shape), src.numel)
    return None


def counted(conv: Any, flat: list[Any]) -> bool:
    """Whether a parameter among ``flat`` is already counted by an earlier layer."""
    return any(isinstance(v, P) and v.target in conv.used_params for v in flat)


def _param(conv: Any, p: P) -> T:
    nodes: dict[str, T] = conv.__dict__.setdefault("param_nodes", {})
    got = nodes.get(p.target)
    if got is None:
        shape = tuple(conv.param_shapes.get(p.target, p.tshape))
        name = conv.unique(p.target)
        # counted once: a parameter an earlier layer counted (ClassToken, a convolution's
        # weight) is read here as a Constant of its shape
        again = p.target in conv.used_params
        layer = K.Constant(shape) if again else K.Param(shape, p.is_param)
        conv.nodes.append(Node(name, layer, (INPUT,)))
        got = nodes[p.target] = T(name, shape, "const", shape)
        conv.used_params.add(p.target)
    return got


def as_nodes(conv: Any, ev: Event, values: Any) -> Any:
    """``values`` with each parameter made a ``Param`` layer and each constant a
    ``Constant`` layer (a view of a parameter: the parameter, then a ``Reshape``)."""

    def one(v: Any) -> Any:
        if isinstance(v, P):
            t = _param(conv, v)
            if tuple(v.tshape) == tuple(t.tshape):
                return t
            shape = tuple(int(d) for d in v.tshape)
            return add_node(conv, ev, K.Reshape(shape), t, "const", shape)
        if isinstance(v, C):
            return constant(conv, ev, v)
        return v

    return _map(values, one)


def constant(conv: Any, ev: Event, c: C) -> T:
    """A ``Constant`` layer of ``c``'s shape (batch first when its axis 0 is the batch)."""
    batched = len(c.tshape) > 1 and c.tshape[0] == BATCH
    shape = tuple(c.tshape[1:]) if batched else tuple(c.tshape)
    if any(d < 1 for d in shape):
        raise Unmappable(f"a constant of shape {c.tshape} (an empty axis)")
    base = f"{ev.path}.constant" if ev.path else "constant"
    name = conv.unique(base)
    conv.nodes.append(Node(name, K.Constant(shape), (INPUT,)))
    return T(name, shape, "std" if batched else "const", tuple(c.tshape))


def readable(conv: Any, ev: Event, values: Any) -> Any:
    """``values`` as a kind reads them: lazy views made layers, constants made ``Constant``
    layers, and a parameter-like operand (``const``) of more axes than the per-sample result
    read without its leading 1s (they broadcast against the batch)."""
    rank = ev.out.dim() - 1 if isinstance(ev.out, Tensor) else None

    def one(v: Any) -> Any:
        if isinstance(v, C):
            v = constant(conv, ev, v)
        if not isinstance(v, T):
            return v
        if v.layout in ("view", "shuffle"):
            v = materialize(conv, ev, v)
        if ev.called_as == "module" and v.layout == "const" and v.tshape and v.tshape[0] == 1:
            v = _one(conv, ev, v)  # a module on a constant (1, ...): a batch of one
        return v

    out = _map(_drop_empty(values), one)
    flat = [v for v in _flatten(out) if isinstance(v, T)]
    if rank is None or all(t.layout == "const" for t in flat) or ev.called_as == "module":
        return out

    def strip(v: Any) -> Any:
        if not isinstance(v, T) or v.layout != "const" or len(v.shape) <= rank:
            return v
        lead = v.shape[: len(v.shape) - rank]
        if any(d != 1 for d in lead):
            raise Unmappable(f"an operand of shape {v.tshape} broadcasts along the batch axis")
        shape = tuple(int(d) for d in v.shape[len(lead) :])
        return add_node(conv, ev, K.Reshape(shape), v, "const", shape, f"{v.node}.squeeze")

    return _map(out, strip)


def _drop_empty(v: Any) -> Any:
    """``v`` without the empty constants in its lists (torch.cat's empty pieces)."""
    if isinstance(v, (list, tuple)):
        kept = [_drop_empty(x) for x in v if not (isinstance(x, C) and 0 in x.tshape)]
        return type(v)(kept) if type(v) in (list, tuple) else v
    if isinstance(v, dict):
        return {k: _drop_empty(x) for k, x in v.items()}
    return v


def _one(conv: Any, ev: Event, v: T) -> T:
    """The constant ``v`` of torch shape ``(1, ...)`` read as a batch of one (layout
    ``one``: an operation on it is counted per sample, as torch would on a real batch)."""
    shape = tuple(int(d) for d in v.tshape[1:])
    return add_node(conv, ev, K.Reshape(shape), v, "one", v.tshape, f"{v.node}.batch")


def channels_last(conv: Any, ev: Event, values: Any) -> Any:
    """``values`` with each channels-last view made a ``Permute`` layer ``(H, W, C)`` and
    each broadcast an ``Expand`` layer."""

    def one(v: Any) -> Any:
        if isinstance(v, T) and v.layout in ("nhwc", "bcast"):
            return materialize(conv, ev, v)
        return v

    return _map(values, one)


def batch_of_one(conv: Any, ev: Event, values: Any) -> Any:
    """``values`` with each constant ``(1, ...)`` read as a batch of one (the position
    embedding a ViT interpolates to its input size)."""
    return _map(values, lambda v: _one(conv, ev, v) if isinstance(v, T) else v)


def _flatten(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flatten(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _flatten(x)
    else:
        yield v
