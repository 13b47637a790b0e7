"""The tensors autograd keeps, one by one (``SavedWalk(detail=True)``, ``Summary.saved_tensors``):
labels, elements and bytes derived by hand from the kinds' ``saved`` rules
(docs/conventions.md, "Activation memory"), and the law that the listed bytes add up to the
``saved_for_backward`` figure, node by node and in total, for every zoo model. Torch-free.
"""

from __future__ import annotations

import pytest
import sympy

import archcalc
from archcalc import (
    BatchNorm2d,
    Builder,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Mul,
    ReLU,
    sequential,
    zoo,
)
from archcalc.engine.graph import INPUT
from archcalc.engine.memory import SavedTensor, itemsize, memory_report, saved_by_node
from archcalc.engine.shapes import infer_shapes


def _conv_bn_relu_pool() -> archcalc.Model:
    return sequential(
        "cbrp",
        [Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), ReLU(), MaxPool2d(2)],
        input_shape=(1, 4, 4),
    )


def _listed(m: archcalc.Model, batch: int, size: int, **kw) -> list[SavedTensor]:
    sw = saved_by_node(m, infer_shapes(m), batch, size, detail=True, **kw)
    return [t for rows in sw.listed for t in rows]


def test_conv_bn_relu_maxpool_float32_batch_2() -> None:
    # batch 2, float32 (4 B); input 1x4x4, conv output 2x4x4, pool output 2x2x2.
    # conv (has parameters: records) keeps its input, the model input: 2*1*4*4 = 32 el, 128 B
    # bn keeps its input (the conv output): 2*2*4*4 = 64 el, 256 B; running mean and var,
    #   2*C = 4 el in the activation dtype, 16 B (a module buffer, counted as the rule says);
    #   batch mean and invstd, 2*C = 4 el in the accumulate dtype max(4, 4) = 4 B: 16 B
    # relu keeps its output: 64 el, 256 B
    # maxpool keeps its input, the relu output, already kept by relu: 0 B; and int64 argmax
    #   indices, one per output element: 2*2*2*2 = 16 el * 8 B = 128 B
    m = _conv_bn_relu_pool()
    assert _listed(m, 2, 4) == [
        SavedTensor("0", "Conv2d", "input 0 (input)", 32, 32 * 4),
        SavedTensor("1", "BatchNorm2d", "input 0 (0)", 64, 64 * 4),
        SavedTensor("1", "BatchNorm2d", "running stats (module buffer)", 4, 4 * 4),
        SavedTensor("1", "BatchNorm2d", "batch mean/invstd", 4, 4 * 4),
        SavedTensor("2", "ReLU", "output", 64, 64 * 4),
        SavedTensor("3", "MaxPool2d", "input 0 (2)", 64, 0, kept_by="2"),
        SavedTensor("3", "MaxPool2d", "argmax indices", 16, 16 * 8),
    ]
    # element counts are whole numbers (bytes // itemsize), not 32.0
    assert all(type(t.elements) is int for t in _listed(m, 2, 4))
    total = 128 + (256 + 16 + 16) + 256 + (0 + 128)
    assert memory_report(m, infer_shapes(m), batch=2).saved_for_backward_bytes == total


def test_float16_statistics_stay_float32() -> None:
    # float16 (2 B), batch 1: conv input 16 el * 2 = 32 B; bn input 32 el * 2 = 64 B, running
    # stats 4 el * 2 = 8 B (activation dtype), batch mean/invstd 4 el * max(4, 2) = 16 B;
    # relu output 32 el * 2 = 64 B; pool indices 8 el * 8 = 64 B (int64 whatever the dtype)
    got = [(t.tensor, t.elements, t.bytes) for t in _listed(_conv_bn_relu_pool(), 1, 2)]
    assert got == [
        ("input 0 (input)", 16, 16 * 2),
        ("input 0 (0)", 32, 32 * 2),
        ("running stats (module buffer)", 4, 4 * 2),
        ("batch mean/invstd", 4, 4 * 4),
        ("output", 32, 32 * 2),
        ("input 0 (2)", 32, 0),
        ("argmax indices", 8, 8 * 8),
    ]


