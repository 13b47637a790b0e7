"""The base of every layer kind, its validation helpers, and the one registry of kinds.

Each kind states its rules once, as methods that the quantity modules call:

=================  ==========================================================
``out_shape``      shape of the output, per sample: ``(C, H, W)`` or ``(F,)``
``params``         trainable parameters (what ``numel`` of ``parameters()`` counts)
``buffers``        non-trainable state (BatchNorm running statistics)
``macs``           multiply-accumulates of conv / linear layers, per sample
``flops``          FLOPs per sample under archcalc's convention (docs/conventions.md)
``geometry``       the receptive-field step: kernel extent, stride, start of unit 0
``saved``          what autograd keeps for backward in a training step
=================  ==========================================================

Shapes are per sample; batch and dtype are applied by :mod:`archcalc.engine.memory`.
Every field accepts an ``int`` or a sympy expression (symbolic mode).

>>> from archcalc.kinds import Conv2d
>>> Conv2d(3, 64, 7, stride=2, padding=3).out_shape(((3, 224, 224),))
(64, 112, 112)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, SpecError, UnsupportedError, echo
from .._math import Num, ceildiv, floordiv, is_symbolic, known_lt, minimum
from ._rules import KindRules

__all__ = [
    "Layer",
    "LAYER_KINDS",
    "GLOBAL",
    "NO_INPUT",
    "Extra",
    "register",
    "layer_from_dict",
    "invalid",
    "check_field_types",
    "TorchCall",
    "TensorArg",
    "torch_size",
]

Shape = tuple[Any, ...]
Shapes = tuple[Shape, ...]
Pair = tuple[Any, Any]
#: receptive-field step of one axis: (kernel extent in input units, stride, start of unit 0)
AxisGeom = tuple[Any, Any, Any]

LAYER_KINDS: dict[str, type[Layer]] = {}


class _Global:
    """Marker: every output unit sees the whole input (global pooling, flatten, linear)."""

    def __repr__(self) -> str:
        return "GLOBAL"


GLOBAL = _Global()


class _NoInput:
    """Marker: the layer reads no input position (a parameter, buffer or constant used as a
    tensor): its output has no receptive field, and a merge with it keeps the others'."""

    def __repr__(self) -> str:
        return "NO_INPUT"


NO_INPUT = _NoInput()


@dataclass(frozen=True, slots=True)
class Extra:
    """A tensor autograd saves that is neither an input nor the output of the layer.

    ``elements`` counts the whole batch; ``itemsize`` is its bytes per element, ``None``
    for the activation dtype, or ``"acc"`` for the accumulate dtype (float32, or float64 for
    float64 activations).
    """

    elements: Any
    itemsize: int | str | None
    what: str
    #: a module buffer (BatchNorm's running statistics) autograd references: no new memory
    buffer: bool = False


def register(cls: type[Layer]) -> type[Layer]:
    """Add a layer class to :data:`LAYER_KINDS` under its class name.

    Every registered kind validates its fields on one path: :func:`check_field_types` (a
    ``bool`` field takes only a bool, a ``float`` field only a finite real number, a ``str``
    field only a string), then the kind's own ``__post_init__`` (ranges, pairs, divisibility).
    """
    LAYER_KINDS[cls.__name__] = cls
    own = cls.__post_init__

    def __post_init__(self: Layer) -> None:
        check_field_types(self)
        own(self)

    cls.__post_init__ = __post_init__  # type: ignore[method-assign]
    return cls


# ---------------------------------------------------------------- validation (one path)


def invalid(
    kind: str, name: str, value: Any, reason: str, *, wrong_type: bool = False
) -> SpecError:
    """The error of every bad field: ``Kind.field = value: reason`` (the value echoed capped,
    its length stated when cut; the reason says what is valid). ``wrong_type``: the value is
    of the wrong type (then the error is a :class:`TypeError` too)."""
    return SpecError(field=f"{kind}.{name}", value=value, reason=reason, wrong_type=wrong_type)


