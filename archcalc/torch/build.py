"""Run archcalc models in PyTorch and measure them: the cross-check of every analytic rule.

The torch package is the only part of archcalc that imports torch; ``import archcalc`` never loads it
(install the extra: ``pip install 'archcalc[torch]'``).

* :func:`to_torch` — a runnable ``nn.Module`` for any :class:`~archcalc.engine.graph.Model` (zoo or
  spec file), executing the graph node by node.
* :func:`measure` — one training-mode forward pass: per-layer output shapes, parameter and
  buffer counts, and the bytes autograd keeps for backward.
* :func:`rf_by_gradient` — the input region an output unit depends on, as the bounding box of
  the support of the input gradient in a linear, positive probe network.

Module names. Every node gets a module, and ``named_modules()`` yields the node names
exactly: a dotted name such as ``layer1.0.conv1`` is registered nested (``layer1`` →
``0`` → ``conv1``), with plain container modules for the prefixes that are not nodes
themselves (a node whose name is a prefix of another, ``a`` and ``a.b``, holds the other as a
child; its own parameters are ``parameters(recurse=False)``). So ``state_dict()`` keys read
like torchvision's (``layer1.0.conv1.weight``). A name that torch cannot register (an empty
segment, or one that clashes with an attribute such as ``training``) is registered as
``_renamed.node<i>`` instead; :attr:`ArchcalcModule.module_names` maps every node to its
registered name.

Parameters are stored as torch stores them (``Linear.weight`` is ``out × in``); the extra
kinds use: ``LayerNorm2d`` — an ``nn.LayerNorm`` (``weight``, ``bias``, eps 1e-6) applied
channels-last; ``LayerScale`` — ``weight`` of shape ``(C, 1, 1)``, initialised to 1e-6 as in
torchvision's ConvNeXt.

>>> from archcalc import Conv2d, ReLU, sequential
>>> m = sequential("tiny", [Conv2d(3, 8, 3, padding=1), ReLU()], input_shape=(3, 8, 8))
>>> net = to_torch(m)
>>> [name for name, _ in net.named_modules()][1:]
['0', '1']
>>> r = measure(m, batch=2)
>>> r["shapes"]["1"], r["params"]["0"]
((8, 8, 8), 224)
>>> r["saved_bytes"]  # conv input 2·3·8·8 + relu output 2·8·8·8 floats, 4 bytes each
5632
>>> rf_by_gradient(m, unit=(0, 0))    # unit (0, 0) of a padded 3x3 conv: rows/cols 0..1
(0, 0, 1, 1)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "archcalc.torch needs PyTorch: pip install 'archcalc[torch]' (or torch alone)"
    ) from e
import torch.nn.functional as F
from torch import Tensor, nn

from .._errors import SpecError, UnknownModelError, UnsupportedError
from .._math import is_symbolic
from ..engine.graph import INPUT, Model
from ..engine.shapes import resolve_input
from ..kinds import LAYER_KINDS, Layer
from . import tensor_math as tensor_math  # the modules of kinds/tensor_math.py (tb.tensor_math)
from .tensor_ops import ConstantSource, ParamSource, PerRowModule, SharedModule, TensorOp
from .timm_layers import (
    ChannelsLastLayerNorm,
    Folded,
    GroupNormSubclass,
    Interpolate,
    LayerNormSubclass,
    rms_norm2d,
    std_conv2d,
    timm_layer,
)
from .tokens import (
    ClassToken,
    PositionEmbedding,
    SelectToken,
    SelfAttention,
    Tokens,
    timm_attention,
)
from .windows import (
    maxvit_partition,
    swin_attention,
    swin_merging,
    timm_swin_block,
    timm_swin_cr_block,
)

__all__ = [
    "ArchcalcModule",
    "to_torch",
    "torch_layer",
    "measure",
    "saved_tensors",
    "probe_module",
    "rf_by_gradient",
    "TORCH_DTYPES",
    # archcalc's own modules the kinds build (archcalc/torch/tokens.py)
    "Tokens",
    "ClassToken",
    "PositionEmbedding",
    "SelectToken",
    "SelfAttention",
    "timm_attention",
    "swin_attention",
    "swin_merging",
    "maxvit_partition",
    "timm_swin_block",
    "timm_swin_cr_block",
    "std_conv2d",
    "rms_norm2d",
    "Folded",
    "Interpolate",
    "timm_layer",
    "LayerNormSubclass",
    "ChannelsLastLayerNorm",
    "GroupNormSubclass",
    # archcalc/torch/tensor_ops.py (the kinds of kinds/tensor.py)
    "TensorOp",
    "ParamSource",
    "ConstantSource",
    "PerRowModule",
    "SharedModule",
]

#: archcalc dtype names that torch can run a forward pass in
TORCH_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


# ---------------------------------------------------------------- layers torch lacks


class ChannelLinear(nn.Linear):
    """``nn.Linear``; on a ``(N, C, H, W)`` map it acts on the channels of every position.

    A map laid out channels-last (ConvNeXt's blocks after a ``LayerNorm2d``) is permuted to
    ``(N, H, W, C)``, passed through ``F.linear`` and permuted back, exactly torchvision's
    ops. A map laid out ``NCHW`` is run as the equivalent 1×1 convolution (same weights,
    same MACs): ``F.linear`` on its permuted view would save a channels-last *copy* of the
    input for backward, a second storage that no analytic rule means to count."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() in (2, 3):  # vectors (N, F), token sequences (N, L, C)
            return F.linear(x, self.weight, self.bias)
        xl = x.permute(0, 2, 3, 1)
        if xl.is_contiguous():
            return F.linear(xl, self.weight, self.bias).permute(0, 3, 1, 2)
        return F.conv2d(x, self.weight[:, :, None, None], self.bias)


class LayerNorm2d(nn.LayerNorm):
    """Layer normalisation over the channels of every position (torchvision's
    ``LayerNorm2d``: permute to channels-last, ``F.layer_norm``, permute back)."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # a vector (N, C): the kind normalises vectors too (maxvit_t's head)
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        y = F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps
        )
        return y.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """Per-channel learned scale: ``weight * x`` with ``weight`` of shape ``(C, 1, 1)``."""

    def __init__(self, channels: int, init: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, 1, 1), init))

    def forward(self, x: Tensor) -> Tensor:
        return self.weight * x


class StochasticDepth(nn.Module):
    """Row-mode stochastic depth as ``torchvision.ops.stochastic_depth``: in training each
    sample is kept with probability ``1 - p`` and rescaled by ``1 / (1 - p)``; inference and
    ``p = 0`` return the input itself."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.dim() - 1)
        noise = torch.bernoulli(torch.full(size, survival, dtype=x.dtype, device=x.device))
        if survival > 0.0:
            noise = noise / survival
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}"


