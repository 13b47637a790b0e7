"""Activation memory of small graphs, every figure derived by hand (docs/conventions.md):
the inference peak when tensors are freed after their last reader, and the bytes autograd
keeps. Torch-free and fast.

Written for the mutants of archcalc.engine.memory that survived the torch-free tests
(docs/testing.md, "Mutation testing"): the peaks there were all reached before any tensor
was freed, so a wrong free went unseen. Here the peak comes after the frees. Batch 1,
float32 (4 bytes) unless said otherwise.
"""

from __future__ import annotations

from archcalc import (
    Add,
    Builder,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Mul,
    ReLU,
    sequential,
    symbol,
)
from archcalc.engine.graph import INPUT, Model
from archcalc.engine.memory import MemoryWalk, SavedWalk, memory_report, saved_for_backward
from archcalc.engine.shapes import infer_shapes
from archcalc.engine.walk import walk


def _peak(m: Model) -> int:
    r = memory_report(m, infer_shapes(m))
    assert walk(m).memory.peak_inference_bytes == r.peak_inference_bytes  # one rule, two paths
    return r.peak_inference_bytes


def test_peak_of_a_chain_after_frees() -> None:
    # input (1, 4, 4): 16 floats = 64 B, held by the caller throughout
    # c0: 3 channels 192 B -> live 256; c1: 2 channels 128 B -> live 384, c0 freed -> 192;
    # c2: 8 channels 512 B -> live 704 (the peak), c1 freed -> 576
    m = sequential(
        "chain", [Conv2d(1, 3, 1), Conv2d(3, 2, 1), Conv2d(2, 8, 1)], input_shape=(1, 4, 4)
    )
    assert _peak(m) == 64 + 128 + 512
    assert memory_report(m, infer_shapes(m)).activations_bytes == 192 + 128 + 512


def test_peak_after_two_tensors_freed_by_one_layer() -> None:
    # input 64 B; a: 2 channels 128 B -> 192; b (reads a): 128 B -> 320; s = a + b: 128 B
    # -> 448, then a and b are both freed -> 192; c: 16 channels 1024 B -> 1216 (the peak)
    b = Builder("two_frees", (1, 4, 4))
    b.add("a", Conv2d(1, 2, 1), INPUT)
    b.add("b", Conv2d(2, 2, 1), "a")
    b.add("s", Add(), "a", "b")
    b.add("c", Conv2d(2, 16, 1), "s")
    assert _peak(b.build()) == 64 + 128 + 1024


def test_peak_when_the_input_is_read_again_later() -> None:
    # input (2, 4, 4) 128 B, read again by the sum; c0: 6 channels 384 B -> 512;
    # c1: 128 B -> 640 (the peak), c0 freed -> 256; s = input + c1: 128 B -> 384, c1 freed
    # -> 256; c2: 64 B -> 320. The input stays (its caller holds it); c0 goes at c1.
    b = Builder("skip", (2, 4, 4))
    b.add("c0", Conv2d(2, 6, 1), INPUT)
    b.add("c1", Conv2d(6, 2, 1), "c0")
    b.add("s", Add(), INPUT, "c1")
    b.add("c2", Conv2d(2, 1, 1), "s")
    assert _peak(b.build()) == 128 + 384 + 128


def test_memory_walk_defaults_are_memory_reports() -> None:
    # MemoryWalk's defaults (batch 1, float32, no input gradient) are memory_report's.
    # input (1, 2, 2) 16 B; a 2x2 max-pool (1, 1, 1) 4 B; a 1x1 conv to 2 channels 8 B.
    # Peak: 16 + 4 + 8 (the pool's output is freed only after the conv). Saved: the pool
    # needs no gradient (its input needs none) and keeps nothing; the conv keeps its
    # input, the pool's output: 4 B
    m = sequential("d", [MaxPool2d(2), Conv2d(1, 2, 1)], input_shape=(1, 2, 2))
    shapes = infer_shapes(m)
    mw = MemoryWalk(m, shapes[INPUT])
    for i, n in enumerate(m.live_nodes()):
        ins = tuple(shapes[s] for s in n.inputs)
        mw.visit(n, m.live_slots()[i], ins, shapes[n.name], n.layer.params(ins))
    got = mw.report()
    want = memory_report(m, shapes)
    assert (got.dtype, got.batch) == ("float32", 1)
    assert got.peak_inference_bytes == want.peak_inference_bytes == 16 + 4 + 8
    assert got.saved_for_backward_bytes == want.saved_for_backward_bytes == 4


