"""RegNetY-400MF as torchvision builds it (``torchvision.models.regnet_y_400mf``):
4,344,144 params.

The stage table comes from RegNet's design space (Radosavovic et al. 2020) by
:func:`block_params`, torchvision's ``BlockParams.from_init_params`` in plain arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.graph import Builder, Model
from ..kinds import AdaptiveAvgPool2d, Add, Flatten, Linear, ReLU, Sigmoid
from .mobilenet import conv_norm_act, make_divisible, squeeze_excitation

__all__ = ["regnet_y", "block_params", "Stage", "SETTINGS"]

#: model -> (depth, w_0, w_a, w_m, group_width, se_ratio): torchvision's arguments to
#: ``BlockParams.from_init_params``
SETTINGS: dict[str, tuple[int, int, float, float, int, float | None]] = {
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8, 0.25),
}


@dataclass(frozen=True)
class Stage:
    """One RegNet stage: output width, blocks, group width of the 3×3 conv."""

    width: int
    depth: int
    group_width: int


def block_params(
    depth: int, w_0: int, w_a: float, w_m: float, group_width: int, bottleneck: float = 1.0
) -> list[Stage]:
    """torchvision's ``BlockParams.from_init_params``: block ``j`` has the continuous width
    ``w_0 + j · w_a``, snapped to ``w_0 · w_m^round(log(w_j / w_0) / log(w_m))`` and rounded to
    a multiple of 8; consecutive blocks of one width form a stage (stride 2 each); then
    group widths are capped by the bottleneck width and widths made divisible by them.

    >>> [(s.width, s.depth) for s in block_params(16, 48, 27.89, 2.09, 8)]
    [(48, 1), (104, 3), (208, 6), (440, 6)]
    """
    widths = []
    for j in range(depth):
        capacity = round(math.log((j * w_a + w_0) / w_0) / math.log(w_m))
        widths.append(round(w_0 * w_m**capacity / 8) * 8)
    stages: list[list[int]] = []
    for w in widths:
        if stages and stages[-1][0] == w:
            stages[-1][1] += 1
        else:
            stages.append([w, 1])
    out = []
    for w, n in stages:
        w_bot = int(w * bottleneck)
        g = min(group_width, w_bot)
        out.append(Stage(int(make_divisible(w_bot, g) / bottleneck), n, g))
    return out


def _block(
    b: Builder, p: str, cin: int, cout: int, stride: int, gw: int, se: float | None, x: str
) -> str:
    """torchvision's ``ResBottleneckBlock`` (bottleneck multiplier 1): ``p.proj`` 1×1
    Conv(stride)-BN where the shape changes; ``p.f`` = ``a`` 1×1 Conv-BN-ReLU, ``b`` 3×3
    grouped Conv(stride)-BN-ReLU (groups = width / group width), ``se`` squeeze-excitation
    (ReLU, Sigmoid; ``round(se_ratio · cin)`` squeeze channels), ``c`` 1×1 Conv-BN;
    ``p.add`` and ``p.activation``."""
    shortcut = x
    if cin != cout or stride != 1:
        shortcut = conv_norm_act(b, f"{p}.proj", cin, cout, 1, stride=stride, x=x)
    y = conv_norm_act(b, f"{p}.f.a", cin, cout, 1, act=ReLU(), x=x)
    y = conv_norm_act(
        b, f"{p}.f.b", cout, cout, 3, stride=stride, groups=cout // gw, act=ReLU(), x=y
    )
    if se:
        y = squeeze_excitation(b, f"{p}.f.se", cout, int(round(se * cin)), ReLU(), Sigmoid(), y)
    y = conv_norm_act(b, f"{p}.f.c", cout, cout, 1, x=y)
    b.add(f"{p}.add", Add(), shortcut, y)
    return b.add(f"{p}.activation", ReLU())


def regnet_y(name: str = "regnet_y_400mf", num_classes: int = 1000) -> Model:
    """torchvision's RegNetY (``torchvision.models.regnet_y_400mf``; the others by adding
    their line to :data:`SETTINGS`).

    ``stem`` Conv-BN-ReLU (3→32, stride 2); stages ``trunk_output.block1``-``blockN``, block
    ``trunk_output.blockS.blockS-i`` as in :func:`_block` (the first of each stage with
    stride 2); ``avgpool`` (AdaptiveAvgPool2d(1)), ``flatten`` (``x.flatten(start_dim=1)``
    in ``forward``), ``fc``.
    """
    if name not in SETTINGS:
        raise ValueError(f"regnet_y: name = {name!r}: must be one of {', '.join(SETTINGS)}")
    depth, w_0, w_a, w_m, group_width, se = SETTINGS[name]
    b = Builder(name, (3, 224, 224), f"RegNetY-{name.rsplit('_', 1)[1].upper()}, torchvision")
    x = conv_norm_act(b, "stem", 3, 32, 3, stride=2, act=ReLU())
    cin = 32
    for s, st in enumerate(block_params(depth, w_0, w_a, w_m, group_width), 1):
        for i in range(st.depth):
            p = f"trunk_output.block{s}.block{s}-{i}"
            x = _block(b, p, cin, st.width, 2 if i == 0 else 1, st.group_width, se, x)
            cin = st.width
    b.add("avgpool", AdaptiveAvgPool2d(1))
    b.add("flatten", Flatten())
    b.add("fc", Linear(cin, num_classes))
    return b.build(features=x)
