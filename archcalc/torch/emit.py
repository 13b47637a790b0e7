"""Turn the calls of a meta run into archcalc layers: each call is offered to the kinds
that list it (their ``torch_modules`` / ``torch_functions``), the first whose ``from_torch``
accepts gives the layer, and every layer is checked against torch (output shape,
parameters, buffers). Every tensor is held batch-first in a layout (:class:`~.values.T`):
views (reshape, permute, ...) are followed without a layer where a layout covers them, and
become ``Permute``/``Reshape``/``Expand`` layers where an operation reads them; parameters and
constants an operation reads directly become ``Param``/``Constant`` layers (:mod:`.sources`);
kinds that list a call are tried specific first (``torch_fallback`` last)."""

from __future__ import annotations

import importlib
import linecache
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from torch import Tensor, nn

from .._errors import ArchcalcError
from .._math import prod
from ..engine.graph import INPUT, Node
from ..kinds import LAYER_KINDS, Layer
from ..kinds._base import TensorArg, TorchCall
from ..kinds.tensor import PerRow, Shared
from . import sources
from .tracer import Event, op_name
from .values import (
    C,
    P,
    T,
    Unmappable,
    X,
    archcalc_shape,
    layout_for,
    result_layout,
    torch_shape,
)
from .views import VIEWS, follow_view, generic_view

# ---------------------------------------------------------------- the registry, read once


def _resolve(name: str) -> Any:
    if name.startswith("Tensor."):
        return name
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p, None)
            if obj is None:
                return None
        return obj
    return None


@dataclass(frozen=True)
class Registry:
    functions: dict[str, tuple[type[Layer], ...]]
    classes: dict[type, tuple[type[Layer], ...]]
    names: dict[str, tuple[type[Layer], ...]]
    #: classes of other packages by their defining path ("timm.layers.attention.Attention"),
    #: matched without importing the package
    qualified: dict[str, tuple[type[Layer], ...]]

    def module_kinds(self, m: nn.Module) -> tuple[type[Layer], ...]:
        return self.module_match(m)[0]

    def module_match(self, m: nn.Module) -> tuple[tuple[type[Layer], ...], type | None]:
        """The kinds listing ``m``'s class or its nearest listed base, and that class."""
        for cls in type(m).__mro__:
            found = (
                self.classes.get(cls)
                or self.names.get(cls.__name__)
                or self.qualified.get(f"{cls.__module__}.{cls.__qualname__}")
            )
            if found:
                return found, cls
        return (), None


@cache
def registry() -> Registry:
    functions: dict[str, list[type[Layer]]] = {}
    classes: dict[type, list[type[Layer]]] = {}
    names: dict[str, list[type[Layer]]] = {}
    qualified: dict[str, list[type[Layer]]] = {}
    for kind in LAYER_KINDS.values():
        for fname in getattr(kind, "torch_functions", ()):
            obj = _resolve(fname)
            if obj is None:
                continue
            key = obj if isinstance(obj, str) else op_name(obj)[0]
            functions.setdefault(key, []).append(kind)
        for mname in getattr(kind, "torch_modules", ()):
            if "." not in mname:
                names.setdefault(mname, []).append(kind)
                continue
            if mname.split(".")[0] not in ("torch", "archcalc"):
                qualified.setdefault(mname, []).append(kind)
                continue
            obj = _resolve(mname)
            if isinstance(obj, type):
                classes.setdefault(obj, []).append(kind)

    def order(kinds: list[type[Layer]]) -> tuple[type[Layer], ...]:
        # the general kinds (archcalc/kinds/tensor.py: Permute, Cat, ...) after the specific
        return tuple(sorted(kinds, key=lambda k: bool(getattr(k, "torch_fallback", False))))

    return Registry(
        {k: order(v) for k, v in functions.items()},
        {k: tuple(v) for k, v in classes.items()},
        {k: tuple(v) for k, v in names.items()},
        {k: tuple(v) for k, v in qualified.items()},
    )


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def keeps_shape(m: nn.Module, x: Any) -> bool:
    """Whether leaf ``m`` on tensor ``x`` certainly returns ``x``'s shape in eval mode: a
    pointwise kind (``probe_identity``) whose normalised shape, if any, matches ``x``, or a
    batch norm over ``x``'s channels."""
    if not isinstance(x, Tensor) or m.training:
        return False
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return x.dim() > 1 and x.shape[1] == m.num_features
    kinds = registry().module_kinds(m)
    if not kinds or not all(k.probe_identity for k in kinds):
        return False
    ns = getattr(m, "normalized_shape", None)
    return ns is None or tuple(x.shape[len(x.shape) - len(ns) :]) == tuple(ns)


