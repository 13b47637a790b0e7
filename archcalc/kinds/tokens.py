"""Token sequences: a feature map read as tokens (``Tokens``), a learned class token put in
front (``ClassToken``), a learned position embedding added (``PositionEmbedding``) and one
token taken out (``SelectToken``) — the plumbing of a vision transformer around its
attention (:mod:`.attention`).

A token sequence is the per-sample shape ``(L, C)``: ``L`` tokens of ``C`` channels, the
channels last, as torch holds ``(N, L, C)``. Its receptive field keeps the two axes of the
patch grid it came from: token ``t`` of ``Tokens`` on an ``h × w`` map is grid position
``(t // w, t mod w)`` and sees what that position sees (the layers' notes say so).

>>> from archcalc.kinds import ClassToken, PositionEmbedding, Tokens
>>> Tokens().out_shape(((768, 14, 14),))
(196, 768)
>>> ClassToken(768).out_shape(((196, 768),))
(197, 768)
>>> PositionEmbedding(197, 768).params(((197, 768),))
151296
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, prod
from ._base import (
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
    register,
)
from ._rules import (
    NoMatmul,
    Parameterless,
    counts_zero,
    fvcore_ignored,
    fvcore_unhandled,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)

_SAME_GRID = ((1, 1, 0), (1, 1, 0))

#: torchinfo on a parameter that is neither a ``weight`` nor a ``bias``
_TORCHINFO_NOT_WEIGHT = counts_zero(
    "torchinfo's LayerInfo.calculate_macs multiplies only parameters named weight/bias "
    "(or containing those words); a token or an embedding is neither"
)


def _tokens(kind: str, ins: Shapes) -> Shape:
    s = ins[0]
    if len(s) != 2:
        raise ShapeError(f"{kind} needs a token sequence (L, C), got shape {_fmt(s)}")
    return s


def _param_operand(call: TorchCall) -> TensorArg | None:
    """The parameter among a call's tensors, when there is exactly one."""
    ps = call.params()
    return ps[0] if len(ps) == 1 and ps[0].is_param else None


@register
@dataclass(frozen=True, slots=True)
class Tokens(Parameterless, Layer):
    """A ``(C, H, W)`` map read as ``H·W`` tokens of ``C`` channels, row by row:
    torchvision's ``x.reshape(n, c, h * w).permute(0, 2, 1)``, timm's
    ``x.flatten(2).transpose(1, 2)``. A view in torch (no copy, no FLOPs, nothing saved);
    token ``t`` sees what map position ``(t // W, t mod W)`` sees.

    >>> Tokens().out_shape(((64, 4, 4),))
    (16, 64)
    """

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("reshape / aten::flatten / aten::permute / aten::transpose")
    count_ptflops_hook = counts_zero("a reshape and a permute are not modules: no ptflops hook")
    count_ptflops_functional = ptflops_no_patch("Tensor.reshape / Tensor.permute")
    count_thop = thop_no_hook("a reshape and a permute (not modules)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tokens.Tokens",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.permute",
        "torch.permute",
        "Tensor.transpose",
        "torch.transpose",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 3, 5),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != 3:
            raise ShapeError(f"Tokens needs a (C, H, W) map, got shape {_fmt(s)}")
        c, h, w = s
        return (h * w, c)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _SAME_GRID

    def rf_note(self, geom: Any) -> str | None:
        return "token t is map position (t // W, t mod W); the field keeps the map's two axes"

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls()
        x = call.inputs[0]
        seen = call.arg(0, "input")
        rest = [a for a in call.args[1:]] + [v for k, v in call.kwargs.items() if k != "input"]
        if len(rest) == 1 and isinstance(rest[0], (list, tuple)):
            rest = list(rest[0])
        dims = [int(d) % 3 for d in rest if isinstance(d, int) and not isinstance(d, bool)]
        swap = dims == [0, 2, 1] if "permute" in call.op else sorted(dims) == [1, 2]
        if not (
            call.layouts[0] == "view"
            and len(x) == 3
            and isinstance(seen, TensorArg)
            and tuple(seen.shape[1:]) == (x[0], x[1] * x[2])
            and swap
        ):
            raise UnsupportedError(
                f"{call.op} of a tensor of per-sample shape {x} seen as "
                f"{getattr(seen, 'shape', '?')}: archcalc reads tokens from an (N, C, H·W) "
                f"view of an (N, C, H, W) map, permuted to (N, H·W, C)"
            )
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.Tokens()