def check_field_types(layer: Any) -> None:
    """Check each dataclass field of ``layer`` against its annotation: ``bool`` takes only
    ``True``/``False`` (not ``"false"``, not 0), ``float`` only a finite int or float (not a
    bool, not a string), ``str`` only a string, and a field whose metadata lists ``"valid"``
    values only one of them. Fields annotated ``Any`` (sizes: an int, a pair
    or a sympy expression) are checked by the kind's ``__post_init__``."""
    for f in dataclasses.fields(layer):
        v = getattr(layer, f.name)
        t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if t == "bool" and not isinstance(v, bool):
            raise invalid(layer.kind, f.name, v, "must be true or false (a bool)", wrong_type=True)
        if t == "float" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise invalid(layer.kind, f.name, v, "must be a finite number", wrong_type=True)
        if t == "float" and not math.isfinite(v):
            raise invalid(layer.kind, f.name, v, "must be a finite number")
        valid = f.metadata.get("valid")
        if valid is not None and (not isinstance(v, str) or v not in valid):
            raise invalid(layer.kind, f.name, v, "must be one of " + ", ".join(map(repr, valid)))
        if t == "str" and not isinstance(v, str):
            raise invalid(layer.kind, f.name, v, "must be a string", wrong_type=True)


def _check_int(kind: str, name: str, value: Any, minimum: int) -> Any:
    if is_symbolic(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(
            kind,
            name,
            value,
            f"must be an integer >= {minimum} (or a pair of them where a pair is allowed)",
            wrong_type=True,
        )
    if value < minimum:
        raise invalid(kind, name, value, f"must be >= {minimum}")
    return value


def _pair(kind: str, name: str, value: Any, minimum: int = 1) -> Pair:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise invalid(
                kind,
                name,
                value,
                f"must be an integer or a pair (h, w), got {len(value)} values",
            )
        return (
            _check_int(kind, name, value[0], minimum),
            _check_int(kind, name, value[1], minimum),
        )
    v = _check_int(kind, name, value, minimum)
    return (v, v)


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _eq_known_false(a: Any, b: Any) -> bool:
    """True when ``a != b`` is certain (ints differ, or sympy proves it)."""
    if is_symbolic(a) or is_symbolic(b):
        diff = a - b
        return bool(getattr(diff, "is_zero", None) is False)
    return bool(a != b)


def _check_probability(kind: str, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise invalid(kind, "p", p, "must be a probability in [0, 1]")


def _spatial(kind: str, ins: Shapes, i: int = 0) -> Shape:
    s = ins[i]
    if len(s) != 3:
        raise ShapeError(
            f"{kind} needs a (C, H, W) feature map, got shape {_fmt(s)} "
            f"(a flattened vector); put it before Flatten"
        )
    return s


def _fmt(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def _window_out(
    kind: str,
    axis: str,
    size: Any,
    k: Any,
    s: Any,
    lo: Any,
    hi: Any,
    d: Any,
    ceil_mode: bool = False,
) -> Any:
    """Output length of a sliding window (torch's formula, ceil_mode's last-window rule)."""
    span = size + lo + hi - d * (k - 1) - 1
    if known_lt(span, 0):
        raise ShapeError(
            f"{kind}: kernel extent {d * (k - 1) + 1} is larger than the padded input "
            f"{axis} {size + lo + hi}; use a smaller kernel, more padding or a larger input"
        )
    if not ceil_mode:
        return floordiv(span, s) + 1
    # torch: ceil, then drop the last window if it starts in the right padding; the same as
    # capping the count so that the last start (out - 1)·s stays below size + lo
    # (checked exhaustively against torch's rule for small sizes in tests/test_layers.py)
    return minimum(ceildiv(span, s) + 1, floordiv(size + lo - 1, s) + 1)


# ---------------------------------------------------------------- the torch side of a kind
# (kinds never import torch: the torch objects come in as arguments; read by archcalc/torch/)


@dataclass(frozen=True)
class TensorArg:
    """A tensor among a torch call's arguments, as :class:`TorchCall` shows it to a kind.

    ``shape`` is torch's (batch first for an activation); ``param`` the dotted name of the
    parameter or buffer it is (or a view of), ``None`` for an activation; ``is_param`` whether
    that is a trainable parameter; ``index`` its position among :attr:`TorchCall.inputs` (an
    activation), else ``None``.
    """

    shape: tuple[int, ...]
    param: str | None = None
    is_param: bool = False
    index: int | None = None


@dataclass(frozen=True)
class TorchCall:
    """One call a torch model made, as the importer shows it to a kind's ``from_torch``.

    ``op`` names what was called (``"nn.Conv2d"``, ``"torch.nn.functional.relu"``,
    ``"Tensor.mean"``), ``called_as`` is ``"module"``, ``"function"`` or ``"method"``,
    ``module`` the ``nn.Module`` of a module call (read its attributes), ``args``/``kwargs``
    the arguments as called with tensors replaced by :class:`TensorArg`, ``inputs`` the
    per-sample archcalc shapes of the traced tensor inputs and ``layouts`` theirs (``"std"``:
    as archcalc's; ``"nhwc"``: torch holds the ``(C, H, W)`` map channels-last; ``"bcast"``:
    an ``expand`` of it), ``output`` torch's per-sample result in archcalc's orientation.
    """

    op: str
    called_as: str
    module: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: tuple[Shape, ...]
    layouts: tuple[str, ...]
    output: Shape
    #: an op with several outputs (``split``, ``chunk``): all of them, and which one
    #: ``output`` is (``from_torch`` is asked once per output)
    outputs: tuple[Shape, ...] = ()
    output_index: int = 0

    def arg(self, i: int, name: str, default: Any = None) -> Any:
        """Argument ``name``, passed by keyword or at position ``i`` (a method's ``self`` is
        position 0)."""
        if name in self.kwargs:
            return self.kwargs[name]
        if i < len(self.args):
            return self.args[i]
        return default

    def need_map(self, kind: str) -> Shape:
        """The ``(C, H, W)`` of input 0, which must be an ``(N, C, H, W)`` map."""
        if not self.inputs or self.layouts[0] != "std" or len(self.inputs[0]) != 3:
            got = self.inputs[0] if self.inputs else ()
            raise UnsupportedError(
                f"{kind} needs an (N, C, H, W) map, got a {self.layouts[0] if self.inputs else ''}"
                f" tensor of per-sample shape {got}"
            )
        return self.inputs[0]

    def params(self) -> tuple[TensorArg, ...]:
        """The parameters and buffers among the arguments."""
        found: list[TensorArg] = []
        for v in (*self.args, *self.kwargs.values()):
            for t in v if isinstance(v, (list, tuple)) else (v,):
                if isinstance(t, TensorArg) and t.param is not None:
                    found.append(t)
        return tuple(found)


def torch_size(v: Any, what: str) -> Any:
    """An int, or a pair of ints, read from a torch size argument (``3``, ``(3, 3)``,
    ``[3]``); anything else raises :class:`UnsupportedError` naming ``what``."""
    if isinstance(v, bool):
        raise UnsupportedError(f"{what} = {v!r} is not a size")
    if isinstance(v, int):
        return v
    if isinstance(v, (list, tuple)) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in v
    ):
        return tuple(v) if len(v) != 1 else (v[0], v[0])
    raise UnsupportedError(f"{what} = {v!r} is not an integer size")


# ---------------------------------------------------------------- base class


@dataclass(frozen=True, slots=True)
class Layer(KindRules):
    """Base of every layer kind. Subclasses are frozen dataclasses registered by name."""

    #: number of inputs; ``None`` means ``min_inputs`` or more
    arity: ClassVar[int | None] = 1
    min_inputs: ClassVar[int] = 2
    #: output shares storage with input 0 in an inference pass (a view)
    alias: ClassVar[bool] = False
    #: a conv/linear layer: contributes MACs and is "trainable weight" for heads
    weighted: ClassVar[bool] = False
    #: its ``inplace=True`` torch form allocates nothing and autograd keeps its result (no
    #: clone of the input): torchvision's in-place ReLU; ReLU6, SiLU and Hardswish in place
    #: still cost what the out-of-place op costs (autograd clones their input; measured)
    inplace_free: ClassVar[bool] = False

    def __post_init__(self) -> None:
        """Checks of a kind's fields; :func:`register` runs :func:`check_field_types` first."""

    @property
    def kind(self) -> str:
        return type(self).__name__

    def out_shape(self, ins: Shapes) -> Shape:
        raise NotImplementedError

    def params(self, ins: Shapes) -> Num:
        return 0

    def buffers(self, ins: Shapes) -> Num:
        return 0

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def flops(self, ins: Shapes, out: Shape) -> Num:
        raise NotImplementedError

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        """Receptive-field step (per axis) of a single-input layer."""
        return ((1, 1, 0), (1, 1, 0))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        """Tensors autograd keeps: ``"in0"``, ``"in1"``, ``"out"`` or :class:`Extra`."""
        raise NotImplementedError

    def taps(self) -> Pair:
        """Spacing of the kernel's taps per axis (dilation; 1 for dense windows)."""
        return (1, 1)

    def is_view(self, training: bool) -> bool:
        """Whether the output shares its input's storage (a view) in this mode."""
        return self.alias

    # ------------------------------------------------------------ torch (see PLAN/docs)
    #: torch module classes importing as this kind: a qualified name ("torch.nn.Conv2d",
    #: subclasses match too) or a bare class name ("LayerNorm2d", matched in the MRO)
    torch_modules: ClassVar[tuple[str, ...]] = ()
    #: functions and tensor methods importing as this kind ("torch.nn.functional.relu",
    #: "torch.relu", "Tensor.relu_"; ``a + b`` arrives as "Tensor.add"); several kinds may
    #: list one: they are tried in registry order, the first that accepts wins
    torch_functions: ClassVar[tuple[str, ...]] = ()
    #: the receptive-field probe replaces this kind by the identity (pointwise)
    probe_identity: ClassVar[bool] = False
    #: a function call making this kind from a parameter is named after the parameter
    torch_named_after_parameter: ClassVar[bool] = False

    @classmethod
    def from_torch(cls, call: TorchCall) -> Layer | tuple[Layer, ...] | None:
        """The spec of one torch call this kind lists (:class:`TorchCall`); raises
        :class:`UnsupportedError` saying why when the call has no spec of this kind, returns
        ``None`` when the result is input 0 itself (``x + 0``), or a chain of layers."""
        raise UnsupportedError(f"archcalc's {cls.__name__} is not imported from torch")

    def to_torch(self, tb: Any) -> Any:
        """An ``nn.Module`` computing this layer; ``tb`` is :mod:`archcalc.torch.build`
        (``tb.nn``, ``tb.F``, ``tb.torch`` and archcalc's own modules)."""
        raise UnsupportedError(f"{self.kind}: no torch equivalent known to archcalc.torch")

    def to_torch_probe(self, tb: Any) -> Any:
        """The receptive-field probe's linear stand-in (the identity for pointwise kinds)."""
        return tb.nn.Identity() if self.probe_identity else self.to_torch(tb)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, ``{"kind": ..., field: value}``."""
        d: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else v
        return d


# ---------------------------------------------------------------- from plain data


def _kind_list(limit: int = 600) -> str:
    """The registered kinds' names, cut to about ``limit`` characters (a message stays short
    however many kinds there are)."""
    names = sorted(LAYER_KINDS)
    text = ", ".join(names)
    if len(text) <= limit:
        return text
    shown = text[:limit].rsplit(", ", 1)[0]
    rest = len(names) - shown.count(", ") - 1
    return f"{shown}, and {rest} more (archcalc.kinds.LAYER_KINDS)"


def layer_from_dict(d: dict[str, Any]) -> Layer:
    """Build a layer from ``{"kind": "Conv2d", "in_channels": 3, ...}``.

    >>> layer_from_dict({"kind": "MaxPool2d", "kernel_size": 2}).stride
    (2, 2)
    """
    if not isinstance(d, dict):
        raise SpecError(f"a layer must be a mapping with a 'kind', got {echo(d)}")
    kind = d.get("kind")
    cls = LAYER_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SpecError(
            field="kind",
            value=kind,
            reason=f"unknown layer kind; valid kinds: {_kind_list()}",
        )
    names = {f.name for f in dataclasses.fields(cls)}
    extra = [k for k in d if k not in names and k not in ("kind", "name", "inputs")]
    if extra:
        shown = ", ".join(sorted(k if isinstance(k, str) else echo(k) for k in extra))
        if len(shown) > 200:
            shown = f"{shown[:200]}… ({len(shown):,} characters)"
        raise SpecError(
            f"{kind}: unknown field(s) {shown}; "
            f"valid fields: {', '.join(sorted(names)) or '(none)'}"
        )
    args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
    try:
        return cls(**args)
    except TypeError as e:
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        raise SpecError(f"{kind}: {e}; required fields: {', '.join(required)}") from None