class CoordAugment(nn.Module):
    """Append two channels: the row and the column coordinate, each ``linspace(-1, 1)``."""

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        rows = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)
        cols = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)
        rr = rows.view(1, 1, h, 1).expand(n, 1, h, w)
        cc = cols.view(1, 1, 1, w).expand(n, 1, h, w)
        return torch.cat([x, rr, cc], dim=1)


class GlobalAvgPool(nn.Module):
    """``adaptive_avg_pool2d(x, 1)`` (or ``x.mean((2, 3), keepdim=True)`` for ``op="mean"``):
    ``(N, C, H, W)`` → ``(N, C, 1, 1)``."""

    def __init__(self, op: str = "adaptive_avg_pool2d") -> None:
        super().__init__()
        self.op = op

    def forward(self, x: Tensor) -> Tensor:
        if self.op == "mean":
            return x.mean((2, 3), keepdim=True)
        return F.adaptive_avg_pool2d(x, 1)


class Add(nn.Module):
    """Sum of two or more tensors."""

    def forward(self, *xs: Tensor) -> Tensor:
        out = xs[0]
        for t in xs[1:]:
            out = out + t
        return out


class Mul(nn.Module):
    """Product of two or more tensors (broadcasting a ``(N, C, 1, 1)`` gate)."""

    def forward(self, *xs: Tensor) -> Tensor:
        out = xs[0]
        for t in xs[1:]:
            out = out * t
        return out


