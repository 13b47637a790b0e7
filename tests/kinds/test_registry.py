"""Every registered kind carries every rule: the registry test of issue 11.

A kind is one class in one module (:mod:`archcalc.kinds`); everything else reads it from
:data:`~archcalc.kinds.LAYER_KINDS`. :func:`problems` lists what a kind lacks (a quantity,
a foreign convention, a trait, its example, its torch side); the test fails for any kind
with a problem, and a deliberately incomplete kind shows that the check does fail.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from archcalc import UnsupportedError
from archcalc.kinds import GLOBAL, LAYER_KINDS, NO_INPUT, Extra, Layer, Windows, layer_from_dict
from archcalc.kinds._rules import (
    FOREIGN_RULES,
    convention_table,
    is_zero_rule,
    missing_rules,
    with_convention_table,
)

HEAD_ROLES = {None, "keep", "dense", "resize_pool"}
BATCH = 2

#: kinds that the importer maps outside the registry today (the reason says where)
IMPORT_OUTSIDE_REGISTRY = {
    "Flatten": "imported by the reshape handling of archcalc/torch/emit.py (nn.Flatten, "
    "view, reshape, flatten), not through Flatten.torch_modules/from_torch",
    "PerRow": "made by archcalc/torch/emit.py of a module the kinds map, called on a batch "
    "folded into the rows (N*k, ...): a wrapper of that module's kind",
    "Shared": "made by archcalc/torch/emit.py of a module called again: a wrapper of that "
    "module's kind whose parameters its first call counts",
}


def _overrides(cls: type, name: str) -> bool:
    """Whether ``cls`` defines ``name`` somewhere below the base class ``Layer``."""
    return any(name in vars(k) for k in cls.__mro__ if k is not Layer and issubclass(k, Layer))


def _number(x: Any) -> bool:
    return isinstance(x, (int, Fraction)) and not isinstance(x, bool)


def problems(cls: type[Layer]) -> list[str]:
    """What ``cls`` lacks; empty for a complete kind."""
    out = [f"no rule {m}" for m in missing_rules(cls)]
    for name in ("out_shape", "flops", "saved"):  # no base-class default (no silent 0)
        if not _overrides(cls, name):
            out.append(f"no {name}")
    for method in FOREIGN_RULES.values():
        rule = getattr(cls, method)
        if not (rule.__doc__ or "").strip():
            out.append(f"{method} cites no tool function (no docstring)")
        if is_zero_rule(rule) and not rule.zero_reason.strip():
            out.append(f"{method} is 0 without a reason")
    for trait in (
        "ptflops_hooked",
        "thop_hooked",
        "flattens",
        "classifier",
        "alias",
        "weighted",
        "operands_for_each_other",
        "grad_shared",
        "grad_views",
    ):
        if not isinstance(getattr(cls, trait), bool):
            out.append(f"trait {trait} is not a bool")
    if cls.head_role not in HEAD_ROLES:
        out.append(f"head_role {cls.head_role!r} not in {HEAD_ROLES}")
    if not _overrides(cls, "to_torch"):
        out.append("no to_torch")
    try:
        layer, ins = cls.example()
    except UnsupportedError:
        return [*out, "no example"]
    if type(layer) is not cls:
        out.append(f"example() gives a {type(layer).__name__}")
    if cls.arity is not None and len(ins) != cls.arity:
        out.append(f"example() gives {len(ins)} inputs for arity {cls.arity}")
    out_shape = layer.out_shape(ins)
    for q, v in (
        ("params", layer.params(ins)),
        ("buffers", layer.buffers(ins)),
        ("macs", layer.macs(ins, out_shape)),
        ("flops", layer.flops(ins, out_shape)),
    ):
        if not _number(v) or v < 0:
            out.append(f"{q} = {v!r}")
    for item in layer.saved(ins, out_shape, BATCH):
        if not (isinstance(item, Extra) or item == "out" or item in [f"in{i}" for i in range(9)]):
            out.append(f"saved item {item!r}")
    if len(ins) == 1:
        try:
            g = layer.geometry(ins, out_shape)
        except UnsupportedError as e:  # a field declined with its reason: a reported gap
            g = GLOBAL
            if not str(e).strip():
                out.append("geometry raises without a reason")
        # one step per spatial axis: two for a map, one for a sequence (C, L), none for a
        # vector (the receptive-field engine takes the rank it meets)
        if (
            g is not GLOBAL
            and g is not NO_INPUT
            and not (
                isinstance(g, tuple)
                and len(g) <= 2
                and all(isinstance(a, Windows) or len(a) == 3 for a in g)
            )
        ):
            out.append(f"geometry {g!r}")
    for method in FOREIGN_RULES.values():
        v = getattr(layer, method)(ins, out_shape, BATCH)
        if not _number(v) or v < 0:
            out.append(f"{method} = {v!r}")
    if layer_from_dict(layer.to_dict()) != layer:
        out.append("to_dict does not round-trip")
    return out


@pytest.mark.parametrize("kind", sorted(LAYER_KINDS))
def test_kind_has_every_rule(kind):
    assert problems(LAYER_KINDS[kind]) == []


@pytest.mark.parametrize("kind", sorted(LAYER_KINDS))
def test_kind_has_a_torch_import_mapping(kind):
    cls = LAYER_KINDS[kind]
    mapped = bool(cls.torch_modules or cls.torch_functions) and _overrides(cls, "from_torch")
    if kind in IMPORT_OUTSIDE_REGISTRY:
        assert not mapped, f"{kind} is mapped now: drop it from IMPORT_OUTSIDE_REGISTRY"
        pytest.xfail(IMPORT_OUTSIDE_REGISTRY[kind])
    assert mapped


def test_an_incomplete_kind_is_caught():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Swish3(Layer):  # not registered: a kind that forgot its conventions and example
        def out_shape(self, ins):
            return ins[0]

        def flops(self, ins, out):
            return 0

        def saved(self, ins, out, batch):
            return ("in0",)

    found = problems(Swish3)
    assert {f"no rule {m}" for m in FOREIGN_RULES.values()} <= set(found)
    assert "no example" in found and "no to_torch" in found
    with pytest.raises(UnsupportedError, match="Swish3: no rule for how thop counts"):
        Swish3().count_thop(((1, 2, 2),), (1, 2, 2), 1)


def test_a_missing_quantity_is_caught():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Half(Layer):
        pass

    assert {"no out_shape", "no flops", "no saved"} <= set(problems(Half))


def test_convention_table_has_a_row_per_kind():
    table = convention_table(LAYER_KINDS)
    rows = table.split("\n\n")[0].splitlines()[2:]
    assert [r.split(" | ")[0].lstrip("| ") for r in rows] == list(LAYER_KINDS)
    assert all(r.count(" | ") == len(FOREIGN_RULES) for r in rows)
    assert "conv_flop_jit" in table and "count_convNd" in table
    assert "conv_flops_counter_hook" in table


def test_docs_table_is_generated_from_the_registry():
    path = Path(__file__).parents[2] / "docs" / "conventions.md"
    text = path.read_text(encoding="utf-8")
    assert with_convention_table(text, LAYER_KINDS) == text, (
        "docs/conventions.md is stale: rewrite it with "
        "archcalc.kinds._rules.with_convention_table(text, LAYER_KINDS)"
    )
