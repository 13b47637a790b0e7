"""Laws and hand-derived figures of the engine (clipped boxes, saved bytes, errors located,
input shapes) and of the broadcasting kinds' shape rules. Torch-free and fast.

Written for the mutants that survived the torch-free tests (docs/testing.md, "Mutation
testing"); every expected value is derived in a comment, not taken from archcalc's output.
"""

from __future__ import annotations

import pytest
import sympy

from archcalc import (
    AdaptiveAvgPool2d,
    ChannelShuffle,
    Conv2d,
    GroupNorm,
    LayerNorm,
    Mul,
    ShapeError,
    Sub,
    sequential,
)
from archcalc.engine.graph import Node, locate
from archcalc.engine.memory import saved_by_node
from archcalc.engine.receptive import clipped_boxes
from archcalc.engine.shapes import infer_shapes, resolve_input


def _lists(boxes: tuple) -> list[list[int]]:
    return [[int(v) for v in a] for a in boxes]


# ---------------------------------------------------------------- clipped boxes


def test_clipped_boxes_of_a_global_layer_on_a_non_square_map() -> None:
    # a 3x3 conv without padding on a 5x7 map: 3x5 units, unit (i, j) reads rows i..i+2 and
    # columns j..j+2; GroupNorm's statistics span the whole map (a global layer), so each of
    # its 3x5 units sees the union: rows 0..4, columns 0..6
    m = sequential("g", [Conv2d(1, 2, 3), GroupNorm(1, 2)], input_shape=(1, 5, 7))
    shapes = infer_shapes(m)
    names = [n.name for n in m.nodes]
    boxes = clipped_boxes(m, shapes)
    assert _lists(boxes[names[0]]) == [[0, 1, 2], [2, 3, 4], [0, 1, 2, 3, 4], [2, 3, 4, 5, 6]]
    assert _lists(boxes[names[1]]) == [[0] * 3, [4] * 3, [0] * 5, [6] * 5]


def test_clipped_boxes_of_an_adaptive_pool() -> None:
    # adaptive average pooling of a 4x6 map to 2x2: output unit i covers input
    # floor(i·n/2) .. ceil((i+1)·n/2) - 1 (torch's adaptive windows): rows 0..1, 2..3;
    # columns 0..2, 3..5
    m = sequential("a", [AdaptiveAvgPool2d(2)], input_shape=(1, 4, 6))
    boxes = clipped_boxes(m, infer_shapes(m))
    assert _lists(boxes[m.nodes[0].name]) == [[0, 2], [1, 3], [0, 3], [2, 5]]


# ---------------------------------------------------------------- saved bytes


@pytest.mark.parametrize("frozen", [False, True])
def test_saved_by_node_reads_the_input_shapes(frozen: bool) -> None:
    # LayerNorm over 6 channels of 5 tokens, batch 2, float32, trainable: autograd keeps its
    # input (2·5·6 floats = 240 B) and a float32 mean and rstd per token (2·(2·5)·4 = 80 B)
    m = sequential("ln", [LayerNorm(6)], input_shape=(5, 6))
    shapes = infer_shapes(m)
    trainable = (lambda n: True) if frozen else None  # the same: LayerNorm has parameters
    sw = saved_by_node(m, shapes, 2, 4, trainable)
    assert sw.total == 2 * 5 * 6 * 4 + 2 * (2 * 5) * 4
    # frozen and on a path that needs no gradient: nothing is kept
    assert saved_by_node(m, shapes, 2, 4, lambda n: False).total == 0


# ---------------------------------------------------------------- errors and shapes


def test_locate_keeps_a_place_already_named() -> None:
    node = Node("conv", Conv2d(1, 1, 1), ("input",))
    # an error that names its layer by index only, or by name only, keeps that place
    e = locate(ShapeError("bad", layer_index=7), 2, node)
    assert (e.layer_index, e.layer_name) == (7, None)
    e = locate(ShapeError("bad", layer_name="head"), 2, node)
    assert (e.layer_index, e.layer_name) == (None, "head")
    # one that names none gets the node's
    e = locate(ShapeError("bad"), 2, node)
    assert (e.layer_index, e.layer_name, e.kind) == (2, "conv", "Conv2d")


def test_resolve_input_names_the_default_shape() -> None:
    m = sequential("c", [Conv2d(3, 4, 1)], input_shape=(3, 8, 8))
    with pytest.raises(Exception, match=r"takes a rank-3 input \(3x8x8\)"):
        resolve_input(m, (1, 2, 3, 4))


def test_mul_broadcasts_to_the_full_operand() -> None:
    # a (4, 1, 1) gate times a (4, H, W) map is a (4, H, W) map, in any order, with
    # symbolic sizes too (the full operand is the one whose spatial sizes are not all 1)
    h, w = sympy.symbols("H W", positive=True, integer=True)
    assert Mul().out_shape(((4, 1, 1), (4, h, w))) == (4, h, w)
    assert Mul().out_shape(((4, h, w), (4, 1, 1))) == (4, h, w)
    # a vector does not broadcast to a map: the error names the map as the target
    with pytest.raises(ShapeError, match="input 1 has shape 5, which does not broadcast to 4x8x8"):
        Mul().out_shape(((4, 8, 8), (5,)))


def test_sub_needs_equal_shapes() -> None:
    assert Sub().out_shape(((2, 3), (2, 3))) == (2, 3)
    # unequal ranks whose common sizes agree are still unequal shapes
    with pytest.raises(ShapeError, match="input 1 has shape 2x3x4 but input 0 has 2x3"):
        Sub().out_shape(((2, 3), (2, 3, 4)))


def test_channel_shuffle_needs_divisible_channels() -> None:
    assert ChannelShuffle(2).out_shape(((4, 2, 2),)) == (4, 2, 2)
    with pytest.raises(ShapeError, match="groups = 3 does not divide the 4 channels"):
        ChannelShuffle(3).out_shape(((4, 2, 2),))
