"""archcalc's own modules for token sequences (the kinds of archcalc/kinds/tokens.py and
attention.py build these in their ``to_torch``): torchvision's ViT operations as modules."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "Tokens",
    "ClassToken",
    "PositionEmbedding",
    "SelectToken",
    "SelfAttention",
    "timm_attention",
]


class Tokens(nn.Module):
    """``(N, C, H, W)`` → ``(N, H·W, C)``: ``x.flatten(2).transpose(1, 2)`` (a view)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(2).transpose(1, 2)


class ClassToken(nn.Module):
    """Learned ``class_token`` of shape ``(1, tokens, C)`` put in front of the sequence."""

    def __init__(self, embed_dim: int, tokens: int = 1) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, tokens, embed_dim))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)


class PositionEmbedding(nn.Module):
    """Learned ``pos_embedding`` of shape ``(1, L, C)`` added to the tokens."""

    def __init__(self, length: int, embed_dim: int) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, length, embed_dim).normal_(std=0.02))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.pos_embedding


class SelectToken(nn.Module):
    """Token ``index`` of ``(N, L, C)``: ``x[:, index]``."""

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: Tensor) -> Tensor:
        return x[:, self.index]

    def extra_repr(self) -> str:
        return f"index={self.index}"


class SelfAttention(nn.Module):
    """``attn(x, x, x, need_weights=...)[0]`` of a stock ``nn.MultiheadAttention(...,
    batch_first=True)`` child (the counting tools hook the stock class by exact type).

    It always runs torch's composite path (in-projection, attention, out-projection), the
    ops every tool counts when a model runs with grad enabled: under ``torch.no_grad()`` in
    eval torch would otherwise take its fast path (``torch._native_multi_head_attention``),
    which fvcore and FlopCounterMode count as 0."""

    def __init__(
        self, embed_dim: int, num_heads: int, bias: bool = True, need_weights: bool = False
    ) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: Tensor) -> Tensor:
        fast = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            return self.attn(x, x, x, need_weights=self.need_weights)[0]
        finally:
            torch.backends.mha.set_fastpath_enabled(fast)


def timm_attention(
    dim: int, num_heads: int, qkv_bias: bool, proj_bias: bool, fused: bool
) -> nn.Module:
    """timm's own ``timm.layers.attention.Attention`` (the counting tools know its exact
    type: ptflops hooks it), with ``fused_attn`` set; timm must be installed."""
    try:
        from timm.layers.attention import Attention
    except ImportError as e:
        from .._errors import MissingDependencyError

        raise MissingDependencyError(package="timm", needed_for="building TimmAttention") from e
    m = Attention(dim, num_heads, qkv_bias=qkv_bias, proj_bias=proj_bias)
    m.fused_attn = fused  # type: ignore[misc]
    return m
