"""Bad arguments raise ArchcalcError subclasses that are also the builtin Python expects:
a value of the wrong type is a TypeError, a bad value of the right type a ValueError."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import ArchcalcError, Linear, ReLU, sequential


@pytest.mark.parametrize(
    "call",
    [
        lambda: archcalc.summary("alexnet", dtype=["float32"]),
        lambda: archcalc.summary("alexnet", head=3),
        lambda: archcalc.summary("alexnet", batch=[1]),
        lambda: archcalc.summary("alexnet", classes="ten"),
        lambda: archcalc.summary(5),
        lambda: sequential("x", [ReLU(), 5], input_shape=(3, 8, 8)),
        lambda: sequential("x", ["relu"], input_shape=(3, 8, 8)),
        lambda: Linear(10, 10, bias="no"),
        lambda: archcalc.LeakyReLU(negative_slope="abc"),
        lambda: archcalc.Conv2d(3, 8, "3"),
    ],
    ids=[
        "dtype-list",
        "head-int",
        "batch-list",
        "classes-str",
        "model-int",
        "layer-int",
        "layer-str",
        "bias-str",
        "slope-str",
        "kernel-str",
    ],
)
def test_a_wrong_type_is_a_type_error(call):
    with pytest.raises(ArchcalcError) as e:
        call()
    assert isinstance(e.value, TypeError), type(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: archcalc.summary("alexnet", dtype="f32"),
        lambda: archcalc.summary("alexnet", batch=0),
        lambda: archcalc.summary("alexnet", classes=0),
        lambda: archcalc.Conv2d(3, 8, 0),
        lambda: archcalc.LeakyReLU(negative_slope=float("inf")),
    ],
    ids=["dtype-name", "batch-0", "classes-0", "kernel-0", "slope-inf"],
)
def test_a_bad_value_of_the_right_type_is_a_value_error_only(call):
    with pytest.raises(ArchcalcError) as e:
        call()
    assert isinstance(e.value, ValueError) and not isinstance(e.value, TypeError), type(e.value)
