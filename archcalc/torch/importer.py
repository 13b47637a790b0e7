"""Import a PyTorch ``nn.Module`` into archcalc: :func:`from_torch`.

The module is traced with ``torch.fx`` (a symbolic trace; modules archcalc knows are kept
as leaves), run once on a batch of two random inputs of ``input_shape`` to learn every
tensor's shape (shape propagation, as ``torch.fx.passes.shape_prop.ShapeProp``; a module
on the ``meta`` device is run on a meta tensor and allocates nothing), and every call is
mapped to an archcalc layer. The result is an ordinary :class:`~archcalc.engine.graph.Model`, the
same objects the zoo builds, so every figure (exact or symbolic) follows.

Names. A module call keeps the module's path (``layer1.0.conv1``); a module called again
gets ``_1``, ``_2`` (``layer1.0.relu_1``, as torch.fx names it). A function or tensor-method
call is named after its operation inside the module that calls it: ``layer1.0.add`` for
``out += identity`` in ``layer1.0``'s ``forward``, ``flatten`` at the top level. A
layer-scale product ``gamma * x`` is named after the parameter (``features.1.0.layer_scale``).

What is mapped. ``nn.Conv2d`` (any padding, padding mode ``zeros``), ``nn.ConvTranspose2d``,
``nn.Linear`` (on vectors, and on a channels-last map after ``permute(0, 2, 3, 1)``),
``F.conv2d`` / ``F.linear`` with parameter weights, ``nn.BatchNorm2d`` (affine, tracked
statistics), ``nn.LayerNorm`` over the channels of a channels-last map (or of a vector),
classes named ``LayerNorm2d`` (torchvision's, timm's), the activations ReLU, ReLU6 (and
``hardtanh(0, 6)``), LeakyReLU, SiLU, GELU, Sigmoid, Hardswish, Hardsigmoid and Tanh as
modules, ``F.*``/``torch.*`` functions and tensor methods (in place or not), max and
average pooling, adaptive average pooling, ``x.mean((2, 3))`` (global average pooling),
``flatten``/``view``/``reshape``/``squeeze``/``unsqueeze``/``permute``/``transpose``/
``contiguous``/``expand`` (views: no layer, except a flatten to ``(N, C·H·W)``), every
dropout,
classes named ``StochasticDepth`` (row mode), ``parameter * x`` with a ``(C, 1, 1)``
parameter (LayerScale), ``+`` (Add), ``*`` of two tensors (Mul, broadcasting a gate),
``torch.cat`` along channels (Concat), ``F.interpolate``/``nn.Upsample`` by an integer
factor, nearest or bilinear (Upsample), ``nn.Identity``, and the modules of
:mod:`archcalc.torch` (so ``from_torch(to_torch(m))`` is ``m`` again). Containers
(``nn.Sequential`` and any module archcalc does not know) are traced through.

What is not. Anything else raises :class:`~archcalc.UnsupportedError` naming the operation
and where it was called (module path, torch.fx node, file and line). With
``partial=True`` such an operation is replaced by an ``Identity`` placeholder where its
output has the shape of an input, else the model is cut before it (the model's output
becomes the operation's input); :func:`import_torch` returns the list of what was left out
(:attr:`TorchImport.gaps`), which the model's ``description`` also spells out.

Tracing. A submodule torch.fx cannot trace (data-dependent control flow, a Python
operation on a tensor) is retried as an opaque leaf — an unmappable module, reported as
above; a top-level ``forward`` that cannot be traced is an
:class:`~archcalc.UnsupportedError` with torch.fx's reason.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
...                     nn.Flatten(), nn.Linear(8, 10))
>>> m = from_torch(net, (3, 32, 32))
>>> [(n.name, n.layer.kind) for n in m.nodes]  # doctest: +NORMALIZE_WHITESPACE
[('0', 'Conv2d'), ('1', 'ReLU'), ('2', 'AdaptiveAvgPool2d'), ('3', 'Flatten'),
 ('4', 'Linear')]
>>> import archcalc
>>> archcalc.summary(m).params == sum(p.numel() for p in net.parameters())
True
"""

from __future__ import annotations

import operator
import re
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "archcalc.torch.importer needs PyTorch: pip install 'archcalc[torch]' (or torch alone)"
    ) from e
import torch.fx as fx
import torch.nn.functional as F
from torch import Tensor, nn
from torch.fx.node import _get_qualified_name

from .. import kinds as L
from .._errors import ArchcalcError, OptionError, ShapeError, UnsupportedError
from ..engine.graph import INPUT, Model, Node

__all__ = ["from_torch", "import_torch", "TorchImport", "Gap"]

#: the batch of the shape-propagation run (2, so that the batch axis is told from a 1)
_BATCH = 2


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Gap:
    """One operation a partial import left out.

    ``op`` is what was called (``nn.Softmax``, ``torch.fft.fft2``, ``Tensor.sort``),
    ``where`` the module path, torch.fx node and source line, ``reason`` why archcalc cannot
    map it, ``action`` ``"identity"`` (an ``Identity`` placeholder named ``placeholder``
    stands in), ``"constant"`` (it does not depend on the input — computed from parameters
    or buffers — and is left out; what uses it is then a gap too) or ``"cut"`` (the model
    ends before it: ``dropped`` names the torch.fx nodes after it that were not analysed,
    ``unreached`` the archcalc layers computed before it that no longer reach the output).
    """

    op: str
    where: str
    reason: str
    action: str
    placeholder: str | None = None
    dropped: tuple[str, ...] = ()
    unreached: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.action == "identity":
            what = f"replaced by the Identity placeholder '{self.placeholder}'"
        elif self.action == "constant":
            what = "left out (it does not depend on the input)"
        else:
            what = "the model is cut before it"
            if self.dropped:
                what += f"; torch.fx nodes not analysed: {', '.join(self.dropped)}"
            if self.unreached:
                what += f"; layers that no longer reach the output: {', '.join(self.unreached)}"
        return f"{self.op} ({self.where}): {self.reason}; {what}"


@dataclass(frozen=True)
class TorchImport:
    """What :func:`import_torch` returns: the model, what a partial import left out
    (empty when nothing was), and notes (parameters the forward pass never uses, modules
    called more than once, a channels-last output)."""

    model: Model
    gaps: tuple[Gap, ...] = ()
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------- values of fx nodes


@dataclass(frozen=True)
class _T:
    """A tensor: archcalc node ``node`` of per-sample shape ``shape``, seen by torch as
    ``tshape`` (batch first) in layout ``std`` (``(N, *shape)``), ``nhwc`` (the
    channels-last permute of a ``(C, H, W)`` map), ``bcast`` (an ``expand`` of it, which
    only a product takes) or ``view`` (any other view of it, which no layer takes)."""

    node: str
    shape: tuple[Any, ...]
    layout: str
    tshape: tuple[int, ...]


@dataclass(frozen=True)
class _P:
    """A parameter or buffer read with ``get_attr`` (possibly reshaped)."""

    target: str
    tensor: Tensor
    is_param: bool
    tshape: tuple[int, ...]


@dataclass(frozen=True)
class _C:
    """A value that is not a tensor (a size, an int, a tuple)."""

    value: Any


class _Unmappable(Exception):
    """An operation archcalc cannot map; the message is the reason."""


@dataclass(frozen=True)
class _X:
    """A tensor left out by a partial import (it does not depend on the input)."""

    tshape: tuple[int, ...]


# ---------------------------------------------------------------- what maps to what

_ACTIVATION_MODULES: tuple[tuple[type[nn.Module], Callable[[Any], L.Layer]], ...] = (
    (nn.ReLU, lambda m: L.ReLU()),
    (nn.ReLU6, lambda m: L.ReLU6()),
    (nn.LeakyReLU, lambda m: L.LeakyReLU(float(m.negative_slope))),
    (nn.SiLU, lambda m: L.SiLU()),
    (nn.GELU, lambda m: L.GELU()),
    (nn.Sigmoid, lambda m: L.Sigmoid()),
    (nn.Hardswish, lambda m: L.Hardswish()),
    (nn.Hardsigmoid, lambda m: L.Hardsigmoid()),
    (nn.Tanh, lambda m: L.Tanh()),
)

