"""Strict fields on one validation path (issue 15, item 2): every field of every kind.

A bool field takes only a bool, a number field only a finite number, a size only an integer
(or a pair, or a sympy symbol), a choice only one of its values; the error names the kind,
the field, the value (capped, with its length when cut) and what is valid.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import sympy

import archcalc
from archcalc import Conv2d, ConvTranspose2d, LeakyReLU, Linear, MaxPool2d, SpecError, Upsample
from archcalc.engine.shapes import symbol
from archcalc.kinds import LAYER_KINDS, layer_from_dict

#: a wrong value for each annotation, and what the message must say is valid
BAD = {
    "bool": ("false", "must be true or false"),
    "float": ("abc", "must be a finite number"),
    "str": (3, "must be"),
    "Any": ("abc", "must be"),
}


def _fields():
    for kind, cls in sorted(LAYER_KINDS.items()):
        layer, _ = cls.example()
        for f in dataclasses.fields(layer):
            yield pytest.param(kind, f.name, str(f.type), id=f"{kind}.{f.name}")


@pytest.mark.parametrize(("kind", "field", "annotation"), list(_fields()))
def test_every_field_rejects_a_wrong_type(kind, field, annotation):
    layer, _ = LAYER_KINDS[kind].example()
    bad, valid = BAD[annotation]
    with pytest.raises(SpecError, match=re.escape(f"{kind}.{field} = {bad!r}: {valid}")) as e:
        dataclasses.replace(layer, **{field: bad})
    assert e.value.field == f"{kind}.{field}" and e.value.value == bad
    # the same through plain data (spec files)
    data = {**layer.to_dict(), field: bad}
    with pytest.raises(SpecError, match=re.escape(f"{kind}.{field} = {bad!r}")):
        layer_from_dict(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Linear(10, 10, bias="no"), "Linear.bias = 'no': must be true or false"),
        (
            lambda: layer_from_dict(
                {"kind": "Linear", "in_features": 3, "out_features": 4, "bias": "false"}
            ),
            "Linear.bias = 'false': must be true or false",
        ),
        (
            lambda: ConvTranspose2d(3, 3, 3, bias="false"),
            "ConvTranspose2d.bias = 'false': must be true or false",
        ),
        (lambda: Conv2d(3, 3, 3, bias=1), "Conv2d.bias = 1: must be true or false"),
        (lambda: MaxPool2d(2, ceil_mode=0), "MaxPool2d.ceil_mode = 0: must be true or false"),
        (
            lambda: LeakyReLU("abc"),
            "LeakyReLU.negative_slope = 'abc': must be a finite number",
        ),
        (lambda: LeakyReLU(True), "LeakyReLU.negative_slope = True: must be a finite number"),
        (
            lambda: LeakyReLU(float("inf")),
            "LeakyReLU.negative_slope = inf: must be a finite number",
        ),
        (
            lambda: Upsample(2, mode="cubic"),
            "Upsample.mode = 'cubic': must be one of 'nearest', 'bilinear'",
        ),
    ],
)
def test_issue_15_cases(make, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        make()


def test_long_values_are_echoed_capped_with_their_length():
    value = "x" * 100_000
    with pytest.raises(SpecError) as e:
        LeakyReLU(value)
    text = str(e.value)
    assert len(text) < 200
    assert "(100,002 characters)" in text  # repr adds the two quotes
    with pytest.raises(SpecError) as e:
        layer_from_dict({"kind": "y" * 5000})
    assert "(5,002 characters)" in str(e.value) and len(str(e.value)) < 1000


def test_valid_values_still_pass():
    assert LeakyReLU(0).negative_slope == 0
    assert LeakyReLU(0.2).negative_slope == 0.2
    assert Linear(3, 4, bias=False).params(((3,),)) == 3 * 4
    assert Upsample(2, mode="bilinear").mode == "bilinear"


def test_symbolic_kernel_on_a_numeric_input():
    # a symbolic kernel size is allowed (the exam derives formulas with one); on a numeric
    # input every figure is a formula in k, not "cannot determine truth value of Relational"
    k = symbol("k")
    m = archcalc.sequential("c", [Conv2d(3, 8, k, bias=False)], input_shape=(3, 32, 32))
    s = archcalc.summary(m)
    # output 8 × (33 − k)², each 3·k² MACs; FLOPs twice that
    assert sympy.expand(s.flops - 2 * 8 * (33 - k) ** 2 * 3 * k**2) == 0
    num = archcalc.summary(
        archcalc.sequential("c", [Conv2d(3, 8, 5, bias=False)], input_shape=(3, 32, 32))
    )
    assert sympy.sympify(s.memory.peak_inference_bytes).subs(k, 5) == (
        num.memory.peak_inference_bytes
    )
