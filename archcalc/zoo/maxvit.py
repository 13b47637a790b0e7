"""MaxViT-T as torchvision builds it (``torchvision.models.maxvit_t``): 30,919,624 params,
5.558 GFLOPS (torchvision's published figures)."""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.graph import Builder, Model
from ..kinds import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    Identity,
    LayerNorm2d,
    Linear,
    Mul,
    PartitionAttention,
    Sigmoid,
    SiLU,
    StochasticDepth,
    Tanh,
)

__all__ = ["maxvit", "maxvit_t"]


def _linspace(stop: float, n: int) -> list[float]:
    """``numpy.linspace(0, stop, n).tolist()`` (torchvision's stochastic-depth schedule):
    ``i · (stop / (n − 1))``, the last exactly ``stop``."""
    step = stop / (n - 1)
    return [i * step for i in range(n - 1)] + [stop]


def _mbconv(b: Builder, p: str, cin: int, cout: int, stride: int, sd: float) -> None:
    """torchvision's MBConv: the projection (``proj``: 3×3 average pool of stride 2 and a
    1×1 conv when the stride or the width changes), pre-norm, 1×1 expansion ×4, 3×3
    depthwise of stride ``stride``, squeeze-excitation (``C/4`` of the output width, SiLU,
    sigmoid gate), 1×1 projection, stochastic depth and the residual add."""
    x = b.last
    if stride != 1 or cin != cout:
        if stride == 2:
            b.add(f"{p}.proj.0", AvgPool2d(3, stride=2, padding=1), x)
            b.add(f"{p}.proj.1", Conv2d(cin, cout, 1))
        else:
            b.add(f"{p}.proj.0", Conv2d(cin, cout, 1), x)
    else:
        # torch's nn.Identity returns its input: the importer reads the layers from it
        x = b.add(f"{p}.proj", Identity(), x)
    res = b.last
    mid, sqz = 4 * cout, cout // 4
    q = f"{p}.layers"
    b.add(f"{q}.pre_norm", BatchNorm2d(cin), x)
    b.seq(f"{q}.conv_a", [Conv2d(cin, mid, 1, bias=False), BatchNorm2d(mid), GELU()])
    b.seq(
        f"{q}.conv_b",
        [
            Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False),
            BatchNorm2d(mid),
            GELU(),
        ],
    )
    dw = b.last
    s = f"{q}.squeeze_excitation"
    b.seq(
        s,
        [
            ("avgpool", AdaptiveAvgPool2d(1)),
            ("fc1", Conv2d(mid, sqz, 1)),
            ("activation", SiLU()),
            ("fc2", Conv2d(sqz, mid, 1)),
            ("scale_activation", Sigmoid()),
        ],
    )
    b.add(f"{s}.mul", Mul(), b.last, dw, via="method")
    b.add(f"{q}.conv_c", Conv2d(mid, cout, 1))
    b.add(f"{p}.stochastic_depth", StochasticDepth(sd) if sd else Identity())
    b.add(f"{p}.add", Add(), res, b.last, via="method")


def maxvit(
    stem_channels: int,
    block_channels: Sequence[int],
    block_layers: Sequence[int],
    head_dim: int,
    stochastic_depth_prob: float,
    partition_size: int = 7,
    num_classes: int = 1000,
    image_size: int = 224,
    name: str = "maxvit",
) -> Model:
    """torchvision's ``MaxVit`` (Tu et al. 2022), node for node as
    ``archcalc.torch.from_torch`` imports it and named as torchvision names its modules.

    ``stem``: Conv2d 3×3 stride 2 + BatchNorm + GELU, Conv2d 3×3 with bias. Block ``i``
    (``blocks.i``) has ``block_layers[i]`` layers ``blocks.i.layers.j.layers``: ``MBconv``
    (stride 2 in the first layer), ``window_attention`` and ``grid_attention``
    (:class:`PartitionAttention`: P × P blocks, then a P × P grid, each with its MLP).
    Then ``classifier``: average pool, flatten, LayerNorm, Linear, Tanh, Linear without
    bias. Stochastic depth rises linearly from 0 to ``stochastic_depth_prob`` over the
    layers (none in the first).
    """
    b = Builder(name, (3, image_size, image_size), f"{name}, torchvision")
    b.seq(
        "stem.0",
        [
            Conv2d(3, stem_channels, 3, stride=2, padding=1, bias=False),
            BatchNorm2d(stem_channels),
            GELU(),
        ],
    )
    b.add("stem.1.0", Conv2d(stem_channels, stem_channels, 3, padding=1))
    sds = _linspace(stochastic_depth_prob, sum(block_layers))
    cin, k = stem_channels, 0
    for i, (cout, n) in enumerate(zip(block_channels, block_layers)):
        for j in range(n):
            p = f"blocks.{i}.layers.{j}.layers"
            _mbconv(b, f"{p}.MBconv", cin if j == 0 else cout, cout, 2 if j == 0 else 1, sds[k])
            for kind in ("window", "grid"):
                attn = PartitionAttention(cout, head_dim, partition_size, kind, 4, sds[k])
                b.add(f"{p}.{kind}_attention", attn)
            k += 1
        cin = cout
    c = block_channels[-1]
    b.seq(
        "classifier",
        [
            AdaptiveAvgPool2d(1),
            Flatten(),
            LayerNorm2d(c, exact_type=True),  # nn.LayerNorm on the pooled vector
            Linear(c, c),
            Tanh(),
            Linear(c, num_classes, bias=False),
        ],
    )
    return b.build()


def maxvit_t(num_classes: int = 1000, image_size: int = 224) -> Model:
    """torchvision's ``maxvit_t``: stem 64, blocks (64, 128, 256, 512) × (2, 2, 5, 2)
    layers, head_dim 32, partition 7, stochastic depth 0.2."""
    return maxvit(
        64, (64, 128, 256, 512), (2, 2, 5, 2), 32, 0.2, 7, num_classes, image_size, name="maxvit_t"
    )