#: torch.nn classes mapped as leaves (subclasses too)
_LEAF_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv2d,
    nn.ConvTranspose2d,
    nn.Linear,
    nn.BatchNorm2d,
    nn.SyncBatchNorm,
    nn.LayerNorm,
    nn.Hardtanh,
    *(t for t, _ in _ACTIVATION_MODULES),
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.Flatten,
    nn.Unflatten,
    nn.modules.dropout._DropoutNd,
    nn.Identity,
    nn.Upsample,
)

#: classes matched by name, so that torchvision and timm need not be imported
_LEAF_NAMES = ("StochasticDepth", "LayerNorm2d")


def _canon_functions() -> dict[Any, str]:
    table: dict[str, list[Any]] = {
        "relu": [F.relu, F.relu_, torch.relu, torch.relu_],
        "relu6": [F.relu6],
        "clamp": [torch.clamp, torch.clamp_, torch.clip, torch.clamp_min],
        "hardtanh": [F.hardtanh, F.hardtanh_],
        "leaky_relu": [F.leaky_relu, F.leaky_relu_],
        "silu": [F.silu],
        "gelu": [F.gelu],
        "sigmoid": [torch.sigmoid, torch.sigmoid_, F.sigmoid],
        "hardswish": [F.hardswish],
        "hardsigmoid": [F.hardsigmoid],
        "tanh": [torch.tanh, torch.tanh_, F.tanh],
        "dropout": [
            F.dropout,
            F.dropout1d,
            F.dropout2d,
            F.dropout3d,
            F.alpha_dropout,
            F.feature_alpha_dropout,
        ],
        "torch_dropout": [torch.dropout, torch.alpha_dropout, torch.feature_dropout],
        "add": [operator.add, operator.iadd, torch.add],
        "mul": [operator.mul, operator.imul, torch.mul, torch.multiply],
        "cat": [torch.cat, torch.concat, torch.concatenate],
        "flatten": [torch.flatten],
        "reshape": [torch.reshape, torch.squeeze, torch.unsqueeze],
        "permute": [torch.permute],
        "transpose": [torch.transpose],
        "max_pool2d": [F.max_pool2d, torch.max_pool2d],
        "avg_pool2d": [F.avg_pool2d],
        "adaptive_avg_pool2d": [F.adaptive_avg_pool2d],
        "mean": [torch.mean],
        "interpolate": [F.interpolate, F.upsample, F.upsample_nearest],
        "conv2d": [F.conv2d],
        "linear": [F.linear],
        "layer_norm": [F.layer_norm],
    }
    return {fn: name for name, fns in table.items() for fn in fns}


_FUNCTIONS = _canon_functions()

_METHODS = {
    "relu": "relu",
    "relu_": "relu",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "clamp": "clamp",
    "clamp_": "clamp",
    "clip": "clamp",
    "clamp_min": "clamp",
    "clamp_min_": "clamp",
    "tanh": "tanh",
    "tanh_": "tanh",
    "add": "add",
    "add_": "add",
    "__add__": "add",
    "__iadd__": "add",
    "mul": "mul",
    "mul_": "mul",
    "multiply": "mul",
    "__mul__": "mul",
    "flatten": "flatten",
    "view": "reshape",
    "reshape": "reshape",
    "squeeze": "reshape",
    "unsqueeze": "reshape",
    "unflatten": "reshape",
    "view_as": "reshape",
    "reshape_as": "reshape",
    "permute": "permute",
    "transpose": "transpose",
    "contiguous": "alias",
    "detach": "alias",
    "to": "cast",
    "float": "cast",
    "type": "cast",
    "type_as": "cast",
    "mean": "mean",
    "expand": "expand",
    "expand_as": "expand",
}

#: positional parameters of the functions whose arguments are read
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "max_pool2d": (
        "input",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "ceil_mode",
        "return_indices",
    ),
    "avg_pool2d": (
        "input",
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        "divisor_override",
    ),
    "adaptive_avg_pool2d": ("input", "output_size"),
    "interpolate": (
        "input",
        "size",
        "scale_factor",
        "mode",
        "align_corners",
        "recompute_scale_factor",
        "antialias",
    ),
    "dropout": ("input", "p", "training", "inplace"),
    "torch_dropout": ("input", "p", "train"),
    "leaky_relu": ("input", "negative_slope", "inplace"),
    "hardtanh": ("input", "min_val", "max_val", "inplace"),
    "clamp": ("input", "min", "max"),
    "cat": ("tensors", "dim"),
    "add": ("input", "other", "alpha"),
    "mul": ("input", "other"),
    "mean": ("input", "dim", "keepdim", "dtype"),
    "flatten": ("input", "start_dim", "end_dim"),
    "permute": ("input", "dims"),
    "transpose": ("input", "dim0", "dim1"),
    "conv2d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "linear": ("input", "weight", "bias"),
    "layer_norm": ("input", "normalized_shape", "weight", "bias", "eps"),
}

_ELEMENTWISE: dict[str, Callable[[dict[str, Any]], L.Layer]] = {
    "relu": lambda a: L.ReLU(),
    "relu6": lambda a: L.ReLU6(),
    "silu": lambda a: L.SiLU(),
    "gelu": lambda a: L.GELU(),
    "sigmoid": lambda a: L.Sigmoid(),
    "hardswish": lambda a: L.Hardswish(),
    "hardsigmoid": lambda a: L.Hardsigmoid(),
    "tanh": lambda a: L.Tanh(),
    "leaky_relu": lambda a: L.LeakyReLU(float(a.get("negative_slope", 0.01))),
    "hardtanh": lambda a: _relu6_of_hardtanh(a.get("min_val", -1.0), a.get("max_val", 1.0)),
    "clamp": lambda a: _relu_of_clamp(a.get("min"), a.get("max")),
    "dropout": lambda a: L.Dropout(float(a.get("p", 0.5))),
    "torch_dropout": lambda a: L.Dropout(float(a["p"])),
}


def _relu_of_clamp(lo: Any, hi: Any) -> L.Layer:
    if lo == 0 and hi is None:
        return L.ReLU()
    if lo == 0 and hi == 6:
        return L.ReLU6()
    raise _Unmappable(
        f"clamp(min={lo!r}, max={hi!r}): only clamp(min=0) (ReLU) and clamp(0, 6) (ReLU6) "
        f"have archcalc layers"
    )


def _relu6_of_hardtanh(lo: float, hi: float) -> L.Layer:
    if (lo, hi) != (0.0, 6.0):
        raise _Unmappable(
            f"hardtanh({lo}, {hi}): only hardtanh(0, 6), i.e. ReLU6, has an archcalc layer"
        )
    return L.ReLU6()


# ---------------------------------------------------------------- tracing


def _is_mappable_module(m: nn.Module) -> bool:
    from . import build as bridge

    if isinstance(
        m,
        (
            bridge.Add,
            bridge.Mul,
            bridge.Concat,
            bridge.GlobalAvgPool,
            bridge.LayerScale,
            bridge.StochasticDepth,
            bridge.CoordAugment,
        ),
    ):
        return True
    return isinstance(m, _LEAF_TYPES) or type(m).__name__ in _LEAF_NAMES


