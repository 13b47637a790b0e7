"""The rules of the token kinds (attention, Tokens, ClassToken, PositionEmbedding,
SelectToken, LayerNorm), every figure derived by hand. Torch-free and fast.

Written for the mutants of these kinds that only the torch tests killed (docs/testing.md,
"Mutation testing"). Each expected value is written as its derivation from the layer's
definition (docs/conventions.md), not taken from archcalc's output. The sizes are chosen so
that every term of a formula is non-zero and distinct (E = 6, h = 3, L = 5, batch 2).
"""

from __future__ import annotations

import pytest

from archcalc import ShapeError
from archcalc.kinds import (
    GLOBAL,
    ClassToken,
    Extra,
    LayerNorm,
    MultiheadAttention,
    PositionEmbedding,
    SelectToken,
    TimmAttention,
    Tokens,
)

E, H, L, B = 6, 3, 5, 2
TOK = ((L, E),)


def _saved(items: tuple) -> list:
    """A kind's saved tensors as data: its input/output slots by name, each extra tensor as
    (elements, itemsize)."""
    return [(x.elements, x.itemsize) if isinstance(x, Extra) else x for x in items]


# ---------------------------------------------------------------- nn.MultiheadAttention


@pytest.mark.parametrize("bias", [True, False])
def test_multihead_attention_counts(bias: bool) -> None:
    a = MultiheadAttention(E, H, bias=bias)
    # in_proj_weight 3E×E, out_proj.weight E×E; in_proj_bias 3E, out_proj.bias E
    assert a.params(TOK) == 3 * 6 * 6 + 6 * 6 + ((3 * 6 + 6) if bias else 0)
    # q, k, v projections: 3·L·E² = 3·5·36; out projection L·E² = 5·36;
    # QKᵀ: each of h heads L×(E/h) by (E/h)×L = L²·E/h, over h heads L²·E = 25·6; AV the same
    macs = 3 * 5 * 36 + 5 * 36 + 25 * 6 + 25 * 6
    assert macs == 1020
    assert a.macs(TOK, TOK[0]) == macs
    # 2 FLOPs per MAC; biases: one add per output of the in (3·L·E) and out (L·E) projections;
    # q scaled by 1/sqrt(E/h): L·E multiplications; softmax over h·L² scores, 5 each
    flops = 2 * macs + ((3 * 5 * 6 + 5 * 6) if bias else 0) + 5 * 6 + 5 * (3 * 5 * 5)
    assert a.flops(TOK, TOK[0]) == flops
    assert a.out_shape(TOK) == (L, E)
    assert a.geometry(TOK, TOK[0]) is GLOBAL


def test_multihead_attention_saved() -> None:
    # without need_weights (sdpa): the input, q/k/v (3·B·L·E), the attention output
    # (B·L·E) and one float32 log-sum-exp per head and query (B·h·L)
    a = MultiheadAttention(E, H)
    assert _saved(a.saved(TOK, TOK[0], B)) == [
        "in0",
        (3 * 2 * 5 * 6, None),
        (2 * 5 * 6, None),
        (2 * 3 * 5, "acc"),
    ]
    # with need_weights: the scaled q (B·L·E) and the weights (B·h·L²) instead of the lse
    w = MultiheadAttention(E, H, need_weights=True)
    assert _saved(w.saved(TOK, TOK[0], B)) == [
        "in0",
        (3 * 2 * 5 * 6, None),
        (2 * 5 * 6, None),
        (2 * 3 * 5 * 5, None),
        (2 * 5 * 6, None),
    ]


def test_multihead_attention_shape_errors() -> None:
    a = MultiheadAttention(E, H)
    # a single vector is no token sequence (the (..., ) fold of sequences came later)
    with pytest.raises(ShapeError, match=r"needs tokens \((\.\.\., )?L, E\), got shape 5$"):
        a.out_shape(((5,),))
    with pytest.raises(ShapeError, match="embed_dim = 6 but the tokens have 7 channels"):
        a.out_shape(((5, 7),))


# ---------------------------------------------------------------- timm's Attention


