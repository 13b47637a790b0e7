"""Attention: ``MultiheadAttention`` (self-attention of a token sequence, as
``torch.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)(x, x, x)``) and
``TimmAttention`` (timm's ViT attention, ``timm.layers.attention.Attention(dim, num_heads)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    GLOBAL,
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _fmt,
    _Global,
    invalid,
    register,
)
from ._rules import MatmulCounts, counts, counts_zero, thop_no_hook


def _le(s: Shapes) -> tuple[Any, Any]:
    return s[0][-2], s[0][-1]


def _groups(s: Shapes) -> Any:
    """Independent sequences per sample: 1 for tokens ``(L, E)``; ``k`` for ``(k, L, E)``,
    a batch of ``N·k`` sequences folded into torch's axis 0 (MobileViT's patches)."""
    return prod(s[0][:-2])


def _proj_macs(ins: Shapes) -> Any:
    """In-projection (q, k, v: 3·L·E²) and out-projection (L·E²) multiply-accumulates."""
    n, e = _le(ins)
    return 4 * _groups(ins) * n * e * e


def _scores_macs(ins: Shapes) -> Any:
    """QKᵀ and AV over all heads: L·L·E each."""
    n, e = _le(ins)
    return 2 * _groups(ins) * n * n * e


@register
@dataclass(frozen=True, slots=True)
class MultiheadAttention(MatmulCounts, Layer):
    """Multi-head self-attention of ``L`` tokens of ``E = embed_dim`` channels, as
    ``nn.MultiheadAttention(E, num_heads, bias=bias, batch_first=True)(x, x, x,
    need_weights=need_weights)[0]`` (torchvision's ViT passes ``need_weights=False``).

    Params ``4E² + 4E`` (in_proj 3E×E and 3E, out_proj E×E and E; ``4E²`` without bias).
    MACs ``4·L·E²`` (the projections) ``+ 2·L²·E`` (QKᵀ and AV over the ``h`` heads of
    ``E/h`` channels). FLOPs under archcalc's convention: ``2·MACs``, plus the biases
    (``4·L·E``), the scaling of q (``L·E``) and the softmax (5 per score: max, subtract,
    exp, sum, divide: ``5·h·L²``). Every token sees every token: the receptive field is
    global. Saved for backward (measured with ``saved_tensors_hooks``, CPU): the input, the
    in-projection q, k, v (``3·L·E``) and the attention output (``L·E``, out_proj's input);
    with ``need_weights=False`` (scaled_dot_product_attention) the log-sum-exp per head and
    query (``h·L``, float32), with ``need_weights=True`` the scaled q (``L·E``) and the
    attention weights (``h·L²``).

    The foreign conventions count torch's composite path, the one a model with grad enabled
    runs (``FlopCountAnalysis(model, x).total()`` as usually called, a training step). In
    eval under ``torch.no_grad()`` torch takes a fast path for a biased self-attention with
    an even number of heads (``torch._native_multi_head_attention``) that fvcore and
    FlopCounterMode count as 0; archcalc's own build turns the fast path off.

    >>> MultiheadAttention(768, 12).params(((197, 768),))
    2362368
    """

    embed_dim: Any
    num_heads: Any
    bias: bool = True
    need_weights: bool = False

    weighted: ClassVar[bool] = True

    count_fvcore = counts(
        "in_proj and out_proj MACs (fvcore linear_flop_jit on the F.linear calls of "
        "F.multi_head_attention_forward); QKᵀ and AV (bmm_flop_jit) only with need_weights: "
        "without, aten::scaled_dot_product_attention has no fvcore handle",
        lambda s, i, o, b: b * (_proj_macs(i) + (_scores_macs(i) if s.need_weights else 0)),
        short="N·4LE² (+ N·2L²E with need_weights)",
    )
    count_flopcounter = counts(
        "2·MACs of the projections (flop_counter mm/addmm), plus 2·MACs of QKᵀ and AV (bmm) "
        "with need_weights; aten::_scaled_dot_product_flash_attention_for_cpu (need_weights="
        "False on CPU) has no register_flop_formula",
        lambda s, i, o, b: 2 * b * (_proj_macs(i) + (_scores_macs(i) if s.need_weights else 0)),
        short="2N·4LE² (+ 2N·2L²E with need_weights)",
    )
    count_ptflops_hook = counts(
        "ptflops multihead_attention_counter_hook: q scaling L·E, projections 3·L·E² "
        "(+ 3·L·E with in_proj_bias), per head QKᵀ, softmax and AV (2·L²·E + h·L²), out "
        "projection L·E·(E + 1) whatever the bias",
        lambda s, i, o, b: b * s._ptflops_per_sample(i),
        short="N·(LE + 4LE² + [bias]·3LE + 2L²E + hL² + LE)",
    )
    count_ptflops_functional = counts(
        "with need_weights the patched torch.bmm (QKᵀ, AV: L²·E each) and F.softmax "
        "(h·L² scores) inside F.multi_head_attention_forward; 0 without "
        "(scaled_dot_product_attention is not patched)",
        lambda s, i, o, b: (
            b * (_scores_macs(i) + s.num_heads * _groups(i) * _le(i)[0] ** 2)
            if s.need_weights
            else 0
        ),
        short="N·(2L²E + hL²) with need_weights, else 0",
    )
    count_thop = thop_no_hook("nn.MultiheadAttention")
    count_torchinfo = counts(
        "0: nn.MultiheadAttention holds out_proj as a child, so it is no leaf and "
        "total_mult_adds skips it; out_proj is never called as a module",
        lambda s, i, o, b: 0,
        short="0",
    )
    ptflops_hooked: ClassVar[bool] = True

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torch.nn.MultiheadAttention",
        "archcalc.torch.tokens.SelfAttention",
    )

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "embed_dim", self.embed_dim, 1)
        _check_int(k, "num_heads", self.num_heads, 1)
        e, h = self.embed_dim, self.num_heads
        if not (is_symbolic(e) or is_symbolic(h)) and e % h:
            raise invalid(k, "embed_dim", e, f"must be divisible by num_heads (={h})")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2), ((5, 8),)

    def _ptflops_per_sample(self, ins: Shapes) -> Any:
        n, e = _le(ins)
        bias = 3 * n * e if self.bias else 0
        return _groups(ins) * (
            n * e + 3 * n * e * e + bias + 2 * n * n * e + self.num_heads * n * n + n * e * (e + 1)
        )

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) < 2:
            raise ShapeError(f"MultiheadAttention needs tokens (..., L, E), got shape {_fmt(s)}")
        if _eq_known_false(s[-1], self.embed_dim):
            raise ShapeError(
                f"MultiheadAttention.embed_dim = {self.embed_dim} but the tokens have "
                f"{s[-1]} channels"
            )
        return s

    def params(self, ins: Shapes) -> Num:
        e = self.embed_dim
        return 4 * e * e + (4 * e if self.bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return _proj_macs(ins) + _scores_macs(ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, e = _le(ins)
        bias = 4 * n * e if self.bias else 0
        extra = bias + n * e + 5 * self.num_heads * n * n
        return 2 * self.macs(ins, out) + _groups(ins) * extra

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, e = _le(ins)
        batch = batch * _groups(ins)  # sequences
        qkv = Extra(3 * batch * n * e, None, "q, k, v (in-projection)")
        attn = Extra(batch * n * e, None, "attention output (out_proj input)")
        if self.need_weights:
            q = Extra(batch * n * e, None, "scaled q")
            w = Extra(batch * self.num_heads * n * n, None, "attention weights")
            return ("in0", qkv, q, w, attn)
        lse = Extra(batch * self.num_heads * n, "acc", "log-sum-exp per head and query")
        return ("in0", qkv, attn, lse)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if type(m).__name__ == "SelfAttention":  # archcalc's own build
            a = m.attn
            return cls(
                int(a.embed_dim), int(a.num_heads), a.in_proj_bias is not None, m.need_weights
            )
        q, k, v = (call.arg(i, name) for i, name in enumerate(("query", "key", "value")))
        same = all(getattr(t, "index", None) == 0 for t in (q, k, v))
        if not (same and len(call.inputs) and _one_batch_of_sequences(call)):
            raise UnsupportedError(
                "archcalc's MultiheadAttention is self-attention: query, key and value one "
                "token sequence (N, L, E)"
            )
        why = [
            what
            for what, bad in (
                ("batch_first=False", not m.batch_first),
                ("attention dropout", m.dropout != 0),
                ("kdim/vdim other than embed_dim", not m._qkv_same_embed_dim),
                ("bias_k/bias_v", m.bias_k is not None),
                ("add_zero_attn", m.add_zero_attn),
                (
                    "a mask",
                    any(
                        call.arg(i, n) is not None
                        for i, n in ((3, "key_padding_mask"), (5, "attn_mask"))
                    ),
                ),
            )
            if bad
        ]
        if why:
            raise UnsupportedError(f"nn.MultiheadAttention with {', '.join(why)}")
        need = call.arg(4, "need_weights", True)
        return cls(int(m.embed_dim), int(m.num_heads), m.in_proj_bias is not None, bool(need))

    def to_torch(self, tb: Any) -> Any:
        return tb.SelfAttention(self.embed_dim, self.num_heads, self.bias, self.need_weights)


def _timm_ptflops_hook(layer: Any, ins: Shapes) -> Any:
    """ptflops timm_attention_counter_hook per sample: q scaling L·E, per head QKᵀ, softmax
    and AV (2·L²·E + h·L²); the projections are left to the nn.Linear children, which
    ptflops then never adds (a hooked module's children are not accumulated)."""
    n, e = _le(ins)
    return _groups(ins) * (n * e + 2 * n * n * e + layer.num_heads * n * n)


@register
@dataclass(frozen=True, slots=True)
class TimmAttention(MatmulCounts, Layer):
    """timm's ViT self-attention of ``L`` tokens of ``E = dim`` channels,
    ``timm.layers.attention.Attention(E, num_heads, qkv_bias=qkv_bias, proj_bias=proj_bias)``
    (vision_transformer, deit, deit3, ...; the same class as
    ``timm.models.vision_transformer.Attention``): ``qkv = Linear(E, 3E)``, attention over
    ``h`` heads of ``E/h`` channels (``F.scaled_dot_product_attention`` when ``fused``, timm's
    default, else ``q·scale @ kᵀ``, softmax, ``@ v``), ``proj = Linear(E, E)``.

    Params ``3E² + E²`` plus the biases (``3E`` with ``qkv_bias``, ``E`` with ``proj_bias``).
    MACs ``3·L·E²`` (qkv) ``+ 2·L²·E`` (QKᵀ and AV) ``+ L·E²`` (proj). FLOPs under archcalc's
    convention, as for :class:`MultiheadAttention`: ``2·MACs``, plus the biases (``3·L·E``,
    ``L·E``), the scaling of q (``L·E``) and the softmax (5 per score: ``5·h·L²``). Every
    token sees every token: the receptive field is global. Saved for backward (measured with
    ``saved_tensors_hooks``, CPU, training with grad): the input, qkv's output (``3·L·E``)
    and the attention output (``L·E``, proj's input), with ``fused`` the log-sum-exp per head
    and query (``h·L``, float32); unfused the scaled q, contiguous copies of k and v (matmul's
    reshape of the permuted heads, ``L·E`` each) and the attention weights (``h·L²``) in
    place of qkv's output and the log-sum-exp.

    Not modelled (``from_torch`` refuses them): qk_norm, scale_norm, gated, attention or
    projection dropout, a head dimension other than ``E/h``, ``dim_out`` other than ``E``,
    an attention mask and ``is_causal``.

    >>> TimmAttention(192, 3, qkv_bias=True).params(((197, 192),))
    148224
    """

    dim: Any
    num_heads: Any
    qkv_bias: bool = False
    proj_bias: bool = True
    fused: bool = True

    weighted: ClassVar[bool] = True

    count_fvcore = counts(
        "qkv and proj MACs (fvcore linear_flop_jit); QKᵀ and AV (matmul_flop_jit) only "
        "unfused: aten::scaled_dot_product_attention has no fvcore handle",
        lambda s, i, o, b: b * (_proj_macs(i) + (0 if s.fused else _scores_macs(i))),
        short="N·4LE² (+ N·2L²E unfused)",
    )
    count_flopcounter = counts(
        "2·MACs of qkv and proj (flop_counter addmm/mm), plus 2·MACs of QKᵀ and AV (bmm) "
        "unfused; aten::_scaled_dot_product_flash_attention_for_cpu (fused, on CPU) has no "
        "register_flop_formula",
        lambda s, i, o, b: 2 * b * (_proj_macs(i) + (0 if s.fused else _scores_macs(i))),
        short="2N·4LE² (+ 2N·2L²E unfused)",
    )
    count_ptflops_hook = counts(
        "ptflops timm_attention_counter_hook (MODULES_MAPPING has timm's Attention): q "
        "scaling L·E, per head QKᵀ, softmax and AV (2·L²·E + h·L²); its qkv and proj "
        "children are hooked but never accumulated under a hooked parent",
        lambda s, i, o, b: b * _timm_ptflops_hook(s, i),
        short="N·(LE + 2L²E + hL²)",
    )
    count_ptflops_functional = counts_zero(
        "neither F.scaled_dot_product_attention nor `@`, Tensor.softmax and `q * scale` "
        "(operator methods) are patched by ptflops"
    )
    count_thop = counts(
        "thop has no hook for timm's Attention: dfs_count adds its nn.Linear children "
        "(count_linear: in_features × output numel, no bias): qkv 3·L·E², proj L·E²",
        lambda s, i, o, b: b * _proj_macs(i),
        short="N·4LE²",
    )
    count_torchinfo = counts(
        "the leaves qkv and proj: (weight + bias numel) × batch each (torchinfo "
        "LayerInfo.calculate_macs for a Linear: × output_size[0] only, N·k for k sequences "
        "folded into the batch)",
        lambda s, i, o, b: b * _groups(i) * s.params(i),
        short="N·params (× sequences)",
    )
    ptflops_hooked: ClassVar[bool] = True

    torch_modules: ClassVar[tuple[str, ...]] = ("timm.layers.attention.Attention",)

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "dim", self.dim, 1)
        _check_int(k, "num_heads", self.num_heads, 1)
        e, h = self.dim, self.num_heads
        if not (is_symbolic(e) or is_symbolic(h)) and e % h:
            raise invalid(k, "dim", e, f"must be divisible by num_heads (={h})")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 2, qkv_bias=True), ((5, 8),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) < 2:
            raise ShapeError(f"TimmAttention needs tokens (..., L, E), got shape {_fmt(s)}")
        if _eq_known_false(s[-1], self.dim):
            raise ShapeError(f"TimmAttention.dim = {self.dim} but the tokens have {s[-1]} channels")
        return s

    def params(self, ins: Shapes) -> Num:
        e = self.dim
        return 4 * e * e + (3 * e if self.qkv_bias else 0) + (e if self.proj_bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return _proj_macs(ins) + _scores_macs(ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, e = _le(ins)
        bias = (3 * n * e if self.qkv_bias else 0) + (n * e if self.proj_bias else 0)
        extra = bias + n * e + 5 * self.num_heads * n * n
        return 2 * self.macs(ins, out) + _groups(ins) * extra

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        n, e = _le(ins)
        batch = batch * _groups(ins)  # sequences
        attn = Extra(batch * n * e, None, "attention output (proj input)")
        if self.fused:
            qkv = Extra(3 * batch * n * e, None, "q, k, v (qkv output)")
            lse = Extra(batch * self.num_heads * n, "acc", "log-sum-exp per head and query")
            return ("in0", qkv, attn, lse)
        q = Extra(batch * n * e, None, "scaled q")
        k = Extra(batch * n * e, None, "k (matmul's contiguous copy)")
        w = Extra(batch * self.num_heads * n * n, None, "attention weights")
        v = Extra(batch * n * e, None, "v (matmul's contiguous copy)")
        return ("in0", q, k, w, v, attn)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if len(call.inputs) != 1 or not _one_batch_of_sequences(call):
            raise UnsupportedError("timm's Attention on one token sequence (N, L, E)")
        dim = int(m.qkv.in_features)
        why = [
            what
            for what, bad in (
                ("qk_norm", not _is_identity(m.q_norm) or not _is_identity(m.k_norm)),
                ("scale_norm", not _is_identity(getattr(m, "norm", None))),
                ("gated", getattr(m, "gate", None) is not None),
                ("attention dropout", m.attn_drop.p != 0),
                ("projection dropout", m.proj_drop.p != 0),
                ("a head dimension other than dim / num_heads", m.attn_dim != dim),
                ("dim_out other than dim", m.proj.out_features != dim),
                ("an attention mask", call.arg(1, "attn_mask") is not None),
                ("is_causal", bool(call.arg(2, "is_causal", False))),
            )
            if bad
        ]
        if why:
            raise UnsupportedError(f"timm's Attention with {', '.join(why)}")
        return cls(
            dim,
            int(m.num_heads),
            m.qkv.bias is not None,
            m.proj.bias is not None,
            bool(m.fused_attn),
        )

    def to_torch(self, tb: Any) -> Any:
        return tb.timm_attention(
            self.dim, self.num_heads, self.qkv_bias, self.proj_bias, self.fused
        )


def _one_batch_of_sequences(call: TorchCall) -> bool:
    """Input 0 is torch's ``(B, L, E)``: tokens ``(L, E)`` batch first, or ``(k, L, E)``
    with the batch folded into axis 0 (``B = N·k``)."""
    x, layout = call.inputs[0], call.layouts[0]
    return (layout == "std" and len(x) == 2) or (layout == "fold" and len(x) == 3)


def _is_identity(m: Any) -> bool:
    return m is None or type(m).__name__ == "Identity"