@register
@dataclass(frozen=True, slots=True)
class ClassToken(NoMatmul, Layer):
    """``tokens`` learned tokens of ``embed_dim`` channels put in front of the sequence:
    torchvision's ``torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)``. Params
    ``tokens · embed_dim`` (counted once: the expand is a view of the parameter); no FLOPs;
    nothing saved (a concatenation's gradient is a slice). The class token sees no input
    until attention mixes it; token ``k + tokens`` is input token ``k``.

    >>> ClassToken(768).params(((196, 768),))
    768
    """

    embed_dim: Any
    tokens: Any = 1

    grad_views: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("expand / aten::cat")
    count_ptflops_hook = counts_zero("expand and cat run in forward, not as a module: no hook")
    count_ptflops_functional = ptflops_no_patch("Tensor.expand / torch.cat")
    count_thop = thop_no_hook("expand and cat (not modules)")
    count_torchinfo = _TORCHINFO_NOT_WEIGHT

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tokens.ClassToken",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.cat", "torch.concat", "torch.concatenate")
    torch_named_after_parameter: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_int(self.kind, "embed_dim", self.embed_dim, 1)
        _check_int(self.kind, "tokens", self.tokens, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(6, 2), ((5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        n, c = _tokens(self.kind, ins)
        if _eq_known_false(c, self.embed_dim):
            raise ShapeError(
                f"ClassToken.embed_dim = {self.embed_dim} but the tokens have {c} channels"
            )
        return (n + self.tokens, c)

    def params(self, ins: Shapes) -> Num:
        return self.tokens * self.embed_dim

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _SAME_GRID

    def rf_note(self, geom: Any) -> str | None:
        return (
            f"the first {self.tokens} token(s) are learned and see no input; "
            f"token k + {self.tokens} is input token k"
        )

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            _, k, c = m.class_token.shape
            return cls(int(c), int(k))
        parts = call.arg(0, "tensors")
        dim = call.kwargs.get("axis", call.arg(1, "dim", 0))
        p = _param_operand(call)
        x = call.inputs[0]
        if not (
            isinstance(parts, (list, tuple))
            and len(parts) == 2
            and p is not None
            and parts[0] is p
            and len(x) == 2
            and call.layouts[0] == "std"
            and isinstance(dim, int)
            and dim % 3 == 1
            and len(p.shape) == 3
            and p.shape[0] == 1
            and p.shape[2] == x[1]
        ):
            raise UnsupportedError(
                "not a learned token put in front of a token sequence "
                "(torch.cat([token.expand(n, -1, -1), x], dim=1))"
            )
        return cls(int(p.shape[2]), int(p.shape[1]))

    def to_torch(self, tb: Any) -> Any:
        return tb.ClassToken(self.embed_dim, self.tokens)


@register
@dataclass(frozen=True, slots=True)
class PositionEmbedding(NoMatmul, Layer):
    """A learned ``(length, embed_dim)`` embedding added to the tokens: torchvision's
    ``input + self.pos_embedding``. Params ``length · embed_dim`` (counted once); one add
    per element; nothing saved (the gradient of a sum is the output's gradient); each token
    sees what it saw.

    >>> PositionEmbedding(197, 768).flops(((197, 768),), (197, 768))
    151296
    """

    length: Any
    embed_dim: Any

    grad_shared: ClassVar[bool] = True

    count_fvcore = fvcore_unhandled("add")
    count_ptflops_hook = ptflops_no_hook("the + of a parameter in forward (not a module)")
    count_ptflops_functional = ptflops_no_patch("the + operator")
    count_thop = thop_no_hook("the + of a parameter (not a module)")
    count_torchinfo = _TORCHINFO_NOT_WEIGHT

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tokens.PositionEmbedding",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.add",
        "Tensor.__radd__",
        "torch.add",
    )
    torch_named_after_parameter: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_int(self.kind, "length", self.length, 1)
        _check_int(self.kind, "embed_dim", self.embed_dim, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(5, 6), ((5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = _tokens(self.kind, ins)
        if _eq_known_false(s[0], self.length) or _eq_known_false(s[1], self.embed_dim):
            raise ShapeError(
                f"PositionEmbedding is {self.length}x{self.embed_dim} but the tokens are {_fmt(s)}"
            )
        return s

    def params(self, ins: Shapes) -> Num:
        return self.length * self.embed_dim

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            _, n, c = m.pos_embedding.shape
            return cls(int(n), int(c))
        p = _param_operand(call)
        x = call.inputs[0]
        if not (
            len(call.inputs) == 1
            and call.layouts[0] == "std"
            and len(x) == 2
            and p is not None
            and tuple(p.shape) == (1, *x)
            and call.arg(2, "alpha", 1) == 1
        ):
            raise UnsupportedError(
                "not a learned (1, L, C) embedding added to a token sequence (L, C)"
            )
        return cls(int(x[0]), int(x[1]))

    def to_torch(self, tb: Any) -> Any:
        return tb.PositionEmbedding(self.length, self.embed_dim)


@register
@dataclass(frozen=True, slots=True)
class SelectToken(Parameterless, Layer):
    """Token ``index`` of the sequence as a vector of its ``C`` channels: ``x[:, 0]`` (the
    class token). A view: no FLOPs, nothing saved; its units see what that token sees.

    >>> SelectToken().out_shape(((197, 768),))
    (768,)
    """

    index: Any = 0

    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("select")
    count_ptflops_hook = counts_zero("an index is not a module: no ptflops hook")
    count_ptflops_functional = ptflops_no_patch("Tensor.__getitem__ / Tensor.select")
    count_thop = thop_no_hook("an index (not a module)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tokens.SelectToken",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.__getitem__",
        "Tensor.select",
        "torch.select",
    )

    def __post_init__(self) -> None:
        _check_int(self.kind, "index", self.index, 0)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(1), ((5, 6),)

    def out_shape(self, ins: Shapes) -> Shape:
        n, c = _tokens(self.kind, ins)
        if isinstance(n, int) and isinstance(self.index, int) and self.index >= n:
            raise ShapeError(f"SelectToken.index = {self.index} but there are {n} tokens")
        return (c,)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _SAME_GRID

    def rf_note(self, geom: Any) -> str | None:
        return f"every unit is a channel of token {self.index}: the field is that token's"

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(int(call.module.index))
        x = call.inputs[0]
        if "getitem" in call.op:
            idx = call.arg(1, "indices")
            ok = (
                isinstance(idx, tuple)
                and len(idx) == 2
                and idx[0] == slice(None)
                and isinstance(idx[1], int)
                and not isinstance(idx[1], bool)
            )
            i = idx[1] if ok else None
        else:
            ok = call.arg(1, "dim") in (1, -2)
            i = call.arg(2, "index")
        if not (ok and call.layouts[0] == "std" and len(x) == 2 and isinstance(i, int)):
            raise UnsupportedError("not one token x[:, i] of a token sequence (N, L, C)")
        return cls(i % int(x[0]))

    def to_torch(self, tb: Any) -> Any:
        return tb.SelectToken(self.index)
