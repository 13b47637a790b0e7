"""General tensor plumbing on per-sample shapes of any rank: ``Permute``, ``Reshape``,
``Narrow`` (a range along one axis: ``split``, ``chunk``, ``x[..., a:b]``), ``Select`` (one
index along an axis: ``unbind``, ``x[:, i]``), ``Index`` (a gather by an index tensor:
``table[idx]``), ``Cat`` and ``Stack`` on any axis, ``Roll``, and the sources of tensors that
do not come from the input: ``Param`` (a parameter or buffer used directly as an operand:
class tokens, position embeddings, relative-position bias tables, gains) and ``Constant``
(a tensor built inside ``forward`` from shapes alone: ``torch.zeros``, ``arange``, masks).

Axes are per-sample axes: axis 0 is the first axis after the batch (torch's ``dim=1`` for a
batch-first tensor). None of these kinds does arithmetic: 0 FLOPs under archcalc's convention
and every foreign one (fvcore lists all their aten ops in ``_IGNORED_OPS``: permute, reshape,
view, slice, narrow, select, split, chunk, unbind, index, cat, stack, roll, zeros, arange).

Memory. ``Permute``, ``Reshape``, ``Narrow`` and ``Select`` are views (they share their
input's storage: no activation bytes, nothing saved); archcalc does not count the copy that a
later ``.contiguous()`` (or a ``reshape`` of a non-contiguous view) makes — that is the
convention taken here. ``Cat``, ``Stack``, ``Roll`` and ``Index`` write a new tensor and save
nothing for backward (their gradients are slices, a roll back, or a scatter by the index,
which autograd keeps as an integer tensor it already holds). ``Param`` and ``Constant`` are
not activations: they are placed in the graph after the model input (which they do not read)
and take no activation memory (their bytes are the module's own).

Receptive fields. A permute or reshape that keeps the last two axes (the spatial axes of a
map) keeps every unit's field; any other one may mix the spatial axes, so its ``geometry``
raises :class:`~archcalc.UnsupportedError` naming the layer (the report says the field is
not available past it: never a wrong number). A parameter or a constant sees no input: its
field is reported as not available.

>>> from archcalc.kinds import Permute, Reshape, Narrow
>>> Permute((1, 0, 2)).out_shape(((197, 12, 64),))
(12, 197, 64)
>>> Reshape((12, 64)).out_shape(((768,),))
(12, 64)
>>> Narrow(1, 0, 768).out_shape(((197, 2304),))
(197, 768)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, prod
from ._base import (
    NO_INPUT,
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    TensorArg,
    TorchCall,
    _check_int,
    _eq_known_false,
    _fmt,
    invalid,
    register,
)
from ._rules import (
    Parameterless,
    counts_zero,
    fvcore_ignored,
    fvcore_unhandled,
    ptflops_no_patch,
    thop_no_hook,
)

__all__ = [
    "Permute",
    "Reshape",
    "Narrow",
    "Select",
    "Index",
    "Cat",
    "Stack",
    "Roll",
    "Expand",
    "Repeat",
    "PadAxes",
    "Assign",
    "PerRow",
    "Shared",
    "Param",
    "Constant",
    "sample_axis",
]

_SAME = ((1, 1, 0), (1, 1, 0))
_NO_HOOK = counts_zero("a tensor operation in forward is not a module: no ptflops hook")


def sample_axis(call: TorchCall, i: int, dim: Any) -> int:
    """The per-sample axis of torch's ``dim`` on traced input ``i`` of ``call``; raises
    :class:`UnsupportedError` for the batch axis. Layouts (archcalc/torch/values.py):
    ``"std"`` (batch first), ``"fold"`` (the batch folded into axis 0: ``(N·k, ...)``, per
    sample ``(k, ...)``), ``"batch@j"`` (the batch at torch axis ``j``), ``"const"`` (no batch
    axis: the same tensor for every sample), ``"nhwc"`` (torch's ``(N, H, W, C)`` of a
    ``(C, H, W)`` map)."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise UnsupportedError(f"dim = {dim!r} is not an axis")
    shape, layout = call.inputs[i], call.layouts[i]
    if layout == "const":
        return dim % max(len(shape), 1)
    if layout.startswith("fold"):  # per-sample axes are torch's
        d = dim % len(shape)
        if d == (int(layout[5:]) if layout.startswith("fold@") else 0):
            raise UnsupportedError("an operation along the axis the batch is folded into")
        return d
    if layout == "nhwc":  # torch (N, H, W, C) of archcalc's (C, H, W)
        d = dim % 4
        if d == 0:
            raise UnsupportedError(f"an operation along the batch axis (dim {dim})")
        return 0 if d == 3 else d
    b = int(layout.split("@")[1]) if layout.startswith("batch@") else 0
    if layout not in ("std",) and not layout.startswith("batch@"):
        raise UnsupportedError(f"an operation on a {layout} tensor")
    d = dim % (len(shape) + 1)
    if d == b:
        raise UnsupportedError(f"an operation along the batch axis (dim {dim})")
    return d if d < b else d - 1


def _batched(call: TorchCall) -> int:
    """The first traced input with a batch axis (torch's ``dim`` refers to its axes when a
    parameter or a constant is broadcast beside it); 0 when none has."""
    return next((i for i, lay in enumerate(call.layouts) if lay != "const"), 0)


def _keeps_last_two(ins: Shape, out: Shape) -> bool:
    return len(ins) >= 2 and len(out) >= 2 and tuple(ins[-2:]) == tuple(out[-2:])


def _no_field(name: str, why: str) -> UnsupportedError:
    return UnsupportedError(f"receptive fields are not followed past {name}: {why}")


