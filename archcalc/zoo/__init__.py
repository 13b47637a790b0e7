"""The zoo: builders that mirror torchvision's reference architectures layer for layer,
and the exam's own networks. Builders are pure functions returning a
:class:`~archcalc.engine.graph.Model`; modules are imported only when a model is asked for.

>>> from archcalc import zoo
>>> "resnet50" in zoo.names()
True
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from functools import cache

from .._errors import UnknownModelError
from ..engine.graph import Model

__all__ = ["names", "get", "REGISTRY", "unknown_message"]

#: model name -> (module in archcalc.zoo, builder function, keyword arguments)
REGISTRY: dict[str, tuple[str, str, dict[str, object]]] = {
    "alexnet": ("alexnet", "alexnet", {}),
    **{
        f"vgg{d}{bn}": ("vgg", "vgg", {"depth": d, "batch_norm": bool(bn)})
        for d in (11, 13, 16, 19)
        for bn in ("", "_bn")
    },
    **{f"resnet{d}": ("resnet", "resnet", {"depth": d}) for d in (18, 34, 50, 101, 152)},
    "resnext50_32x4d": (
        "resnet",
        "resnet",
        {"depth": 50, "groups": 32, "width_per_group": 4, "name": "resnext50_32x4d"},
    ),
    "wide_resnet50_2": (
        "resnet",
        "resnet",
        {"depth": 50, "width_per_group": 128, "name": "wide_resnet50_2"},
    ),
    "squeezenet1_0": ("squeezenet", "squeezenet", {"version": "1_0"}),
    "squeezenet1_1": ("squeezenet", "squeezenet", {"version": "1_1"}),
    "mobilenet_v2": ("mobilenet", "mobilenet_v2", {}),
    "mobilenet_v3_large": ("mobilenet", "mobilenet_v3", {"arch": "large"}),
    "mobilenet_v3_small": ("mobilenet", "mobilenet_v3", {"arch": "small"}),
    "efficientnet_b0": ("efficientnet", "efficientnet_b0", {}),
    "convnext_tiny": ("convnext", "convnext_tiny", {}),
    "googlenet": ("googlenet", "googlenet", {}),
    "densenet121": ("densenet", "densenet121", {}),
    "shufflenet_v2_x1_0": ("shufflenet", "shufflenet_v2", {"width": "x1_0"}),
    "regnet_y_400mf": ("regnet", "regnet_y", {"name": "regnet_y_400mf"}),
    "mnasnet1_0": ("mnasnet", "mnasnet", {"alpha": 1.0}),
    "efficientnet_v2_s": ("efficientnet_v2", "efficientnet_v2_s", {}),
    "vit_b_16": ("vit", "vit_b_16", {}),
    "swin_t": ("swin", "swin_t", {}),
    "maxvit_t": ("maxvit", "maxvit_t", {}),
    "exam_q4b": ("exam", "q4b_schedule", {}),
    "exam_q7a": ("exam", "q7a_network", {}),
}


def names() -> list[str]:
    """Every zoo model name, in registry order."""
    return list(REGISTRY)


def unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name, names(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return (
        f"model = {name!r}: not in the zoo and not a spec file (.yaml/.yml/.toml){hint} "
        f"`archcalc models` lists the zoo"
    )


@cache
def get(name: str) -> Model:
    """Build the zoo model ``name`` (cached; models are immutable)."""
    try:
        module, fn, kwargs = REGISTRY[name]
    except KeyError:
        raise UnknownModelError(unknown_message(name)) from None
    builder: Callable[..., Model] = getattr(importlib.import_module(f".{module}", __name__), fn)
    return builder(**kwargs)
