"""SqueezeNet 1.0 and 1.1 as torchvision builds them (``torchvision.models.squeezenet``):
1,248,424 / 1,235,496 params.
"""

from __future__ import annotations

from .._errors import SpecError
from ..engine.graph import Builder, Model
from ..kinds import AdaptiveAvgPool2d, Concat, Conv2d, Dropout, Flatten, MaxPool2d, ReLU

__all__ = ["squeezenet", "FIRES"]

#: ``features`` of each version, by position: ("conv", out, kernel) a stride-2 conv with bias,
#: ("relu",), ("pool",) a 3×3/2 ceil-mode max pool, ("fire", squeeze, expand1x1, expand3x3)
FIRES: dict[str, list[tuple[str | int, ...]]] = {
    "1_0": [
        ("conv", 96, 7),
        ("relu",),
        ("pool",),
        ("fire", 16, 64, 64),
        ("fire", 16, 64, 64),
        ("fire", 32, 128, 128),
        ("pool",),
        ("fire", 32, 128, 128),
        ("fire", 48, 192, 192),
        ("fire", 48, 192, 192),
        ("fire", 64, 256, 256),
        ("pool",),
        ("fire", 64, 256, 256),
    ],
    "1_1": [
        ("conv", 64, 3),
        ("relu",),
        ("pool",),
        ("fire", 16, 64, 64),
        ("fire", 16, 64, 64),
        ("pool",),
        ("fire", 32, 128, 128),
        ("fire", 32, 128, 128),
        ("pool",),
        ("fire", 48, 192, 192),
        ("fire", 48, 192, 192),
        ("fire", 64, 256, 256),
        ("fire", 64, 256, 256),
    ],
}


def _fire(b: Builder, p: str, cin: int, sq: int, e1: int, e3: int, x: str) -> str:
    """torchvision's ``Fire``: squeeze 1×1 conv + ReLU, then expand1x1 (1×1) and expand3x3
    (3×3, padding 1), each with its ReLU, concatenated as ``p.cat``."""
    b.add(f"{p}.squeeze", Conv2d(cin, sq, 1), x)
    s = b.add(f"{p}.squeeze_activation", ReLU())
    b.add(f"{p}.expand1x1", Conv2d(sq, e1, 1), s)
    a = b.add(f"{p}.expand1x1_activation", ReLU())
    b.add(f"{p}.expand3x3", Conv2d(sq, e3, 3, padding=1), s)
    c = b.add(f"{p}.expand3x3_activation", ReLU())
    return b.add(f"{p}.cat", Concat(), a, c)


def squeezenet(version: str = "1_0", num_classes: int = 1000) -> Model:
    """torchvision's SqueezeNet (Iandola et al. 2016), ``torchvision.models.squeezenet1_0`` /
    ``squeezenet1_1`` (``version`` ``"1_0"`` or ``"1_1"``).

    Input 3×224×224. ``features.0`` conv (1.0: 7×7/2 to 96; 1.1: 3×3/2 to 64, no padding,
    with bias) and ``features.1`` ReLU, then 3×3/2 max pools with ``ceil_mode=True`` and
    Fire modules ``features.i`` as in :func:`_fire`; the last Fire's concatenation
    (512×13×13 at 224) is the feature map. ``classifier``: Dropout(0.5), Conv2d(512,
    classes, 1), ReLU, AdaptiveAvgPool2d(1), then ``flatten``.
    """
    if version not in FIRES:
        raise SpecError(f"squeezenet version = {version!r}: must be '1_0' or '1_1'")
    name = f"squeezenet{version}"
    b = Builder(name, (3, 224, 224), f"SqueezeNet {version.replace('_', '.')}, torchvision")
    x = "input"
    cin = 3
    for i, item in enumerate(FIRES[version]):
        p = f"features.{i}"
        if item[0] == "conv":
            _, cout, k = item
            assert isinstance(cout, int) and isinstance(k, int)
            x = b.add(p, Conv2d(cin, cout, k, stride=2), x)
            cin = cout
        elif item[0] == "relu":
            x = b.add(p, ReLU(), x)
        elif item[0] == "pool":
            x = b.add(p, MaxPool2d(3, 2, ceil_mode=True), x)
        else:
            _, sq, e1, e3 = item
            assert isinstance(sq, int) and isinstance(e1, int) and isinstance(e3, int)
            x = _fire(b, p, cin, sq, e1, e3, x)
            cin = e1 + e3
    b.seq(
        "classifier",
        [Dropout(0.5), Conv2d(512, num_classes, 1), ReLU(), AdaptiveAvgPool2d(1)],
        x,
    )
    b.add("flatten", Flatten())
    return b.build(features=x)