class _View(Parameterless, Layer):
    """Shared rules of the kinds that only move or pick elements (0 FLOPs everywhere)."""

    __slots__ = ()

    count_ptflops_hook = _NO_HOOK
    count_thop = thop_no_hook("a tensor operation (not a module)")
    #: the importer offers a call to these kinds after every other kind listing it (the
    #: specific kinds first: Tokens, ClassToken, Slice, SelectToken, Concat)
    torch_fallback: ClassVar[bool] = True

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


def _ints(kind: str, name: str, v: Any, minimum: int | None = 0) -> tuple[Any, ...]:
    if not isinstance(v, (tuple, list)):
        raise invalid(kind, name, v, "must be a tuple of integers", wrong_type=True)
    for x in v:
        if minimum is None:
            if isinstance(x, bool) or not isinstance(x, int):
                raise invalid(kind, name, v, "must be a tuple of integers", wrong_type=True)
        else:
            _check_int(kind, name, x, minimum)
    return tuple(v)


# ---------------------------------------------------------------- views


@register
@dataclass(frozen=True, slots=True)
class Permute(_View):
    """The per-sample axes reordered: output axis ``i`` is input axis ``dims[i]`` (torch's
    ``x.permute(0, *[d + 1 for d in dims])``, ``transpose``). A view.

    >>> Permute((2, 0, 1)).out_shape(((4, 5, 6),))
    (6, 4, 5)
    """

    dims: Any

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("permute / aten::transpose")
    count_ptflops_functional = ptflops_no_patch("Tensor.permute / transpose")

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.permute",
        "torch.permute",
        "Tensor.transpose",
        "torch.transpose",
        "Tensor.swapaxes",
        "Tensor.mT",
    )

    def __post_init__(self) -> None:
        dims = _ints(self.kind, "dims", self.dims)
        if sorted(dims) != list(range(len(dims))):
            raise invalid(self.kind, "dims", self.dims, "must be a permutation of 0..rank-1")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((1, 0, 2, 3)), ((2, 3, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != len(self.dims):
            raise ShapeError(f"Permute{self.dims} needs rank {len(self.dims)}, got {_fmt(s)}")
        return tuple(s[d] for d in self.dims)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        n = len(self.dims)
        if n >= 2 and self.dims[-2:] == (n - 2, n - 1):
            return _SAME  # the last two (spatial) axes stay: every unit sees what it saw
        raise _no_field(f"Permute{self.dims}", "it moves the last two (spatial) axes")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        """Built by the importer's view handling (archcalc/torch/views.py) from the torch
        shapes; a direct call names the axes."""
        x = call.inputs[0]
        n = len(x)
        if "transpose" in call.op or "swapaxes" in call.op:
            a, b = (
                sample_axis(call, 0, call.arg(1, "dim0")),
                sample_axis(call, 0, call.arg(2, "dim1")),
            )
            dims = list(range(n))
            dims[a], dims[b] = dims[b], dims[a]
            return cls(tuple(dims))
        rest = call.args[1:] or tuple(call.kwargs.get("dims", ()))
        if len(rest) == 1 and isinstance(rest[0], (list, tuple)):
            rest = tuple(rest[0])
        if call.layouts[0] != "std" or len(rest) != n + 1 or int(rest[0]) % (n + 1) != 0:
            raise UnsupportedError(f"{call.op}{tuple(rest)}: the batch axis must stay first")
        return cls(tuple(int(d) % (n + 1) - 1 for d in rest[1:]))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("permute", 0, *(d + 1 for d in self.dims))


@register
@dataclass(frozen=True, slots=True)
class Reshape(_View):
    """The per-sample tensor read as ``shape`` (same elements, row-major): ``view``,
    ``reshape``, ``flatten``/``unflatten``, ``squeeze``/``unsqueeze`` with the batch first.
    A view (a copy when its input is not contiguous: not counted, see the module).

    >>> Reshape((3, 4, 49)).out_shape(((12, 7, 7),))
    (3, 4, 49)
    """

    shape: Any

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("view / aten::reshape / aten::flatten / aten::unsqueeze")
    count_ptflops_functional = ptflops_no_patch("Tensor.view / reshape / flatten")

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.view",
        "Tensor.reshape",
        "torch.reshape",
        "Tensor.flatten",
        "torch.flatten",
        "Tensor.unflatten",
        "Tensor.squeeze",
        "torch.squeeze",
        "Tensor.unsqueeze",
        "torch.unsqueeze",
    )

    def __post_init__(self) -> None:
        _ints(self.kind, "shape", self.shape, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((2, 3, 5, 7)), ((6, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        n = prod(ins[0])
        if _eq_known_false(n, prod(self.shape)):
            raise ShapeError(
                f"Reshape{self.shape} needs {prod(self.shape)} elements, got {_fmt(ins[0])}"
            )
        return tuple(self.shape)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        if _keeps_last_two(ins[0], out):
            return _SAME  # leading axes split or merged: the map's positions stay
        raise _no_field(
            f"Reshape{self.shape}", f"{_fmt(ins[0])} -> {_fmt(out)} may mix the spatial axes"
        )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        """The per-sample shape torch gives (``call.output``), for a batch-first input and
        result (other cases are handled by the importer's view handling)."""
        if call.layouts[0] != "std":
            raise UnsupportedError(f"a reshape of a {call.layouts[0]} tensor")
        return cls(tuple(int(d) for d in call.output))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("reshape", -1, *self.shape)


@register
@dataclass(frozen=True, slots=True)
class Narrow(_View):
    """Elements ``start, start + step, ...`` below ``stop`` along per-sample axis ``dim``:
    ``x.narrow``, one output of ``split``/``chunk``/``tensor_split``, ``x[..., a:b:s]``. A view.

    >>> Narrow(0, 0, 4, 2).out_shape(((6, 5),))
    (2, 5)
    """

    dim: Any
    start: Any
    stop: Any
    step: Any = 1

    alias: ClassVar[bool] = True
    head_role: ClassVar[str | None] = None

    count_fvcore = fvcore_ignored("slice / aten::narrow / aten::split / aten::chunk")
    count_ptflops_functional = ptflops_no_patch("Tensor.__getitem__ / split / chunk / narrow")

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.split",
        "torch.split",
        "Tensor.chunk",
        "torch.chunk",
        "Tensor.tensor_split",
        "Tensor.narrow",
        "torch.narrow",
        "Tensor.__getitem__",
    )

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 0)
        _check_int(self.kind, "start", self.start, 0)
        _check_int(self.kind, "stop", self.stop, 1)
        _check_int(self.kind, "step", self.step, 1)
        if isinstance(self.start, int) and isinstance(self.stop, int) and self.stop <= self.start:
            raise invalid(self.kind, "stop", self.stop, f"must exceed start (={self.start})")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(0, 1, 3), ((4, 5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if self.dim >= len(s):
            raise ShapeError(f"Narrow.dim = {self.dim} but the input is {_fmt(s)}")
        n = s[self.dim]
        if isinstance(n, int) and isinstance(self.stop, int) and n < self.stop:
            raise ShapeError(f"Narrow.stop = {self.stop} but axis {self.dim} has {n}")
        size = (self.stop - self.start + self.step - 1) // self.step
        return (*s[: self.dim], size, *s[self.dim + 1 :])

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        n = len(ins[0])
        if self.dim < n - 2:
            return _SAME
        raise _no_field(f"Narrow on axis {self.dim}", "it crops a spatial axis")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if "getitem" in call.op:
            return _getitem_chain(call)
        if "narrow" in call.op:
            d = sample_axis(call, 0, call.arg(1, "dim"))
            start = int(call.arg(2, "start")) % int(call.inputs[0][d])
            return cls(d, start, start + int(call.output[d]))
        d = sample_axis(call, 0, call.arg(2, "dim", 0))
        start = sum(int(o[d]) for o in call.outputs[: call.output_index])
        return cls(d, start, start + int(call.output[d]))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("narrow_step", self.dim + 1, self.start, self.stop, self.step)


@register
@dataclass(frozen=True, slots=True)
class Select(_View):
    """Index ``index`` of per-sample axis ``dim``, the axis removed: ``x.select``, one
    output of ``unbind``, ``x[:, :, i]``. A view.

    >>> Select(0, 2).out_shape(((3, 12, 197, 64),))
    (12, 197, 64)
    """

    dim: Any
    index: Any

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("select / aten::unbind")
    count_ptflops_functional = ptflops_no_patch("Tensor.__getitem__ / unbind / select")

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.unbind",
        "torch.unbind",
        "Tensor.select",
        "torch.select",
    )

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 0)
        _check_int(self.kind, "index", self.index, 0)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(0, 1), ((3, 5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if self.dim >= len(s):
            raise ShapeError(f"Select.dim = {self.dim} but the input is {_fmt(s)}")
        n = s[self.dim]
        if isinstance(n, int) and isinstance(self.index, int) and self.index >= n:
            raise ShapeError(f"Select.index = {self.index} but axis {self.dim} has {n}")
        return (*s[: self.dim], *s[self.dim + 1 :])

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        if self.dim < len(ins[0]) - 2:
            return _SAME
        raise _no_field(f"Select on axis {self.dim}", "it removes a spatial axis")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if "unbind" in call.op:
            return cls(sample_axis(call, 0, call.arg(1, "dim", 0)), call.output_index)
        d = sample_axis(call, 0, call.arg(1, "dim"))
        return cls(d, int(call.arg(2, "index")) % int(call.inputs[0][d]))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("select", self.dim + 1, self.index)


def _torch_to_sample(layout: str, t: int) -> int | None:
    """Per-sample axis of torch axis ``t`` (``None``: the batch axis)."""
    if layout == "const":
        return t
    if layout.startswith("fold"):
        return None if t == (int(layout[5:]) if layout.startswith("fold@") else 0) else t
    b = int(layout.split("@")[1]) if layout.startswith("batch@") else 0
    if t == b:
        return None
    return t if t < b else t - 1


def _getitem_chain(call: TorchCall) -> Any:
    """``x[key]`` with slices, integers, ``None`` and ``...`` (no tensor): a chain of
    ``Select`` and ``Narrow`` (and a ``Reshape`` for new axes); ``None`` when it is ``x``."""
    key = call.arg(1, "indices")
    key = key if isinstance(key, tuple) else (key,)
    layout, shape = call.layouts[0], call.inputs[0]
    if layout not in ("std", "const") and not layout.startswith(("batch@", "fold")):
        raise UnsupportedError(f"indexing a {layout} tensor")
    rank = len(shape) + (0 if layout == "const" or layout.startswith("fold") else 1)
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if any(
        not isinstance(k, (slice, int)) or isinstance(k, bool)
        for k in key
        if k is not None and k is not Ellipsis
    ):
        raise UnsupportedError(f"indexing by {key!r}: archcalc takes slices, integers, None")
    if sum(1 for k in key if k is Ellipsis) > 1 or used > rank:
        raise UnsupportedError(f"indexing {key!r} of a rank-{rank} tensor")
    full: list[Any] = []
    for k in key:
        full += [slice(None)] * (rank - used) if k is Ellipsis else [k]
    if Ellipsis not in key:
        full += [slice(None)] * (rank - used)
    layers: list[Layer] = []
    cur = list(shape)
    axis_t = 0  # torch axis of the input
    removed = 0  # per-sample axes removed so far (by integers)
    new_axes = False
    for k in full:
        if k is None:
            new_axes = True
            continue
        s = _torch_to_sample(layout, axis_t)
        axis_t += 1
        if s is None:
            if k != slice(None):
                raise UnsupportedError(f"indexing {key!r} picks along the batch axis")
            continue
        pos = s - removed
        n = int(cur[pos])
        if isinstance(k, int):
            if not -n <= k < n:
                raise UnsupportedError(f"index {k} of an axis of {n}")
            layers.append(Select(pos, k % n))
            del cur[pos]
            removed += 1
            continue
        start, stop, step = k.indices(n)
        if step < 1 or stop <= start:
            raise UnsupportedError(f"the slice {k!r} of an axis of {n}")
        if (start, stop, step) != (0, n, 1):
            # the narrowed size is not kept in ``cur``: later keys index later axes only
            layers.append(Narrow(pos, start, stop, step))
    if new_axes:
        layers.append(Reshape(tuple(int(d) for d in call.output)))
    if not layers:
        return None
    return layers[0] if len(layers) == 1 else tuple(layers)


# ---------------------------------------------------------------- copies


@register
@dataclass(frozen=True, slots=True)
class Index(_View):
    """A gather by an index tensor along per-sample axis ``dim`` of input 0: ``table[idx]``
    (``dim`` 0), ``biases[:, idx]`` (``dim`` 1); input 1 is the index tensor, whose shape
    replaces the axis. A new tensor; backward scatters into the table by the index autograd
    already holds.

    >>> Index(1).out_shape(((4, 49), (49, 49)))
    (4, 49, 49)
    """

    dim: Any = 0

    arity: ClassVar[int | None] = 2

    count_fvcore = fvcore_ignored("index")
    count_ptflops_functional = ptflops_no_patch("Tensor.__getitem__")

    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.__getitem__",)

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 0)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(1), ((4, 5, 6), (2, 5, 6))

    def out_shape(self, ins: Shapes) -> Shape:
        t, i = ins[0], ins[1]
        if self.dim >= len(t):
            raise ShapeError(f"Index.dim = {self.dim} but the table is {_fmt(t)}")
        return (*t[: self.dim], *i, *t[self.dim + 1 :])

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        key = call.arg(1, "indices")
        key = key if isinstance(key, tuple) else (key,)
        tensors = [i for i, k in enumerate(key) if isinstance(k, TensorArg)]
        if (
            len(tensors) != 1
            or len(call.inputs) != 2
            or any(k != slice(None) for k in key[: tensors[0]])
            or any(k != slice(None) for k in key[tensors[0] + 1 :])
            or call.layouts[1] != "const"
        ):
            raise UnsupportedError(f"indexing by {key!r}: archcalc gathers by one index tensor")
        d = _torch_to_sample(call.layouts[0], tensors[0])
        if d is None:
            raise UnsupportedError("a gather along the batch axis")
        return cls(d)

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("index", self.dim + 1)


@register
@dataclass(frozen=True, slots=True)
class Cat(_View):
    """Inputs concatenated along per-sample axis ``dim`` (``torch.cat``); archcalc's
    ``Concat`` is the channel case of a map. A new tensor; nothing saved (the gradient of
    each input is a slice of the output's).

    >>> Cat(0).out_shape(((1, 64), (196, 64)))
    (197, 64)
    """

    dim: Any = 0

    arity: ClassVar[int | None] = None
    grad_views: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("cat")
    count_ptflops_functional = ptflops_no_patch("torch.cat")

    torch_functions: ClassVar[tuple[str, ...]] = ("torch.cat", "torch.concat", "torch.concatenate")

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 0)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(1), ((4, 2, 6), (4, 3, 6))

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        d = self.dim
        for i, s in enumerate(ins):
            if len(s) != len(first) or d >= len(s):
                raise ShapeError(f"Cat: input {i} is {_fmt(s)}, input 0 {_fmt(first)}")
            if any(_eq_known_false(a, b) for j, (a, b) in enumerate(zip(s, first)) if j != d):
                raise ShapeError(f"Cat({d}): input {i} is {_fmt(s)}, input 0 {_fmt(first)}")
        return (*first[:d], sum(s[d] for s in ins), *first[d + 1 :])

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        dim = call.kwargs.get("axis", call.arg(1, "dim", 0))
        d = sample_axis(call, _batched(call), dim)
        if len(call.inputs) == 1:
            return None  # the other operands were empty: the result is input 0
        return cls(d)

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("cat", self.dim + 1)


@register
@dataclass(frozen=True, slots=True)
class Stack(_View):
    """Equal-shaped inputs stacked along a new per-sample axis ``dim`` (``torch.stack``).
    A new tensor; nothing saved.

    >>> Stack(0).out_shape(((4, 5), (4, 5), (4, 5)))
    (3, 4, 5)
    """

    dim: Any = 0

    arity: ClassVar[int | None] = None
    min_inputs: ClassVar[int] = 1
    grad_views: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("stack")
    count_ptflops_functional = ptflops_no_patch("torch.stack")

    torch_functions: ClassVar[tuple[str, ...]] = ("torch.stack",)

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 0)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(0), ((4, 5, 6), (4, 5, 6))

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s, first)):
                raise ShapeError(f"Stack: input {i} is {_fmt(s)}, input 0 {_fmt(first)}")
        if self.dim > len(first):
            raise ShapeError(f"Stack.dim = {self.dim} but the inputs are {_fmt(first)}")
        return (*first[: self.dim], len(ins), *first[self.dim :])

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        dim = call.arg(1, "dim", 0)
        ref = _batched(call)
        n = len(call.inputs[ref]) + 1  # the result's per-sample rank
        layout = call.layouts[ref]
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise UnsupportedError(f"dim = {dim!r}")
        if layout == "const":
            return cls(dim % n)
        if layout != "std":
            raise UnsupportedError(f"a stack of {layout} tensors")
        d = dim % (n + 1)  # torch's new axis; at 0 it moves the batch to axis 1
        return cls(d - 1 if d > 0 else 0)

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("stack", self.dim + 1)


