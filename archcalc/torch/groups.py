"""Layer-wise learning rates for a real torch module (exam Q5): optimizer parameter groups
with ``η_l = η0·α^(L−l)`` and the first layers frozen.

Imports torch; ``import archcalc`` never imports this module. The layer rules are those of
:func:`archcalc.design.finetune`: layers are the convolution and linear modules in
registration order (``named_modules``); any other module with parameters of its own (a
norm, a scale) joins the layer before it.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Linear(8, 2))
>>> [(g["name"], g["lr"]) for g in param_groups(net, 0.1, 0.5)]
[('0', 0.05), ('2', 0.1)]
"""

from __future__ import annotations

from typing import Any

import torch

from .._errors import OptionError
from ..engine.groups import layer_groups, layer_rates, resolve_freeze
from .emit import registry

__all__ = ["param_groups"]


def _weighted(module: torch.nn.Module) -> bool:
    """Whether a kind that maps this module is weighted (convolutions, linear layers)."""
    return any(k.weighted for k in registry().module_kinds(module))


def param_groups(
    module: torch.nn.Module,
    lr0: Any,
    alpha: Any,
    freeze: int | str = 0,
    *,
    set_requires_grad: bool = True,
) -> list[dict[str, Any]]:
    """Parameter groups for ``torch.optim`` with layer-wise learning rates.

    Returns one group per trainable layer, ``{"params": [...], "lr": η_l, "layer": l,
    "name": the conv/linear module's name}``, for ``l = freeze + 1 … L``. ``freeze`` is a
    count of layers (negative: from the end) or a module name (every layer up to and
    including it). With ``set_requires_grad``, the frozen layers' parameters get
    ``requires_grad = False`` (so autograd keeps nothing for them). A parameter shared by
    two modules belongs to the first.
    """
    names: list[str] = []
    weighted: list[bool] = []
    owned: list[list[torch.nn.Parameter]] = []
    seen: set[int] = set()
    for name, mod in module.named_modules():
        params = [p for p in mod.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in params)
        names.append(name)
        weighted.append(_weighted(mod))
        owned.append(params)
    total = sum(weighted)
    if total == 0:
        raise OptionError(
            f"module {type(module).__name__}: no convolution or linear layer to group"
        )
    frozen = resolve_freeze(freeze, names, weighted, type(module).__name__)
    groups = layer_groups([bool(p) for p in owned], weighted)
    rates = layer_rates(total, lr0, alpha)
    heads = {g: nm for nm, g, w in zip(names, groups, weighted) if w}
    out: list[dict[str, Any]] = []
    for layer in range(1, total + 1):
        params = [p for ps, g in zip(owned, groups) if g == layer for p in ps]
        if layer <= frozen:
            if set_requires_grad:
                for p in params:
                    p.requires_grad_(False)
            continue
        out.append(
            {"params": params, "lr": float(rates[layer - 1]), "layer": layer, "name": heads[layer]}
        )
    return out