def is_leaf(m: nn.Module) -> bool:
    """Modules recorded as one call: those a kind lists, and torch.nn's own layers."""
    if isinstance(m, _CONTAINERS):
        return False
    kinds, cls = registry().module_match(m)
    if kinds:
        # a subclass with a forward of its own (timm's Conv2dSame pads, then convolves):
        # look inside, unless it is archcalc's own
        own = type(m)
        return (
            cls is own
            or getattr(own, "forward", None) is getattr(cls, "forward", None)
            or own.__module__.startswith("archcalc.")
        )
    return type(m).__module__.startswith("torch.nn.")


# ---------------------------------------------------------------- helpers

#: in-place and alias spellings named as their plain operation (``out += x`` → ``add``)
_SAME_NAME = {"iadd": "add", "imul": "mul", "concat": "cat", "concatenate": "cat"}


def frame_text(frame: tuple[str, int] | None) -> str:
    if frame is None:
        return ""
    path, line = frame
    code = linecache.getline(path, line).strip()
    return f"{path}:{line}: `{code}`"


# ---------------------------------------------------------------- the conversion


class Converter:
    """Events → nodes. ``visit`` raises :class:`Unmappable` for a call archcalc cannot map;
    the caller (:mod:`.importer`) decides what a partial import does then."""

    def __init__(
        self,
        root: nn.Module,
        params: dict[int, tuple[str, bool]],
        originals: dict[int, Tensor],
        renamed: dict[str, str],
    ) -> None:
        self.root = root
        self.nodes: list[Node] = []
        self.names: set[str] = {INPUT}
        self.env: dict[int, Any] = {}
        self.keep: list[Any] = []
        self.used_params: set[str] = set()
        self.calls: dict[str, int] = {}
        #: node name -> (how it was called: "module" | "function" | "method", what)
        self.via: dict[str, tuple[str, str]] = {}
        self.renamed = renamed
        #: module path -> the node of its first call (a later call is a Shared layer)
        self.first_call: dict[str, str] = {}
        #: layouts shown to the kinds as another ("one": a batch of one, as "std")
        self.shown: dict[str, str] = {}
        self.modules = dict(root.named_modules())
        #: parameter or buffer name -> its shape (a Param layer has it, views aside)
        self.param_shapes: dict[str, tuple[int, ...]] = {}
        for i, (name, is_param) in params.items():
            t = originals[i]
            self.env[i] = P(name, is_param, tuple(t.shape), t.numel())
            self.param_shapes[name] = tuple(t.shape)

    # ------------------------------------------------------------ naming

    def unique(self, base: str) -> str:
        name, i = base, 0
        while name in self.names:
            i += 1
            name = f"{base}_{i}"
        self.names.add(name)
        return name

    def node_name(self, ev: Event) -> str:
        if ev.called_as in ("module", "failed") or hasattr(
            self.modules.get(ev.path), "archcalc_via"
        ):  # a module, or archcalc.torch's FunctionCall: a node called as a function
            return self.renamed.get(ev.path, ev.path)
        base = ev.name.rsplit("_", 1)[0] if ev.name[-1].isdigit() and "_" in ev.name else ev.name
        base = _SAME_NAME.get(base, base)
        return f"{ev.path}.{base}" if ev.path else base

    def where(self, ev: Event) -> str:
        parts = []
        if ev.called_as in ("module", "failed"):
            parts.append(f"module '{self.renamed.get(ev.path, ev.path)}'")
        else:
            parts.append(f"call '{ev.name}'")
            if ev.path:
                parts.append(f"in module '{ev.path}' ({ev.owner})")
            else:
                parts.append(f"in {type(self.root).__name__}.forward")
        text = frame_text(ev.frame)
        if text:
            parts.append(f"at {text}")
        return ", ".join(parts)

    # ------------------------------------------------------------ values

    def value(self, a: Any) -> Any:
        if isinstance(a, Tensor):
            v = self.env.get(id(a))
            return v if v is not None else X(tuple(a.shape))
        if isinstance(a, (list, tuple)):
            return type(a)(self.value(x) for x in a)
        if isinstance(a, dict):
            return {k: self.value(x) for k, x in a.items()}
        return a

    def bind(self, ev: Event, out: Any) -> None:
        self.keep.append(ev.out)
        if isinstance(out, tuple) and isinstance(ev.out, (tuple, list)):
            for t, v in zip(ev.out, out):
                self.env[id(t)] = v
            return
        self.env[id(ev.out)] = out

    def tshape(self, ev: Event, out: Any = None) -> tuple[int, ...]:
        """Torch's shape of ``ev``'s result (or of ``out``, one of several)."""
        out = ev.out if out is None else out
        if not isinstance(out, Tensor):
            raise Unmappable("it returns several tensors (a tuple or a list)")
        return tuple(int(d) for d in out.shape)

    # ------------------------------------------------------------ one event

    def visit(self, ev: Event) -> Any:
        """The value of ``ev``'s result (bound in the environment too)."""
        if ev.called_as == "failed":
            raise Unmappable(f"cannot trace its forward: {ev.reason}")
        if ev.called_as == "module":
            self.calls[ev.path] = self.calls.get(ev.path, 0) + 1
            out = ev.out
            if isinstance(out, tuple) and len(out) > 1 and all(o is None for o in out[1:]):
                ev.out = out[0]  # nn.MultiheadAttention(need_weights=False): (output, None)
        args = [self.value(a) for a in ev.args]
        kwargs = {k: self.value(v) for k, v in ev.kwargs.items()}
        flat = [v for v in _flatten((args, kwargs))]
        traced = [v for v in flat if isinstance(v, T)]
        several = isinstance(ev.out, (tuple, list)) and all(isinstance(t, Tensor) for t in ev.out)
        if not isinstance(ev.out, Tensor) and not (several and ev.called_as != "module"):
            if ev.called_as == "module" and isinstance(ev.module, nn.Module) and not traced:
                raise Unmappable("it has no input tensor archcalc follows")
            raise Unmappable("it returns several tensors (a tuple or a list)")
        if any(isinstance(v, X) for v in flat):
            raise Unmappable("an operand is a tensor left out earlier")
        view = VIEWS.get(ev.op)
        if not traced or all(t.layout == "const" for t in traced):
            early = sources.without_input(self, ev, view, flat, several)
            if early is not None:
                return early
        if isinstance(ev.out, Tensor) and ev.out.numel() == 0:
            return C(self.tshape(ev))  # an empty tensor (q[:, :, :0]): what uses it drops it
        if ev.op in sources.MAKERS:
            return C(self.tshape(ev))  # x.new_zeros(...), zeros_like(x): a constant
        reg = registry()
        if view == "cast" and traced and isinstance(ev.args[0], Tensor):
            traced = [v for v in (args[0],) if isinstance(v, T)] or traced  # x.to(other)
        if view is not None and (view == "cast" or not any(isinstance(v, P) for v in flat)):
            return self.follow(ev, view, args, kwargs, traced)
        if ev.called_as == "module":
            kinds = reg.module_kinds(ev.module)  # type: ignore[arg-type]
        else:
            kinds = reg.functions.get(ev.op, ())
        if not kinds:
            if several:
                raise Unmappable("it returns several tensors (a tuple or a list)")
            raise Unmappable("no archcalc layer does this")
        again = sources.counted(self, flat)  # a parameter counted already: as a layer first
        first: BaseException | None = None
        if not again:
            try:
                return self.apply(ev, kinds, args, kwargs, several)
            except Unmappable:
                if not any(isinstance(v, (P, C)) for v in flat):
                    raise
                first = sys.exc_info()[1]
        # an operand is a parameter or a constant no kind takes as such: make it a layer
        # (Param, Constant) and offer the call again
        nodes_args, nodes_kwargs = sources.as_nodes(self, ev, (args, kwargs))
        try:
            if view is not None:
                traced = [v for v in _flatten(nodes_args) if isinstance(v, T)]
                return self.follow(ev, view, nodes_args, nodes_kwargs, traced)
            return self.apply(ev, kinds, nodes_args, nodes_kwargs, several)
        except Unmappable:
            if again:  # counted at each use, as before (a note says a module is shared)
                return self.apply(ev, kinds, args, kwargs, several)
            second = sys.exc_info()[1]
            if first is None or str(first) == str(second):
                raise second from None  # type: ignore[misc]
            raise Unmappable(f"{first}; as a layer of its own: {second}") from None

    def follow(
        self, ev: Event, view: str, args: list[Any], kwargs: dict[str, Any], traced: list[T]
    ) -> T:
        """A view or alias: followed, made a layer by a specific kind (Tokens), or a
        Permute/Reshape layer (:func:`follow_any`)."""
        return follow_any(self, ev, view, args, kwargs, traced)

    def apply(
        self,
        ev: Event,
        kinds: Sequence[type[Layer]],
        args: list[Any],
        kwargs: dict[str, Any],
        several: bool,
    ) -> Any:
        """The layer(s) of a call the kinds map, its traced inputs made readable first;
        when no kind takes them as they are, a folded batch ``(N·k, ...)`` shown to a module
        as a batch-first ``(k, ...)`` (Linear and LayerNorm on the last axis: the same
        figures per element), a constant shown to a module as a sample (a position MLP on
        a coordinate table: counted per sample, as torch would on a batch), or a constant
        ``(1, ...)`` read as a batch of one."""
        args, kwargs = sources.readable(self, ev, (args, kwargs))
        traced = [v for v in _flatten((args, kwargs)) if isinstance(v, T)]
        if not traced:
            raise Unmappable("no archcalc layer does this (to a parameter or a constant)")
        try:
            return self.layers_of(ev, kinds, args, kwargs, traced)
        except Unmappable:
            if any(t.layout in ("nhwc", "bcast") for t in traced):  # as layers, then again
                args, kwargs = sources.channels_last(self, ev, (args, kwargs))
                traced = [v for v in _flatten((args, kwargs)) if isinstance(v, T)]
                return self.layers_of(ev, kinds, args, kwargs, traced)
            if ev.called_as == "module" and any(t.layout == "fold" for t in traced):
                for shown in ({"fold": "std"}, {"fold": "rows"}):
                    self.shown = shown  # as batch-first (k, ...), then a layer per row
                    try:
                        return self.layers_of(ev, kinds, args, kwargs, traced)
                    except Unmappable:
                        pass
                    finally:
                        self.shown = {}
            elif ev.called_as == "module" and all(t.layout == "const" for t in traced):
                self.shown = {"const": "std"}  # a module on a constant, as on a sample
                try:
                    return self.layers_of(ev, kinds, args, kwargs, traced)
                finally:
                    self.shown = {}
            elif all(t.layout == "const" and t.tshape and t.tshape[0] == 1 for t in traced):
                args, kwargs = sources.batch_of_one(self, ev, (args, kwargs))
                traced = [v for v in _flatten((args, kwargs)) if isinstance(v, T)]
                return self.layers_of(ev, kinds, args, kwargs, traced)
            raise

    def layers_of(
        self,
        ev: Event,
        kinds: Sequence[type[Layer]],
        args: list[Any],
        kwargs: dict[str, Any],
        traced: list[T],
    ) -> Any:
        if not isinstance(ev.out, Tensor):  # several outputs: one layer each
            outs = [self.tshape(ev, t) for t in ev.out]
            return tuple(
                self.layer(ev, kinds, args, kwargs, traced, outs, i) for i in range(len(outs))
            )
        return self.layer(ev, kinds, args, kwargs, traced)

    def layer(
        self,
        ev: Event,
        kinds: Sequence[type[Layer]],
        args: list[Any],
        kwargs: dict[str, Any],
        traced: list[T],
        outs: Sequence[tuple[int, ...]] = (),
        index: int = 0,
    ) -> T:
        """The layer(s) the first accepting kind makes of ``ev`` (output ``index`` of
        ``outs`` when it has several), checked against torch: :func:`make_layer`."""
        return make_layer(self, ev, kinds, args, kwargs, traced, outs, index)