class _Tracer(fx.Tracer):
    """torch.fx's tracer with archcalc's leaves, stack traces, and the path of the innermost
    module whose ``forward`` failed to trace."""

    def __init__(self, forced: set[str]) -> None:
        super().__init__()
        self.record_stack_traces = True
        self.forced = forced
        self.failed: tuple[str | None, BaseException] | None = None

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if module_qualified_name in self.forced:
            return True
        if isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
            return False
        if _is_mappable_module(m):
            return True
        return bool(super().is_leaf_module(m, module_qualified_name))

    def call_module(
        self,
        m: nn.Module,
        forward: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception as e:
            if self.failed is None:
                try:
                    path: str | None = self.path_of_module(m)
                except Exception:
                    path = None
                self.failed = (path, e)
            raise


def _trace(root: nn.Module) -> tuple[fx.GraphModule, dict[str, str]]:
    """Trace ``root``; submodules that fail are retried as leaves. Returns the graph
    module and ``{module path: why it could not be traced}``."""
    forced: dict[str, str] = {}
    for _ in range(len(list(root.modules())) + 1):
        tracer = _Tracer(set(forced))
        try:
            graph = tracer.trace(root)
        except Exception as e:
            path = tracer.failed[0] if tracer.failed else None
            if path and path not in forced:
                err = tracer.failed[1] if tracer.failed else e
                forced[path] = _trace_reason(err)
                continue
            raise UnsupportedError(
                f"torch.fx cannot trace {type(root).__name__}.forward: {_trace_reason(e)}"
            ) from None
        return fx.GraphModule(tracer.root, graph, type(root).__name__), forced
    raise UnsupportedError(f"torch.fx cannot trace {type(root).__name__}")  # pragma: no cover


def _trace_reason(e: BaseException) -> str:
    msg = f"{type(e).__name__}: {e}".strip()
    if isinstance(e, fx.proxy.TraceError) or "control flow" in str(e):
        msg += (
            " (data-dependent control flow: an if/while/for on tensor values or sizes;"
            " make it a leaf module or pass concrete values)"
        )
    torch_dir = torch.__file__.rsplit("/", 1)[0] + "/"
    frames = [
        f
        for f in traceback.extract_tb(e.__traceback__)
        if not f.filename.startswith(torch_dir) and f.filename != __file__
    ]
    if frames:
        f = frames[-1]
        msg += f" at {f.filename}:{f.lineno}: `{(f.line or '').strip()}`"
    return msg


class _Propagate(fx.Interpreter):
    """Shape propagation (as ``torch.fx.passes.shape_prop.ShapeProp``) that also records
    the value of every non-tensor node (sizes, ints) in ``node.meta["archcalc"]``."""

    def run_node(self, n: fx.Node) -> Any:
        try:
            result = super().run_node(n)
        except Exception as e:
            raise _PropagationError(n, e) from e
        if isinstance(result, Tensor):
            n.meta["archcalc"] = ("tensor", tuple(int(d) for d in result.shape), result.dtype)
        elif _has_tensor(result):
            n.meta["archcalc"] = ("tensors", None, None)
        else:
            n.meta["archcalc"] = ("value", result, None)
        return result


class _PropagationError(Exception):
    def __init__(self, node: fx.Node, error: BaseException) -> None:
        super().__init__(str(error))
        self.node, self.error = node, error


def _has_tensor(x: Any) -> bool:
    if isinstance(x, Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(_has_tensor(v) for v in x.values())
    return False


# ---------------------------------------------------------------- helpers


def _prod(xs: Sequence[Any]) -> Any:
    out: Any = 1
    for x in xs:
        out = out * x
    return out


def _torch_shape(shape: tuple[Any, ...], layout: str) -> tuple[Any, ...]:
    if layout == "nhwc":
        c, h, w = shape
        return (_BATCH, h, w, c)
    return (_BATCH, *shape)


def _archcalc_shape(tshape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "nhwc":
        _, h, w, c = tshape
        return (c, h, w)
    return tuple(tshape[1:])


def _op_name(n: fx.Node, root: nn.Module) -> str:
    """How a message names what ``n`` calls."""
    if n.op == "call_module":
        cls = type(root.get_submodule(str(n.target)))
        if cls.__module__.startswith("torch.nn"):
            return f"nn.{cls.__name__}"
        return f"{cls.__module__}.{cls.__qualname__}"
    if n.op == "call_method":
        return f"Tensor.{n.target}"
    if n.op == "call_function":
        try:
            name = _get_qualified_name(n.target)  # type: ignore[arg-type]
        except Exception:
            name = getattr(n.target, "__name__", str(n.target))
        for private, public in _PUBLIC:
            name = re.sub(private, public, name)
        return name
    return n.op


#: torch's private homes of public functions, for messages
_PUBLIC = (
    (r"^torch\._C\._nn\.", "torch.nn.functional."),
    (r"^torch\._C\._(fft|linalg|special)\.\1_", r"torch.\1."),
    (r"^_operator\.", "operator."),
    (r"^builtins\.", ""),
)

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)\n\s+(.*)')


def _user_frame(stack: str | None) -> str:
    """The last frame of a torch.fx stack trace that is not inside torch: ``file:line``."""
    if not stack:
        return ""
    frames = _FRAME.findall(stack)
    torch_dir = torch.__file__.rsplit("/", 1)[0] + "/"
    user = [f for f in frames if not f[0].startswith(torch_dir) and f[0] != __file__]
    if not user:
        return ""
    path, line, _, code = user[-1]
    return f"{path}:{line}: `{code.strip()}`"


def _module_stack(n: fx.Node) -> tuple[str, str] | None:
    """(path, class name) of the innermost module whose ``forward`` made ``n``."""
    entries = list((n.meta.get("nn_module_stack") or {}).values())
    src = n.args[0] if n.args else None
    if n.op == "call_function" and n.target is getattr and isinstance(src, fx.Node):
        # torch.fx creates an attribute node (x.real) lazily, where it is first used: take
        # the module of the tensor it reads instead
        entries = list((src.meta.get("nn_module_stack") or {}).values())
        if src.op == "call_module":
            entries = entries[:-1]
    if not entries:
        return None
    path, cls = entries[-1]
    return str(path), getattr(cls, "__name__", str(cls))


def _ints(v: Any, what: str) -> Any:
    """An int or a tuple of ints (a torch size argument)."""
    if isinstance(v, bool):
        raise _Unmappable(f"{what} = {v!r} is not a size")
    if isinstance(v, int):
        return v
    if isinstance(v, (list, tuple, torch.Size)) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in v
    ):
        return tuple(v) if len(v) != 1 else (v[0], v[0])
    raise _Unmappable(f"{what} = {v!r} is not an integer size")


# ---------------------------------------------------------------- the conversion


class _Converter:
    def __init__(
        self,
        root: nn.Module,
        gm: fx.GraphModule,
        input_shape: tuple[int, ...],
        partial: bool,
        forced: dict[str, str],
    ) -> None:
        from . import build as bridge

        self.bridge = bridge
        self.root, self.gm = root, gm
        self.input_shape = input_shape
        self.partial = partial
        self.forced = forced
        self.nodes: list[Node] = []
        self.names: set[str] = {INPUT}
        self.env: dict[fx.Node, Any] = {}
        self.gaps: list[Gap] = []
        self.notes: list[str] = []
        self.used_params: set[int] = set()
        self.calls: dict[str, int] = {}
        self.renamed: dict[str, str] = {}
        if isinstance(root, bridge.ArchcalcModule):
            self.renamed = {v: k for k, v in root.module_names.items()}

    # ------------------------------------------------------------ naming and emitting

    def _unique(self, base: str) -> str:
        name, i = base, 0
        while name in self.names:
            i += 1
            name = f"{base}_{i}"
        self.names.add(name)
        return name

    def _name_of(self, n: fx.Node, canon: str | None = None) -> str:
        if n.op == "call_module":
            target = str(n.target)
            return self.renamed.get(target, target)
        if canon in ("add", "mul", "cat"):
            base = str(canon)
        elif n.op == "call_method":
            base = str(n.target).strip("_")
        else:
            base = re.sub(r"_\d+$", "", n.name)
        stack = _module_stack(n)
        return f"{stack[0]}.{base}" if stack and stack[0] else base

    def _where(self, n: fx.Node) -> str:
        parts = []
        if n.op == "call_module":
            parts.append(f"module '{self.renamed.get(str(n.target), n.target)}'")
        stack = _module_stack(n)
        if n.op != "call_module":
            parts.append(f"fx node '{n.name}'")
            if stack and stack[0]:
                parts.append(f"in module '{stack[0]}' ({stack[1]})")
            else:
                parts.append(f"in {type(self.root).__name__}.forward")
        frame = _user_frame(n.stack_trace)
        if frame:
            parts.append(f"at {frame}")
        return ", ".join(parts)

    def _emit(
        self, n: fx.Node, layer: L.Layer, inputs: Sequence[_T], layout: str, name: str | None = None
    ) -> _T:
        for t in inputs:
            _check_view(t)
        tshape = self._tshape(n)
        try:
            shape = layer.out_shape(tuple(t.shape for t in inputs))
        except ArchcalcError as e:
            raise _Unmappable(f"archcalc's {layer.kind} rejects its input: {e}") from None
        if layout == "nhwc" and len(tshape) != 4:
            raise _Unmappable(f"a channels-last result of shape {tshape}")
        if tuple(shape) != _archcalc_shape(tshape, layout):
            raise _Unmappable(
                f"archcalc's {layer.kind} gives shape {tuple(shape)} but torch gives "
                f"{_archcalc_shape(tshape, layout)}"
            )
        node_name = self._unique(name if name is not None else self._name_of(n))
        self.nodes.append(Node(node_name, layer, tuple(t.node for t in inputs)))
        return _T(node_name, tuple(shape), layout, tshape)

    def _tshape(self, n: fx.Node) -> tuple[int, ...]:
        kind, value, _ = n.meta["archcalc"]
        if kind != "tensor":
            raise _Unmappable("it does not return one tensor")
        shape: tuple[int, ...] = value
        if not shape or shape[0] != _BATCH:
            raise _Unmappable(
                f"its result of shape {shape} has no batch axis first (the batch was {_BATCH})"
            )
        return shape

    # ------------------------------------------------------------ arguments

    def _val(self, a: Any) -> Any:
        """An argument with fx nodes replaced by their values (_T, _P, or plain values)."""
        if isinstance(a, fx.Node):
            v = self.env[a]
            return v.value if isinstance(v, _C) else v
        if isinstance(a, (list, tuple)):
            return type(a)(self._val(x) for x in a)
        if isinstance(a, dict):
            return {k: self._val(x) for k, x in a.items()}
        return a

    def _bind(self, n: fx.Node, canon: str) -> dict[str, Any]:
        names = _SIGNATURES.get(canon, ("input",))
        args = [self._val(a) for a in n.args]
        kw = {k: self._val(v) for k, v in n.kwargs.items()}
        if canon in ("permute",) and n.op == "call_method":
            rest = args[1:]
            dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
            args = [args[0], tuple(dims)]
        bound = dict(zip(names, args))
        for k, v in kw.items():
            if k == "self":
                k = "input"
            bound[k] = v
        return bound

    def _tensor(self, v: Any, what: str = "input") -> _T:
        if isinstance(v, _T):
            return v
        if isinstance(v, _P):
            raise _Unmappable(
                f"its {what} is the {'parameter' if v.is_param else 'buffer'} '{v.target}'"
                f" used directly"
            )
        if isinstance(v, _X):
            raise _Unmappable(f"its {what} comes from an operation left out")
        raise _Unmappable(f"its {what} is not a tensor archcalc follows ({type(v).__name__})")

    # ------------------------------------------------------------ the walk

    def run(self) -> TorchImport:
        graph_nodes = list(self.gm.graph.nodes)
        output: _T | None = None
        for i, n in enumerate(graph_nodes):
            if n.op == "output":
                output = self._output(n)
                break
            try:
                self.env[n] = self._visit(n)
            except _Unmappable as e:
                where = self._where(n)
                op = _op_name(n, self.gm) if n.op != "placeholder" else "input"
                if not self.partial:
                    raise UnsupportedError(
                        f"archcalc cannot map {op} ({where}): {e}; "
                        f"pass partial=True to analyse the rest"
                    ) from None
                if not any(isinstance(self.env.get(a), _T) for a in n.all_input_nodes):
                    kind, value, _ = n.meta.get("archcalc", (None, None, None))
                    self.env[n] = _X(value if kind == "tensor" else ())
                    self.gaps.append(Gap(op, where, str(e), "constant"))
                    continue
                placeholder = self._placeholder(n)
                if placeholder is not None:
                    self.env[n] = placeholder
                    self.gaps.append(Gap(op, where, str(e), "identity", placeholder.node))
                    continue
                cut_input = self._cut_input(n)
                later = [
                    m.name
                    for m in graph_nodes[i + 1 :]
                    if m.op not in ("output", "get_attr")
                    and m.meta.get("archcalc", ("value",))[0] != "value"
                ]
                gap = Gap(op, where, str(e), "cut", None, tuple(later))
                self.gaps.append(gap)
                output = cut_input
                break
        if output is None:
            raise UnsupportedError(f"{type(self.root).__name__}: the traced graph has no output")
        return self._finish(output)

    def _cut_input(self, n: fx.Node) -> _T:
        for a in n.all_input_nodes:
            v = self.env.get(a)
            if isinstance(v, _T):
                return v
        raise UnsupportedError(
            f"{_op_name(n, self.gm)} ({self._where(n)}) cannot be left out: it has no input "
            f"tensor to end the model at"
        )

    def _placeholder(self, n: fx.Node) -> _T | None:
        """An Identity standing in for ``n``, if an input of ``n`` has its output's shape."""
        kind, value, _ = n.meta.get("archcalc", (None, None, None))
        if kind != "tensor":
            return None
        for a in n.all_input_nodes:
            v = self.env.get(a)
            if isinstance(v, _T) and v.layout in ("std", "nhwc") and tuple(v.tshape) == value:
                try:
                    return self._emit(n, L.Identity(), [v], v.layout)
                except _Unmappable:
                    return None
        return None

    def _output(self, n: fx.Node) -> _T:
        out = n.args[0]
        if isinstance(out, (list, tuple)) and out:
            tensors = [self.env.get(a) for a in out if isinstance(a, fx.Node)]
            first = next((v for v in tensors if isinstance(v, _T)), None)
            if not self.partial or first is None:
                raise UnsupportedError(
                    f"{type(self.root).__name__}.forward returns {len(out)} values; an archcalc "
                    f"model has one output (pass partial=True to analyse the first tensor)"
                )
            self.gaps.append(
                Gap(
                    "output",
                    f"{type(self.root).__name__}.forward",
                    f"it returns {len(out)} values",
                    "cut",
                    None,
                    tuple(a.name for a in out if isinstance(a, fx.Node))[1:],
                )
            )
            return first
        v = self.env.get(out) if isinstance(out, fx.Node) else None
        if not isinstance(v, _T):
            raise UnsupportedError(
                f"{type(self.root).__name__}.forward returns {type(v).__name__ if v else out!r},"
                f" not a tensor"
            )
        return v

    def _finish(self, out: _T) -> TorchImport:
        if out.node == INPUT:
            name = self._unique("output")
            self.nodes.append(Node(name, L.Identity(), (INPUT,)))
            out = _T(name, out.shape, out.layout, out.tshape)
        if not self.nodes:  # pragma: no cover - guarded above
            raise UnsupportedError(f"{type(self.root).__name__}: nothing to analyse")
        if out.layout == "nhwc":
            self.notes.append(
                f"the output is channels-last in torch {out.tshape}; archcalc reports it as "
                f"(C, H, W) {out.shape}"
            )
        elif out.layout == "view":
            self.notes.append(
                f"the output is a view {out.tshape} of archcalc's {out.shape} output '{out.node}'"
            )
        for path, count in self.calls.items():
            mod = self.gm.get_submodule(path)
            if count > 1 and any(True for _ in mod.parameters(recurse=False)):
                self.notes.append(
                    f"module '{path}' is called {count} times; its parameters are shared in "
                    f"torch but counted at each call by archcalc"
                )
        self._unused_params()
        live_names: set[str] = set()
        stack = [out.node]
        by_name = {nd.name: nd for nd in self.nodes}
        while stack:
            cur = stack.pop()
            if cur in live_names or cur == INPUT:
                continue
            live_names.add(cur)
            stack.extend(by_name[cur].inputs)
        dead = [nd.name for nd in self.nodes if nd.name not in live_names]
        if dead and self.gaps and self.gaps[-1].action == "cut":
            g = self.gaps[-1]
            self.gaps[-1] = Gap(g.op, g.where, g.reason, g.action, None, g.dropped, tuple(dead))
        return TorchImport(
            model=Model("", tuple(self.nodes), self.input_shape, out.node),
            gaps=tuple(self.gaps),
            notes=tuple(self.notes),
        )

    def _unused_params(self) -> None:
        unused: list[tuple[str, int]] = []
        seen: set[int] = set()
        for path, mod in self.root.named_modules():
            n = 0
            for p in mod.parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                if id(p) not in self.used_params:
                    n += p.numel()
            if n:
                unused.append((path or type(self.root).__name__, n))
        if unused:
            total = sum(k for _, k in unused)
            shown = ", ".join(f"'{p}'" for p, _ in unused[:6])
            more = f" and {len(unused) - 6} more" if len(unused) > 6 else ""
            self.notes.append(
                f"{total:,} parameters are not counted: the traced forward pass does not use "
                f"them or their layer was left out (in {shown}{more})"
            )

    def _use(self, *tensors: Any) -> None:
        for t in tensors:
            if isinstance(t, Tensor):
                self.used_params.add(id(t))
            elif isinstance(t, _P):
                self.used_params.add(id(self._attr(t.target)))

    def _attr(self, target: str) -> Any:
        obj: Any = self.gm
        for part in target.split("."):
            obj = getattr(obj, part)
        return obj

    # ------------------------------------------------------------ one node

    def _visit(self, n: fx.Node) -> Any:
        self._current = n
        if n.op == "placeholder":
            if any(isinstance(v, _T) for v in self.env.values()):
                if n.meta.get("archcalc", ("",))[0] == "tensor":
                    raise _Unmappable("forward takes a second tensor input")
                return _C(n.meta.get("archcalc", (None, None))[1])
            shape = tuple(self.input_shape)
            return _T(INPUT, shape, "std", (_BATCH, *shape))
        if n.op == "get_attr":
            t = self._attr(str(n.target))
            if isinstance(t, Tensor):
                return _P(str(n.target), t, isinstance(t, nn.Parameter), tuple(t.shape))
            return _C(t)
        kind = n.meta["archcalc"][0]
        if kind == "value":
            return _C(n.meta["archcalc"][1])
        if kind == "tensors":
            if n.op == "call_module" and str(n.target) in self.forced:
                raise _Unmappable(
                    f"torch.fx cannot trace it ({self.forced[str(n.target)]}), and it returns "
                    f"several tensors"
                )
            raise _Unmappable("it returns several tensors (a tuple or a list)")
        if n.op == "call_module":
            return self._module(n)
        canon = _METHODS.get(str(n.target)) if n.op == "call_method" else _FUNCTIONS.get(n.target)
        if canon is None:
            if n.op == "call_function" and n.target in (operator.getitem, getattr):
                raise _Unmappable("indexing or an attribute of a tensor has no archcalc layer")
            raise _Unmappable("no archcalc layer does this")
        tensor_in = [
            v for v in (self.env.get(a) for a in n.all_input_nodes) if isinstance(v, (_T, _P, _X))
        ]
        if not tensor_in:
            raise _Unmappable("it makes a tensor from no input tensor (a constant)")
        return self._function(n, canon)

    # ------------------------------------------------------------ modules

    def _module(self, n: fx.Node) -> _T:
        path = str(n.target)
        m = self.gm.get_submodule(path)
        self.calls[path] = self.calls.get(path, 0) + 1
        if path in self.forced:
            raise _Unmappable(f"torch.fx cannot trace its forward ({self.forced[path]})")
        args = [self._val(a) for a in n.args]
        kwargs = {k: self._val(v) for k, v in n.kwargs.items()}
        tensors = [a for a in args if isinstance(a, _T)]
        if not tensors:
            raise _Unmappable("it has no input tensor archcalc follows")
        x = tensors[0]
        if isinstance(m, (nn.Flatten, nn.Unflatten)):
            return self._reshape(n, x, self._name_of(n))
        layer, layout, inputs = self._module_layer(m, x, tensors, kwargs)
        out = self._emit(n, layer, inputs, layout)
        self._check_params(m, layer, inputs, out)
        for p in m.parameters(recurse=False):
            self.used_params.add(id(p))
        return out

    def _check_params(self, m: nn.Module, layer: L.Layer, inputs: Sequence[_T], out: _T) -> None:
        ins = tuple(t.shape for t in inputs)
        own = sum(p.numel() for p in m.parameters(recurse=False))
        if layer.params(ins) != own:
            raise _Unmappable(
                f"it has {own} parameters but archcalc's {layer.kind} counts {layer.params(ins)}"
            )
        bufs = sum(b.numel() for b in m.buffers(recurse=False))
        if layer.buffers(ins) != bufs:
            raise _Unmappable(
                f"it has {bufs} buffer elements but archcalc's {layer.kind} counts "
                f"{layer.buffers(ins)}"
            )

    def _module_layer(
        self, m: nn.Module, x: _T, tensors: list[_T], kwargs: dict[str, Any]
    ) -> tuple[L.Layer, str, list[_T]]:
        b = self.bridge
        name = type(m).__name__
        if isinstance(m, b.Add):
            return L.Add(), x.layout, tensors
        if isinstance(m, b.Mul):
            return L.Mul(), x.layout, tensors
        if isinstance(m, b.Concat):
            return L.Concat(), "std", tensors
        if isinstance(m, b.GlobalAvgPool):
            return L.GlobalAvgPool(), "std", [x]
        if isinstance(m, b.CoordAugment):
            return L.CoordAugment(), "std", [x]
        if isinstance(m, b.LayerScale):
            return L.LayerScale(int(m.weight.numel())), x.layout, [x]
        if name == "StochasticDepth" or isinstance(m, b.StochasticDepth):
            mode = getattr(m, "mode", "row")
            if mode != "row":
                raise _Unmappable(f"StochasticDepth(mode={mode!r}): archcalc models row mode")
            return L.StochasticDepth(float(getattr(m, "p", 0.0))), x.layout, [x]
        if name == "LayerNorm2d":
            if x.layout != "std" or len(x.shape) != 3:
                raise _Unmappable("LayerNorm2d needs an (N, C, H, W) map")
            return L.LayerNorm2d(x.shape[0]), "std", [x]
        if isinstance(m, nn.Conv2d):
            return self._conv(m, x), "std", [x]
        if isinstance(m, nn.ConvTranspose2d):
            return self._conv_transpose(m, x), "std", [x]
        if isinstance(m, nn.Linear):
            return self._linear(
                m.in_features, m.out_features, m.bias is not None, x, isinstance(m, b.ChannelLinear)
            )
        if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            if not (m.affine and m.track_running_stats):
                raise _Unmappable(
                    "archcalc's BatchNorm2d is affine with tracked running statistics "
                    f"(affine={m.affine}, track_running_stats={m.track_running_stats})"
                )
            if x.layout != "std" or len(x.shape) != 3:
                raise _Unmappable("BatchNorm needs an (N, C, H, W) map")
            return L.BatchNorm2d(int(m.num_features)), "std", [x]
        if isinstance(m, nn.LayerNorm):
            return self._layer_norm(tuple(m.normalized_shape), x), x.layout, [x]
        if isinstance(m, nn.ReLU6) or (
            isinstance(m, nn.Hardtanh) and (m.min_val, m.max_val) == (0.0, 6.0)
        ):
            return L.ReLU6(), x.layout, [x]
        if isinstance(m, nn.Hardtanh):
            return _relu6_of_hardtanh(m.min_val, m.max_val), x.layout, [x]
        for cls, make in _ACTIVATION_MODULES:
            if isinstance(m, cls):
                return make(m), x.layout, [x]
        if isinstance(m, nn.modules.dropout._DropoutNd):
            return L.Dropout(float(m.p)), x.layout, [x]
        if isinstance(m, nn.Identity):
            return L.Identity(), x.layout, [x]
        if isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                raise _Unmappable("max pooling with return_indices")
            return (
                L.MaxPool2d(
                    _ints(m.kernel_size, "kernel_size"),
                    _ints(m.stride, "stride"),
                    _ints(m.padding, "padding"),
                    dilation=_ints(m.dilation, "dilation"),
                    ceil_mode=bool(m.ceil_mode),
                ),
                "std",
                [x],
            )
        if isinstance(m, nn.AvgPool2d):
            return (
                L.AvgPool2d(
                    _ints(m.kernel_size, "kernel_size"),
                    _ints(m.stride, "stride"),
                    _ints(m.padding, "padding"),
                    ceil_mode=bool(m.ceil_mode),
                ),
                "std",
                [x],
            )
        if isinstance(m, nn.AdaptiveAvgPool2d):
            return self._adaptive(x), "std", [x]
        if isinstance(m, nn.Upsample):
            return self._upsample(x, m.mode, m.align_corners), "std", [x]
        raise _Unmappable("no archcalc layer does this")

    # ------------------------------------------------------------ layer builders

    def _conv(self, m: nn.Conv2d, x: _T) -> L.Layer:
        if m.padding_mode != "zeros":
            raise _Unmappable(f"padding_mode={m.padding_mode!r}: archcalc's Conv2d pads with zeros")
        self._need_map(x, "Conv2d")
        padding = m.padding if isinstance(m.padding, str) else _ints(m.padding, "padding")
        return L.Conv2d(
            m.in_channels,
            m.out_channels,
            _ints(m.kernel_size, "kernel_size"),
            stride=_ints(m.stride, "stride"),
            padding=padding,
            dilation=_ints(m.dilation, "dilation"),
            groups=m.groups,
            bias=m.bias is not None,
        )

    def _conv_transpose(self, m: nn.ConvTranspose2d, x: _T) -> L.Layer:
        if m.padding_mode != "zeros":
            raise _Unmappable(f"padding_mode={m.padding_mode!r}")
        self._need_map(x, "ConvTranspose2d")
        n = self._current
        out = self._tshape(n)[2:]
        k, s, p, d = (
            _pair(m.kernel_size),
            _pair(m.stride),
            _pair(_ints(m.padding, "padding")),
            _pair(m.dilation),
        )
        # output_padding from the output torch made (also when forward got output_size)
        op = tuple(
            o - ((i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + 1)
            for o, i, k_, s_, p_, d_ in zip(out, x.shape[1:], k, s, p, d)
        )
        return L.ConvTranspose2d(
            m.in_channels,
            m.out_channels,
            k,
            stride=s,
            padding=p,
            output_padding=op,
            dilation=d,
            groups=m.groups,
            bias=m.bias is not None,
        )

    def _linear(
        self, fin: int, fout: int, bias: bool, x: _T, channel: bool = False
    ) -> tuple[L.Layer, str, list[_T]]:
        layer = L.Linear(fin, fout, bias=bias)
        if x.layout == "std" and len(x.shape) == 1:
            return layer, "std", [x]
        if x.layout == "nhwc":
            return layer, "nhwc", [x]
        if channel and x.layout == "std" and len(x.shape) == 3:
            return layer, "std", [x]
        raise _Unmappable(
            f"a linear layer on the last axis of a tensor of shape {x.tshape}; archcalc maps it "
            f"on vectors (N, F) and on channels-last maps (N, H, W, C)"
        )

    def _layer_norm(self, normalized: tuple[int, ...], x: _T) -> L.Layer:
        if len(normalized) != 1:
            raise _Unmappable(f"LayerNorm over {normalized}: archcalc normalises over channels")
        if x.layout == "nhwc" or (x.layout == "std" and len(x.shape) == 1):
            if x.tshape[-1] != normalized[0]:  # pragma: no cover - torch checks it
                raise _Unmappable("normalized_shape does not match the channels")
            return L.LayerNorm2d(normalized[0])
        raise _Unmappable(
            f"LayerNorm over the last axis of a tensor of shape {x.tshape}: archcalc "
            f"normalises over the channels of a channels-last map or of a vector"
        )

    def _need_map(self, x: _T, kind: str) -> None:
        _check_view(x)
        if x.layout != "std" or len(x.shape) != 3:
            raise _Unmappable(f"{kind} needs an (N, C, H, W) map, got shape {x.tshape}")

    def _adaptive(self, x: _T) -> L.Layer:
        self._need_map(x, "AdaptiveAvgPool2d")
        oh, ow = self._tshape(self._current)[2:]
        return L.AdaptiveAvgPool2d(oh if oh == ow else (oh, ow))

    def _upsample(self, x: _T, mode: str, align_corners: Any) -> L.Layer:
        self._need_map(x, "Upsample")
        out = self._tshape(self._current)[2:]
        scale = []
        for o, i in zip(out, x.shape[1:]):
            if o % i:
                raise _Unmappable(
                    f"upsampling {tuple(x.shape[1:])} to {tuple(out)}: archcalc's Upsample "
                    f"has an integer factor"
                )
            scale.append(o // i)
        if mode in ("nearest", "nearest-exact"):
            # for an integer factor nearest-exact picks the same pixels as nearest
            mode = "nearest"
        elif mode == "bilinear":
            if align_corners:
                raise _Unmappable("bilinear with align_corners=True")
        else:
            raise _Unmappable(f"mode={mode!r}: archcalc upsamples nearest or bilinear")
        sf: Any = scale[0] if scale[0] == scale[1] else tuple(scale)
        return L.Upsample(sf, mode)

    # ------------------------------------------------------------ functions and methods

    _current: fx.Node

    def _function(self, n: fx.Node, canon: str) -> _T | _P:
        a = self._bind(n, canon)
        name = self._name_of(n, canon)
        src = a.get("input")
        if isinstance(src, _P) and canon in ("flatten", "reshape", "alias", "cast"):
            # a view of a parameter (timm's gamma.view(1, -1, 1, 1)): still that parameter
            return _P(src.target, src.tensor, src.is_param, tuple(n.meta["archcalc"][1]))
        if canon in _ELEMENTWISE:
            x = self._tensor(a.get("input"))
            return self._emit(n, _ELEMENTWISE[canon](a), [x], x.layout, name)
        if canon == "add":
            return self._add(n, a, name)
        if canon == "mul":
            return self._mul(n, a, name)
        if canon == "cat":
            return self._cat(n, a, name)
        if canon in ("flatten", "reshape"):
            return self._reshape(n, self._tensor(a.get("input")), name)
        if canon in ("permute", "transpose"):
            return self._permute(n, canon, a)
        if canon == "alias":
            return self._alias(n, self._tensor(a.get("input")))
        if canon == "expand":
            # a broadcast view (x * gate.expand_as(x)): only a product takes it, as the gate
            x = self._tensor(a.get("input"))
            if x.layout != "std":
                raise _Unmappable(f"an expansion of a {x.layout} view")
            return _T(x.node, x.shape, "bcast", self._tshape(n))
        if canon == "cast":
            x = self._tensor(a.get("input"))
            if n.meta["archcalc"][2] != n.all_input_nodes[0].meta["archcalc"][2]:
                raise _Unmappable("a change of dtype")
            return self._alias(n, x)
        if canon == "max_pool2d":
            x = self._tensor(a.get("input"))
            self._need_map(x, "MaxPool2d")
            if a.get("return_indices"):
                raise _Unmappable("max pooling with return_indices")
            k = _ints(a["kernel_size"], "kernel_size")
            layer: L.Layer = L.MaxPool2d(
                k,
                _ints(a.get("stride") or k, "stride"),
                _ints(a.get("padding", 0), "padding"),
                dilation=_ints(a.get("dilation", 1), "dilation"),
                ceil_mode=bool(a.get("ceil_mode", False)),
            )
            return self._emit(n, layer, [x], "std", name)
        if canon == "avg_pool2d":
            x = self._tensor(a.get("input"))
            self._need_map(x, "AvgPool2d")
            k = _ints(a["kernel_size"], "kernel_size")
            layer = L.AvgPool2d(
                k,
                _ints(a.get("stride") or k, "stride"),
                _ints(a.get("padding", 0), "padding"),
                ceil_mode=bool(a.get("ceil_mode", False)),
            )
            return self._emit(n, layer, [x], "std", name)
        if canon == "adaptive_avg_pool2d":
            x = self._tensor(a.get("input"))
            return self._emit(n, self._adaptive(x), [x], "std", name)
        if canon == "mean":
            return self._mean(n, a, name)
        if canon == "interpolate":
            x = self._tensor(a.get("input"))
            if a.get("antialias"):
                raise _Unmappable("interpolation with antialias=True")
            mode = a.get("mode", "nearest")
            return self._emit(n, self._upsample(x, mode, a.get("align_corners")), [x], "std", name)
        if canon == "conv2d":
            return self._fconv(n, a, name)
        if canon == "linear":
            x = self._tensor(a.get("input"))
            w, bias = a.get("weight"), a.get("bias")
            if not isinstance(w, _P) or (bias is not None and not isinstance(bias, _P)):
                raise _Unmappable("F.linear with weights that are not parameters")
            fout, fin = w.tshape
            layer, layout, ins = self._linear(fin, fout, bias is not None, x)
            out = self._emit(n, layer, ins, layout, name)
            self._use(w, bias)
            return out
        if canon == "layer_norm":
            x = self._tensor(a.get("input"))
            w, bias = a.get("weight"), a.get("bias")
            if not (isinstance(w, _P) and isinstance(bias, _P)):
                raise _Unmappable("F.layer_norm without a weight and a bias parameter")
            layer = self._layer_norm(tuple(_listify(a.get("normalized_shape"))), x)
            out = self._emit(n, layer, [x], x.layout, name)
            self._use(w, bias)
            return out
        raise _Unmappable("no archcalc layer does this")  # pragma: no cover

    def _alias(self, n: fx.Node, x: _T) -> _T:
        tshape = self._tshape(n)
        if tuple(tshape) != tuple(x.tshape):  # pragma: no cover - aliases keep shapes
            raise _Unmappable(f"changes the shape {x.tshape} to {tshape}")
        return x

    def _add(self, n: fx.Node, a: dict[str, Any], name: str) -> _T:
        alpha = a.get("alpha", 1)
        if alpha != 1:
            raise _Unmappable(f"add with alpha={alpha!r}")
        ops = [a.get("input"), a.get("other")]
        tensors = [v for v in ops if isinstance(v, _T)]
        if len(tensors) == 1 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0
            for v in ops
            if not isinstance(v, _T)
        ):
            return self._alias(n, tensors[0])  # x + 0 (sum() starts with 0)
        if len(tensors) != 2:
            other = next(v for v in ops if not isinstance(v, _T))
            raise _Unmappable(f"an addition of {_describe(other)}; archcalc adds tensors")
        for t in tensors:
            _check_view(t)
        if tensors[0].layout != tensors[1].layout:
            raise _Unmappable("an addition of tensors in different layouts")
        return self._emit(n, L.Add(), tensors, tensors[0].layout, name)

    def _mul(self, n: fx.Node, a: dict[str, Any], name: str) -> _T:
        ops = [a.get("input"), a.get("other")]
        ops = [
            _T(v.node, v.shape, "std", _torch_shape(v.shape, "std"))
            if isinstance(v, _T) and v.layout == "bcast"
            else v
            for v in ops
        ]
        tensors = [v for v in ops if isinstance(v, _T)]
        if len(tensors) == 2:
            for t in tensors:
                _check_view(t)
            if tensors[0].layout != tensors[1].layout:
                raise _Unmappable("a product of tensors in different layouts")
            return self._emit(n, L.Mul(), tensors, tensors[0].layout, name)
        other = next((v for v in ops if not isinstance(v, _T)), None)
        if len(tensors) == 1 and isinstance(other, _P):
            return self._layer_scale(n, tensors[0], other)
        if (
            len(tensors) == 1
            and isinstance(other, (int, float))
            and not isinstance(other, bool)
            and other == 1
        ):
            return self._alias(n, tensors[0])
        raise _Unmappable(f"a product with {_describe(other)}; archcalc multiplies tensors")

    def _layer_scale(self, n: fx.Node, x: _T, p: _P) -> _T:
        if not p.is_param:
            raise _Unmappable(f"a product with the buffer '{p.target}' (not a parameter)")
        shape = tuple(d for d in p.tshape)
        while shape and shape[0] == 1 and len(shape) > 1:
            shape = shape[1:]
        c = x.shape[0] if x.shape else None
        ok = (x.layout == "std" and len(x.shape) == 3 and shape == (c, 1, 1)) or (
            x.layout == "nhwc" and shape == (c,)
        )
        if not ok:
            raise _Unmappable(
                f"a product with the parameter '{p.target}' of shape {p.tshape}; archcalc's "
                f"LayerScale is one scale per channel ((C, 1, 1), or (C,) channels-last)"
            )
        out = self._emit(n, L.LayerScale(int(x.shape[0])), [x], x.layout, p.target)
        self._use(p)
        return out

    def _cat(self, n: fx.Node, a: dict[str, Any], name: str) -> _T:
        items = a.get("tensors")
        if not isinstance(items, (list, tuple)):
            raise _Unmappable("a concatenation of something that is not a list of tensors")
        tensors = [self._tensor(v, "input") for v in items]
        dim = a.get("dim", 0)
        ndim = len(tensors[0].tshape)
        if not isinstance(dim, int) or dim % ndim != 1 or any(t.layout != "std" for t in tensors):
            raise _Unmappable(f"a concatenation along dim {dim}; archcalc concatenates channels")
        return self._emit(n, L.Concat(), tensors, "std", name)

    def _mean(self, n: fx.Node, a: dict[str, Any], name: str) -> _T:
        x = self._tensor(a.get("input"))
        dims = a.get("dim")
        dims = tuple(_listify(dims)) if dims is not None else None
        if x.layout != "std" or len(x.shape) != 3 or dims is None:
            raise _Unmappable("a mean that is not over the spatial axes of an (N, C, H, W) map")
        if sorted(d % 4 for d in dims) != [2, 3]:
            raise _Unmappable(f"a mean over dims {dims}; archcalc pools over (2, 3)")
        keep = bool(a.get("keepdim", False))
        if keep:
            return self._emit(n, L.GlobalAvgPool(), [x], "std", name)
        pooled = _T(self._unique(name), (x.shape[0], 1, 1), "std", (_BATCH, x.shape[0], 1, 1))
        self.nodes.append(Node(pooled.node, L.GlobalAvgPool(), (x.node,)))
        return self._emit(n, L.Flatten(), [pooled], "std", f"{name}_flatten")

    def _fconv(self, n: fx.Node, a: dict[str, Any], name: str) -> _T:
        x = self._tensor(a.get("input"))
        w, bias = a.get("weight"), a.get("bias")
        if not isinstance(w, _P) or (bias is not None and not isinstance(bias, _P)):
            raise _Unmappable("F.conv2d with weights that are not parameters")
        self._need_map(x, "conv2d")
        cout, cin_g, kh, kw = w.tshape
        groups = int(a.get("groups", 1))
        padding = a.get("padding", 0)
        layer = L.Conv2d(
            cin_g * groups,
            cout,
            (kh, kw),
            stride=_ints(a.get("stride", 1), "stride"),
            padding=padding if isinstance(padding, str) else _ints(padding, "padding"),
            dilation=_ints(a.get("dilation", 1), "dilation"),
            groups=groups,
            bias=bias is not None,
        )
        out = self._emit(n, layer, [x], "std", name)
        self._use(w, bias)
        return out

    def _reshape(self, n: fx.Node, x: _T, name: str) -> _T:
        tshape = self._tshape(n)
        if x.layout == "nhwc":
            if tuple(tshape) == tuple(x.tshape):
                return x
            raise _Unmappable(f"a reshape of a channels-last view {x.tshape} to {tshape}")
        std = _torch_shape(x.shape, "std")
        if tuple(tshape) == tuple(std):
            return _T(x.node, x.shape, "std", tshape)
        if len(tshape) == 2 and len(x.shape) > 1 and tshape[1] == _prod(x.shape):
            base = _T(x.node, x.shape, "std", std)
            return self._emit(n, L.Flatten(), [base], "std", name)
        return _T(x.node, x.shape, "view", tshape)

    def _permute(self, n: fx.Node, canon: str, a: dict[str, Any]) -> _T:
        x = self._tensor(a.get("input"))
        nd = len(x.tshape)
        if canon == "transpose":
            d0, d1 = int(a["dim0"]) % nd, int(a["dim1"]) % nd
            perm = list(range(nd))
            perm[d0], perm[d1] = perm[d1], perm[d0]
        else:
            perm = [int(d) % nd for d in _listify(a.get("dims"))]
        tshape = self._tshape(n)
        if perm == list(range(nd)):
            return x
        if x.layout == "std" and nd == 4 and perm == [0, 2, 3, 1]:
            return _T(x.node, x.shape, "nhwc", tshape)
        if x.layout == "nhwc" and perm == [0, 3, 1, 2]:
            return _T(x.node, x.shape, "std", tshape)
        raise _Unmappable(
            f"a permutation {tuple(perm)} of a tensor of shape {x.tshape}; archcalc follows "
            f"NCHW and its channels-last permute (0, 2, 3, 1) only"
        )


def _check_view(t: _T) -> None:
    if t.layout not in ("std", "nhwc"):
        raise _Unmappable(
            f"its input is a view of shape {tuple(t.tshape)} of archcalc's {tuple(t.shape)} "
            f"tensor, which no archcalc layer takes"
        )


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _listify(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple, torch.Size)):
        return list(v)
    return [v]


def _describe(v: Any) -> str:
    if isinstance(v, _P):
        return f"the {'parameter' if v.is_param else 'buffer'} '{v.target}'"
    if isinstance(v, _X):
        return "a tensor left out earlier"
    if isinstance(v, (int, float)):
        return f"the constant {v!r}"
    return f"a {type(v).__name__}"


# ---------------------------------------------------------------- entry points


def _input_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, str):
        parts = re.split(r"[xX×]", input_shape.strip())
        try:
            shape = tuple(int(p) for p in parts)
        except ValueError:
            raise OptionError(
                f"input_shape = {input_shape!r}: from_torch runs the module, so it needs "
                f"positive integers such as 3x224x224 (analyse the result at a symbolic size "
                f"afterwards)"
            ) from None
    elif isinstance(input_shape, int):
        shape = (input_shape,)
    else:
        shape = tuple(input_shape)
    if not shape or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise OptionError(
            f"input_shape = {input_shape!r}: from_torch runs the module, so it needs positive "
            f"integers such as (3, 224, 224) (analyse the result at a symbolic size afterwards)"
        )
    return shape


