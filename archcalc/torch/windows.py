"""archcalc's builds of the windowed-attention kinds (archcalc/kinds/window.py): subclasses of
torchvision's and timm's own Swin and MaxViT modules that take and return archcalc's
``(N, C, H, W)`` maps (the counting tools see the same children and operations as in the real
models; the importer maps each subclass back to its kind, under its node's name).

Two details of building without the model around them: torchvision's MaxViT and timm's Swin
blocks fix the map size at construction (the builds follow the size of their input), and a
build made on the meta device then ``to_empty`` holds garbage in its index buffers (they are
recomputed before use)."""

from __future__ import annotations

from functools import cache
from typing import Any

from torch import Tensor, nn

__all__ = [
    "channels_last",
    "swin_attention",
    "swin_merging",
    "maxvit_partition",
    "timm_swin_block",
    "timm_swin_cr_block",
]


def _bad_index(idx: Tensor, rows: int) -> bool:
    """Whether an index buffer holds values outside ``0 … rows − 1`` (``to_empty`` garbage);
    never on the meta device (no values to read)."""
    return not idx.is_meta and idx.numel() > 0 and bool((idx.min() < 0) | (idx.max() >= rows))


def _fix_buffers(root: nn.Module) -> None:
    """Recompute the relative-position index buffers of ``root``'s attention modules when
    they hold garbage."""
    for mod in root.modules():
        m: Any = mod
        idx = getattr(m, "relative_position_index", None)
        if not isinstance(idx, Tensor):
            continue
        name = type(m).__name__
        if name == "RelativePositionalMultiHeadAttention":  # torchvision MaxViT
            if _bad_index(idx, (2 * m.size - 1) ** 2):
                from torchvision.models.maxvit import _get_relative_position_index

                idx.copy_(_get_relative_position_index(m.size, m.size))
            continue
        wh, ww = m.window_size
        if not _bad_index(idx, (2 * wh - 1) * (2 * ww - 1)):
            continue
        if hasattr(m, "define_relative_position_index"):  # torchvision Swin
            m.define_relative_position_index()
            if hasattr(m, "cpb_mlp"):
                m.define_relative_position_bias_table()
        else:  # timm's WindowAttention (v1, v2)
            m._init_buffers()


@cache
def channels_last(base: Any) -> type:
    """``base`` (a module on ``(N, H, W, C)``) as a subclass on ``(N, C, H, W)`` maps."""

    def forward(self: Any, x: Tensor) -> Tensor:
        _fix_buffers(self)
        sync = getattr(self, "_sync_size", None)
        if sync is not None:
            sync((int(x.shape[2]), int(x.shape[3])))
        return base.forward(self, x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    name = f"NCHW{base.__name__}"
    return type(name, (base,), {"forward": forward, "__module__": __name__, "__qualname__": name})


def swin_attention(layer: Any, v2: bool) -> nn.Module:
    """torchvision's ShiftedWindowAttention (``v2``: ShiftedWindowAttentionV2) of a
    ``ShiftedWindowAttention(V2)`` spec."""
    from torchvision.models import swin_transformer as sw

    cls = channels_last(sw.ShiftedWindowAttentionV2 if v2 else sw.ShiftedWindowAttention)
    return cls(  # type: ignore[no-any-return]
        layer.dim,
        list(layer.window_size),
        list(layer.shift_size),
        layer.num_heads,
        qkv_bias=layer.qkv_bias,
        proj_bias=layer.proj_bias,
    )


def swin_merging(layer: Any, v2: bool) -> nn.Module:
    """torchvision's PatchMerging (``v2``: PatchMergingV2) of a ``PatchMerging(V2)`` spec."""
    from torchvision.models import swin_transformer as sw

    return channels_last(sw.PatchMergingV2 if v2 else sw.PatchMerging)(layer.dim)  # type: ignore[no-any-return]


@cache
def _maxvit_class() -> type:
    from torchvision.models.maxvit import PartitionAttentionLayer

    def forward(self: Any, x: Tensor) -> Tensor:
        """Set the map size from the input (torchvision fixes it at construction; the
        parameters do not depend on it, only the grid's partition count does)."""
        _fix_buffers(self)
        h, w = int(x.shape[-2]), int(x.shape[-1])
        p = self.partition_size
        self.grid_size = (h, w)
        self.n_partitions = h // p
        if self.partition_type == "window":
            self.p, self.g = p, self.n_partitions
        else:
            self.p, self.g = self.n_partitions, p
        return PartitionAttentionLayer.forward(self, x)

    name = "BuiltPartitionAttentionLayer"
    return type(
        name,
        (PartitionAttentionLayer,),
        {"forward": forward, "__module__": __name__, "__qualname__": name},
    )


def maxvit_partition(layer: Any) -> nn.Module:
    """torchvision's PartitionAttentionLayer of a ``PartitionAttention`` spec."""
    p = layer.partition_size
    m = _maxvit_class()(
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
    m.partition_size = p
    return m  # type: ignore[no-any-return]


def _sync_timm(self: Any, size: tuple[int, int], attr: str) -> None:
    if getattr(self, attr) != size:
        setattr(self, attr, size)
        self._init_buffers()  # the shift mask for this size


@cache
def _timm_class(v2: bool, cr: bool) -> type:
    from timm.models import swin_transformer, swin_transformer_v2, swin_transformer_v2_cr

    if cr:
        base: Any = swin_transformer_v2_cr.SwinTransformerV2CrBlock
        attr = "feat_size"
    else:
        base = (
            swin_transformer_v2.SwinTransformerV2Block
            if v2
            else swin_transformer.SwinTransformerBlock
        )
        attr = "input_resolution"
    cls = channels_last(base)
    cls._sync_size = lambda self, size: _sync_timm(self, size, attr)  # type: ignore[attr-defined]
    return cls


def timm_swin_block(layer: Any, v2: bool) -> nn.Module:
    """timm's own SwinTransformerBlock (``v2``: SwinTransformerV2Block) of a
    ``TimmSwinBlock``/``TimmSwinV2Block`` spec, on ``(N, C, H, W)`` maps."""
    kw: dict[str, Any] = {} if v2 else {"qkv_bias": layer.qkv_bias}
    if layer.gelu_hooked:
        kw["act_layer"] = nn.GELU
    else:
        from timm.layers import get_act_layer

        kw["act_layer"] = get_act_layer("gelu")
    w = max(layer.window_size)
    block = _timm_class(v2, False)(
        layer.dim,
        (w, w),
        num_heads=layer.num_heads,
        window_size=layer.window_size,
        shift_size=max(layer.shift_size),
        mlp_ratio=layer.mlp_hidden / layer.dim,
        drop_path=layer.drop_path,
        always_partition=True,
        **kw,
    )
    block.shift_size = tuple(layer.shift_size)
    if not v2:
        block.attn.fused_attn = layer.fused
    return block  # type: ignore[no-any-return]


def timm_swin_cr_block(layer: Any) -> nn.Module:
    """timm's SwinTransformerV2CrBlock of a ``TimmSwinV2CrBlock`` spec, on ``(N, C, H, W)``
    maps, its meta network of the spec's width."""
    from timm.layers import Mlp

    w = max(layer.window_size)
    block = _timm_class(False, True)(
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
    # timm's block builds a 384-wide meta network: rebuilt with the spec's width
    block.attn.meta_mlp = Mlp(
        2,
        hidden_features=layer.meta_hidden,
        out_features=layer.num_heads,
        act_layer=nn.ReLU,
        drop=(layer.meta_dropout, 0.0),
    )
    return block  # type: ignore[no-any-return]
