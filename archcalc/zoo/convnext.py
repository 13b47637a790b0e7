"""ConvNeXt-Tiny as torchvision builds it (``torchvision.models.convnext_tiny``):
28,589,128 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    Conv2d,
    Flatten,
    LayerNorm2d,
    LayerScale,
    Linear,
    StochasticDepth,
)

__all__ = ["convnext_tiny"]

#: (channels, blocks) of the four stages of ConvNeXt-T
_TINY = [(96, 3), (192, 3), (384, 9), (768, 3)]


def convnext_tiny(num_classes: int = 1000, stochastic_depth_prob: float = 0.1) -> Model:
    """torchvision's ConvNeXt-T (Liu et al. 2022), ``torchvision.models.convnext_tiny``.

    Stem ``features.0``: Conv2d(3, 96, 4, stride 4, bias) + LayerNorm2d. Stages
    ``features.1/3/5/7`` of 3, 3, 9, 3 CNBlocks; downsampling ``features.2/4/6``:
    LayerNorm2d + Conv2d(k=2, s=2). A CNBlock ``features.s.k``: ``block.0`` 7×7 depthwise
    conv (bias), ``block.2`` LayerNorm (eps 1e-6), ``block.3`` Linear(C, 4C), ``block.4``
    GELU, ``block.5`` Linear(4C, C), then ``layer_scale`` (the C×1×1 parameter,
    :class:`LayerScale`), ``stochastic_depth`` (row mode, probability 0.1 · i / 17 for block
    i = 0..17, torchvision's linear rule) and the residual ``add``. Head: ``avgpool``
    (AdaptiveAvgPool2d(1)), ``classifier.0`` LayerNorm2d on the 768×1×1 map,
    ``classifier.1`` Flatten, ``classifier.2`` Linear(768, classes).

    Notes: torchvision's ``block.1`` / ``block.6`` Permute modules (NCHW ↔ NHWC) are views
    with no layer kind and are dropped, so ``block.2`` normalises and ``block.3``/``block.5``
    act on the channels of the (C, H, W) map directly (channels-last ``nn.Linear`` and
    ``nn.LayerNorm`` on the permuted map are LayerNorm2d and a channel-wise Linear).
    """
    b = Builder("convnext_tiny", (3, 224, 224), "ConvNeXt-Tiny, torchvision")
    c0 = _TINY[0][0]
    b.seq("features.0", [Conv2d(3, c0, 4, stride=4, bias=True), LayerNorm2d(c0)])
    total = sum(n for _, n in _TINY)
    block_id = 0
    idx = 1
    for stage, (c, n) in enumerate(_TINY):
        for k in range(n):
            sd_prob = stochastic_depth_prob * block_id / (total - 1.0)
            block_id += 1
            p = f"features.{idx}.{k}"
            x = b.last
            b.seq(
                f"{p}.block",
                [
                    ("0", Conv2d(c, c, 7, padding=3, groups=c, bias=True)),
                    ("2", LayerNorm2d(c, exact_type=True)),  # nn.LayerNorm, channels last
                    ("3", Linear(c, 4 * c)),
                    ("4", GELU()),
                    ("5", Linear(4 * c, c)),
                ],
            )
            b.add(f"{p}.layer_scale", LayerScale(c))
            b.add(f"{p}.stochastic_depth", StochasticDepth(sd_prob))
            b.add(f"{p}.add", Add(), b.last, x)
        idx += 1
        if stage + 1 < len(_TINY):
            c_next = _TINY[stage + 1][0]
            b.seq(f"features.{idx}", [LayerNorm2d(c), Conv2d(c, c_next, 2, stride=2)])
            idx += 1
    features = b.last
    c = _TINY[-1][0]
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.seq("classifier", [LayerNorm2d(c), Flatten(), Linear(c, num_classes)])
    return b.build(features=features)