def _device_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    for t in (*module.parameters(), *module.buffers()):
        if t.is_floating_point():
            return t.device, t.dtype
    for t in (*module.parameters(), *module.buffers()):
        return t.device, torch.float32
    return torch.device("cpu"), torch.float32


def import_torch(
    module: nn.Module,
    input_shape: Sequence[int] | str,
    *,
    name: str | None = None,
    partial: bool = False,
) -> TorchImport:
    """Like :func:`from_torch`, returning a :class:`TorchImport`: the model, the
    operations a partial import left out (:class:`Gap`) and notes."""
    if not isinstance(module, nn.Module):
        raise OptionError(f"from_torch needs an nn.Module, got {type(module).__name__}")
    shape = _input_shape(input_shape)
    root = module
    if _is_mappable_module(module):
        root = nn.Sequential(module)  # a lone layer: trace it as a leaf (named "0")
    modes = {m: m.training for m in root.modules()}
    root.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm, forced = _trace(root)
            required = [p.name for p in gm.graph.nodes if p.op == "placeholder" and not p.args]
            if len(required) > 1:
                raise UnsupportedError(
                    f"{type(module).__name__}.forward takes {len(required)} inputs "
                    f"({', '.join(required)}); an archcalc model has one"
                )
            device, dtype = _device_dtype(root)
            g = torch.Generator().manual_seed(0)
            x = torch.randn((_BATCH, *shape), generator=g, dtype=dtype).to(device)
            try:
                with torch.no_grad():
                    _Propagate(gm).run(x)
            except _PropagationError as e:
                conv = _Converter(root, gm, shape, partial, forced)
                raise ShapeError(
                    f"running {type(module).__name__} on a batch of shape {(_BATCH, *shape)} "
                    f"fails at {_op_name(e.node, gm)} ({conv._where(e.node)}): "
                    f"{type(e.error).__name__}: {e.error}"
                ) from None
            result = _Converter(root, gm, shape, partial, forced).run()
    finally:
        for m, mode in modes.items():
            m.training = mode
    model_name = name or getattr(getattr(module, "model", None), "name", None)
    if not isinstance(model_name, str) or not model_name:
        model_name = type(module).__name__
    lines = [f"{type(module).__name__}, imported from torch at input {'x'.join(map(str, shape))}"]
    if result.gaps:
        lines.append(f"partial: {len(result.gaps)} operation(s) left out:")
        lines += [f"- {g}" for g in result.gaps]
    lines += [f"note: {s}" for s in result.notes]
    got = result.model
    model = Model(model_name, got.nodes, got.input_shape, got.output, None, "\n".join(lines))
    return TorchImport(model, result.gaps, result.notes)


def from_torch(
    module: nn.Module,
    input_shape: Sequence[int] | str,
    *,
    name: str | None = None,
    partial: bool = False,
) -> Model:
    """The archcalc :class:`~archcalc.engine.graph.Model` of a torch ``module`` whose input is
    ``input_shape`` per sample (``(3, 224, 224)`` or ``"3x224x224"``).

    ``name`` names the model (default: the class name). An operation without an archcalc
    layer raises :class:`~archcalc.UnsupportedError` naming it and where it is called;
    ``partial=True`` replaces it by an ``Identity`` placeholder (or cuts the model before
    it) and lists what was left out in the model's ``description`` (and in
    :attr:`TorchImport.gaps` of :func:`import_torch`). The module is run once, in eval mode,
    on a batch of 2 (its training flags are restored).
    """
    return import_torch(module, input_shape, name=name, partial=partial).model