def make_layer(
    self: Converter,
    ev: Event,
    kinds: Sequence[type[Layer]],
    args: list[Any],
    kwargs: dict[str, Any],
    traced: list[T],
    outs: Sequence[tuple[int, ...]] = (),
    index: int = 0,
) -> T:
    tshape = outs[index] if outs else self.tshape(ev)
    # a layer of a view (Tokens) gives a tensor archcalc holds as it is
    hint = next((t.layout for t in traced if t.layout != "const"), "const")
    layout = result_layout(tshape, "std" if hint in ("bcast", "view", "shuffle") else hint)
    pos = {id(t): i for i, t in reversed(list(enumerate(traced)))}

    def arg(v: Any) -> Any:
        if isinstance(v, T):
            return TensorArg(v.tshape, None, False, pos[id(v)])
        if isinstance(v, P):
            return TensorArg(v.tshape, v.target, v.is_param, None)
        if isinstance(v, (list, tuple)):
            return type(v)(arg(x) for x in v)
        return v

    # a module on a folded batch, made a layer per row (PerRow) of the (k, ...) sample
    rows = self.shown.get("fold") == "rows" and layout == "fold" and not outs
    call = TorchCall(
        ev.display,
        ev.called_as,
        ev.module,
        tuple(arg(a) for a in args),
        {k: arg(v) for k, v in kwargs.items()},
        tuple(t.shape[1:] if rows and t.layout == "fold" else t.shape for t in traced),
        tuple(
            "std" if rows else {"one": "std", **self.shown}.get(t.layout, t.layout) for t in traced
        ),
        archcalc_shape(tshape, layout)[1:] if rows else archcalc_shape(tshape, layout),
        tuple(archcalc_shape(o, layout) for o in outs),
        index,
    )
    reasons: list[str] = []
    result: Any = ...
    for kind in kinds:
        try:
            result = kind.from_torch(call)  # type: ignore[attr-defined]
        except ArchcalcError as e:
            if str(e) not in reasons:
                reasons.append(str(e))
            continue
        break
    if result is ...:
        raise Unmappable("; ".join(reasons) or "no archcalc layer does this")
    if result is None:  # the result is input 0 itself
        if tuple(tshape) != tuple(traced[0].tshape):
            raise Unmappable(f"changes the shape {traced[0].tshape} to {tshape}")
        return traced[0]
    layers: tuple[Layer, ...] = result if isinstance(result, tuple) else (result,)
    if rows:
        layers = tuple(PerRow(lay) for lay in layers)
    name = self.node_name(ev)
    in_wrapper = hasattr(self.modules.get(ev.path), "archcalc_via")  # named after it
    if (
        ev.called_as != "module"
        and not in_wrapper
        and getattr(layers[0], "torch_named_after_parameter", False)
    ):
        ps = call.params()
        if len(ps) == 1 and ps[0].param:
            name = ps[0].param
    check_params(self, ev, call, layers, tuple(t.shape for t in traced))
    first = self.first_call.get(ev.path) if ev.called_as == "module" else None
    if first is not None and layers[0].params(tuple(t.shape for t in traced)):
        layers = (Shared(layers[0], first), *layers[1:])  # its parameters counted once
    ins = traced
    if layers[0].arity == 1 and all(t is traced[0] for t in traced):
        ins = traced[:1]  # self-attention(x, x, x): one input
    out: T | None = None
    for i, lay in enumerate(layers):
        last = i == len(layers) - 1
        shapes = tuple(t.shape for t in ins)
        try:
            shape = tuple(lay.out_shape(shapes))
        except ArchcalcError as e:
            raise Unmappable(f"archcalc's {lay.kind} rejects its input: {e}") from None
        if last and shape != archcalc_shape(tshape, layout):
            if layout == "const":
                raise Unmappable(
                    f"archcalc's {lay.kind} gives shape {shape} but torch gives {tshape}"
                )
            try:  # the batch axis elsewhere than the first input suggests (unbind)
                layout = layout_for(tshape, shape, layout)
            except Unmappable:
                raise Unmappable(
                    f"archcalc's {lay.kind} gives shape {shape} but torch gives "
                    f"{archcalc_shape(tshape, layout)}"
                ) from None
        nm = self.unique(name if i == 0 else f"{name}_{lay.kind.lower()}")
        if i == 0 and ev.called_as == "module":
            self.first_call.setdefault(ev.path, nm)
        self.nodes.append(Node(nm, lay, tuple(t.node for t in ins)))
        self.via[nm] = (ev.called_as, ev.display)
        mid = layout if layout in ("const", "fold") else "std"
        out = T(nm, shape, layout if last else mid, tshape if last else torch_shape(shape, mid))
        ins = [out]
    assert out is not None
    return out


