"""Swin-T as torchvision builds it (``torchvision.models.swin_t``): 28,288,354 params, 4.491
GFLOPS (torchvision's published figures)."""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.graph import Builder, Model
from ..kinds import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    Conv2d,
    Dropout,
    Flatten,
    LayerNorm2d,
    Linear,
    PatchMerging,
    ShiftedWindowAttention,
    StochasticDepth,
)

__all__ = ["swin_transformer", "swin_t"]


def swin_transformer(
    patch_size: int,
    embed_dim: int,
    depths: Sequence[int],
    num_heads: Sequence[int],
    window_size: int,
    stochastic_depth_prob: float,
    num_classes: int = 1000,
    image_size: int = 224,
    name: str = "swin_transformer",
) -> Model:
    """torchvision's ``SwinTransformer`` (Liu et al. 2021), node for node as
    ``archcalc.torch.from_torch`` imports it and named as torchvision names its modules.

    ``features.0``: Conv2d(3, C, P, stride P) (``.0``), the channels-last permute (a layout
    change, no node) and LayerNorm (``.2``). Stage ``i`` (``features.1``, ``.3``, ``.5``,
    ``.7``; ``C·2^i`` channels) has ``depths[i]`` blocks ``features.k.j``: ``norm1``,
    ``attn`` (:class:`ShiftedWindowAttention`; window ``w``, shift ``w // 2`` in odd
    blocks), ``stochastic_depth``, the residual ``add``; ``norm2``, ``mlp.0`` Linear(C, 4C),
    ``mlp.1`` GELU, ``mlp.2`` Dropout, ``mlp.3`` Linear(4C, C), ``mlp.4`` Dropout,
    ``stochastic_depth_1``, ``add_1``. Between stages ``features.2``, ``.4``, ``.6``:
    :class:`PatchMerging`. Then ``norm``, ``avgpool``, ``flatten`` and ``head``.
    Stochastic depth rises linearly from 0 to ``stochastic_depth_prob`` over the blocks.
    """
    b = Builder(name, (3, image_size, image_size), f"{name}, torchvision")
    b.add("features.0.0", Conv2d(3, embed_dim, patch_size, stride=patch_size))
    b.add("features.0.2", LayerNorm2d(embed_dim, exact_type=True))
    total, block = sum(depths), 0
    for i, depth in enumerate(depths):
        c, stage = embed_dim * 2**i, 2 * i + 1
        for j in range(depth):
            p = f"features.{stage}.{j}"
            sd = StochasticDepth(stochastic_depth_prob * float(block) / (total - 1))
            shift = 0 if j % 2 == 0 else window_size // 2
            x = b.last
            b.add(f"{p}.norm1", LayerNorm2d(c, exact_type=True))
            b.add(f"{p}.attn", ShiftedWindowAttention(c, num_heads[i], window_size, shift))
            b.add(f"{p}.stochastic_depth", sd)
            x = b.add(f"{p}.add", Add(), x, b.last, via="method")
            b.add(f"{p}.norm2", LayerNorm2d(c, exact_type=True))
            b.seq(
                f"{p}.mlp", [Linear(c, 4 * c), GELU(), Dropout(0.0), Linear(4 * c, c), Dropout(0.0)]
            )
            b.add(f"{p}.stochastic_depth_1", sd)
            b.add(f"{p}.add_1", Add(), x, b.last, via="method")
            block += 1
        if i < len(depths) - 1:
            b.add(f"features.{stage + 1}", PatchMerging(c))
    c = embed_dim * 2 ** (len(depths) - 1)
    b.add("norm", LayerNorm2d(c, exact_type=True))
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.add("head", Linear(c, num_classes))
    return b.build()


def swin_t(num_classes: int = 1000, image_size: int = 224) -> Model:
    """torchvision's ``swin_t``: patch 4, C = 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24),
    window 7, stochastic depth 0.2."""
    return swin_transformer(
        4, 96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 0.2, num_classes, image_size, name="swin_t"
    )