@register
@dataclass(frozen=True, slots=True)
class Expand(_View):
    """The per-sample tensor broadcast to ``shape`` (its axes of size 1 repeated without a
    copy: ``x.expand(...)``, ``expand_as`` with the batch kept). A view.

    >>> Expand((4, 3, 5)).out_shape(((4, 1, 5),))
    (4, 3, 5)
    """

    shape: Any

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("expand")
    count_ptflops_functional = ptflops_no_patch("Tensor.expand")

    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.expand", "Tensor.expand_as")

    def __post_init__(self) -> None:
        _ints(self.kind, "shape", self.shape, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((3, 4, 5)), ((1, 4, 5),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != len(self.shape) or any(
            _eq_known_false(a, b) and _eq_known_false(a, 1) for a, b in zip(s, self.shape)
        ):
            raise ShapeError(f"Expand{self.shape}: {_fmt(s)} does not broadcast to it")
        return tuple(self.shape)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        if tuple(ins[0][-2:]) == tuple(out[-2:]):
            return _SAME
        raise _no_field(f"Expand{self.shape}", "it broadcasts a spatial axis")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        """The per-sample shape torch gives (the importer's view handling makes it)."""
        if len(call.output) != len(call.inputs[0]):
            raise UnsupportedError("an expansion that adds axes")
        return cls(tuple(int(d) for d in call.output))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("expand", *self.shape)


@register
@dataclass(frozen=True, slots=True)
class Repeat(_View):
    """The per-sample tensor tiled ``repeats[i]`` times along axis ``i`` (``Tensor.repeat``
    with the batch repeated once; ``x.repeat_interleave(k, dim=0)``, each sample copied
    ``k`` times into a folded batch, is a Reshape to ``(1, ...)`` then ``Repeat((k, 1, ...))``:
    GCViT's global query). A new tensor; nothing saved.

    >>> Repeat((3, 1, 1)).out_shape(((1, 49, 32),))
    (3, 49, 32)
    """

    repeats: Any

    count_fvcore = fvcore_unhandled("repeat / aten::repeat_interleave")
    count_ptflops_functional = ptflops_no_patch("Tensor.repeat / repeat_interleave")

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.repeat",
        "Tensor.repeat_interleave",
        "Tensor.tile",
        "torch.tile",
    )

    def __post_init__(self) -> None:
        _ints(self.kind, "repeats", self.repeats, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((2, 1, 1)), ((1, 5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != len(self.repeats):
            raise ShapeError(f"Repeat{self.repeats} needs rank {len(self.repeats)}, got {_fmt(s)}")
        return tuple(d * r for d, r in zip(s, self.repeats))

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        if all(r == 1 for r in self.repeats[-2:]):
            return _SAME
        raise _no_field(f"Repeat{self.repeats}", "it tiles a spatial axis")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x, layout = call.inputs[0], call.layouts[0]
        if "interleave" in call.op:
            k, dim = call.arg(1, "repeats"), call.arg(2, "dim")
            if layout != "std" or not isinstance(k, int) or dim is None or dim % (len(x) + 1):
                raise UnsupportedError(
                    "repeat_interleave archcalc takes of a batch-first tensor along the batch "
                    "(dim 0: each sample copied k times into a folded batch) only"
                )
            return (Reshape((1, *x)), cls((k,) + (1,) * len(x)))
        reps = call.args[1:]
        if len(reps) == 1 and isinstance(reps[0], (list, tuple)):
            reps = tuple(reps[0])
        rank = len(x) + (0 if layout == "const" or layout.startswith("fold") else 1)
        if "tile" in call.op:  # fewer repeats than axes: the leading axes once
            reps = (1,) * (rank - len(reps)) + tuple(reps)
        if layout == "const" and len(reps) == len(x):
            return cls(tuple(int(r) for r in reps))
        if layout == "fold" and len(reps) == len(x) and reps[0] == 1:
            return cls(tuple(int(r) for r in reps))  # per-sample axes are torch's
        if layout != "std" or len(reps) != len(x) + 1 or reps[0] != 1:
            raise UnsupportedError(f"a repeat {tuple(reps)} of the batch axis")
        return cls(tuple(int(r) for r in reps[1:]))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("repeat", 1, *self.repeats)


@register
@dataclass(frozen=True, slots=True)
class Roll(_View):
    """Elements shifted cyclically by ``shifts`` along per-sample axes ``dims``
    (``torch.roll``; Swin's shifted windows). A new tensor; nothing saved.

    >>> Roll((-3, -3), (0, 1)).out_shape(((56, 56, 96),))
    (56, 56, 96)
    """

    shifts: Any
    dims: Any

    count_fvcore = fvcore_ignored("roll")
    count_ptflops_functional = ptflops_no_patch("torch.roll")

    torch_functions: ClassVar[tuple[str, ...]] = ("torch.roll", "Tensor.roll")

    def __post_init__(self) -> None:
        _ints(self.kind, "shifts", self.shifts, None)
        _ints(self.kind, "dims", self.dims)
        if len(self.shifts) != len(self.dims):
            raise invalid(self.kind, "dims", self.dims, "needs one shift per axis")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((2,), (0,)), ((4, 5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        if any(d >= len(ins[0]) for d in self.dims):
            raise ShapeError(f"Roll.dims = {self.dims} but the input is {_fmt(ins[0])}")
        return ins[0]

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        if all(d < len(ins[0]) - 2 for d in self.dims):
            return _SAME
        raise _no_field(f"Roll{self.shifts}", "it shifts a spatial axis cyclically")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        shifts, dims = call.arg(1, "shifts"), call.arg(2, "dims")
        if dims is None:
            raise UnsupportedError("a roll of the flattened tensor (no dims)")
        shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        return cls(tuple(int(s) for s in shifts), tuple(sample_axis(call, 0, int(d)) for d in dims))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("roll", self.shifts, tuple(d + 1 for d in self.dims))


@register
@dataclass(frozen=True, slots=True)
class PadAxes(_View):
    """Per-sample axes ``axes`` padded with ``before[i]`` and ``after[i]`` elements of
    ``value`` (``F.pad`` on any axes: CoaT's ``F.pad(x, (0, 0, 1, 0))`` of a token axis,
    DaViT's and Swin's padding of a channels-last map); archcalc's ``Pad`` is the case of a
    ``(C, H, W)`` map's height and width. A new tensor; nothing saved.

    >>> PadAxes((1,), (1,), (0,)).out_shape(((4, 196, 32),))
    (4, 197, 32)
    """

    axes: Any
    before: Any
    after: Any
    value: float = 0.0

    count_fvcore = fvcore_ignored("constant_pad_nd")
    count_ptflops_functional = ptflops_no_patch("F.pad")

    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.pad",)

    def __post_init__(self) -> None:
        _ints(self.kind, "axes", self.axes)
        _ints(self.kind, "before", self.before)
        _ints(self.kind, "after", self.after)
        if not len(self.axes) == len(self.before) == len(self.after):
            raise invalid(self.kind, "after", self.after, "needs one pair per axis")
        if len(set(self.axes)) != len(self.axes):
            raise invalid(self.kind, "axes", self.axes, "must not repeat an axis")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((0,), (1,), (2,)), ((4, 5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = list(ins[0])
        for a, lo, hi in zip(self.axes, self.before, self.after):
            if a >= len(s):
                raise ShapeError(f"PadAxes.axes = {self.axes} but the input is {_fmt(ins[0])}")
            s[a] = s[a] + lo + hi
        return tuple(s)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        n = len(ins[0])
        start = {a: lo for a, lo in zip(self.axes, self.before)}
        # a pad of the last two (spatial) axes shifts unit 0's window, as Pad's
        return ((1, 1, -start.get(n - 2, 0)), (1, 1, -start.get(n - 1, 0)))

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        pad = call.arg(1, "pad")
        mode, value = call.arg(2, "mode", "constant"), call.arg(3, "value", None)
        if mode != "constant":
            raise UnsupportedError(f"F.pad(mode={mode!r}): archcalc pads with a constant")
        pad = tuple(int(p) for p in pad)
        lay = call.layouts[0]
        rank = len(call.inputs[0]) + (0 if lay == "const" or lay.startswith("fold") else 1)
        axes, before, after = [], [], []
        for i in range(len(pad) // 2):
            lo, hi = pad[2 * i], pad[2 * i + 1]
            if lo == 0 and hi == 0:
                continue
            if lo < 0 or hi < 0:
                raise UnsupportedError(f"F.pad by {pad}: a negative pad crops")
            axes.append(sample_axis(call, 0, rank - 1 - i))
            before.append(lo)
            after.append(hi)
        if not axes:
            return None
        return cls(tuple(axes), tuple(before), tuple(after), float(value or 0.0))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("pad", tuple(a + 1 for a in self.axes), self.before, self.after)


@register
@dataclass(frozen=True, slots=True)
class Assign(_View):
    """Input 0 with a region (per-sample ``axes`` sliced ``starts:stops:steps``) replaced by
    input 1: ``x[:, :, 1:, 1:] = y`` (MViTv2 adds its relative positions into the attention
    map so). A copy in place: no FLOPs; each output unit sees what input 0's or input 1's
    unit at its place sees (the union, as a merge).

    >>> Assign((1, 2), (1, 1), (197, 197), (1, 1)).out_shape(((1, 197, 197), (1, 196, 196)))
    (1, 197, 197)
    """

    axes: Any
    starts: Any
    stops: Any
    steps: Any

    arity: ClassVar[int | None] = None

    count_fvcore = fvcore_ignored("copy_ / aten::index_put_ / aten::slice")
    count_ptflops_functional = ptflops_no_patch("Tensor.__setitem__")

    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.__setitem__",)

    def __post_init__(self) -> None:
        for name in ("axes", "starts", "stops", "steps"):
            _ints(self.kind, name, getattr(self, name))
        if not len(self.axes) == len(self.starts) == len(self.stops) == len(self.steps):
            raise invalid(self.kind, "steps", self.steps, "needs one slice per axis")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((0,), (1,), (3,), (1,)), ((4, 5, 6), (2, 5, 6))

    def out_shape(self, ins: Shapes) -> Shape:
        if len(ins) != 2:
            raise ShapeError(f"Assign takes a tensor and a value, got {len(ins)} inputs")
        region = list(ins[0])
        for a, lo, hi, st in zip(self.axes, self.starts, self.stops, self.steps):
            region[a] = (hi - lo + st - 1) // st
        v = ins[1]
        if len(v) > len(region) or any(
            _eq_known_false(d, 1) and _eq_known_false(d, r)
            for d, r in zip(reversed(v), reversed(region))
        ):
            raise ShapeError(f"Assign: a value of {_fmt(v)} does not fit {_fmt(tuple(region))}")
        return ins[0]

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        key = call.arg(1, "key")
        if len(call.inputs) != 2:
            raise UnsupportedError("x[key] = value archcalc takes with a tensor value only")
        key = key if isinstance(key, tuple) else (key,)
        if any(not isinstance(k, slice) for k in key if k is not Ellipsis):
            raise UnsupportedError(f"x[{key!r}] = ...: archcalc assigns to slices only")
        if Ellipsis in key:
            raise UnsupportedError(f"x[{key!r}] = ...: archcalc assigns without an ellipsis")
        axes, starts, stops, steps = [], [], [], []
        for t, k in enumerate(key):
            if k == slice(None):
                continue
            a = _torch_to_sample(call.layouts[0], t)
            if a is None:
                raise UnsupportedError(f"x[{key!r}] = ... along the batch axis")
            lo, hi, st = k.indices(int(call.inputs[0][a]))
            axes.append(a)
            starts.append(lo)
            stops.append(hi)
            steps.append(st)
        return cls(tuple(axes), tuple(starts), tuple(stops), tuple(steps))

    def to_torch(self, tb: Any) -> Any:
        return tb.TensorOp("assign", self.axes, self.starts, self.stops, self.steps)


# ---------------------------------------------------------------- a layer per row


def _rule(method: str, doc: str) -> Any:
    def rule(self: Any, ins: Shapes, out: Shape, b: Any) -> Any:
        k, inner_ins, inner_out = self.rows(ins, out)
        return getattr(self.inner, method)(inner_ins, inner_out, b * k)

    rule.__doc__ = doc
    rule.short = "inner at batch N·k"  # type: ignore[attr-defined]
    return rule


_ROWS = "the inner layer's count at batch N·k (the tool runs it on the folded batch {0})"


@register
@dataclass(frozen=True, slots=True)
class PerRow(Layer):
    """Layer ``inner`` applied to each of the ``k`` rows of a per-sample ``(k, ...)`` tensor:
    torch runs it on the batch folded into the rows, ``(N·k, ...)`` (MViTv2's pooling
    convolutions of every head, TNT's pixel embedding of every patch, EfficientViT-MSRA's
    convolutions of every head). Params and buffers are ``inner``'s (shared by the rows);
    MACs, FLOPs and every foreign count are ``inner``'s over ``k`` times the batch; what
    autograd keeps is ``inner``'s at batch ``N·k``. ``inner`` may be given as its spec dict.

    >>> from archcalc.kinds import Conv2d
    >>> PerRow(Conv2d(8, 8, 3, padding=1, groups=8)).out_shape(((2, 8, 14, 14),))
    (2, 8, 14, 14)
    """

    inner: Any

    count_fvcore = _rule("count_fvcore", _ROWS.format("(fvcore traces it)"))
    count_flopcounter = _rule("count_flopcounter", _ROWS.format("(FlopCounterMode)"))
    count_torchvision = _rule("count_torchvision", _ROWS.format("(torchvision _ops)"))
    count_ptflops_hook = _rule("count_ptflops_hook", _ROWS.format("(ptflops' hook)"))
    count_ptflops_functional = _rule("count_ptflops_functional", _ROWS.format("(ptflops' patches)"))
    count_thop = _rule("count_thop", _ROWS.format("(thop's hook)"))
    count_torchinfo = _rule(
        "count_torchinfo", _ROWS.format("(torchinfo: params times the batch it sees)")
    )

    def __post_init__(self) -> None:
        from ._base import layer_from_dict

        inner = self.inner
        if isinstance(inner, dict):
            inner = layer_from_dict(inner)
            object.__setattr__(self, "inner", inner)
        if not isinstance(inner, Layer) or inner.arity != 1:
            raise invalid(self.kind, "inner", inner, "must be a layer of one input")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        from .conv import Conv2d

        return cls(Conv2d(4, 6, 3, padding=1)), ((3, 4, 5, 5),)

    def rows(self, ins: Shapes, out: Shape) -> tuple[Any, Shapes, Shape]:
        return ins[0][0], (tuple(ins[0][1:]),), tuple(out[1:])

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) < 2:
            raise ShapeError(f"PerRow needs (k, ...) rows, got {_fmt(s)}")
        return (s[0], *self.inner.out_shape((tuple(s[1:]),)))

    def params(self, ins: Shapes) -> Num:
        return self.inner.params((tuple(ins[0][1:]),))

    def buffers(self, ins: Shapes) -> Num:
        return self.inner.buffers((tuple(ins[0][1:]),))

    def macs(self, ins: Shapes, out: Shape) -> Num:
        k, i, o = self.rows(ins, out)
        return k * self.inner.macs(i, o)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        k, i, o = self.rows(ins, out)
        return k * self.inner.flops(i, o)

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        k, i, o = self.rows(ins, out)
        if len(i[0]) < 3:
            raise _no_field(f"PerRow({self.inner.kind})", "its rows are not maps")
        return self.inner.geometry(i, o)  # a row's (C, H, W) map keeps the last two axes

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        k, i, o = self.rows(ins, out)
        return self.inner.saved(i, o, batch * k)

    def is_view(self, training: bool) -> bool:
        return self.inner.is_view(training)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "inner": self.inner.to_dict()}

    def to_torch(self, tb: Any) -> Any:
        return tb.PerRowModule(self.inner.to_torch(tb))


def _shared_rule(method: str) -> Any:
    def rule(self: Any, ins: Shapes, out: Shape, b: Any) -> Any:
        return getattr(self.inner, method)(ins, out, b)

    rule.__doc__ = "the inner layer's count (the tool counts each call of the module)"
    rule.short = "inner"  # type: ignore[attr-defined]
    return rule


@register
@dataclass(frozen=True, slots=True)
class Shared(Layer):
    """A module called again (CoaT's convolutional position encodings, shared by the blocks
    of a stage): ``inner``'s computation, whose parameters and buffers the call named
    ``first`` already counts (0 here: torch's ``numel`` counts them once). Every other
    figure, foreign counts included, is ``inner``'s (each tool counts each call).
    Built alone (``to_torch``), it holds a copy of ``inner``'s parameters (not tied).

    >>> from archcalc.kinds import Conv2d
    >>> Shared(Conv2d(8, 8, 3, padding=1, groups=8), "cpe").params(((8, 14, 14),))
    0
    """

    inner: Any
    first: str = ""

    count_fvcore = _shared_rule("count_fvcore")
    count_flopcounter = _shared_rule("count_flopcounter")
    count_torchvision = _shared_rule("count_torchvision")
    count_ptflops_hook = _shared_rule("count_ptflops_hook")
    count_ptflops_functional = _shared_rule("count_ptflops_functional")
    count_thop = _shared_rule("count_thop")
    count_torchinfo = _shared_rule("count_torchinfo")

    def __post_init__(self) -> None:
        from ._base import layer_from_dict

        inner = self.inner
        if isinstance(inner, dict):
            inner = layer_from_dict(inner)
            object.__setattr__(self, "inner", inner)
        if not isinstance(inner, Layer) or inner.arity != 1:
            raise invalid(self.kind, "inner", inner, "must be a layer of one input")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        from .conv import Conv2d

        return cls(Conv2d(4, 4, 3, padding=1, groups=4), "cpe"), ((4, 5, 5),)

    def out_shape(self, ins: Shapes) -> Shape:
        return self.inner.out_shape(ins)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return self.inner.macs(ins, out)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return self.inner.flops(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        return self.inner.geometry(ins, out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return self.inner.saved(ins, out, batch)

    def is_view(self, training: bool) -> bool:
        return self.inner.is_view(training)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "inner": self.inner.to_dict(), "first": self.first}

    def to_torch(self, tb: Any) -> Any:
        return tb.SharedModule(self.inner.to_torch(tb))


# ---------------------------------------------------------------- sources


class _Source(_View):
    """A tensor that does not come from the input; placed after the model input, which it
    does not read."""

    __slots__ = ()

    alias: ClassVar[bool] = True  # not an activation: no activation memory

    count_fvcore = fvcore_ignored("zeros / aten::arange (a parameter is no op at all)")
    count_ptflops_functional = counts_zero(
        "a parameter or a constant is not a call ptflops patches"
    )

    def out_shape(self, ins: Shapes) -> Shape:
        return tuple(self.shape)  # type: ignore[attr-defined]

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        return NO_INPUT  # a parameter, buffer or constant: it sees no input position


@register
@dataclass(frozen=True, slots=True)
class Param(_Source):
    """A parameter (``trainable``) or buffer of per-sample shape ``shape`` used directly as
    an operand: timm's class tokens, position embeddings, relative-position bias tables,
    ``x * gamma``. Its elements are counted once (params, or buffers when not trainable),
    however many operations read it. The same tensor for every sample.

    >>> Param((1, 768)).params(((3, 224, 224),))
    768
    """

    shape: Any
    trainable: bool = True

    count_torchinfo = counts_zero(
        "torchinfo's total_mult_adds counts a leaf module's weight/bias in its own forward, "
        "not a parameter an operation reads directly"
    )

    def __post_init__(self) -> None:
        _ints(self.kind, "shape", self.shape, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((4, 5)), ((3, 8, 8),)

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_ops.ParamSource",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        """archcalc's own ParamSource (the importer makes a Param of each parameter or
        buffer an operation reads directly: archcalc/torch/emit.py)."""
        m = call.module
        return cls(tuple(int(d) for d in m.shape), bool(m.trainable))

    def params(self, ins: Shapes) -> Num:
        return prod(self.shape) if self.trainable else 0

    def buffers(self, ins: Shapes) -> Num:
        return 0 if self.trainable else prod(self.shape)

    def to_torch(self, tb: Any) -> Any:
        return tb.ParamSource(self.shape, self.trainable)


@register
@dataclass(frozen=True, slots=True)
class Constant(_Source):
    """A tensor of per-sample shape ``shape`` built in ``forward`` without the input
    (``torch.zeros``, ``arange``, a mask, Fourier features of the grid): no parameters,
    no FLOPs (archcalc treats it as a given input).

    >>> Constant((49, 49)).params(((3, 224, 224),))
    0
    """

    shape: Any

    def __post_init__(self) -> None:
        _ints(self.kind, "shape", self.shape, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((4, 5)), ((3, 8, 8),)

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_ops.ConstantSource",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        """archcalc's own ConstantSource (the importer makes a Constant of a tensor built
        without the input: archcalc/torch/emit.py)."""
        return cls(tuple(int(d) for d in call.module.shape))

    def to_torch(self, tb: Any) -> Any:
        return tb.ConstantSource(self.shape)
