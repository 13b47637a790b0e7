"""Import a PyTorch ``nn.Module`` into archcalc: :func:`from_torch`.

The module is run once on meta tensors (:mod:`.tracer`: shapes without data, so nothing is
computed or allocated at any input size, and Python control flow on shapes just runs), every
call it makes is mapped to an archcalc layer by the kinds that list it (:mod:`.emit`; each
kind's ``torch_modules``, ``torch_functions`` and ``from_torch``), and every layer is checked
against torch: its output shape, and its parameter and buffer counts. The result is an
ordinary :class:`~archcalc.engine.graph.Model`, the same objects the zoo builds, so every
figure (exact or symbolic) follows.

Names. A module call keeps the module's path (``layer1.0.conv1``); a module called again
gets ``_1``, ``_2`` (``layer1.0.relu_1``). A function or tensor-method call is named after
its operation inside the module that calls it: ``layer1.0.add`` for ``out += identity`` in
``layer1.0``'s ``forward``, ``flatten`` at the top level. A layer-scale product
``gamma * x`` is named after the parameter (``features.1.0.layer_scale``).

What is mapped: whatever a kind lists (``archcalc.kinds``; docs/import.md has the table),
tensors of any rank (views of any axes: ``Permute``/``Reshape``/``Expand`` layers where no
layout covers them; split, chunk, unbind, indexing, cat, stack, pad, roll, repeat on any
axis; a batch folded into an axis, ``(N·k, ...)``, or moved), parameters and buffers an
operation reads directly (``Param``, counted once) and constants built in ``forward``
(``Constant``), and containers and any module no kind lists, which are looked into. A
module with parameters called again counts them once (``Shared``).

What is not. Anything else raises :class:`~archcalc.UnsupportedError` naming the operation
and where it was called (module path, call, file and line). With ``partial=True`` such an
operation is replaced by an ``Identity`` placeholder where its output has the shape of an
input, else the model is cut before it (the model's output becomes the operation's input);
:func:`import_torch` returns the list of what was left out (:attr:`TorchImport.gaps`), which
the model's ``description`` also spells out. A ``forward`` that reads tensor values (``if
x.sum() > 0``) cannot run on meta tensors: in a submodule it is such an operation, at the top
level an :class:`~archcalc.UnsupportedError`.

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

import inspect
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "archcalc.torch.importer needs PyTorch: pip install 'archcalc[torch]' (or torch alone)"
    ) from e
from torch import Tensor, nn

from .._errors import OptionError, ShapeError, UnsupportedError
from ..engine.graph import INPUT, Model, Node
from ..kinds import Identity
from .emit import Converter, frame_text, is_leaf, keeps_shape
from .tracer import DataDependent, Event, MetaRun, RunError
from .values import BATCH, T, Unmappable, X
from .views import materialize

__all__ = ["from_torch", "import_torch", "TorchImport", "Gap"]


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Gap:
    """One operation a partial import left out.

    ``op`` is what was called (``nn.Softmax``, ``torch.fft.fft2``, ``Tensor.sort``),
    ``where`` the module path, call and source line, ``reason`` why archcalc cannot
    map it, ``action`` ``"identity"`` (an ``Identity`` placeholder named ``placeholder``
    stands in), ``"constant"`` (it does not depend on the input — computed from parameters
    or buffers — and is left out; what uses it is then a gap too) or ``"cut"`` (the model
    ends before it: ``dropped`` names the calls after it that were not analysed,
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
                what += f"; calls not analysed: {', '.join(self.dropped)}"
            if self.unreached:
                what += f"; layers that no longer reach the output: {', '.join(self.unreached)}"
        return f"{self.op} ({self.where}): {self.reason}; {what}"


@dataclass(frozen=True)
class TorchImport:
    """What :func:`import_torch` returns: the model, what a partial import left out
    (empty when nothing was), and notes (parameters the forward pass never uses, modules
    called more than once, a channels-last output), and how each layer was called."""

    model: Model
    gaps: tuple[Gap, ...] = ()
    notes: tuple[str, ...] = ()
    #: node name -> how torch called it: ("module", "nn.ReLU"), ("function", "torch.relu"),
    #: ("method", "Tensor.mean"); the foreign tools count a call by how it was made
    via: dict[str, tuple[str, str]] = field(default_factory=dict)


# ---------------------------------------------------------------- the walk


class _Import:
    """The events of a meta run, turned into a model (with gaps when ``partial``)."""

    def __init__(self, root: nn.Module, run: MetaRun, shape: tuple[int, ...], partial: bool):
        self.root, self.run, self.shape, self.partial = root, run, shape, partial
        renamed: dict[str, str] = {}
        names = getattr(root, "module_names", None)
        if isinstance(names, dict):
            renamed = {v: k for k, v in names.items()}
        self.conv = Converter(root, run.params, run.originals, renamed)
        self.registered = {v: k for k, v in renamed.items()}  # node name -> module path
        self.gaps: list[Gap] = []
        self.notes: list[str] = []

    def op(self, ev: Event) -> str:
        return ev.display

    def convert(self, x: Tensor, out: Any) -> TorchImport:
        conv = self.conv
        conv.env[id(x)] = T(INPUT, self.shape, "std", (BATCH, *self.shape))
        events = self.run.events
        output: T | None = None
        for i, ev in enumerate(events):
            try:
                conv.bind(ev, conv.visit(ev))
            except Unmappable as e:
                where = conv.where(ev)
                if not self.partial:
                    raise UnsupportedError(
                        f"archcalc cannot map {ev.display} ({where}): {e}; "
                        f"pass partial=True to analyse the rest"
                    ) from None
                vals = [conv.value(a) for a in (*ev.args, *ev.kwargs.values())]
                ins = [v for v in _flat(vals) if isinstance(v, T) and v.layout != "const"]
                tshape = tuple(ev.out.shape) if isinstance(ev.out, Tensor) else ()
                if not ins and ev.called_as != "failed":
                    conv.bind(ev, X(tshape))
                    self.gaps.append(Gap(ev.display, where, str(e), "constant"))
                    continue
                placeholder = self.placeholder(ev, ins, tshape)
                if placeholder is not None:
                    conv.bind(ev, placeholder)
                    self.gaps.append(Gap(ev.display, where, str(e), "identity", placeholder.node))
                    continue
                if not ins:
                    raise UnsupportedError(
                        f"{ev.display} ({where}) cannot be left out: it has no input tensor "
                        f"to end the model at"
                    ) from None
                later = [
                    m.path if m.called_as in ("module", "failed") else m.name
                    for m in events[i + 1 :]
                ]
                self.gaps.append(Gap(ev.display, where, str(e), "cut", None, tuple(later)))
                output = ins[0]
                break
        if output is None:
            output = self.output(out)
        return self.finish(output)

    def placeholder(self, ev: Event, ins: list[T], tshape: tuple[int, ...]) -> T | None:
        """An Identity standing in for ``ev``, if an input has its output's shape (a module
        that could not run on meta tensors is assumed to keep its input's shape)."""
        for v in ins:
            if v.layout in ("std", "nhwc") and (
                tuple(v.tshape) == tshape or ev.called_as == "failed"
            ):
                name = self.conv.unique(self.conv.node_name(ev))
                self.conv.nodes.append(Node(name, Identity(), (v.node,)))
                return T(name, v.shape, v.layout, v.tshape)
        return None

    def output(self, out: Any) -> T:
        conv, cls = self.conv, type(self.root).__name__
        if isinstance(out, dict):
            if "out" not in out:
                raise UnsupportedError(
                    f"{cls}.forward returns a dict without an 'out' entry "
                    f"({', '.join(map(str, out))}); an archcalc model has one output"
                )
            others = [k for k in out if k != "out"]
            if others:
                self.notes.append(
                    f"{cls}.forward returns a dict; archcalc analyses its 'out' entry "
                    f"(not {', '.join(map(repr, others))})"
                )
            out = out["out"]
        if isinstance(out, (list, tuple)) and out:
            vals = [conv.value(a) for a in out]
            first = next((v for v in vals if isinstance(v, T)), None)
            if not self.partial or first is None:
                raise UnsupportedError(
                    f"{cls}.forward returns {len(out)} values; an archcalc model has one "
                    f"output (pass partial=True to analyse the first tensor)"
                )
            rest = tuple(self.describe(v, a) for v, a in zip(vals, out))[1:]
            self.gaps.append(
                Gap("output", f"{cls}.forward", f"it returns {len(out)} values", "cut", None, rest)
            )
            return first
        v = conv.value(out) if isinstance(out, Tensor) else None
        if not isinstance(v, T):
            raise UnsupportedError(
                f"{cls}.forward returns {type(v).__name__ if v is not None else type(out).__name__}"
                f", not a tensor archcalc follows"
            )
        return v

    def describe(self, v: Any, raw: Any) -> str:
        """How a gap names one returned value: its layer, or the forward's argument name."""
        if isinstance(v, T) and v.node == INPUT:
            try:
                return next(iter(inspect.signature(self.root.forward).parameters))
            except (TypeError, ValueError, StopIteration):  # pragma: no cover
                return INPUT
        return v.node if isinstance(v, T) else type(raw).__name__

    def finish(self, out: T) -> TorchImport:
        conv = self.conv
        if out.node == INPUT:
            name = conv.unique("output")
            conv.nodes.append(Node(name, Identity(), (INPUT,)))
            out = T(name, out.shape, out.layout, out.tshape)
        if out.layout == "nhwc":
            self.notes.append(
                f"the output is channels-last in torch {out.tshape}; archcalc reports it as "
                f"(C, H, W) {out.shape}"
            )
        elif out.layout == "view":  # the output read as torch shows it: a Reshape layer
            try:
                ev = Event("method", "Tensor.view", out.made or "view")
                out = materialize(conv, ev, out)
            except Unmappable:
                pass
        if out.layout in ("bcast", "view"):
            self.notes.append(
                f"the output is a view {out.tshape} of archcalc's {out.shape} output '{out.node}'"
            )
        modules = dict(self.root.named_modules())
        for path, count in conv.calls.items():
            mod = modules.get(path)
            if mod is not None and count > 1 and any(True for _ in mod.parameters(recurse=False)):
                self.notes.append(
                    f"module '{path}' is called {count} times; its parameters are counted "
                    f"once, at its first call (the later calls are Shared layers)"
                )
        self.unused_params()
        live: set[str] = set()
        stack = [out.node]
        by_name = {nd.name: nd for nd in conv.nodes}
        while stack:
            cur = stack.pop()
            if cur in live or cur == INPUT:
                continue
            live.add(cur)
            stack.extend(by_name[cur].inputs)
        dead = [nd.name for nd in conv.nodes if nd.name not in live]
        if dead and self.gaps and self.gaps[-1].action == "cut":
            g = self.gaps[-1]
            self.gaps[-1] = Gap(g.op, g.where, g.reason, g.action, None, g.dropped, tuple(dead))
        nodes = tuple(
            replace(nd, via=v) if (v := self.via(nd)) != "module" else nd for nd in conv.nodes
        )
        return TorchImport(
            model=Model("", nodes, self.shape, out.node),
            gaps=tuple(self.gaps),
            notes=tuple(self.notes),
            via=dict(conv.via),
        )

    def via(self, node: Node) -> str:
        """How torch called ``node`` (``Node.via``: the foreign conventions read it); inside
        archcalc.torch's FunctionCall (``to_torch`` of a node called as a function), the
        call that the wrapper stands for."""
        registered = self.registered.get(node.name, node.name)
        fixed = getattr(self.conv.modules.get(registered), "archcalc_via", None)
        if isinstance(fixed, str):
            return fixed
        how = self.conv.via.get(node.name, ("module", ""))[0]
        return how if how in ("function", "method") else "module"

    def unused_params(self) -> None:
        unused: list[tuple[str, int]] = []
        seen: set[int] = set()
        for path, mod in self.root.named_modules():
            n = 0
            for pname, p in mod.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                if (f"{path}.{pname}" if path else pname) not in self.conv.used_params:
                    n += p.numel()
            if n:
                unused.append((path or type(self.root).__name__, n))
        if unused:
            total = sum(k for _, k in unused)
            shown = ", ".join(f"'{p}'" for p, _ in unused[:6])
            more = f" and {len(unused) - 6} more" if len(unused) > 6 else ""
            self.notes.append(
                f"{total:,} parameters are not counted: the forward pass does not use "
                f"them or their layer was left out (in {shown}{more})"
            )


def _flat(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flat(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _flat(x)
    else:
        yield v


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
    if is_leaf(module):
        root = nn.Sequential(module)  # a lone layer: run it as a leaf (named "0")
    modes = {m: m.training for m in root.modules()}
    root.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_one_input(module, root)
            _, dtype = _device_dtype(root)
            run = MetaRun(root, is_leaf, partial, keeps_shape)
            try:
                x, out = run.run((BATCH, *shape), dtype)
            except DataDependent as e:
                where = f" at {frame_text(e.frame)}" if e.frame else ""
                raise UnsupportedError(
                    f"cannot trace {type(root).__name__}.forward on meta tensors: it reads "
                    f"tensor values ({e.what}: data-dependent control flow){where}"
                ) from None
            except RunError as e:
                conv = Converter(root, {}, {}, {})
                ev = Event("module" if e.name == e.path else "function", e.op, e.name)
                ev.path, ev.owner, ev.frame = e.path, e.owner, e.frame
                raise ShapeError(
                    f"running {type(module).__name__} on a batch of shape {(BATCH, *shape)} "
                    f"fails at {e.op} ({conv.where(ev)}): {type(e.error).__name__}: "
                    f"{_first_line(e.error)}"
                ) from None
            except TypeError as e:
                if "positional argument" in str(e) and "forward()" in str(e):
                    raise UnsupportedError(
                        f"{type(module).__name__}.forward takes more than one input "
                        f"({e}); an archcalc model has one"
                    ) from None
                raise
            result = _Import(root, run, shape, partial).convert(x, out)
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
    return TorchImport(model, result.gaps, result.notes, result.via)


def _check_one_input(module: nn.Module, root: nn.Module) -> None:
    try:
        sig = inspect.signature(root.forward)
    except (TypeError, ValueError):  # pragma: no cover - a builtin forward
        return
    required = [
        p.name
        for p in sig.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(required) > 1:
        raise UnsupportedError(
            f"{type(module).__name__}.forward takes {len(required)} inputs "
            f"({', '.join(required)}); an archcalc model has one"
        )


def _first_line(e: BaseException) -> str:
    return str(e).strip().split("\n")[0]


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
    on a meta batch of 2 (nothing is computed or allocated; its training flags are restored).
    A forward that returns a dict is analysed at its ``"out"`` entry (torchvision's
    segmentation models).
    """
    return import_torch(module, input_shape, name=name, partial=partial).model