def test_layers_before_the_first_parameter_keep_nothing_unless_the_input_needs_grad() -> None:
    # relu reads the model input, which does not require grad, and has no parameters: autograd
    # does not record it. The linear (after a view: flatten owns no storage) keeps its input,
    # which lives in the relu's output: 1*4 el, 16 B.
    m = sequential("r", [ReLU(), Flatten(), Linear(4, 3)], input_shape=(1, 2, 2))
    assert _listed(m, 1, 4) == [SavedTensor("2", "Linear", "input 0 (1)", 4, 16)]
    # with input_requires_grad the relu records and keeps its output first (16 B); the linear
    # reads the same storage through the view: listed, 0 B, kept by the relu
    assert _listed(m, 1, 4, input_requires_grad=True) == [
        SavedTensor("0", "ReLU", "output", 4, 16),
        SavedTensor("2", "Linear", "input 0 (1)", 4, 0, kept_by="0"),
    ]


def test_a_product_lists_only_the_operands_another_gradient_needs() -> None:
    # a = conv(input) requires grad, the model input does not. mul = a * input keeps an
    # operand only for the other's gradient: input 1 (the model input, for a's gradient),
    # already kept by the conv (which keeps its input): 0 B; not input 0 (a), since the
    # model input needs no gradient. The conv keeps the input: 1*2*2 = 4 el, 16 B.
    b = Builder("prod", (1, 2, 2))
    b.add("a", Conv2d(1, 1, 1), INPUT)
    b.add("mul", Mul(), "a", INPUT)
    assert _listed(b.build(), 1, 4) == [
        SavedTensor("a", "Conv2d", "input 0 (input)", 4, 16),
        SavedTensor("mul", "Mul", "input 1 (input)", 4, 0, kept_by="a"),
    ]


def test_a_square_keeps_its_one_operand_once() -> None:
    # sq = a * a: both operands are the conv output (4 el, 16 B), each kept for the other's
    # gradient; one storage, counted at its first listing, the second says so
    b = Builder("square", (1, 2, 2))
    b.add("a", Conv2d(1, 1, 1), INPUT)
    b.add("sq", Mul(), "a", "a")
    assert _listed(b.build(), 1, 4) == [
        SavedTensor("a", "Conv2d", "input 0 (input)", 4, 16),
        SavedTensor("sq", "Mul", "input 0 (a)", 4, 16),
        SavedTensor("sq", "Mul", "input 1 (a)", 4, 0, kept_by="sq"),
    ]


def test_without_detail_nothing_is_listed() -> None:
    m = _conv_bn_relu_pool()
    sw = saved_by_node(m, infer_shapes(m), 1, 4)
    assert sw.listed == [] and sw.keeper is None and sw.total > 0


def _check_sums(s: archcalc.Summary) -> None:
    tensors = s.saved_tensors()
    by_layer: dict[str, object] = {}
    for t in tensors:
        by_layer[t.layer] = by_layer.get(t.layer, 0) + t.bytes
        assert t.kept_by is None or t.bytes == 0, t  # a storage is counted once
    shapes = {INPUT: s.input_shape, **{r.name: r.output_shape for r in s.layers}}
    size = itemsize(s.dtype)
    sw = saved_by_node(s.model, shapes, s.batch, size, input_requires_grad=s.input_requires_grad)
    assert {k: v for k, v in by_layer.items() if v != 0} == sw.per_node
    assert sum(t.bytes for t in tensors) == s.memory.saved_for_backward_bytes


@pytest.mark.parametrize("name", zoo.names())
def test_listed_bytes_add_up_for_every_zoo_model(name: str) -> None:
    _check_sums(archcalc.summary(name))


@pytest.mark.parametrize("name", ["resnet18", "vgg11_bn", "mobilenet_v3_large"])
def test_listed_bytes_add_up_with_input_grad_batch_and_half(name: str) -> None:
    _check_sums(archcalc.summary(name, batch=3, dtype="float16", input_requires_grad=True))


def test_listed_bytes_add_up_symbolically() -> None:
    s = archcalc.summary("resnet18", input="3xHxW", batch="B")
    listed = sympy.Add(*(t.bytes for t in s.saved_tensors()))
    assert sympy.simplify(listed - s.memory.saved_for_backward_bytes) == 0
    # conv1 keeps the model input: B·3·H·W elements of 4 bytes
    first = s.saved_tensors()[0]
    b, h, w = sympy.symbols("B H W", positive=True, integer=True)
    assert (first.layer, first.tensor) == ("conv1", "input 0 (input)")
    assert sympy.simplify(first.elements - b * 3 * h * w) == 0
    assert sympy.simplify(first.bytes - 4 * b * 3 * h * w) == 0