# ---------------------------------------------------------------- saved for backward


def test_a_layer_with_one_parameter_records() -> None:
    # Conv2d(1, 1, 1) without bias has 1 parameter: it needs a gradient, so autograd keeps
    # its input (1·2·2 floats = 16 B) though the input needs none
    m = sequential("one", [Conv2d(1, 1, 1, bias=False)], input_shape=(1, 2, 2))
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16


def test_a_layer_with_symbolic_parameters_records() -> None:
    # C output channels, no bias: C parameters (a symbol): the layer records and keeps its
    # 16-byte input whatever C is
    c = symbol("C")
    m = sequential("sym", [Conv2d(1, c, 1, bias=False)], input_shape=(1, 2, 2))
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16


def test_dropout_output_is_its_own_tensor_in_training() -> None:
    # input (1, 2, 2) 16 B; c0 keeps its input (16 B); ReLU keeps its output (2·2·2 floats,
    # 32 B); Dropout(0.5) in training keeps its noise (32 B) and writes a new tensor, which
    # c1 keeps as its input (32 B): 16 + 32 + 32 + 32
    m = sequential(
        "drop",
        [Conv2d(1, 2, 1), ReLU(), Dropout(0.5), Conv2d(2, 1, 1)],
        input_shape=(1, 2, 2),
    )
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16 + 32 + 32 + 32


def test_a_view_shares_its_source_storage_in_training() -> None:
    # input (1, 2, 2) 16 B; c0 keeps its input (16 B); ReLU keeps its output (32 B);
    # Flatten is a view of it, so the Linear that keeps its input keeps the same storage
    # again: nothing more. 16 + 32
    m = sequential(
        "view", [Conv2d(1, 2, 1), ReLU(), Flatten(), Linear(8, 3)], input_shape=(1, 2, 2)
    )
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16 + 32


def test_a_product_keeps_an_operand_only_for_the_others_gradient() -> None:
    # x · c(x), x the input (no gradient), c a 1x1 conv (16 B output): the product keeps c
    # only to differentiate x, which needs no gradient, so it keeps x alone, and x is
    # already kept by the conv. Total: the conv's input, 16 B
    b = Builder("gate", (1, 2, 2))
    b.add("c", Conv2d(1, 1, 1), INPUT)
    b.add("m", Mul(), INPUT, "c")
    m = b.build()
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16
    # with an input that needs a gradient, c is kept too (for x's gradient): 16 + 16
    assert saved_for_backward(m, infer_shapes(m), 1, 4, input_requires_grad=True) == 16 + 16


def test_a_product_keeps_the_operand_the_other_needs() -> None:
    # c(x) · r(x), c a 1x1 conv (needs a gradient), r = ReLU(x) (needs none: x needs none,
    # so r keeps nothing). d(c·r)/dc = r: the product keeps r (16 B, kept by nobody else);
    # c is not kept (r needs no gradient). Plus the conv's input: 16 + 16
    b = Builder("gate2", (1, 2, 2))
    b.add("c", Conv2d(1, 1, 1), INPUT)
    b.add("r", ReLU(), INPUT)
    b.add("m", Mul(), "c", "r")
    m = b.build()
    assert saved_for_backward(m, infer_shapes(m), 1, 4) == 16 + 16


def test_saved_walk_visit_returns_the_bytes_it_adds() -> None:
    # SavedWalk by hand, its defaults: the input needs no gradient. A ReLU on it records
    # nothing (adds 0); a 1x1 conv 1 -> 2 records and keeps the ReLU's output (1·2·2 floats,
    # 16 B); a second ReLU keeps its own output (2·2·2 floats, 32 B)
    m = sequential("sw", [ReLU(), Conv2d(1, 2, 1), ReLU()], input_shape=(1, 2, 2))
    shapes = infer_shapes(m)
    sw = SavedWalk(1, 4, shapes[INPUT])
    added = []
    for i, n in enumerate(m.live_nodes()):
        ins = tuple(shapes[s] for s in n.inputs)
        added.append(sw.visit(n, m.live_slots()[i], ins, shapes[n.name], n.layer.params(ins)))
    assert added == [0, 16, 32]
    assert sw.total == 16 + 32