class Concat(nn.Module):
    """Concatenation along channels."""

    def forward(self, *xs: Tensor) -> Tensor:
        return torch.cat(xs, dim=1)


class Sub(nn.Module):
    """``x - y``."""

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return x - y


class Scale(nn.Module):
    """``x * factor`` for a number ``factor``."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor


class ChannelSlice(nn.Module):
    """Channels ``start`` to ``stop`` of the input: ``x[:, start:stop]``."""

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: Tensor) -> Tensor:
        return x[:, self.start : self.stop]


class WindowSum(nn.Module):
    """Probe stand-in for a max pool: the sum over each pooling window (a depthwise conv of
    ones with the pool's kernel, stride, padding, dilation and ceil-mode output size)."""

    def __init__(self, pool: Any) -> None:
        super().__init__()
        self.k, self.s, self.p = pool.kernel_size, pool.stride, pool.padding
        self.d, self.ceil_mode = pool.dilation, pool.ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        c, h, w = x.shape[1:]
        target = F.max_pool2d(
            x.detach(), self.k, self.s, self.p, self.d, ceil_mode=self.ceil_mode
        ).shape[2:]
        extra = []
        for n, o, k, s, p, d in zip((h, w), target, self.k, self.s, self.p, self.d):
            extra.append(max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
        xp = F.pad(x, (self.p[1], extra[1], self.p[0], extra[0]))
        ones = torch.ones(c, 1, *self.k, dtype=x.dtype, device=x.device)
        y = F.conv2d(xp, ones, stride=self.s, dilation=self.d, groups=c)
        return y[:, :, : target[0], : target[1]]


class _Container(nn.Module):
    """Holds the modules of nodes whose names share a dotted prefix."""


class FunctionCall(nn.Module):
    """A layer the model calls as a function or tensor method (``Node.via``), as
    ``F.relu(x)`` in a torchvision ``forward``: the layer's module ``fn`` runs by its class's
    ``forward``, not its ``__call__``, so no module hook (ptflops', thop's, torchinfo's) and
    no tracer sees a module call, while ptflops' patched functions and the aten-level
    counters (fvcore, FlopCounterMode) see what the call computes. Registered under the
    node's name (fvcore's and FlopCounterMode's per-module figures land here); ``fn``'s
    parameters are ``<node>.fn.<name>``. The importer names the calls made inside it after
    it and gives them its ``archcalc_via``, so a model round-trips with its ``via``."""

    def __init__(self, fn: nn.Module, via: str) -> None:
        super().__init__()
        self.fn = fn
        self.archcalc_via = via

    def forward(self, *xs: Tensor) -> Tensor:
        return type(self.fn).forward(self.fn, *xs)


# ---------------------------------------------------------------- one layer


def _check_numeric(layer: Layer) -> None:
    for k, v in layer.to_dict().items():
        vals = v if isinstance(v, list) else [v]
        if any(is_symbolic(x) for x in vals):
            raise UnsupportedError(
                f"{layer.kind}.{k} = {v}: a symbolic field cannot be run in torch; "
                f"substitute numbers first"
            )


def torch_layer(layer: Layer, probe: bool = False) -> nn.Module:
    """The ``nn.Module`` of one layer spec (``probe``: the receptive-field probe's linear
    stand-in), as the kind builds it (its ``to_torch``/``to_torch_probe``, given this module
    for torch and archcalc's own modules). Unknown kinds raise
    :class:`~archcalc.UnsupportedError`."""
    if layer.kind not in LAYER_KINDS:
        raise UnsupportedError(f"{layer.kind}: no torch equivalent known to archcalc.torch")
    _check_numeric(layer)
    this = sys.modules[__name__]
    mod = layer.to_torch_probe(this) if probe else layer.to_torch(this)
    if not isinstance(mod, nn.Module):  # pragma: no cover - a kind's bug
        raise UnsupportedError(f"{layer.kind}.to_torch returned {type(mod).__name__}")
    return mod


# ---------------------------------------------------------------- the graph module


class ArchcalcModule(nn.Module):
    """An archcalc :class:`~archcalc.engine.graph.Model` as an ``nn.Module``.

    ``forward(x)`` returns the model output; :meth:`run` returns every node's output. A
    node called as a function or method (``Node.via``) is built as a :class:`FunctionCall`
    of its module (except in the receptive-field probe).
    """

    module_names: dict[str, str]

    def __init__(self, model: Model, *, seed: int = 0, probe: bool = False) -> None:
        super().__init__()
        self._archcalc_model = model
        nodes = model.live_nodes()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            mods = {n.name: torch_layer(n.layer, probe) for n in nodes}
        self._node_modules = mods  # plain dict: registration is below
        if not probe:
            mods = {
                n.name: FunctionCall(mods[n.name], n.via) if n.via != "module" else mods[n.name]
                for n in nodes
            }
        self.module_names = {}
        renamed: nn.ModuleDict | None = None
        for i, n in enumerate(nodes):
            try:
                self.module_names[n.name] = self._register(n.name, mods)
            except (KeyError, ValueError, TypeError):
                if renamed is None:
                    renamed = nn.ModuleDict()
                    self.add_module("_renamed", renamed)
                renamed[f"node{i}"] = mods[n.name]
                self.module_names[n.name] = f"_renamed.node{i}"
        # inputs of each node, and which tensors to drop after it (their last use)
        last: dict[str, int] = {}
        for i, n in enumerate(nodes):
            for s in n.inputs:
                last[s] = i
        drops: dict[int, list[str]] = {}
        for s, i in last.items():
            if s != model.output:
                drops.setdefault(i, []).append(s)
        self._plan = [(n, mods[n.name], tuple(drops.get(i, ()))) for i, n in enumerate(nodes)]

    def _register(self, name: str, mods: dict[str, nn.Module]) -> str:
        """Register node ``name``'s module nested under its dotted prefixes (a prefix that
        is a node itself is that node's module, else a container); returns its name."""
        parts = name.split(".")
        if any(not p for p in parts):
            raise ValueError(name)
        parent: nn.Module = self
        for depth in range(1, len(parts) + 1):
            path, seg = ".".join(parts[:depth]), parts[depth - 1]
            existing = parent._modules.get(seg)
            if existing is None:
                existing = mods[path] if path in mods else _Container()
                if hasattr(parent, seg):
                    raise KeyError(seg)
                parent.add_module(seg, existing)
            elif path in mods and existing is not mods[path]:
                raise KeyError(seg)
            parent = existing
        return name

    @property
    def model(self) -> Model:
        """The archcalc model this module runs."""
        return self._archcalc_model

    def node_module(self, name: str) -> nn.Module:
        """The module of node ``name``."""
        try:
            return self._node_modules[name]
        except KeyError:
            raise SpecError(f"model '{self.model.name}' has no layer '{name}'") from None

    def run(self, x: Tensor, keep: Iterable[str] | None = None) -> dict[str, Tensor]:
        """Every node's output (``keep=None``), or only the named ones plus the output."""
        env: dict[str, Tensor] = {INPUT: x}
        kept = None if keep is None else {*keep, self.model.output}
        for node, mod, drop in self._plan:
            env[node.name] = mod(*[env[s] for s in node.inputs])
            if kept is not None:
                for s in drop:
                    if s not in kept:
                        env.pop(s, None)
        return env

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x, keep=())[self.model.output]


def _model(model: Model | str) -> Model:
    """A Model, a zoo name or a spec file (a ``file.py:factory`` is a torch module already:
    load it with :func:`archcalc.load.resolve.load_model`). Resolved here, not through
    ``archcalc.load.resolve``, which reaches this package for ``file.py:factory``."""
    if isinstance(model, Model):
        return model
    from .. import zoo
    from ..load.specfile import load_spec

    if isinstance(model, str) and model in zoo.names():
        return zoo.get(model)
    if (
        isinstance(model, str)
        and ".py:" not in model
        and Path(model).suffix.lower()
        in (
            ".yaml",
            ".yml",
            ".toml",
            ".json",
        )
    ):
        return load_spec(model)
    raise UnknownModelError(
        f"model = {model!r}: archcalc.torch takes a Model, a zoo name or a spec file "
        f"(load a file.py:factory with archcalc.load_model first)"
    )


def to_torch(model: Model | str, *, seed: int = 0) -> ArchcalcModule:
    """A runnable ``nn.Module`` for ``model`` (a Model, zoo name or spec-file path), its
    weights initialised by torch's defaults under ``torch.manual_seed(seed)`` (the global
    random state is left untouched). Dead branches are not built."""
    return ArchcalcModule(_model(model), seed=seed)


# ---------------------------------------------------------------- measurements


def _input(model: Model, input_shape: Any, batch: int, dtype: torch.dtype, seed: int) -> Tensor:
    shape = resolve_input(model, input_shape)
    if any(is_symbolic(d) for d in shape):
        raise UnsupportedError(f"input {shape}: torch needs numbers, not symbols")
    g = torch.Generator().manual_seed(seed)
    return torch.randn((batch, *shape), generator=g).to(dtype)


def _storage_key(t: Tensor) -> tuple[int, int]:
    st = t.untyped_storage()
    return (st.data_ptr(), st.nbytes())


def saved_tensors(
    fn: Callable[[], Any], exclude: Iterable[Tensor] = ()
) -> tuple[Any, dict[tuple[int, int], list[tuple[tuple[int, ...], torch.dtype]]]]:
    """Run ``fn()`` recording what autograd saves for backward: ``(result, storages)`` where
    ``storages`` maps each distinct storage ``(data_ptr, nbytes)`` to the ``(shape, dtype)``
    of the tensors saved in it. Storages of ``exclude`` (the parameters) are left out.

    A saved tensor keeps its whole storage alive, so a view (a channels-last permute, the
    transposed weight of a linear layer) is charged the bytes of its storage, once."""
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    storages: dict[tuple[int, int], list[tuple[tuple[int, ...], torch.dtype]]] = {}

    def pack(t: Tensor) -> Tensor:
        key = _storage_key(t)
        if key[0] not in skip or key[1] == 0:
            storages.setdefault(key, []).append((tuple(t.shape), t.dtype))
        # detached: a saved output that held its own grad_fn would form a cycle through C++
        # that gc cannot see, leaking the graph and every parameter (pytorch/pytorch#115255)
        return t.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, storages


def measure(
    model: Model | str,
    input_shape: Any = None,
    batch: int = 1,
    *,
    dtype: str = "float32",
    seed: int = 0,
    input_requires_grad: bool = False,
) -> dict[str, Any]:
    """What torch sees in one training-mode forward pass of ``model``.

    Returns a dict:

    * ``shapes`` — per-sample output shape of every live node, and of ``"input"``;
    * ``params`` / ``buffers`` — per node, ``numel`` of that node's own parameters / buffers;
    * ``saved_bytes`` — bytes of the distinct storages autograd keeps for backward
      (parameters excluded; buffers such as BatchNorm's running statistics included), with
      the input not requiring grad unless ``input_requires_grad``;
    * ``saved`` — those storages: ``{(data_ptr, nbytes): [(shape, dtype), ...]}``.
    """
    m = _model(model)
    if dtype not in TORCH_DTYPES:
        raise UnsupportedError(f"dtype {dtype!r}: torch runs {', '.join(TORCH_DTYPES)}")
    tdtype = TORCH_DTYPES[dtype]
    net = ArchcalcModule(m, seed=seed).to(tdtype).train()
    x = _input(m, input_shape, batch, tdtype, seed)
    if input_requires_grad:
        x.requires_grad_(True)
    env, storages = saved_tensors(lambda: net.run(x), exclude=list(net.parameters()))
    shapes = {k: tuple(v.shape[1:]) for k, v in env.items()}
    params, buffers = {}, {}
    nodes = {id(net.node_module(n.name)) for n in m.live_nodes()}

    def own(mod: nn.Module, what: str) -> int:
        # the module's tensors and its children's that are no node's (MultiheadAttention's
        # out_proj); a child that is a node (``a.b`` inside ``a``) counts for itself
        total = sum(t.numel() for t in getattr(mod, what)(recurse=False))
        return total + sum(own(c, what) for c in mod.children() if id(c) not in nodes)

    for n in m.live_nodes():
        mod = net.node_module(n.name)
        params[n.name] = own(mod, "parameters")
        buffers[n.name] = own(mod, "buffers")
    saved_bytes = sum(nbytes for _, nbytes in storages)
    del env
    return {
        "shapes": shapes,
        "params": params,
        "buffers": buffers,
        "saved_bytes": saved_bytes,
        "saved": storages,
    }


# ---------------------------------------------------------------- receptive field probe


def probe_module(model: Model, *, seed: int = 0, eps: float = 1e-2) -> ArchcalcModule:
    """The receptive-field probe of ``model``: float64, eval mode, pointwise nonlinearities
    (and LayerNorm, Dropout, StochasticDepth) replaced by the identity, max pools by window
    sums of the same geometry, weights ``|w| + eps`` and biases zero. Every remaining map is
    linear with non-negative coefficients, so on a positive input no gradient cancels: the
    input gradient of an output unit is nonzero exactly on the pixels it depends on."""
    net = ArchcalcModule(model, seed=seed, probe=True).to(torch.float64).eval()
    with torch.no_grad():
        for mod in net.modules():
            for pname, p in mod.named_parameters(recurse=False):
                if pname == "bias":
                    p.zero_()
                elif hasattr(mod, "normalized_shape"):  # torch.nn.LayerNorm
                    # a LayerNorm inside a torch module archcalc builds whole (torchvision's
                    # PatchMergingV2): with equal weights the channel sum of its output does
                    # not depend on its input (the probe saw no dependence, or rounding noise
                    # depending on the machine); unequal positive weights keep it
                    ramp = torch.arange(p.numel(), dtype=p.dtype).reshape(p.shape) / p.numel()
                    p.copy_(p.abs() + eps + ramp)
                else:
                    p.copy_(p.abs() + eps)
            mean, var = getattr(mod, "running_mean", None), getattr(mod, "running_var", None)
            if isinstance(mean, Tensor) and isinstance(var, Tensor):  # batch norms
                mean.zero_()
                var.fill_(1.0)
    return net


def rf_by_gradient(
    model: Model | str,
    input_shape: Any = None,
    unit: Sequence[int] | None = (0, 0),
    *,
    node: str | None = None,
    seed: int = 0,
    net: ArchcalcModule | None = None,
) -> tuple[int, int, int, int] | None:
    """Bounding box ``(top, left, bottom, right)`` (inclusive, input pixels) of the input
    pixels that output unit ``unit = (i, j)`` of ``node`` (default: the model output)
    depends on, summed over channels; ``None`` if it depends on none.

    For a flat ``(F,)`` output ``unit`` is ignored and the sum of all features is used.
    Pass ``net=probe_module(model)`` to reuse one probe for many units.
    """
    m = _model(model)
    target = node if node is not None else m.output
    net = net if net is not None else probe_module(m, seed=seed)
    x = _input(m, input_shape, 1, torch.float64, seed).abs() + 0.5
    x.requires_grad_(True)
    out = net.run(x, keep=(target,))[target]
    if out.dim() == 4:
        if unit is None:
            raise SpecError(f"layer '{target}' has a spatial output; give unit=(i, j)")
        i, j = unit
        if not (0 <= i < out.shape[2] and 0 <= j < out.shape[3]):
            raise SpecError(
                f"unit ({i}, {j}) is outside layer '{target}''s {out.shape[2]}x{out.shape[3]} map"
            )
        y = out[0, :, i, j].sum()
    else:
        y = out.sum()
    (grad,) = torch.autograd.grad(y, x)
    support = grad[0].abs().sum(dim=0) > 0
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if rows.numel() == 0:
        return None
    return (int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1]))
