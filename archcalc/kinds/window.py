"""Windowed attention: Swin's (shifted) window attention, v1 and v2, Swin's patch merging,
and MaxViT's block and grid attention layers.

Each is one leaf kind on a ``(C, H, W)`` map (torchvision holds Swin's maps channels-last,
``(N, H, W, C)``; MaxViT's ``(N, C, H, W)``), so that its cost is counted exactly and its
receptive field stays the map's two axes. A window partition makes the field
*position-dependent*: output unit ``j`` sees the members of its window, whose first unit
depends on ``j mod window``. Per axis the step is a :class:`Windows`; the engine
(:mod:`archcalc.engine.receptive`) tracks such fields exactly per phase.

Notation per sample: input ``(C, H, W)``; window ``wh × ww``, ``N = wh·ww`` tokens per
window; ``Hp, Wp`` the map padded up to multiples of the window (torchvision pads the
bottom and right with zeros); ``L = Hp·Wp`` the padded tokens; ``h`` heads of ``C/h``
channels; ``T = (2wh − 1)(2ww − 1)`` relative positions.

>>> from archcalc.kinds import ShiftedWindowAttention
>>> a = ShiftedWindowAttention(96, 3, (7, 7), (3, 3))
>>> a.params(((96, 56, 56),))   # 4·96² + 4·96 + 13·13·3 = 36864 + 384 + 507
37755
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, ceildiv, is_symbolic
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _fmt,
    _pair,
    invalid,
    register,
)
from ._rules import MatmulCounts, counts, counts_zero

__all__ = [
    "Windows",
    "ShiftedWindowAttention",
    "ShiftedWindowAttentionV2",
    "PatchMerging",
    "PatchMergingV2",
    "PartitionAttention",
    "TimmSwinBlock",
    "TimmSwinV2Block",
    "TimmSwinV2CrBlock",
]


# ---------------------------------------------------------------- the receptive-field step


@dataclass(frozen=True, slots=True)
class Windows:
    """The receptive-field step of a window partition along one axis of ``length`` units.

    Windows (``grid`` False): the units fall into windows of ``size`` consecutive units whose
    boundaries lie at the positions ``≡ shift (mod size)`` — Swin's shifted windows with its
    mask are contiguous in the map's own coordinates; unit ``j`` reads units
    ``base(j) … base(j) + size − 1`` with ``base(j) = j − ((j − shift) mod size)``.

    Grid (``grid`` True, MaxViT's grid attention): the axis is cut into ``size`` blocks of
    ``q = length / size`` units and unit ``j`` reads the units of the same position in every
    block, ``(j mod q) + t·q`` for ``t < size`` (a dilated window with holes).

    Units outside ``0 … length − 1`` (the zero padding up to a multiple of the window) carry
    no input. Works on ints and on numpy integer arrays alike.
    """

    size: int
    shift: int = 0
    length: int = 0
    grid: bool = False

    @property
    def taps(self) -> int:
        """Units one output unit reads."""
        return self.size

    @property
    def dilation(self) -> int:
        """Spacing of the units one output unit reads."""
        return self.length // self.size if self.grid else 1

    @property
    def period(self) -> int:
        """``base(j + period) = base(j) + period`` (the pattern repeats)."""
        return self.length if self.grid else self.size

    def base(self, j: Any) -> Any:
        """The first unit output unit ``j`` reads (below 0 for a shifted window's first)."""
        if self.grid:
            q = self.length // self.size
            return j - j % self.length + j % q
        return j - (j - self.shift) % self.size


def _window_axes(window: tuple[Any, Any], shift: tuple[Any, Any], hw: tuple[Any, Any]) -> Any:
    """The two axes' :class:`Windows` of a (shifted) window attention on an ``H × W`` map."""
    return tuple(
        Windows(w, s, n) for w, s, n in zip(window, _effective_shift(window, shift, hw), hw)
    )


def _padded(n: Any, w: Any) -> Any:
    return ceildiv(n, w) * w


def _effective_shift(
    window: tuple[Any, Any], shift: tuple[Any, Any], hw: tuple[Any, Any]
) -> tuple[Any, Any]:
    """torchvision's shifted_window_attention: no shift on an axis whose padded length the
    window covers (``window >= pad``)."""
    out = []
    for w, s, n in zip(window, shift, hw):
        if is_symbolic(n) or is_symbolic(w):
            out.append(s)
        else:
            out.append(0 if w >= _padded(n, w) else s)
    return out[0], out[1]


def _layout_ok(call: TorchCall, layout: str) -> bool:
    """Input 0 is a map in ``layout`` — or in archcalc's own ``(N, C, H, W)`` when the module
    is archcalc's build of the kind (archcalc/torch/windows.py: the same module on NCHW)."""
    if not call.inputs or len(call.inputs[0]) != 3:
        return False
    own = call.module is not None and type(call.module).__module__ == "archcalc.torch.windows"
    return call.layouts[0] == ("std" if own else layout)


def _map(kind: str, ins: Shapes, dim: Any) -> Shape:
    s = ins[0]
    if len(s) != 3:
        raise ShapeError(f"{kind} needs a (C, H, W) map, got shape {_fmt(s)}")
    if _eq_known_false(s[0], dim):
        raise ShapeError(f"{kind}.dim = {dim} but the map has {s[0]} channels")
    return s


# ---------------------------------------------------------------- Swin's window attention


class _WindowCounts(MatmulCounts):
    """Counts shared by torchvision's two Swin attentions (everything per padded token)."""

    __slots__ = ()

    count_fvcore = counts(
        "qkv and proj MACs (fvcore linear_flop_jit on the two F.linear calls) and QKᵀ, AV "
        "(matmul_flop_jit: 2·L·N·C); pad, roll, the bias gather, the mask, softmax and "
        "v2's normalize/logit scale have no handle; v2 adds its cpb_mlp linears once per "
        "forward (T·512·(2 + h))",
        lambda s, i, o, b: b * s._attn_macs(i) + s._cpb_macs(),
        short="N·(4LC² + 2LNC) (+ T·512·(2+h) v2)",
    )
    count_flopcounter = counts(
        "2·MACs of qkv, proj (addmm/mm) and of QKᵀ, AV (bmm), bias ignored; v2's cpb_mlp "
        "once per forward (flop_counter mm/addmm)",
        lambda s, i, o, b: 2 * (b * s._attn_macs(i) + s._cpb_macs()),
        short="2N·(4LC² + 2LNC) (+ 2T·512·(2+h) v2)",
    )
    count_torchvision = counts(
        "MACs of qkv, proj, QKᵀ and AV, no bias (torchvision weights meta '_ops'), v2's "
        "cpb_mlp once",
        lambda s, i, o, b: b * s._attn_macs(i) + s._cpb_macs(),
        short="N·(4LC² + 2LNC) (+ T·512·(2+h) v2)",
    )
    count_ptflops_hook = counts(
        "the module's type is not in ptflops' MODULES_MAPPING and its qkv/proj children are "
        "never called (F.linear on their weights): 0; v2's cpb_mlp runs its nn.Linear and "
        "nn.ReLU modules once per forward on T rows (linear_flops_counter_hook: (in·out + "
        "bias)·rows = T·3·512 and T·512·h; relu_flops_counter_hook: T·512), later divided "
        "by the batch",
        lambda s, i, o, b: s._cpb_ptflops(),
        short="0 (v2: T·512·(4+h))",
    )
    count_ptflops_functional = counts(
        "the patched Tensor.matmul (prod(input.shape)·last dim: L·N·C for attn.matmul(v), and "
        "for q.matmul(kᵀ) in v1; v2 writes `@`, an operator, not patched) and F.softmax "
        "(h·L·N scores); v2's nn.ReLU calls the patched F.relu (T·512, once per forward); "
        "F.linear's patch is commented out in ptflops 0.7.5; pad, roll, F.normalize and the "
        "operators +, *, @ are not patched",
        lambda s, i, o, b: s._ptflops_functional(i, b),
        short="N·(2LNC + hLN) (v2: N·(LNC + hLN) + 512T)",
    )
    count_thop = counts(
        "thop has no hook for the module: dfs_count adds its children; qkv and proj are "
        "never called (0); v2's cpb_mlp Linears once per forward (count_linear: "
        "in_features × output numel: T·2·512 + T·512·h; nn.ReLU zero_ops)",
        lambda s, i, o, b: s._cpb_macs(),
        short="0 (v2: T·512·(2+h))",
    )
    count_torchinfo = counts(
        "the leaves that ran: qkv and proj never run as modules (0); v2's cpb_mlp Linears "
        "(weight + bias numel) × output_size[0] = 1 (torchinfo LayerInfo.calculate_macs)",
        lambda s, i, o, b: s._cpb_params(),
        short="0 (v2: 1536 + 512h)",
    )

    def _cpb_macs(self) -> Any:
        return 0

    def _ptflops_functional(self, ins: Shapes, b: Any) -> Any:
        return b * self._scores(ins) * (2 * self.dim + self.num_heads)  # type: ignore[attr-defined]

    def _cpb_ptflops(self) -> Any:
        return 0

    def _cpb_params(self) -> Any:
        return 0


@dataclass(frozen=True, slots=True)
class _SwinAttention(_WindowCounts, Layer):
    dim: Any
    num_heads: Any
    window_size: Any = 7
    shift_size: Any = 0
    qkv_bias: bool = True
    proj_bias: bool = True

    weighted: ClassVar[bool] = True

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "dim", self.dim, 1)
        _check_int(k, "num_heads", self.num_heads, 1)
        object.__setattr__(self, "window_size", _pair(k, "window_size", self.window_size))
        object.__setattr__(self, "shift_size", _pair(k, "shift_size", self.shift_size, 0))
        e, h = self.dim, self.num_heads
        if not (is_symbolic(e) or is_symbolic(h)) and e % h:
            raise invalid(k, "dim", e, f"must be divisible by num_heads (={h})")
        for w, s in zip(self.window_size, self.shift_size):
            if not (is_symbolic(w) or is_symbolic(s)) and s >= w:
                raise invalid(k, "shift_size", self.shift_size, "must be below window_size")

    # -------------------------------------------------------- sizes
    def _sizes(self, ins: Shapes) -> tuple[Any, Any, Any]:
        """Padded tokens L, tokens per window N, channels C."""
        c, h, w = _map(self.kind, ins, self.dim)
        wh, ww = self.window_size
        return _padded(h, wh) * _padded(w, ww), wh * ww, c

    def _scores(self, ins: Shapes) -> Any:
        """Attention scores per head over all windows: nW·N² = L·N."""
        n, win, _ = self._sizes(ins)
        return n * win

    def _attn_macs(self, ins: Shapes) -> Any:
        n, win, c = self._sizes(ins)
        return 4 * n * c * c + 2 * n * win * c

    def _table(self) -> Any:
        wh, ww = self.window_size
        return (2 * wh - 1) * (2 * ww - 1)

    def _shifted(self, ins: Shapes) -> bool:
        _, h, w = ins[0]
        return any(
            not is_symbolic(s) and s > 0
            for s in _effective_shift(self.window_size, self.shift_size, (h, w))
        )

    # -------------------------------------------------------- quantities
    def out_shape(self, ins: Shapes) -> Shape:
        return _map(self.kind, ins, self.dim)

    def buffers(self, ins: Shapes) -> Num:
        wh, ww = self.window_size
        return (wh * ww) ** 2  # relative_position_index, one per pair of window tokens

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return self._attn_macs(ins) + self._cpb_macs()

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        _, h, w = ins[0]
        return _window_axes(self.window_size, self.shift_size, (h, w))

    @classmethod
    def _read(cls, call: TorchCall) -> dict[str, Any]:
        m = call.module
        x, layout = call.inputs[0] if call.inputs else (), call.layouts[0] if call.inputs else ""
        if not _layout_ok(call, "nhwc"):
            raise UnsupportedError(
                f"{cls.__name__} on a tensor of per-sample shape {x} ({layout}); torchvision's "
                f"Swin attention runs on channels-last maps (N, H, W, C)"
            )
        why = [
            what
            for what, bad in (
                ("attention dropout", m.attention_dropout != 0),
                ("dropout", m.dropout != 0),
            )
            if bad
        ]
        if why:
            raise UnsupportedError(f"{cls.__name__} with {', '.join(why)}")
        return dict(
            dim=int(m.qkv.in_features),
            num_heads=int(m.num_heads),
            window_size=tuple(int(v) for v in m.window_size),
            shift_size=tuple(int(v) for v in m.shift_size),
            qkv_bias=m.qkv.bias is not None,
            proj_bias=m.proj.bias is not None,
        )


@register
@dataclass(frozen=True, slots=True)
class ShiftedWindowAttention(_SwinAttention):
    """Swin's window attention with relative position bias,
    ``torchvision.models.swin_transformer.ShiftedWindowAttention(dim, window_size,
    shift_size, num_heads)`` on a channels-last map: pad to multiples of the window, roll by
    ``−shift``, partition into windows of ``N`` tokens, ``qkv = Linear(C, 3C)``, scaled
    ``q·kᵀ`` per head plus the bias gathered from a ``T × h`` table, the shift mask (−100
    between tokens of different regions), softmax, ``@ v``, ``proj = Linear(C, C)``, the
    reverse partition and roll, and the unpad. torchvision drops the shift on an axis whose
    padded length the window covers.

    Params ``4C² + 3C + C`` (qkv and proj with biases) ``+ T·h`` (the bias table);
    buffers ``N²`` (``relative_position_index``). MACs ``4·L·C² + 2·L·N·C`` (the
    projections of every padded token; ``q·kᵀ`` and ``attn·v`` of ``nW`` windows of ``N``
    tokens: ``L·N·C`` each). FLOPs under archcalc's convention: ``2·MACs`` plus the biases
    (``3LC + LC``), the scaling of q (``LC``), the bias add (``h·L·N``), the mask add
    (``h·L·N`` when shifted) and the softmax (5 per score: ``5·h·L·N``).

    Saved for backward (measured with ``saved_tensors_hooks``, CPU): the windowed input of
    qkv (``L·C``), the scaled q, k and v as matmul's contiguous copies (``L·C`` each), the
    attention weights (``h·L·N``), proj's input (``L·C``), and the index buffer of the
    bias gather.

    Receptive field: output unit ``j`` (per axis) sees the units of its window; with the
    mask, the shifted windows are contiguous in the map's coordinates, their boundaries at
    positions ``≡ shift (mod window)`` (:class:`Windows`).
    """

    def params(self, ins: Shapes) -> Num:
        c = self.dim
        bias = (3 * c if self.qkv_bias else 0) + (c if self.proj_bias else 0)
        return 4 * c * c + bias + self._table() * self.num_heads

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, win, c = self._sizes(ins)
        h, scores = self.num_heads, self._scores(ins)
        bias = (3 * n * c if self.qkv_bias else 0) + (n * c if self.proj_bias else 0)
        mask = h * scores if self._shifted(ins) else 0
        return 2 * self._attn_macs(ins) + bias + n * c + h * scores + mask + 5 * h * scores

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c = self._sizes(ins)
        return (
            Extra(batch * n * c, None, "windowed input (qkv input)"),
            Extra(3 * batch * n * c, None, "scaled q, k and v (matmul's contiguous copies)"),
            Extra(batch * self.num_heads * n * win, None, "attention weights"),
            Extra(batch * n * c, None, "attention output (proj input)"),
            Extra(win * win, 8, "relative_position_index (the bias gather)", buffer=True),
        )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2, (3, 3), (1, 1)), ((8, 5, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torchvision.models.swin_transformer.ShiftedWindowAttention",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls(**cls._read(call))

    def to_torch(self, tb: Any) -> Any:
        return tb.swin_attention(self, v2=False)


@register
@dataclass(frozen=True, slots=True)
class ShiftedWindowAttentionV2(_SwinAttention):
    """Swin v2's window attention,
    ``torchvision.models.swin_transformer.ShiftedWindowAttentionV2``: as
    :class:`ShiftedWindowAttention` but cosine attention (``normalize(q)·normalize(k)ᵀ``
    times ``exp(clamp(logit_scale))`` per head) and a continuous position bias: a
    ``cpb_mlp`` (``Linear(2, 512)``, ReLU, ``Linear(512, h, bias=False)``) applied to the
    constant ``T × 2`` table of log-spaced relative coordinates, gathered and squashed
    (``16·sigmoid``).

    Params ``4C² + 4C`` (qkv and proj; torchvision zeroes k's bias in forward but keeps it
    a parameter) ``+ h`` (logit_scale) ``+ 2·512 + 512 + 512·h`` (cpb_mlp); buffers
    ``2T`` (relative_coords_table) ``+ N²`` (relative_position_index). MACs
    ``4·L·C² + 2·L·N·C`` per sample plus the cpb_mlp's ``T·512·(2 + h)``, which torch runs
    once per forward whatever the batch (archcalc's per-sample figure carries it once per
    sample; the foreign counts carry it once). FLOPs under archcalc's convention: ``2·MACs``
    plus the biases (``3LC + LC``), the cpb_mlp's first bias and ReLU (``512·T`` each), the
    ``16·sigmoid`` of the gathered bias (5 per element: ``5·h·N²``), the normalisation of q
    and k (3 per element: square, sum, divide: ``6LC``), the logit scale, the bias add and
    the mask add when shifted (``h·L·N`` each) and the softmax (``5·h·L·N``).

    Saved for backward (measured with ``saved_tensors_hooks``, CPU): the windowed input
    (``L·C``), qkv's output (``3LC``: F.normalize keeps q and k), the norms of q and k and
    their clamped copies (``4·h·L``), the normalised q and k (``2LC``), the cosine scores
    and the attention weights (``2·h·L·N``), v and proj's input (``L·C`` each); once per
    forward: ``exp(logit_scale)`` (``h``), the cpb_mlp's ReLU output (``512·T``) and the
    sigmoid's output (``h·N²``).
    """

    def params(self, ins: Shapes) -> Num:
        c, h = self.dim, self.num_heads
        bias = (3 * c if self.qkv_bias else 0) + (c if self.proj_bias else 0)
        return 4 * c * c + bias + h + (2 * 512 + 512) + 512 * h

    def buffers(self, ins: Shapes) -> Num:
        wh, ww = self.window_size
        return 2 * self._table() + (wh * ww) ** 2

    def _cpb_macs(self) -> Any:
        return self._table() * 512 * (2 + self.num_heads)

    def _cpb_ptflops(self) -> Any:
        return self._table() * 512 * (4 + self.num_heads)

    def _ptflops_functional(self, ins: Shapes, b: Any) -> Any:
        return b * self._scores(ins) * (self.dim + self.num_heads) + 512 * self._table()

    def _cpb_params(self) -> Any:
        return 2 * 512 + 512 + 512 * self.num_heads

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, win, c = self._sizes(ins)
        h, scores, t = self.num_heads, self._scores(ins), self._table()
        bias = (3 * n * c if self.qkv_bias else 0) + (n * c if self.proj_bias else 0)
        # bias and ReLU of Linear(2, 512); 16·sigmoid (4 + 1) of the gathered h·N² bias
        cpb = 512 * t + 512 * t + 5 * h * win * win
        mask = h * scores if self._shifted(ins) else 0
        return (
            2 * self.macs(ins, out)
            + bias
            + cpb
            + 6 * n * c
            + h * scores  # logit scale
            + h * scores  # bias add
            + mask
            + 5 * h * scores
        )

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c = self._sizes(ins)
        h, t = self.num_heads, self._table()
        return (
            Extra(batch * n * c, None, "windowed input (qkv input)"),
            Extra(3 * batch * n * c, None, "qkv output (q, k: F.normalize inputs)"),
            Extra(4 * batch * h * n, None, "norms of q and k and their clamped, expanded copies"),
            Extra(2 * batch * n * c, None, "normalised q and k (matmul's contiguous copies)"),
            Extra(2 * batch * h * n * win, None, "cosine scores and attention weights"),
            Extra(batch * n * c, None, "v (matmul's contiguous copy)"),
            Extra(batch * n * c, None, "attention output (proj input)"),
            Extra(h, None, "exp of the clamped logit_scale (once per forward)"),
            Extra(512 * t + h * win * win, None, "cpb_mlp's ReLU output and the sigmoid"),
            Extra(2 * t, None, "relative_coords_table (cpb_mlp's input)", buffer=True),
            Extra(win * win, 8, "relative_position_index (the bias gather)", buffer=True),
        )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2, (3, 3), (1, 1)), ((8, 5, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torchvision.models.swin_transformer.ShiftedWindowAttentionV2",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls(**cls._read(call))

    def to_torch(self, tb: Any) -> Any:
        return tb.swin_attention(self, v2=True)


# ---------------------------------------------------------------- Swin's patch merging


@dataclass(frozen=True, slots=True)
class _Merging(MatmulCounts, Layer):
    dim: Any

    weighted: ClassVar[bool] = True
    v2: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_int(self.kind, "dim", self.dim, 1)

    def _m(self, ins: Shapes) -> Any:
        _, h, w = _map(self.kind, ins, self.dim)
        return ceildiv(h, 2) * ceildiv(w, 2)

    def _norm_numel(self, ins: Shapes) -> Any:
        return self._m(ins) * (2 if self.v2 else 4) * self.dim

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _map(self.kind, ins, self.dim)
        return (2 * c, ceildiv(h, 2), ceildiv(w, 2))

    def params(self, ins: Shapes) -> Num:
        c = self.dim
        return 8 * c * c + 2 * (2 if self.v2 else 4) * c

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return self._m(ins) * 8 * self.dim * self.dim

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # the linear (2·MACs, no bias) and the LayerNorm's 8 per element (LayerNorm2d)
        return 2 * self.macs(ins, out) + 8 * self._norm_numel(ins)

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        # output (i, j) is the 2×2 block (2i.., 2j..): a 2×2 stride-2 window (the odd row
        # or column F.pad adds at the end carries no input)
        return ((2, 2, 0), (2, 2, 0))

    count_fvcore = counts(
        "the reduction's MACs (fvcore linear_flop_jit, no bias) and 5·numel of the "
        "LayerNorm (norm_flop_counter); F.pad, the strided slices and cat count 0",
        lambda s, i, o, b: b * (s.macs(i, o) + 5 * s._norm_numel(i)),
        short="N·(8MC² + 5·norm numel)",
    )
    count_ptflops_hook = counts(
        "its nn.LayerNorm child (bn_flops_counter_hook: input numel) and nn.Linear child "
        "(linear_flops_counter_hook: MACs, no bias); the module itself is not hooked",
        lambda s, i, o, b: b * (s.macs(i, o) + s._norm_numel(i)),
        short="N·(8MC² + norm numel)",
    )
    count_ptflops_functional = counts_zero(
        "F.pad, slicing and torch.cat are not patched by ptflops (the norm and linear run "
        "as modules)"
    )
    count_thop = counts(
        "its children: nn.LayerNorm (count_normalization: 2·numel, doubled for affine) "
        "and nn.Linear (count_linear: in_features × output numel)",
        lambda s, i, o, b: b * (s.macs(i, o) + 4 * s._norm_numel(i)),
        short="N·(8MC² + 4·norm numel)",
    )
    count_torchinfo = counts(
        "its leaves: LayerNorm and Linear, (weight + bias numel) × output_size[0] = N each "
        "(torchinfo LayerInfo.calculate_macs)",
        lambda s, i, o, b: b * s.params(i),
        short="N·params",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 5, 6),)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        x, layout = call.inputs[0] if call.inputs else (), call.layouts[0] if call.inputs else ""
        if not _layout_ok(call, "nhwc"):
            raise UnsupportedError(
                f"{cls.__name__} on a tensor of per-sample shape {x} ({layout}); torchvision's "
                f"patch merging runs on channels-last maps (N, H, W, C)"
            )
        norm = m.norm
        if type(norm).__name__ != "LayerNorm" or not norm.elementwise_affine:
            raise UnsupportedError(f"{cls.__name__} with a norm other than an affine LayerNorm")
        dim = int(m.reduction.in_features) // 4
        if m.reduction.out_features != 2 * dim or m.reduction.bias is not None:
            raise UnsupportedError(f"{cls.__name__} to other than 2·dim channels, or with a bias")
        return cls(dim)

    def to_torch(self, tb: Any) -> Any:
        return tb.swin_merging(self, v2=self.v2)


@register
@dataclass(frozen=True, slots=True)
class PatchMerging(_Merging):
    """Swin's downsampling, ``torchvision.models.swin_transformer.PatchMerging(dim)`` on a
    channels-last map: pad H and W to even, gather each 2×2 block's four tokens into
    ``4C`` channels, ``LayerNorm(4C)``, ``Linear(4C, 2C, bias=False)``. Output
    ``(2C, ⌈H/2⌉, ⌈W/2⌉)``; with ``M = ⌈H/2⌉·⌈W/2⌉``: params ``8C² + 8C``, MACs ``8·M·C²``,
    FLOPs ``2·MACs + 8·4MC`` (LayerNorm's 8 per element). Receptive field: a 2×2 window of
    stride 2. Saved for backward: the gathered ``4MC`` (the norm's input), the norm's mean
    and rstd (``M`` each, float32) and its output (``4MC``, the linear's input).
    """

    v2: ClassVar[bool] = False

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torchvision.models.swin_transformer.PatchMerging",
        "timm.models.swin_transformer.PatchMerging",
        "timm.models.swin_transformer_v2_cr.PatchMerging",
    )

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        m, c = self._m(ins), self.dim
        return (
            Extra(batch * 4 * m * c, None, "the gathered 2×2 blocks (norm input)"),
            Extra(2 * batch * m, "acc", "mean and rstd per token"),
            Extra(batch * 4 * m * c, None, "normalised blocks (reduction input)"),
        )


@register
@dataclass(frozen=True, slots=True)
class PatchMergingV2(_Merging):
    """Swin v2's downsampling, ``torchvision.models.swin_transformer.PatchMergingV2(dim)``:
    as :class:`PatchMerging` with the norm after the reduction, ``LayerNorm(2C)``. Params
    ``8C² + 4C``, MACs ``8·M·C²``, FLOPs ``2·MACs + 8·2MC``. Saved: the gathered ``4MC``
    (the reduction's input), the reduction's output ``2MC`` (the norm's input) and the
    norm's mean and rstd (``M`` each, float32).
    """

    v2: ClassVar[bool] = True

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torchvision.models.swin_transformer.PatchMergingV2",
        "timm.models.swin_transformer_v2.PatchMerging",
    )

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        m, c = self._m(ins), self.dim
        return (
            Extra(batch * 4 * m * c, None, "the gathered 2×2 blocks (reduction input)"),
            Extra(batch * 2 * m * c, None, "reduction output (norm input)"),
            Extra(2 * batch * m, "acc", "mean and rstd per token"),
        )