@pytest.mark.parametrize("qkv_bias", [True, False])
@pytest.mark.parametrize("proj_bias", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_timm_attention_counts(qkv_bias: bool, proj_bias: bool, fused: bool) -> None:
    a = TimmAttention(E, H, qkv_bias=qkv_bias, proj_bias=proj_bias, fused=fused)
    # qkv: Linear(E, 3E) = 3E² (+ 3E); proj: Linear(E, E) = E² (+ E)
    assert a.params(TOK) == 3 * 36 + 36 + (18 if qkv_bias else 0) + (6 if proj_bias else 0)
    macs = 3 * 5 * 36 + 5 * 36 + 25 * 6 + 25 * 6  # as for nn.MultiheadAttention
    assert a.macs(TOK, TOK[0]) == macs
    bias = (3 * 5 * 6 if qkv_bias else 0) + (5 * 6 if proj_bias else 0)
    assert a.flops(TOK, TOK[0]) == 2 * macs + bias + 5 * 6 + 5 * (3 * 5 * 5)
    assert a.out_shape(TOK) == (L, E)
    assert a.geometry(TOK, TOK[0]) is GLOBAL


def test_timm_attention_saved() -> None:
    # fused (sdpa): input, qkv's output 3·B·L·E, attention output B·L·E, lse B·h·L (float32)
    assert _saved(TimmAttention(E, H).saved(TOK, TOK[0], B)) == [
        "in0",
        (3 * 2 * 5 * 6, None),
        (2 * 5 * 6, None),
        (2 * 3 * 5, "acc"),
    ]
    # unfused: scaled q, contiguous k, the weights B·h·L², contiguous v, attention output
    assert _saved(TimmAttention(E, H, fused=False).saved(TOK, TOK[0], B)) == [
        "in0",
        (2 * 5 * 6, None),
        (2 * 5 * 6, None),
        (2 * 3 * 5 * 5, None),
        (2 * 5 * 6, None),
        (2 * 5 * 6, None),
    ]


def test_timm_attention_shape_errors() -> None:
    a = TimmAttention(E, H)
    # a single vector is no token sequence (the (..., ) fold of sequences came later)
    with pytest.raises(ShapeError, match=r"needs tokens \((\.\.\., )?L, E\), got shape 5$"):
        a.out_shape(((5,),))
    with pytest.raises(ShapeError, match="dim = 6 but the tokens have 7 channels"):
        a.out_shape(((5, 7),))


# ---------------------------------------------------------------- token bookkeeping


def test_tokens() -> None:
    t = Tokens()
    # a (C, H, W) = (3, 2, 5) map read row by row: H·W = 10 tokens of C = 3 channels
    assert t.out_shape(((3, 2, 5),)) == (10, 3)
    # a view (reshape + permute): no arithmetic, nothing saved, no parameters
    assert t.flops(((3, 2, 5),), (10, 3)) == 0
    assert t.saved(((3, 2, 5),), (10, 3), B) == ()
    assert t.params(((3, 2, 5),)) == 0
    with pytest.raises(ShapeError, match=r"Tokens needs a \(C, H, W\) map, got shape 10x3"):
        t.out_shape(((10, 3),))


def test_class_token() -> None:
    c = ClassToken(E, tokens=2)
    # cat([2 class tokens, 5 tokens]) = 7 tokens; params: the 2 tokens of E channels
    assert c.out_shape(TOK) == (5 + 2, 6)
    assert c.params(TOK) == 2 * 6
    assert c.flops(TOK, (7, 6)) == 0  # a concatenation adds nothing up
    assert c.saved(TOK, (7, 6), B) == ()
    with pytest.raises(ShapeError, match="ClassToken.embed_dim = 6 but the tokens have 7"):
        c.out_shape(((5, 7),))
    with pytest.raises(ShapeError, match="ClassToken needs a token sequence"):
        c.out_shape(((5, 6, 1),))


def test_position_embedding() -> None:
    p = PositionEmbedding(L, E)
    assert p.out_shape(TOK) == (L, E)
    assert p.params(TOK) == 5 * 6  # one E-vector per position
    assert p.flops(TOK, TOK[0]) == 5 * 6  # one addition per element
    assert p.saved(TOK, TOK[0], B) == ()  # the gradient of an addition needs no operand
    # either size wrong is an error (the length alone, the width alone)
    for bad in ((4, 6), (5, 7)):
        with pytest.raises(ShapeError, match=r"PositionEmbedding is 5x6 but the tokens are"):
            p.out_shape((bad,))
    with pytest.raises(ShapeError, match="PositionEmbedding needs a token sequence"):
        p.out_shape(((5,),))


def test_select_token() -> None:
    s = SelectToken(4)
    assert s.out_shape(TOK) == (6,)  # token 4 of 5: one E-vector
    assert s.flops(TOK, (6,)) == 0
    assert s.saved(TOK, (6,), B) == ()
    # index L is out of range (0 .. L-1)
    with pytest.raises(ShapeError, match="SelectToken.index = 5 but there are 5 tokens"):
        SelectToken(5).out_shape(TOK)
    with pytest.raises(ShapeError, match="SelectToken needs a token sequence"):
        s.out_shape(((5, 6, 1),))


# ---------------------------------------------------------------- LayerNorm


def test_layer_norm_any_rank() -> None:
    n = LayerNorm(6)
    x = ((2, 3, 6),)  # normalised over the last axis: 2·3 = 6 positions of 6 values
    assert n.out_shape(x) == (2, 3, 6)
    assert n.params(x) == 6 + 6  # weight and bias
    # per element: mean (1), centre (1), square (1), variance sum (1), normalise (2),
    # affine (2) -- docs/conventions.md
    assert n.flops(x, (2, 3, 6)) == 8 * (2 * 3 * 6)
    # saved: the input and a float32 mean and rstd per position of the batch: 2·(B·2·3)
    assert _saved(n.saved(x, (2, 3, 6), B)) == ["in0", (2 * (2 * 2 * 3), "acc")]
    with pytest.raises(
        ShapeError, match=r"normalized_shape = 6 but the last axis of the input has 7 \(shape 2x7\)"
    ):
        n.out_shape(((2, 7),))