def follow_any(
    self: Converter, ev: Event, view: str, args: list[Any], kwargs: dict[str, Any], traced: list[T]
) -> T:
    """A view: in a layout followed without a layer; else the specific kinds listing it
    (Tokens); else a Permute layer for a permute, or the general kinds (Repeat)."""
    try:
        return follow_view(self, ev, view, args, traced[0])
    except Unmappable as e:
        listed = registry().functions.get(ev.op, ())
        specific = [k for k in listed if not getattr(k, "torch_fallback", False)]
        if specific:
            try:
                return self.layer(ev, specific, args, kwargs, traced)
            except Unmappable:
                pass
        if view in ("permute", "transpose"):
            return generic_view(self, ev, view, args, traced[0])
        general = [k for k in listed if k not in specific]
        if not general:
            raise e from None
        try:
            return self.layer(ev, general, args, kwargs, traced)
        except Unmappable:
            raise e from None


def _flatten(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flatten(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _flatten(x)
    else:
        yield v


def check_params(
    self: Converter, ev: Event, call: TorchCall, layers: Sequence[Layer], ins: tuple[Any, ...]
) -> None:
    if ev.called_as == "module":
        m = ev.module
        assert m is not None
        # a leaf is one layer with its children (nn.MultiheadAttention's out_proj)
        own = sum(p.numel() for p in m.parameters())
        bufs = sum(b.numel() for b in m.buffers())
        names = [f"{ev.path}.{n}" if ev.path else n for n, _ in m.named_parameters()]
    else:
        seen: dict[str, Any] = {}
        for t in call.params():
            seen.setdefault(str(t.param), t)
        own = sum(prod(t.shape) for t in seen.values() if t.is_param)
        bufs = sum(prod(t.shape) for t in seen.values() if not t.is_param)
        names = list(seen)
        owner = self.modules.get(ev.path)
        if owner is not None and seen:
            # the function computes its module's layer (timm's BatchNormAct2d calls
            # F.batch_norm): that module's own buffers count (num_batches_tracked too)
            prefix = f"{ev.path}." if ev.path else ""
            mine = {prefix + n for n, _ in owner.named_parameters(recurse=False)}
            theirs = {prefix + n for n, _ in owner.named_buffers(recurse=False)}
            if mine and mine <= set(seen) and set(seen) <= mine | theirs:
                bufs = sum(b.numel() for b in owner.buffers(recurse=False))
    lay = layers[0]
    counted = sum(x.params(ins) for x in layers[:1])
    if counted != own:
        raise Unmappable(f"it has {own} parameters but archcalc's {lay.kind} counts {counted}")
    counted_b = sum(x.buffers(ins) for x in layers[:1])
    if counted_b != bufs:
        raise Unmappable(
            f"it has {bufs} buffer elements but archcalc's {lay.kind} counts {counted_b}"
        )
    self.used_params.update(names)


def import_table() -> str:
    """The Markdown table of what imports as each kind (docs/import.md), read from the
    registry: the torch modules and the functions each kind lists."""
    rows = ["| kind | torch modules | functions and tensor methods |", "|---|---|---|"]
    for name, kind in LAYER_KINDS.items():
        mods = ", ".join(f"`{m}`" for m in kind.torch_modules) or "—"
        fns = ", ".join(f"`{f}`" for f in kind.torch_functions) or "—"
        if kind.torch_modules or kind.torch_functions:
            rows.append(f"| {name} | {mods} | {fns} |")
    return "\n".join(rows) + "\n"
