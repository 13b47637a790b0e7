"""The one walk: the same figures as each quantity's own pass, repeated blocks computed once,
shapes of any rank, errors located by attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import archcalc
from archcalc import Add, Builder, Conv2d, Linear, Model, Node, ReLU, sequential
from archcalc.engine.flops import count_flops
from archcalc.engine.memory import memory_report, saved_by_node
from archcalc.engine.params import count_params
from archcalc.engine.receptive import receptive_fields
from archcalc.engine.shapes import infer_shapes
from archcalc.engine.walk import walk
from archcalc.kinds import Layer


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "densenet121", "convnext_tiny"])
def test_walk_equals_the_separate_passes(name):
    m = archcalc.zoo.get(name)
    w = walk(m, (3, 64, 64), batch=2)
    shapes = infer_shapes(m, (3, 64, 64))
    assert w.shapes == shapes
    par, fl = count_params(m, shapes), count_flops(m, shapes)
    for n in m.live_nodes():
        f = w.figures[n.name]
        assert (f.params, f.buffers) == tuple(par[n.name])
        assert (f.macs, f.flops) == tuple(fl[n.name])
    mem = memory_report(m, shapes, batch=2)
    assert w.memory == mem
    assert w.rfs == receptive_fields(m, shapes)


def test_repeated_blocks_are_computed_once():
    # 40 identical 1x1 conv + ReLU pairs: two distinct (spec, shapes), one figures object each
    m = sequential("rep", [Conv2d(8, 8, 1), ReLU()] * 40, input_shape=(8, 4, 4))
    w = walk(m)
    assert len({id(f) for f in w.figures.values()}) == 2
    # conv: 8·8 + 8 params; 4·4·8 outputs · 8 MACs each
    assert w.figures["78"].params == 8 * 8 + 8 and w.figures["78"].macs == 4 * 4 * 8 * 8
    assert archcalc.summary(m).params == 40 * (8 * 8 + 8)


def test_saved_by_node_attributes_each_storage_once():
    # the first conv keeps its input (1x2x2, for its weight gradient), the ReLU its output
    # (2x2x2); the second conv keeps the ReLU's output again: the same storage, counted once
    m = sequential("s", [Conv2d(1, 2, 1), ReLU(), Conv2d(2, 2, 1)], input_shape=(1, 2, 2))
    shapes = infer_shapes(m)
    sw = saved_by_node(m, shapes, batch=1, size=4)
    assert sw.per_node == {"0": 1 * 2 * 2 * 4, "1": 2 * 2 * 2 * 4}
    assert sw.total == 4 * 4 + 8 * 4
    # frozen first conv: its output needs no grad, so the ReLU keeps nothing either
    frozen = saved_by_node(m, shapes, 1, 4, trainable=lambda n: n.name == "2")
    assert frozen.per_node == {"2": 2 * 2 * 2 * 4}


# ------------------------------------------------------------------ shapes of any rank


@dataclass(frozen=True, slots=True)
class TokenConv(Layer):
    """A test-only kind on token sequences (L, C): a 1-D convolution along L, channels last."""

    c_in: int
    c_out: int
    k: int

    def out_shape(self, ins: Any) -> Any:
        length, c = ins[0]
        assert c == self.c_in
        return (length - self.k + 1, self.c_out)

    def params(self, ins: Any) -> Any:
        return self.k * self.c_in * self.c_out

    def macs(self, ins: Any, out: Any) -> Any:
        return out[0] * self.c_out * self.k * self.c_in

    def flops(self, ins: Any, out: Any) -> Any:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Any, out: Any) -> Any:
        return ((self.k, 1, 0),)  # one spatial axis: the sequence

    def saved(self, ins: Any, out: Any, batch: Any) -> Any:
        return ("in0",)


def test_token_sequence_flows_through_the_engine():
    m = sequential("tok", [TokenConv(16, 32, 3), ReLU(), TokenConv(32, 8, 5)], input_shape=(20, 16))
    s = archcalc.summary(m)
    assert s.input_shape == (20, 16)
    assert [r.output_shape for r in s.layers] == [(18, 32), (18, 32), (14, 8)]
    assert s.params == 3 * 16 * 32 + 5 * 32 * 8
    assert s.macs == 18 * 32 * 3 * 16 + 14 * 8 * 5 * 32
    # one axis: 1 + (3 - 1) + (5 - 1)
    assert s.rf.size == (7,) and s.rf.stride == (1,) and s.rf.offset == (0,)
    # input 20·16 floats; outputs 18·32, 18·32, 14·8
    assert s.memory.activations_bytes == 4 * (18 * 32 * 2 + 14 * 8)
    assert archcalc.summary(m, input="40x16").layers[-1].output_shape == (34, 8)


def test_vectors_flow_and_keep_their_rank():
    m = sequential("mlp", [Linear(10, 8), ReLU(), Linear(8, 3)], input_shape=(10,))
    s = archcalc.summary(m)
    assert s.input_shape == (10,) and s.output_shape == (3,)
    assert s.params == 10 * 8 + 8 + 8 * 3 + 3
    assert s.rf.is_global
    with pytest.raises(archcalc.OptionError, match="rank-1 input"):
        archcalc.summary(m, input="3x10")


def test_a_two_dimensional_input_is_not_read_as_a_map():
    # issue 15: (3, 8) is not C=3, HxW=3x8
    m = sequential("v", [Conv2d(3, 8, 3)], input_shape=(3, 8))
    with pytest.raises(archcalc.ShapeError, match=r"layer 0 '0' \(Conv2d\).*\(C, H, W\)"):
        archcalc.summary(m)


def test_map_shorthand_keeps_the_channels():
    m = archcalc.zoo.get("alexnet")
    assert archcalc.summary(m, input=(256, 256)).input_shape == (3, 256, 256)
    assert archcalc.summary(m, input=256).input_shape == (3, 256, 256)
    assert archcalc.summary(m, input="3x256x256").input_shape == (3, 256, 256)


# ------------------------------------------------------------------ errors


def test_a_non_layer_node_is_a_spec_error():
    with pytest.raises(archcalc.SpecError, match="layer 0 'a': layer = 42") as e:
        Model("x", (Node("a", 42, ("input",)),), (3, 8, 8), "a")  # type: ignore[arg-type]
    assert (e.value.layer_index, e.value.layer_name, e.value.field) == (0, "a", "layer")


def test_output_input_selects_no_layer():
    with pytest.raises(archcalc.SpecError, match="output = 'input' selects no layer"):
        Model("x", (Node("a", ReLU(), ("input",)),), (3, 8, 8), "input")


def test_errors_carry_the_layer_as_attributes():
    b = Builder("bad", (3, 8, 8))
    b.add("c", Conv2d(3, 4, 3))
    b.add("d", Conv2d(5, 4, 1))
    b.add("sum", Add(), "d", "input")
    with pytest.raises(archcalc.ShapeError) as e:
        archcalc.summary(b.build())
    assert (e.value.layer_index, e.value.layer_name, e.value.kind) == (1, "d", "Conv2d")
    assert str(e.value).startswith("layer 1 'd' (Conv2d): ")
