"""The walk's work per layer does not grow with depth: tensors are found by position (slots),
not by name, and the dicts by name are built only when asked for. Counts, not timings."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import Add, Builder, Concat, Conv2d, ReLU, sequential
from archcalc.engine import shapes as shapes_module
from archcalc.engine import walk as walk_module
from archcalc.engine.graph import INPUT, Model, Node
from archcalc.engine.shapes import infer_shapes
from archcalc.engine.walk import walk


def _branchy() -> Model:
    b = Builder("branchy", (4, 8, 8))
    b.add("a", Conv2d(4, 4, 3, padding=1))
    b.add("dead", ReLU(), "a")  # nothing reads it
    b.add("b", ReLU(), "a")
    b.add("c", Conv2d(4, 4, 1), "input")
    b.add("sum", Add(), "b", "c")
    b.add("cat", Concat(), "sum", "a", "input")
    b.add("after", ReLU(), "cat")  # past the output
    return b.build(output="cat")


def _by_name(m: Model) -> tuple[list[Node], list[tuple[int, ...]]]:
    """Live nodes and input slots as the name-keyed definition has them."""
    keep = m.ancestors(m.output)
    live = [n for n in m.nodes if n.name in keep]
    pos = {INPUT: 0, **{n.name: k for k, n in enumerate(live, 1)}}
    return live, [tuple(pos[s] for s in n.inputs) for n in live]


@pytest.mark.parametrize("name", ["resnet18", "densenet121", "mobilenet_v2"])
def test_slots_equal_the_name_lookup(name):
    for m in (_branchy(), archcalc.zoo.get(name)):
        live, slots = _by_name(m)
        assert list(m.live_nodes()) == live
        assert list(m.live_slots()) == slots


def test_a_chain_needs_no_name_lookup(monkeypatch):
    # a chain's input is the very name object of the node before: no dict of names is built
    m = sequential("chain", [Conv2d(4, 4, 1), ReLU()] * 50, input_shape=(4, 4, 4))
    built = []
    real_zip = zip

    def spy(*args):
        built.append(args)
        return real_zip(*args)

    monkeypatch.setitem(Model._structure.func.__globals__, "zip", spy)
    assert m.live_slots() == tuple((k,) for k in range(100))
    assert built == []


def test_name_dicts_are_built_on_demand():
    m = sequential("chain", [Conv2d(4, 4, 1), ReLU()] * 20, input_shape=(4, 4, 4))
    w = walk(m)
    assert "figures" not in w.__dict__ and "outputs" not in w.memory.__dict__
    archcalc.summary(m)  # reads the lists only
    assert w.shapes == infer_shapes(m)
    assert list(w.figures) == [n.name for n in m.live_nodes()]
    assert w.rfs is not None and w.rfs["39"] is w.rf_list[-1]


@pytest.mark.parametrize("depth", [10, 1_000])
def test_work_per_layer_is_constant(monkeypatch, depth):
    # a chain of identical blocks: the rules run once per distinct (spec, shapes), whatever the
    # depth; the cache is found by object ids, never by hashing shapes again
    calls = {"shape": 0}
    real = shapes_module.node_shape

    def counted(layer, ins):
        calls["shape"] += 1
        return real(layer, ins)

    monkeypatch.setattr(walk_module, "node_shape", counted)
    m = sequential("chain", [Conv2d(4, 4, 1), ReLU()] * (depth // 2), input_shape=(4, 4, 4))
    s = archcalc.summary(m)
    assert calls["shape"] == 2  # conv and ReLU once; later blocks hit the cache
    assert len(s.layers) == depth and s.params == depth // 2 * (4 * 4 + 4)