# ---------------------------------------------------------------- MaxViT's partition attention


def _np_einsum_macs(macs: Any) -> Any:
    """fvcore's einsum_flop_jit for an einsum of ``macs`` multiply-accumulates: half of
    ``np.einsum_path``'s "Optimized FLOP count" (``2·macs``), which numpy prints with four
    significant digits (``f"{cost:.3e}"``), floored."""
    if is_symbolic(macs):
        return macs
    return int(float(f"{2 * macs:.3e}") // 2)


@register
@dataclass(frozen=True, slots=True)
class PartitionAttention(MatmulCounts, Layer):
    """MaxViT's block or grid attention with its MLP,
    ``torchvision.models.maxvit.PartitionAttentionLayer(dim, head_dim, partition_size,
    partition_type, grid_size, mlp_ratio, nn.GELU, nn.LayerNorm, 0, 0, p)`` on an
    ``(N, C, H, W)`` map: partition into ``G`` groups of ``N = P²`` tokens (``"window"``:
    ``P × P`` blocks; ``"grid"``: the ``P × P`` tokens at one position of each
    ``H/P × W/P`` block), ``x + attn(LayerNorm(x))`` (``to_qkv = Linear(C, 3C)``, ``h = C /
    head_dim`` heads, k scaled, two einsums, a relative position bias from a
    ``(2P − 1)² × h`` table, softmax, ``merge = Linear(C, C)``), ``x + mlp(x)``
    (``LayerNorm``, ``Linear(C, rC)``, GELU, ``Linear(rC, C)``), and the reverse partition.

    With ``L = H·W`` tokens: params ``(4 + 2r)·C² + (3 + 1 + r + 1)·C`` (the linears) ``+
    4C`` (two LayerNorms) ``+ (2P − 1)²·h``; buffers ``N²`` (relative_position_index).
    MACs ``(4 + 2r)·L·C² + 2·L·N·C``. FLOPs under archcalc's convention: ``2·MACs`` plus the
    biases (``(5 + r)·L·C``), the LayerNorms (8 per element: ``16·L·C``), the scaling of k
    (``L·C``), the bias add (``h·L·N``), the softmax (``5·h·L·N``), GELU (5 per element:
    ``5r·L·C``) and the two residual adds (``2·L·C``).

    Saved for backward (measured with ``saved_tensors_hooks``, CPU): the partitioned input
    and the residual sum (the LayerNorms' inputs), their means and rstds (``4L``, float32),
    the normalised tokens (``to_qkv``'s and the first MLP linear's inputs), q and k and v as
    bmm's contiguous copies, the attention output (``merge``'s input): ``8·L·C``; the
    attention weights ``h·L·N``; GELU's input and output ``2r·L·C``; with stochastic depth
    in training its two masks (``N`` each).

    Receptive field: a unit sees its group (:class:`Windows`; a grid is a dilated window
    spanning the whole axis), so the field is position-dependent.
    """

    dim: Any
    head_dim: Any
    partition_size: Any
    partition_type: str = field(default="window", metadata={"valid": ("window", "grid")})
    mlp_ratio: Any = 4
    stochastic_depth_prob: float = 0.0

    weighted: ClassVar[bool] = True

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "dim", self.dim, 1)
        _check_int(k, "head_dim", self.head_dim, 1)
        _check_int(k, "partition_size", self.partition_size, 1)
        _check_int(k, "mlp_ratio", self.mlp_ratio, 1)
        e, d = self.dim, self.head_dim
        if not (is_symbolic(e) or is_symbolic(d)) and e % d:
            raise invalid(k, "dim", e, f"must be divisible by head_dim (={d})")
        if not 0 <= self.stochastic_depth_prob <= 1:
            raise invalid(
                k, "stochastic_depth_prob", self.stochastic_depth_prob, "must be in [0, 1]"
            )

    @property
    def heads(self) -> Any:
        return self.dim // self.head_dim

    def _sizes(self, ins: Shapes) -> tuple[Any, Any, Any]:
        """Tokens L, tokens per group N, channels C."""
        c, h, w = _map(self.kind, ins, self.dim)
        p = self.partition_size
        for n, axis in ((h, "height"), (w, "width")):
            if not is_symbolic(n) and not is_symbolic(p) and n % p:
                raise ShapeError(
                    f"PartitionAttention: the map's {axis} {n} is not a multiple of "
                    f"partition_size {p} (torchvision asserts it)"
                )
        if self.partition_type == "grid" and _eq_known_false(h, w):
            raise ShapeError(
                f"PartitionAttention: a grid on a {h}x{w} map; torchvision's grid partition "
                f"needs a square map (its partition count comes from the height)"
            )
        return h * w, p * p, c

    def _linear_macs(self, ins: Shapes) -> Any:
        n, _, c = self._sizes(ins)
        return (4 + 2 * self.mlp_ratio) * n * c * c

    def _einsum_macs(self, ins: Shapes) -> Any:
        n, win, c = self._sizes(ins)
        return n * win * c

    def out_shape(self, ins: Shapes) -> Shape:
        self._sizes(ins)
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return self._linear_params() + (2 * self.partition_size - 1) ** 2 * self.heads

    def _linear_params(self) -> Any:
        c, r = self.dim, self.mlp_ratio
        return (4 + 2 * r) * c * c + (3 + 1 + r + 1) * c + 4 * c

    def buffers(self, ins: Shapes) -> Num:
        return self.partition_size**4

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return self._linear_macs(ins) + 2 * self._einsum_macs(ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, win, c = self._sizes(ins)
        r, scores = self.mlp_ratio, self.heads * n * win
        per_token = (5 + r) + 16 + 1 + 5 * r + 2  # biases, norms, k scale, GELU, adds
        return 2 * self.macs(ins, out) + per_token * n * c + 6 * scores

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        _, h, w = ins[0]
        grid = self.partition_type == "grid"
        return tuple(Windows(self.partition_size, 0, n, grid) for n in (h, w))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c = self._sizes(ins)
        items = [
            Extra(2 * batch * n * c, None, "LayerNorm inputs (partitioned input, residual sum)"),
            Extra(4 * batch * n, "acc", "LayerNorm means and rstds"),
            Extra(2 * batch * n * c, None, "normalised tokens (to_qkv, mlp.1 inputs)"),
            Extra(3 * batch * n * c, None, "q, scaled k and v (bmm's contiguous copies)"),
            Extra(batch * n * c, None, "attention output (merge input)"),
            Extra(batch * self.heads * n * win, None, "attention weights"),
            Extra(2 * batch * self.mlp_ratio * n * c, None, "GELU input and output"),
            Extra(win * win, 8, "relative_position_index (the bias gather)", buffer=True),
        ]
        if self.stochastic_depth_prob:
            items.append(Extra(2 * batch, None, "stochastic depth masks (training)"))
        return tuple(items)

    count_fvcore = counts(
        "the four linears' MACs (linear_flop_jit), 5·numel per LayerNorm (norm_flop_counter) "
        "and the two einsums (einsum_flop_jit: half of np.einsum_path's optimized FLOP count "
        "as printed, 4 significant digits); softmax, GELU, the adds and k's scaling have no "
        "handle",
        lambda s, i, o, b: (
            b * (s._linear_macs(i) + 10 * s._sizes(i)[0] * s.dim)
            + 2 * _np_einsum_macs(b * s._einsum_macs(i))
        ),
        short="N·((4+2r)LC² + 10LC) + 2·einsum(N·LNC)",
    )
    count_ptflops_hook = counts(
        "its children: nn.LayerNorm (bn_flops_counter_hook: input numel, twice), nn.Linear "
        "(linear_flops_counter_hook: (in·out + bias)·rows, four), nn.GELU "
        "(relu_flops_counter_hook: output numel); the attention module, dropout and "
        "stochastic depth add nothing",
        lambda s, i, o, b: (
            b * s._sizes(i)[0] * ((4 + 2 * s.mlp_ratio) * s.dim**2 + (7 + 2 * s.mlp_ratio) * s.dim)
        ),
        short="N·(L(4+2r)C² + (7+2r)LC)",
    )
    count_ptflops_functional = counts(
        "the patched F.softmax (h·L·N scores) and F.gelu (nn.GELU's forward: r·L·C); "
        "torch.einsum and F.linear are not patched",
        lambda s, i, o, b: (
            b * (s.heads * s._sizes(i)[0] * s._sizes(i)[1] + s.mlp_ratio * s._sizes(i)[0] * s.dim)
        ),
        short="N·(hLN + rLC)",
    )
    count_thop = counts(
        "its children: nn.Linear (count_linear: in_features × output numel) and nn.LayerNorm "
        "(count_normalization: 4·numel); nn.GELU and nn.Dropout add nothing",
        lambda s, i, o, b: b * (s._linear_macs(i) + 8 * s._sizes(i)[0] * s.dim),
        short="N·((4+2r)LC² + 8LC)",
    )
    count_torchinfo = counts(
        "its leaves: LayerNorms and Linears, (weight + bias numel) × output_size[0] = N "
        "(torchinfo LayerInfo.calculate_macs); the bias table belongs to a non-leaf module",
        lambda s, i, o, b: b * s._linear_params(),
        short="N·(params − table)",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 4, 2, "grid", 2), ((8, 4, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torchvision.models.maxvit.PartitionAttentionLayer",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        x = call.inputs[0] if call.inputs else ()
        if not call.inputs or call.layouts[0] != "std" or len(x) != 3:
            raise UnsupportedError(
                f"PartitionAttention on a tensor of per-sample shape {x}: torchvision's "
                f"PartitionAttentionLayer runs on (N, C, H, W) maps"
            )
        norm, attn, drop = m.attn_layer
        mnorm, fc1, act, fc2, mdrop = m.mlp_layer
        why = [
            what
            for what, bad in (
                ("attention dropout", drop.p != 0),
                ("MLP dropout", mdrop.p != 0),
                ("an activation other than GELU", type(act).__name__ != "GELU"),
                ("tanh GELU", getattr(act, "approximate", "none") != "none"),
                (
                    "norms other than affine LayerNorms",
                    any(
                        type(n).__name__ != "LayerNorm" or not n.elementwise_affine
                        for n in (norm, mnorm)
                    ),
                ),
                ("a grid size other than its input's", tuple(m.grid_size) != tuple(x[1:])),
            )
            if bad
        ]
        if why:
            raise UnsupportedError(f"PartitionAttentionLayer with {', '.join(why)}")
        grid = m.partition_type == "grid"
        return cls(
            int(norm.normalized_shape[0]),
            int(m.head_dim),
            int(m.g if grid else m.p),
            str(m.partition_type),
            int(fc1.out_features // fc1.in_features),
            float(m.stochastic_dropout.p),
        )

    def to_torch(self, tb: Any) -> Any:
        return tb.maxvit_partition(self)


# ---------------------------------------------------------------- timm's Swin block


@register
@dataclass(frozen=True, slots=True)
class TimmSwinBlock(MatmulCounts, Layer):
    """timm's Swin block, ``timm.models.swin_transformer.SwinTransformerBlock`` on a
    channels-last map: ``x + attn(norm1(x))`` (roll by ``−shift``, pad to the window, window
    partition, timm's ``WindowAttention``: ``qkv = Linear(C, 3C)``, relative position bias,
    the shift mask, softmax or ``F.scaled_dot_product_attention`` when ``fused``, ``proj =
    Linear(C, C)``; reverse), then ``x + mlp(norm2(x))`` (``Linear(C, M)``, GELU,
    ``Linear(M, C)``).

    With ``L`` padded tokens, ``N`` per window, ``nW`` windows: params ``4C² + 4C``
    (``3C`` without qkv bias) ``+ 2CM + M + C`` (MLP) ``+ 4C`` (norms) ``+ T·h`` (bias
    table); buffers ``N²`` (relative_position_index) ``+ nW·N²`` (the shift mask, when
    shifted). MACs ``4LC² + 2LNC + 2LCM``. FLOPs under archcalc's convention: ``2·MACs``
    plus the biases (``(5·C + M)·L``), the norms (``16LC``), q's scaling (``LC``), the bias
    and mask adds and the softmax (``7·h·L·N`` shifted, ``6·h·L·N`` not), GELU (``5LM``)
    and the residual adds (``2LC``). Saved for backward (measured): the norms' inputs,
    means and rstds and outputs, q, k, v, the attention output and weights, GELU's input
    and output: ``8LC + 2LM + h·L·N`` and ``4L`` float32 (as :class:`PartitionAttention`).

    timm rolls before it pads: with a shift on a map that the window does not divide, its
    windows are not contiguous in the map; the counts hold, the receptive field is a
    reported gap (``geometry`` raises).
    """

    dim: Any
    num_heads: Any
    window_size: Any = 7
    shift_size: Any = 0
    mlp_hidden: Any = None
    qkv_bias: bool = True
    fused: bool = True
    drop_path: float = 0.0
    #: the MLP's activation is torch's nn.GELU (ptflops hooks that exact type; timm's own
    #: timm.layers.GELU, Swin v2's, it does not)
    gelu_hooked: bool = True

    weighted: ClassVar[bool] = True

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "dim", self.dim, 1)
        _check_int(k, "num_heads", self.num_heads, 1)
        object.__setattr__(self, "window_size", _pair(k, "window_size", self.window_size))
        object.__setattr__(self, "shift_size", _pair(k, "shift_size", self.shift_size, 0))
        if self.mlp_hidden is None:
            object.__setattr__(self, "mlp_hidden", 4 * self.dim)
        _check_int(k, "mlp_hidden", self.mlp_hidden, 1)
        e, h = self.dim, self.num_heads
        if not (is_symbolic(e) or is_symbolic(h)) and e % h:
            raise invalid(k, "dim", e, f"must be divisible by num_heads (={h})")
        if not 0 <= self.drop_path < 1:
            raise invalid(k, "drop_path", self.drop_path, "must be in [0, 1)")

    def _sizes(self, ins: Shapes) -> tuple[Any, Any, Any, Any]:
        """Padded tokens L (the attention's), tokens per window N, channels C, windows nW."""
        c, h, w = _map(self.kind, ins, self.dim)
        wh, ww = self.window_size
        hp, wp = _padded(h, wh), _padded(w, ww)
        return hp * wp, wh * ww, c, (hp // wh) * (wp // ww)

    def _real(self, ins: Shapes) -> Any:
        """The map's own tokens H·W (the norms and the MLP run unpadded)."""
        _, h, w = ins[0]
        return h * w

    def _shifted(self) -> bool:
        return any(is_symbolic(s) or s > 0 for s in self.shift_size)

    def _linear_macs(self, ins: Shapes) -> Any:
        n, _, c, _ = self._sizes(ins)
        return 4 * n * c * c + 2 * self._real(ins) * c * self.mlp_hidden

    def _scores(self, ins: Shapes) -> Any:
        n, win, _, _ = self._sizes(ins)
        return self.num_heads * n * win

    def out_shape(self, ins: Shapes) -> Shape:
        return _map(self.kind, ins, self.dim)

    def params(self, ins: Shapes) -> Num:
        c, m = self.dim, self.mlp_hidden
        wh, ww = self.window_size
        qkv = 3 * c * c + (3 * c if self.qkv_bias else 0)
        return (
            qkv
            + c * c
            + c
            + 2 * c * m
            + m
            + c
            + 4 * c
            + (2 * wh - 1) * (2 * ww - 1) * self.num_heads
        )

    def buffers(self, ins: Shapes) -> Num:
        _, win, _, nw = self._sizes(ins)
        return win * win + (nw * win * win if self._shifted() else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        n, win, c, _ = self._sizes(ins)
        return self._linear_macs(ins) + 2 * n * win * c

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, _, c, _ = self._sizes(ins)
        m, real = self.mlp_hidden, self._real(ins)
        # per padded token: the qkv and proj biases and q's scaling; per map token: the MLP
        # biases, the two norms (8 each per element), GELU (5) and the two residual adds
        attn = (3 * c if self.qkv_bias else 0) + c + c
        mlp = m + c + 16 * c + 5 * m + 2 * c
        shifted = 7 if self._shifted() else 6  # bias add, (mask add), softmax 5 per score
        return 2 * self.macs(ins, out) + attn * n + mlp * real + shifted * self._scores(ins)

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        _, h, w = ins[0]
        for wd, sh, n in zip(self.window_size, self.shift_size, (h, w)):
            if not (is_symbolic(n) or is_symbolic(sh)) and sh and n % wd:
                raise UnsupportedError(
                    f"{self.kind}: a shifted window on a map of {n} units that the window "
                    f"{wd} does not divide: timm rolls before it pads, so its windows are not "
                    f"contiguous in the map; no receptive field is reported past it"
                )
        return tuple(
            Windows(wd, sh, n) for wd, sh, n in zip(self.window_size, self.shift_size, (h, w))
        )

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c, _ = self._sizes(ins)
        real = self._real(ins)
        items = [
            Extra(3 * batch * real * c, None, "norm1 input, norm2 input and output"),
            Extra(5 * batch * n * c, None, "windowed qkv input, q, k, v, attention output"),
            Extra(4 * batch * real, "acc", "LayerNorm means and rstds"),
            Extra(batch * self._scores(ins), None, "attention weights"),
            Extra(2 * batch * real * self.mlp_hidden, None, "GELU input and output"),
            Extra(win * win, 8, "relative_position_index (the bias gather)", buffer=True),
        ]
        if self.drop_path:
            items.append(Extra(2 * batch, None, "drop-path masks (training)"))
        return tuple(items)

    def _linears_hooked(self, ins: Shapes) -> Any:
        """ptflops' linear hooks, (in·out + bias)·rows: qkv and proj on the padded windows,
        the MLP on the map."""
        n, _, c, _ = self._sizes(ins)
        m, real = self.mlp_hidden, self._real(ins)
        qkv = 3 * c * c + (3 * c if self.qkv_bias else 0)
        return n * (qkv + c * c + c) + real * (2 * c * m + m + c)

    def _ptflops_hook(self, ins: Shapes, b: Any) -> Any:
        gelu = self.mlp_hidden if self.gelu_hooked else 0
        return b * (self._linears_hooked(ins) + self._real(ins) * (2 * self.dim + gelu))

    def _thop_softmax(self, ins: Shapes) -> Any:
        """thop count_softmax: (3N − 1) per row of N scores."""
        _, win, _, _ = self._sizes(ins)
        return self._scores(ins) // win * (3 * win - 1)

    def _torchinfo(self, ins: Shapes) -> Any:
        _, _, c, nw = self._sizes(ins)
        m = self.mlp_hidden
        attn = 4 * c * c + (3 * c if self.qkv_bias else 0) + c
        return nw * attn + 2 * c * m + m + c + 4 * c

    count_fvcore = counts(
        "the four linears' MACs (linear_flop_jit) and 5·numel per LayerNorm; q·kᵀ and attn·v "
        "(matmul_flop_jit, 2·L·N·C) unfused only: aten::scaled_dot_product_attention has no "
        "handle",
        lambda s, i, o, b: (
            b
            * (
                s._linear_macs(i)
                + 10 * s._real(i) * s.dim
                + (0 if s.fused else 2 * s._scores(i) // s.num_heads * s.dim)
            )
        ),
        short="N·(4LC² + 2LCM + 10LC) (+ N·2LNC unfused)",
    )
    count_flopcounter = counts(
        "2·MACs of every mm/addmm/bmm (flop_counter), q·kᵀ and attn·v included when fused "
        "too: with grad enabled (the tools' usual call) scaled_dot_product_attention with "
        "the bias table's gradient-requiring attn_mask runs its math path (bmm); under "
        "torch.no_grad the CPU flash kernel runs, which has no flop formula (then 0 for it)",
        lambda s, i, o, b: 2 * b * s.macs(i, o),
        short="2N·MACs (grad enabled)",
    )
    count_ptflops_hook = counts(
        "its children: nn.LayerNorm (bn_flops_counter_hook: input numel), nn.Linear "
        "(linear_flops_counter_hook: (in·out + bias)·rows), nn.GELU (relu_flops_counter_hook: "
        "output numel); WindowAttention, nn.Softmax and the dropouts add nothing",
        lambda s, i, o, b: s._ptflops_hook(i, b),
        short="N·(linears (in·out + bias)·rows + L·(2C + M))",
    )
    count_ptflops_functional = counts(
        "the patched F.gelu (nn.GELU's forward: L·M) and, unfused, F.softmax (nn.Softmax's "
        "forward: h·L·N); scaled_dot_product_attention, `@` and F.pad are not patched",
        lambda s, i, o, b: b * (s._real(i) * s.mlp_hidden + (0 if s.fused else s._scores(i))),
        short="N·(LM + [unfused] hLN)",
    )
    count_thop = counts(
        "its children: nn.Linear (count_linear: in_features × output numel), nn.LayerNorm "
        "(count_normalization: 4·numel) and, unfused, nn.Softmax (count_softmax: (3N − 1) per "
        "row of N scores)",
        lambda s, i, o, b: (
            b
            * (s._linear_macs(i) + 8 * s._real(i) * s.dim + (0 if s.fused else s._thop_softmax(i)))
        ),
        short="N·(4LC² + 2LCM + 8LC) (+ softmax unfused)",
    )
    count_torchinfo = counts(
        "its leaves, (weight + bias numel) × output_size[0] (torchinfo calculate_macs): qkv "
        "and proj on the windows (N·nW rows), norms and the MLP on the map (N)",
        lambda s, i, o, b: b * s._torchinfo(i),
        short="N·(nW·(qkv + proj) + MLP + norms params)",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        # written out: the fused form's FlopCounterMode count depends on the grad mode
        return cls(8, 2, 2, 1, 16, fused=False), ((8, 4, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "timm.models.swin_transformer.SwinTransformerBlock",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls(**_timm_swin_read(call, "SwinTransformerBlock", v2=False))

    def to_torch(self, tb: Any) -> Any:
        return tb.timm_swin_block(self, v2=False)


def _timm_swin_read(call: TorchCall, name: str, v2: bool) -> dict[str, Any]:
    """The fields of a timm Swin block (v1 or v2) call; UnsupportedError naming what is not
    modelled."""
    m = call.module
    x = call.inputs[0] if call.inputs else ()
    if not _layout_ok(call, "nhwc"):
        raise UnsupportedError(
            f"timm's {name} on a tensor of per-sample shape {x}: it runs on channels-last "
            f"maps (N, H, W, C)"
        )
    a, mlp = m.attn, m.mlp
    c = int(a.qkv.in_features)
    wh, ww = (int(v) for v in m.window_size)
    shift = tuple(int(v) for v in m.shift_size)
    why = [
        what
        for what, bad in (
            ("attention or projection dropout", a.attn_drop.p != 0 or a.proj_drop.p != 0),
            ("a head dimension other than dim / num_heads", a.qkv.out_features != 3 * c),
            ("separate qkv biases", getattr(a, "qkv_bias_separate", False)),
            ("an activation other than GELU", type(mlp.act).__name__ != "GELU"),
            (
                "an MLP norm or dropout",
                type(mlp.norm).__name__ != "Identity" or mlp.drop1.p or mlp.drop2.p,
            ),
            ("a dynamic mask", getattr(m, "dynamic_mask", False)),
        )
        if bad
    ]
    if why:
        raise UnsupportedError(f"timm's {name} with {', '.join(why)}")
    dp = getattr(m.drop_path1, "drop_prob", 0.0)
    return dict(
        dim=c,
        num_heads=int(a.num_heads),
        window_size=(wh, ww),
        shift_size=shift,
        mlp_hidden=int(mlp.fc1.out_features),
        qkv_bias=(a.q_bias is not None) if v2 else (a.qkv.bias is not None),
        fused=False if v2 else bool(getattr(a, "fused_attn", False)),
        drop_path=float(dp or 0.0),
        gelu_hooked=type(mlp.act) is _torch_gelu(mlp.act),
    )


def _torch_gelu(act: Any) -> Any:
    """torch's nn.GELU class, found in the MRO of ``act`` (kinds never import torch)."""
    for cls in type(act).__mro__:
        if cls.__name__ == "GELU" and cls.__module__.startswith("torch.nn"):
            return cls
    return None


@register
@dataclass(frozen=True, slots=True)
class TimmSwinV2Block(TimmSwinBlock):
    """timm's Swin v2 block, ``timm.models.swin_transformer_v2.SwinTransformerV2Block``:
    ``x + norm1(attn(x))``, ``x + norm2(mlp(x))`` (post-norm), the attention cosine with a
    per-head logit scale and a continuous position bias (``cpb_mlp``: ``Linear(2, 512)``,
    ReLU, ``Linear(512, h)`` on the constant ``T × 2`` table, once per forward), qkv by
    ``F.linear`` with the concatenated ``(q_bias, k_bias = 0, v_bias)``.

    Params ``3C² + 2C`` (qkv weight, q and v biases) ``+ C² + C`` (proj) ``+ h`` (logit
    scale) ``+ 1536 + 512h`` (cpb_mlp) ``+ 2CM + M + C`` (MLP) ``+ 4C`` (norms); buffers
    ``C`` (k_bias) ``+ 2T + N²`` (+ the shift mask ``nW·N²``). MACs ``4·Lp·C² + 2·Lp·N·C +
    2·L·C·M + T·512·(2 + h)`` (the cpb once per forward; per sample in archcalc's figure).
    FLOPs under archcalc's convention as :class:`TimmSwinBlock` with the cosine attention's
    normalisation (``6·Lp·C``), logit scale (``h·Lp·N``) and the cpb's biases, ReLU and
    ``16·sigmoid`` (``1024·T + 5·h·N²``) in place of q's scaling. Saved for backward
    (measured): per sample ``8·Lp·C`` (windowed input, qkv output, normalised q and k, v,
    proj's input), ``4·h·Lp`` (norms of q and k), ``2·h·Lp·N`` (cosine scores, weights),
    ``3·L·C + 2·L·M`` (norm1's input, the residual sum, norm2's input, GELU's input and
    output) and ``4L`` float32; once per forward ``h + 512·T + h·N²``.
    """

    qkv_bias: bool = True
    fused: bool = False
    gelu_hooked: bool = False

    def _cpb(self) -> Any:
        wh, ww = self.window_size
        return (2 * wh - 1) * (2 * ww - 1)

    def params(self, ins: Shapes) -> Num:
        c, m, h = self.dim, self.mlp_hidden, self.num_heads
        qkv = 3 * c * c + (2 * c if self.qkv_bias else 0)
        return qkv + c * c + c + h + 1536 + 512 * h + 2 * c * m + m + c + 4 * c

    def buffers(self, ins: Shapes) -> Num:
        _, win, _, nw = self._sizes(ins)
        mask = nw * win * win if self._shifted() else 0
        return (self.dim if self.qkv_bias else 0) + 2 * self._cpb() + win * win + mask

    def _cpb_macs(self) -> Any:
        return self._cpb() * 512 * (2 + self.num_heads)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return TimmSwinBlock.macs(self, ins, out) + self._cpb_macs()

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, win, c, _ = self._sizes(ins)
        m, real, h = self.mlp_hidden, self._real(ins), self.num_heads
        attn = (3 * c if self.qkv_bias else 0) + c + 6 * c  # biases, q/k normalisation
        mlp = m + c + 16 * c + 5 * m + 2 * c
        cpb = 1024 * self._cpb() + 5 * h * win * win
        shifted = 8 if self._shifted() else 7  # logit scale, bias add, (mask), softmax 5
        return 2 * self.macs(ins, out) + attn * n + mlp * real + cpb + shifted * self._scores(ins)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c, _ = self._sizes(ins)
        real, h = self._real(ins), self.num_heads
        items = [
            Extra(
                8 * batch * n * c,
                None,
                "windowed input, qkv output, normalised q, k, v, proj input",
            ),
            Extra(4 * batch * h * n, None, "norms of q and k and their clamped copies"),
            Extra(2 * batch * self._scores(ins), None, "cosine scores and attention weights"),
            Extra(3 * batch * real * c, None, "norm1 input, residual sum, norm2 input"),
            Extra(2 * batch * real * self.mlp_hidden, None, "GELU input and output"),
            Extra(4 * batch * real, "acc", "LayerNorm means and rstds"),
            Extra(h + 512 * self._cpb() + h * win * win, None, "logit scale, cpb ReLU, sigmoid"),
            Extra(2 * self._cpb(), None, "relative_coords_table (cpb_mlp's input)", buffer=True),
            Extra(win * win, 8, "relative_position_index (the bias gather)", buffer=True),
        ]
        if self.drop_path:
            items.append(Extra(2 * batch, None, "drop-path masks (training)"))
        return tuple(items)

    def _ptflops_hook(self, ins: Shapes, b: Any) -> Any:
        n, _, c, _ = self._sizes(ins)
        m, real = self.mlp_hidden, self._real(ins)
        gelu = m if self.gelu_hooked else 0
        per_sample = (c * c + c) * n + (2 * c * m + m + c) * real + real * (2 * c + gelu)
        return b * per_sample + self._cpb() * 512 * (4 + self.num_heads)

    count_fvcore = counts(
        "proj, the MLP and the cpb_mlp (once per forward) linears and F.linear's qkv "
        "(linear_flop_jit), q·kᵀ and attn·v (matmul_flop_jit), 5·numel per LayerNorm",
        lambda s, i, o, b: (
            b
            * (
                s._linear_macs(i)
                + 2 * s._scores(i) // s.num_heads * s.dim
                + 10 * s._real(i) * s.dim
            )
            + s._cpb_macs()
        ),
        short="N·(4LpC² + 2LCM + 2LpNC + 10LC) + T·512·(2+h)",
    )
    count_flopcounter = counts(
        "2·MACs of every mm/addmm/bmm (flop_counter), the cpb_mlp once per forward",
        lambda s, i, o, b: 2 * (b * TimmSwinBlock.macs(s, i, o) + s._cpb_macs()),
        short="2·(N·MACs + T·512·(2+h))",
    )
    count_torchvision = counts(
        "MACs, no bias (torchvision weights meta '_ops'), the cpb_mlp once",
        lambda s, i, o, b: b * TimmSwinBlock.macs(s, i, o) + s._cpb_macs(),
        short="N·MACs + T·512·(2+h)",
    )
    count_ptflops_hook = counts(
        "its called children: proj, fc1, fc2, the cpb_mlp's Linears "
        "(linear_flops_counter_hook: (in·out + bias)·rows; qkv runs as F.linear: 0), "
        "nn.LayerNorm (input numel), the cpb's nn.ReLU (relu hook); timm's GELU is not hooked",
        lambda s, i, o, b: s._ptflops_hook(i, b),
        short="N·(proj, MLP, norms) + T·512·(4+h)",
    )
    count_ptflops_functional = counts(
        "the patched F.relu (the cpb's nn.ReLU: 512·T, once), F.gelu (timm's GELU: L·M) and "
        "F.softmax (nn.Softmax: h·Lp·N); `@`, F.normalize and F.linear are not patched",
        lambda s, i, o, b: 512 * s._cpb() + b * (s._real(i) * s.mlp_hidden + s._scores(i)),
        short="512T + N·(LM + hLpN)",
    )
    count_thop = counts(
        "its called nn.Linear children (count_linear: in_features × output numel; the cpb's "
        "once), nn.LayerNorm (4·numel) and nn.Softmax (count_softmax: (3N − 1) per row)",
        lambda s, i, o, b: (
            b
            * (
                s._sizes(i)[0] * s.dim * s.dim
                + 2 * s._real(i) * s.dim * s.mlp_hidden
                + 8 * s._real(i) * s.dim
                + s._thop_softmax(i)
            )
            + s._cpb_macs()
        ),
        short="N·(LpC² + 2LCM + 8LC + softmax) + T·512·(2+h)",
    )
    count_torchinfo = counts(
        "its leaves that ran, (weight + bias numel) × output_size[0] (torchinfo "
        "calculate_macs): proj on the windows (N·nW), the cpb's Linears on the (1, …) table "
        "(× 1), the norms and the MLP on the map (N); qkv runs as F.linear",
        lambda s, i, o, b: (
            b
            * (
                s._sizes(i)[3] * (s.dim * s.dim + s.dim)
                + 2 * s.dim * s.mlp_hidden
                + s.mlp_hidden
                + s.dim
                + 4 * s.dim
            )
            + 1536
            + 512 * s.num_heads
        ),
        short="N·(nW·proj + MLP + norms) + cpb params",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2, 2, 1, 16), ((8, 4, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "timm.models.swin_transformer_v2.SwinTransformerV2Block",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls(**_timm_swin_read(call, "SwinTransformerV2Block", v2=True))

    def to_torch(self, tb: Any) -> Any:
        return tb.timm_swin_block(self, v2=True)


@register
@dataclass(frozen=True, slots=True)
class TimmSwinV2CrBlock(TimmSwinBlock):
    """timm's Swin v2 "cr" block, ``timm.models.swin_transformer_v2_cr.
    SwinTransformerV2CrBlock``: post-norm (``x + norm1(attn(x))``, ``x + norm2(mlp(x))``,
    optionally ``norm3`` of the sum), cosine attention with a per-head logit scale, and a
    position bias from a meta network (``Mlp(2, K, h)``, ReLU, dropout ``meta_dropout``) on
    the constant ``N² × 2`` log-spaced relative coordinates, once per forward; the softmax
    is ``Tensor.softmax``.

    Params ``4C² + 4C`` (qkv, proj) ``+ 3K + Kh + h`` (meta network) ``+ h`` (logit scale)
    ``+ 2CM + M + C`` (MLP) ``+ 4C`` (``+ 2C`` with ``extra_norm``); buffers ``2N²``
    (``+ nW·N²``, the shift mask). MACs ``4·Lp·C² + 2·Lp·N·C + 2·L·C·M + N²·(2K + Kh)``
    (the meta network once per forward). Saved for backward (measured): as
    :class:`TimmSwinV2Block` per sample (``8·Lp·C + 4·h·Lp + 2·h·Lp·N + 3·L·C + 2·L·M`` and
    ``4L`` float32; with ``extra_norm`` norm3's input ``L·C`` and ``2L`` float32), once per
    forward ``h`` (logit scale) and the meta network's ReLU output ``N²·K`` (with its
    dropout in training: its mask and output, ``2·N²·K`` more).
    """

    meta_hidden: Any = 384
    meta_dropout: float = 0.125
    extra_norm: bool = False
    fused: bool = False

    def __post_init__(self) -> None:
        TimmSwinBlock.__post_init__(self)
        _check_int(self.kind, "meta_hidden", self.meta_hidden, 1)
        if not 0 <= self.meta_dropout < 1:
            raise invalid(self.kind, "meta_dropout", self.meta_dropout, "must be in [0, 1)")

    def _pairs(self) -> Any:
        wh, ww = self.window_size
        return (wh * ww) ** 2

    def _meta_macs(self) -> Any:
        k = self.meta_hidden
        return self._pairs() * (2 * k + k * self.num_heads)

    def _norms(self) -> Any:
        return 3 if self.extra_norm else 2

    def params(self, ins: Shapes) -> Num:
        c, m, h, k = self.dim, self.mlp_hidden, self.num_heads, self.meta_hidden
        return 4 * c * c + 4 * c + 3 * k + k * h + h + h + 2 * c * m + m + c + 2 * self._norms() * c

    def buffers(self, ins: Shapes) -> Num:
        _, win, _, nw = self._sizes(ins)
        return 2 * self._pairs() + (nw * win * win if self._shifted() else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return TimmSwinBlock.macs(self, ins, out) + self._meta_macs()

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, _, c, _ = self._sizes(ins)
        m, real, k, h = self.mlp_hidden, self._real(ins), self.meta_hidden, self.num_heads
        attn = 4 * c + 6 * c  # qkv and proj biases, the normalisation of q and k
        mlp = m + c + 8 * self._norms() * c + 5 * m + 2 * c
        meta = self._pairs() * (2 * k + h)  # its biases and ReLU
        shifted = 8 if self._shifted() else 7  # logit scale, bias add, (mask), softmax 5
        return 2 * self.macs(ins, out) + attn * n + mlp * real + meta + shifted * self._scores(ins)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, win, c, _ = self._sizes(ins)
        real, h = self._real(ins), self.num_heads
        norms = self._norms()
        meta = self._pairs() * self.meta_hidden
        items = [
            Extra(
                8 * batch * n * c,
                None,
                "windowed input, qkv output, normalised q, k, v, proj input",
            ),
            Extra(4 * batch * h * n, None, "norms of q and k and their clamped copies"),
            Extra(2 * batch * self._scores(ins), None, "cosine scores and attention weights"),
            Extra((norms + 1) * batch * real * c, None, "norm inputs and the residual sum"),
            Extra(2 * batch * real * self.mlp_hidden, None, "GELU input and output"),
            Extra(2 * norms * batch * real, "acc", "LayerNorm means and rstds"),
            Extra(h + meta, None, "logit scale, the meta network's ReLU output"),
            Extra(2 * self._pairs(), None, "relative log-coordinates (fc1's input)", buffer=True),
        ]
        if self.meta_dropout:
            items.append(Extra(2 * meta, None, "meta network dropout mask and output (training)"))
        if self.drop_path:
            items.append(Extra(2 * batch, None, "drop-path masks (training)"))
        return tuple(items)

    def _ptflops_hook(self, ins: Shapes, b: Any) -> Any:
        n, _, c, _ = self._sizes(ins)
        m, real, k, h = self.mlp_hidden, self._real(ins), self.meta_hidden, self.num_heads
        gelu = m if self.gelu_hooked else 0
        per_sample = (4 * c * c + 4 * c) * n + (2 * c * m + m + c) * real
        per_sample += real * (self._norms() * c + gelu)
        return b * per_sample + self._pairs() * (3 * k + k + k * h + h)

    count_fvcore = counts(
        "qkv, proj, the MLP and the meta network (once per forward) linears "
        "(linear_flop_jit), q·kᵀ and attn·v (matmul_flop_jit), 5·numel per LayerNorm",
        lambda s, i, o, b: (
            b * (TimmSwinBlock.macs(s, i, o) + 5 * s._norms() * s._real(i) * s.dim) + s._meta_macs()
        ),
        short="N·(MACs + 5·norms·LC) + N²·(2K + Kh)",
    )
    count_flopcounter = counts(
        "2·MACs of every mm/addmm/bmm (flop_counter), the meta network once per forward",
        lambda s, i, o, b: 2 * (b * TimmSwinBlock.macs(s, i, o) + s._meta_macs()),
        short="2·(N·MACs + N²·(2K + Kh))",
    )
    count_torchvision = counts(
        "MACs, no bias (torchvision weights meta '_ops'), the meta network once",
        lambda s, i, o, b: b * TimmSwinBlock.macs(s, i, o) + s._meta_macs(),
        short="N·MACs + N²·(2K + Kh)",
    )
    count_ptflops_hook = counts(
        "its children: nn.Linear (linear_flops_counter_hook: (in·out + bias)·rows; the "
        "meta network's on N² rows, once), nn.LayerNorm (input numel), nn.GELU and the meta "
        "network's nn.ReLU (relu hook: output numel)",
        lambda s, i, o, b: s._ptflops_hook(i, b),
        short="N·(linears, norms, GELU) + N²·(4K + Kh + h)",
    )
    count_ptflops_functional = counts(
        "the patched F.gelu (nn.GELU: L·M) and F.relu (the meta network's nn.ReLU: N²·K, "
        "once); the softmax is Tensor.softmax and `@` an operator: not patched",
        lambda s, i, o, b: b * s._real(i) * s.mlp_hidden + s._pairs() * s.meta_hidden,
        short="N·LM + N²K",
    )
    count_thop = counts(
        "its children: nn.Linear (count_linear: in_features × output numel; the meta "
        "network's once) and nn.LayerNorm (4·numel); ReLU, GELU and Tensor.softmax add nothing",
        lambda s, i, o, b: (
            b * (s._linear_macs(i) + 4 * s._norms() * s._real(i) * s.dim) + s._meta_macs()
        ),
        short="N·(4LpC² + 2LCM + 4·norms·LC) + N²·(2K + Kh)",
    )
    count_torchinfo = counts(
        "its leaves, (weight + bias numel) × output_size[0] (torchinfo calculate_macs): qkv "
        "and proj on the windows (N·nW), the meta network on N² pairs, norms and MLP (N)",
        lambda s, i, o, b: (
            b * s._sizes(i)[3] * (4 * s.dim * s.dim + 4 * s.dim)
            + s._pairs() * (3 * s.meta_hidden + s.meta_hidden * s.num_heads + s.num_heads)
            + b * (2 * s.dim * s.mlp_hidden + s.mlp_hidden + s.dim + 2 * s._norms() * s.dim)
        ),
        short="N·nW·(qkv + proj) + N²·meta + N·(MLP + norms) params",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2, 2, 1, 16, meta_hidden=8), ((8, 4, 4),)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "timm.models.swin_transformer_v2_cr.SwinTransformerV2CrBlock",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        fields = _timm_swin_read(call, "SwinTransformerV2CrBlock", v2=False)
        a = call.module.attn
        if a.sequential_attn:
            raise UnsupportedError("timm's SwinTransformerV2CrBlock with sequential attention")
        meta = a.meta_mlp
        return cls(
            **fields,
            meta_hidden=int(meta.fc1.out_features),
            meta_dropout=float(meta.drop1.p),
            extra_norm=type(call.module.norm3).__name__ != "Identity",
        )

    def to_torch(self, tb: Any) -> Any:
        return tb.timm_swin_cr_block(self)
