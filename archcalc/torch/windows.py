"""archcalc's builds of the windowed-attention kinds (archcalc/kinds/window.py): torchvision's
own Swin and MaxViT modules (the counting tools see their exact types), wrapped to take and
return archcalc's ``(N, C, H, W)`` maps."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

__all__ = [
    "ChannelsLast",
    "MaxVitPartition",
    "maxvit_partition",
    "swin_attention",
    "swin_merging",
    "timm_swin_block",
    "timm_swin_cr_block",
]


class ChannelsLast(nn.Module):
    """``inner`` run on the channels-last view of an ``(N, C, H, W)`` map (torchvision's Swin
    modules take ``(N, H, W, C)``); the result permuted back."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def swin_attention(layer: Any, v2: bool) -> nn.Module:
    """torchvision's ShiftedWindowAttention (``v2``: ShiftedWindowAttentionV2) of a
    ``ShiftedWindowAttention(V2)`` spec."""
    from torchvision.models import swin_transformer as sw

    cls = sw.ShiftedWindowAttentionV2 if v2 else sw.ShiftedWindowAttention
    inner = cls(
        layer.dim,
        list(layer.window_size),
        list(layer.shift_size),
        layer.num_heads,
        qkv_bias=layer.qkv_bias,
        proj_bias=layer.proj_bias,
    )
    return ChannelsLast(inner)


def swin_merging(layer: Any, v2: bool) -> nn.Module:
    """torchvision's PatchMerging (``v2``: PatchMergingV2) of a ``PatchMerging(V2)`` spec."""
    from torchvision.models import swin_transformer as sw

    cls = sw.PatchMergingV2 if v2 else sw.PatchMerging
    return ChannelsLast(cls(layer.dim))


def maxvit_partition(layer: Any) -> nn.Module:
    """torchvision's PartitionAttentionLayer of a ``PartitionAttention`` spec."""
    return MaxVitPartition(layer)


class MaxVitPartition(nn.Module):
    """torchvision's PartitionAttentionLayer (child ``inner``), its map size set from each
    input: torchvision fixes ``grid_size`` at construction, but its parameters do not depend
    on it (only the grid's partition count does)."""

    def __init__(self, layer: Any) -> None:
        super().__init__()
        from torchvision.models.maxvit import PartitionAttentionLayer

        p = layer.partition_size
        self.partition_size = p
        self.inner = PartitionAttentionLayer(
            layer.dim,
            layer.head_dim,
            p,
            layer.partition_type,
            (p, p),
            layer.mlp_ratio,
            nn.GELU,
            nn.LayerNorm,
            0.0,
            0.0,
            layer.stochastic_depth_prob,
        )

    def forward(self, x: Tensor) -> Tensor:
        m, p = self.inner, self.partition_size
        h, w = int(x.shape[-2]), int(x.shape[-1])
        m.grid_size = (h, w)
        m.n_partitions = h // p
        if m.partition_type == "window":
            m.p, m.g = p, m.n_partitions
        else:
            m.p, m.g = m.n_partitions, p
        return m(x)


def timm_swin_block(layer: Any, v2: bool) -> nn.Module:
    """timm's own SwinTransformerBlock (``v2``: SwinTransformerV2Block) of a
    ``TimmSwinBlock``/``TimmSwinV2Block`` spec, wrapped to take an ``(N, C, H, W)`` map; timm
    fixes the resolution (and the shift mask) at construction, so the block follows the
    size of its input."""
    return ChannelsLast(_TimmSwin(layer, v2))


class _TimmSwin(nn.Module):
    def __init__(self, layer: Any, v2: bool) -> None:
        super().__init__()
        from timm.models import swin_transformer, swin_transformer_v2

        block: Any = (
            swin_transformer_v2.SwinTransformerV2Block
            if v2
            else swin_transformer.SwinTransformerBlock
        )
        kw: dict[str, Any] = {} if v2 else {"qkv_bias": layer.qkv_bias}
        if not layer.gelu_hooked:
            from timm.layers import get_act_layer

            kw["act_layer"] = get_act_layer("gelu")
        else:
            kw["act_layer"] = nn.GELU
        self.block = block(
            layer.dim,
            (max(layer.window_size),) * 2,
            num_heads=layer.num_heads,
            window_size=layer.window_size,
            shift_size=max(layer.shift_size),
            mlp_ratio=layer.mlp_hidden / layer.dim,
            drop_path=layer.drop_path,
            always_partition=True,
            **kw,
        )
        self.block.shift_size = tuple(layer.shift_size)
        if not v2:
            self.block.attn.fused_attn = layer.fused  # type: ignore[misc]

    def forward(self, x: Tensor) -> Tensor:
        b = self.block
        size = (int(x.shape[1]), int(x.shape[2]))
        if b.input_resolution != size:
            b.input_resolution = size
            b._init_buffers()
        return b(x)


def timm_swin_cr_block(layer: Any) -> nn.Module:
    """timm's SwinTransformerV2CrBlock of a ``TimmSwinV2CrBlock`` spec (channels-last
    wrapper; the block follows the size of its input)."""
    return ChannelsLast(_TimmSwinCr(layer))


class _TimmSwinCr(nn.Module):
    def __init__(self, layer: Any) -> None:
        super().__init__()
        from timm.models.swin_transformer_v2_cr import SwinTransformerV2CrBlock

        w = max(layer.window_size)
        self.block = SwinTransformerV2CrBlock(
            layer.dim,
            layer.num_heads,
            (w, w),
            layer.window_size,
            shift_size=layer.shift_size,
            mlp_ratio=layer.mlp_hidden / layer.dim,
            drop_path=layer.drop_path,
            extra_norm=layer.extra_norm,
            always_partition=True,
        )
        from timm.layers import Mlp

        # timm's block builds a 384-wide meta network: rebuilt with the spec's width
        self.block.attn.meta_mlp = Mlp(
            2,
            hidden_features=layer.meta_hidden,
            out_features=layer.num_heads,
            act_layer=nn.ReLU,
            drop=(layer.meta_dropout, 0.0),
        )

    def forward(self, x: Tensor) -> Tensor:
        b = self.block
        size = (int(x.shape[1]), int(x.shape[2]))
        if b.feat_size != size:
            b.feat_size = size
            b._init_buffers()
        return b(x)
