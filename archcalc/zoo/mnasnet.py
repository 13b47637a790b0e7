"""MNASNet 1.0 as torchvision builds it (``torchvision.models.mnasnet1_0``): 4,383,312 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import (
    Add,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Layer,
    Linear,
    ReLU,
)

__all__ = ["mnasnet", "round_to_multiple_of"]

#: kernel, first stride, expansion factor, repeats of the six stacks ``layers.8``-``layers.13``
_STACKS = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1)]
#: channel depths at width 1.0: stem, stem projection, the six stacks' outputs
_DEPTHS = (32, 16, 24, 40, 80, 96, 192, 320)


def round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """torchvision's ``_round_to_multiple_of``: the nearest multiple of ``divisor`` (at
    least ``divisor``), one step up when that is below ``round_up_bias · val``.

    >>> round_to_multiple_of(83, 8), round_to_multiple_of(84, 8)
    (80, 88)
    """
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _inverted_residual(
    b: Builder, p: str, cin: int, cout: int, kernel: int, stride: int, factor: int, x: str
) -> str:
    """torchvision's ``_InvertedResidual``: ``p.layers`` 1×1 Conv-BN-ReLU to ``cin · factor``,
    k×k depthwise Conv(stride)-BN-ReLU, 1×1 Conv-BN; ``p.add`` (``self.layers(input) +
    input``) where stride is 1 and channels are unchanged."""
    mid = cin * factor
    layers: list[Layer] = [
        Conv2d(cin, mid, 1, bias=False),
        BatchNorm2d(mid),
        ReLU(),
        Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False),
        BatchNorm2d(mid),
        ReLU(),
        Conv2d(mid, cout, 1, bias=False),
        BatchNorm2d(cout),
    ]
    y = b.seq(f"{p}.layers", layers, x)
    if stride == 1 and cin == cout:
        y = b.add(f"{p}.add", Add(), y, x)
    return y


def mnasnet(alpha: float = 1.0, num_classes: int = 1000, dropout: float = 0.2) -> Model:
    """torchvision's MNASNet-B1 (Tan et al. 2019), ``torchvision.models.mnasnet1_0`` (and
    0_5/0_75/1_3 through ``alpha``).

    One ``layers`` Sequential: ``layers.0``-``layers.2`` Conv-BN-ReLU (3→32, stride 2),
    ``layers.3``-``layers.5`` 3×3 depthwise Conv-BN-ReLU, ``layers.6``-``layers.7`` 1×1
    Conv-BN to 16; the stacks ``layers.8``-``layers.13`` of inverted residuals
    ``layers.S.i`` (:func:`_inverted_residual`); ``layers.14``-``layers.16`` 1×1 Conv-BN-ReLU
    to 1280. ``x.mean([2, 3])`` in ``forward`` (``mean`` and ``mean_flatten``), then
    ``classifier.0`` Dropout(0.2) and ``classifier.1`` Linear. Depths are
    ``_round_to_multiple_of(d · alpha, 8)``.
    """
    d = [round_to_multiple_of(c * alpha, 8) for c in _DEPTHS]
    tag = f"{alpha:.2f}".rstrip("0").rstrip(".").replace(".", "_")
    tag = tag if "_" in tag else f"{tag}_0"
    b = Builder(f"mnasnet{tag}", (3, 224, 224), f"MNASNet {alpha}, torchvision")
    stem: list[Layer] = [
        Conv2d(3, d[0], 3, stride=2, padding=1, bias=False),
        BatchNorm2d(d[0]),
        ReLU(),
        Conv2d(d[0], d[0], 3, padding=1, groups=d[0], bias=False),
        BatchNorm2d(d[0]),
        ReLU(),
        Conv2d(d[0], d[1], 1, bias=False),
        BatchNorm2d(d[1]),
    ]
    x = b.seq("layers", stem)
    cin = d[1]
    for s, ((k, stride, factor, n), cout) in enumerate(zip(_STACKS, d[2:]), 8):
        for i in range(n):
            x = _inverted_residual(
                b, f"layers.{s}.{i}", cin, cout, k, stride if i == 0 else 1, factor, x
            )
            cin = cout
    b.add("layers.14", Conv2d(cin, 1280, 1, bias=False), x)
    b.add("layers.15", BatchNorm2d(1280))
    features = b.add("layers.16", ReLU())
    b.add("mean", GlobalAvgPool(op="mean"))
    b.add("mean_flatten", Flatten())
    b.seq("classifier", [Dropout(dropout), Linear(1280, num_classes)])
    return b.build(features=features)
