"""ViT-B/16 as torchvision builds it (``torchvision.models.vit_b_16``): 86,567,656 params,
17.564 GFLOPS (torchvision's published figures)."""

from __future__ import annotations

from .._errors import SpecError
from ..engine.graph import Builder, Model
from ..kinds import (
    GELU,
    Add,
    ClassToken,
    Conv2d,
    Dropout,
    LayerNorm,
    Linear,
    MultiheadAttention,
    PositionEmbedding,
    SelectToken,
    Tokens,
)

__all__ = ["vision_transformer", "vit_b_16"]


def vision_transformer(
    image_size: int,
    patch_size: int,
    num_layers: int,
    num_heads: int,
    hidden_dim: int,
    mlp_dim: int,
    num_classes: int = 1000,
    name: str = "vision_transformer",
) -> Model:
    """torchvision's ``VisionTransformer`` (Dosovitskiy et al. 2021), node for node as
    ``archcalc.torch.from_torch`` imports it and named as torchvision names its modules.

    ``conv_proj``: Conv2d(3, D, P, stride P) cuts the image into ``(S/P)²`` patches;
    ``permute`` (:class:`Tokens`, torchvision's ``reshape`` + ``permute(0, 2, 1)``) reads
    them as tokens; ``class_token`` (:class:`ClassToken`, ``torch.cat`` of the expanded
    parameter) puts the learned token in front; ``encoder.pos_embedding``
    (:class:`PositionEmbedding`, ``input + self.pos_embedding``) and ``encoder.dropout``.
    Encoder layer ``encoder.layers.encoder_layer_i``: ``ln_1`` LayerNorm (eps 1e-6),
    ``self_attention`` (:class:`MultiheadAttention`, ``need_weights=False``), ``dropout``,
    the residual ``add``; ``ln_2``, ``mlp.0`` Linear(D, M), ``mlp.1`` GELU, ``mlp.2``
    Dropout, ``mlp.3`` Linear(M, D), ``mlp.4`` Dropout, the residual ``add_1``. Then
    ``encoder.ln``, ``getitem`` (:class:`SelectToken`, ``x[:, 0]``: the class token) and
    ``heads.head`` Linear(D, classes). Dropout probabilities are torchvision's defaults (0).
    """
    if image_size % patch_size:
        raise SpecError(
            field="image_size", value=image_size, reason=f"must be a multiple of {patch_size}"
        )
    d = hidden_dim
    length = (image_size // patch_size) ** 2 + 1
    b = Builder(name, (3, image_size, image_size), f"{name}, torchvision")
    b.add("conv_proj", Conv2d(3, d, patch_size, stride=patch_size))
    b.add("permute", Tokens(), via="method")
    b.add("class_token", ClassToken(d), via="function")
    b.add("encoder.pos_embedding", PositionEmbedding(length, d), via="method")
    x = b.add("encoder.dropout", Dropout(0.0))
    for i in range(num_layers):
        p = f"encoder.layers.encoder_layer_{i}"
        b.add(f"{p}.ln_1", LayerNorm(d, eps=1e-6))
        b.add(f"{p}.self_attention", MultiheadAttention(d, num_heads))
        b.add(f"{p}.dropout", Dropout(0.0))
        x = b.add(f"{p}.add", Add(), b.last, x, via="method")
        b.add(f"{p}.ln_2", LayerNorm(d, eps=1e-6))
        b.seq(
            f"{p}.mlp",
            [Linear(d, mlp_dim), GELU(), Dropout(0.0), Linear(mlp_dim, d), Dropout(0.0)],
        )
        x = b.add(f"{p}.add_1", Add(), x, b.last, via="method")
    b.add("encoder.ln", LayerNorm(d, eps=1e-6))
    b.add("getitem", SelectToken(0), via="method")
    b.add("heads.head", Linear(d, num_classes))
    return b.build()


def vit_b_16(num_classes: int = 1000, image_size: int = 224) -> Model:
    """torchvision's ``vit_b_16``: patch 16, 12 layers, 12 heads, hidden 768, MLP 3072."""
    return vision_transformer(image_size, 16, 12, 12, 768, 3072, num_classes, name="vit_b_16")
