"""Token sequences and attention end to end (kinds/tokens.py, kinds/attention.py, LayerNorm
and Linear on tokens): every rule derived by hand, each foreign convention measured with the
installed tools on the real torch modules, what autograd saves measured in torch, the torch
build, and the import of torchvision's ViT operations.

The tools run with grad enabled, as ``FlopCountAnalysis(model, x).total()`` is usually
called (under ``torch.no_grad()`` torch takes nn.MultiheadAttention's fast path, which fvcore
and FlopCounterMode count 0: see the MultiheadAttention docstring).
"""

from __future__ import annotations

import pytest
from foreign_tools import tool_totals

import archcalc
from archcalc import Builder
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import (
    GLOBAL,
    ClassToken,
    Extra,
    LayerNorm,
    Linear,
    MultiheadAttention,
    PositionEmbedding,
    SelectToken,
    Tokens,
)

N = 2
L, E, H = 5, 8, 2  # tokens, channels, heads
TOK = ((L, E),)


# ---------------------------------------------------------------- rules, by hand


def test_tokens_class_token_position_embedding_select():
    assert Tokens().out_shape(((E, 3, 4),)) == (12, E)  # H·W tokens of C channels
    assert Tokens().flops(((E, 3, 4),), (12, E)) == 0 and Tokens().saved((), (), N) == ()
    ct = ClassToken(E)
    assert ct.out_shape(TOK) == (L + 1, E)
    assert ct.params(TOK) == E  # the (1, 1, E) parameter, once
    assert ct.flops(TOK, (L + 1, E)) == 0 and ct.saved(TOK, (L + 1, E), N) == ()
    pe = PositionEmbedding(L, E)
    assert pe.params(TOK) == L * E and pe.flops(TOK, (L, E)) == L * E  # one add per element
    assert SelectToken(0).out_shape(TOK) == (E,)
    with pytest.raises(archcalc.ShapeError, match="index = 5 but there are 5 tokens"):
        SelectToken(5).out_shape(TOK)
    with pytest.raises(archcalc.ShapeError, match="is 6x8 but the tokens are 5x8"):
        PositionEmbedding(6, E).out_shape(TOK)


def test_layernorm_and_linear_on_tokens():
    ln = LayerNorm(E)
    assert ln.out_shape(TOK) == (L, E) and ln.params(TOK) == 2 * E
    assert (
        ln.flops(TOK, (L, E)) == 8 * L * E
    )  # mean, centre, square, sum, normalise (2), affine (2)
    assert ln.saved(TOK, (L, E), N) == ("in0", Extra(2 * N * L, "acc", "mean/rstd"))
    lin = Linear(E, 3)
    assert lin.out_shape(TOK) == (L, 3)  # the last axis: channels of every token
    assert lin.macs(TOK, (L, 3)) == L * E * 3
    assert lin.geometry(TOK, (L, 3)) == ((1, 1, 0), (1, 1, 0))  # per token


def test_multihead_attention():
    a = MultiheadAttention(E, H)
    assert a.params(TOK) == 4 * E * E + 4 * E  # in_proj 3E×E + 3E, out_proj E×E + E
    # projections 4·L·E², QKᵀ and AV L·L·E each
    assert a.macs(TOK, (L, E)) == 4 * L * E * E + 2 * L * L * E
    # 2·MACs + biases 4·L·E + q scaling L·E + softmax 5 per score (h·L·L scores)
    assert (
        a.flops(TOK, (L, E))
        == 2 * (4 * L * E * E + 2 * L * L * E) + 4 * L * E + L * E + 5 * H * L * L
    )
    assert a.geometry(TOK, (L, E)) is GLOBAL
    assert MultiheadAttention(E, H, bias=False).params(TOK) == 4 * E * E
    with pytest.raises(archcalc.SpecError, match="must be divisible by num_heads"):
        MultiheadAttention(E, 3)


# ---------------------------------------------------------------- the tools on real modules

torch = pytest.importorskip("torch")
nn = torch.nn


def _ours(model) -> dict[str, object]:
    shapes = infer_shapes(model)
    return {c: sum(count(model, shapes, N, c).values()) for c in _CONVENTIONS}


_CONVENTIONS = ("fvcore", "flopcounter", "ptflops", "thop", "torchinfo")


class _Attention(nn.Module):
    def __init__(self, bias, need_weights):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, H, bias=bias, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x):
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


def _hand_attention(bias, need_weights):
    """Each tool's count for a batch of N on L tokens of E channels, h heads."""
    proj, scores = 4 * L * E * E, 2 * L * L * E
    # ptflops multihead_attention_counter_hook per sample: q scaling, 3 projections (+ bias),
    # per head QKᵀ, softmax, AV, out projection with its bias always; ÷ batch at the end
    hook = L * E + 3 * L * E * E + (3 * L * E if bias else 0) + scores + H * L * L
    hook += L * E * (E + 1)
    return {
        "fvcore": N * (proj + (scores if need_weights else 0)),  # linear (+ bmm)
        "flopcounter": 2 * N * (proj + (scores if need_weights else 0)),  # mm (+ bmm)
        # patched torch.bmm and F.softmax (not divided) with need_weights; sdpa is not patched
        "ptflops": hook + (N * (scores + H * L * L) if need_weights else 0),
        "thop": 0,  # nn.MultiheadAttention not in register_hooks
        "torchinfo": 0,  # not a leaf (out_proj is its child), out_proj never called
    }


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("need_weights", [False, True])
def test_every_tool_on_a_real_multihead_attention(bias, need_weights):
    net = _Attention(bias, need_weights).eval()
    x = torch.randn(N, L, E, generator=torch.Generator().manual_seed(0))
    hand = _hand_attention(bias, need_weights)
    assert tool_totals(net, x) == hand
    b = Builder("mha", (L, E))
    b.add("attn", MultiheadAttention(E, H, bias=bias, need_weights=need_weights))
    assert _ours(b.build()) == hand
    # torchvision's published figure counts every matmul MAC (vit_b_16: tests/test_vit.py)
    m = b.build()
    assert sum(count(m, infer_shapes(m), N, "torchvision").values()) == N * (
        4 * L * E * E + 2 * L * L * E
    )


class _Plumbing(nn.Module):
    """torchvision's ViT around its encoder layers: tokens, class token, position embedding,
    LayerNorm and Linear on tokens, the class token taken out."""

    def __init__(self):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, E))
        self.pos_embedding = nn.Parameter(torch.zeros(1, 17, E))
        self.ln = nn.LayerNorm(E, eps=1e-6)
        self.fc = nn.Linear(E, 3)

    def forward(self, x):
        n = x.shape[0]
        x = x.reshape(n, E, 16).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = self.fc(self.ln(x + self.pos_embedding))
        return x[:, 0]


def test_every_tool_on_the_token_plumbing():
    net = _Plumbing().eval()
    x = torch.randn(N, E, 4, 4)
    numel = 17 * E  # per sample, after the class token
    hand = {
        "fvcore": N * (5 * numel + 17 * E * 3),  # layer_norm 5 per element; linear MACs
        "flopcounter": 2 * N * 17 * E * 3,  # addmm only
        # bn_flops_counter_hook: input numel (nn.LayerNorm has no 'affine'); linear
        # in·out + bias per token; ÷ batch
        "ptflops": numel + 17 * (E * 3 + 3),
        "thop": N * (4 * numel + E * 17 * 3),  # calculate_norm 2·2 (affine); in·out numel
        "torchinfo": N * (2 * E + E * 3 + 3),  # weight + bias numel × batch, per module
    }
    assert tool_totals(net, x) == hand
    imported = archcalc.torch.from_torch(net, (E, 4, 4))
    kinds = [n.layer.kind for n in imported.live_nodes()]
    assert kinds == [
        "Tokens", "ClassToken", "PositionEmbedding", "LayerNorm", "Linear", "SelectToken"
    ]  # fmt: skip
    assert [n.name for n in imported.live_nodes()][1:3] == ["class_token", "pos_embedding"]
    assert _ours(imported) == hand
    assert archcalc.summary(imported).params == sum(p.numel() for p in net.parameters())


# ---------------------------------------------------------------- saved tensors, build

at = pytest.importorskip("archcalc.torch")


@pytest.mark.parametrize("need_weights", [False, True])
def test_saved_by_a_real_multihead_attention(need_weights):
    m = nn.MultiheadAttention(E, H, batch_first=True).train()
    x = torch.randn(N, L, E, requires_grad=True) * 1.0  # an activation, saved by in_proj
    _, storages = at.saved_tensors(
        lambda: m(x, x, x, need_weights=need_weights)[0], exclude=list(m.parameters())
    )
    got = sum(nbytes for (_, nbytes) in storages)
    layer = MultiheadAttention(E, H, need_weights=need_weights)
    items = layer.saved(TOK, (L, E), N)
    expected = 4 * sum(N * L * E if i == "in0" else i.elements for i in items)
    # by hand: input N·L·E, q/k/v 3·N·L·E, attention output N·L·E; log-sum-exp N·h·L
    # (need_weights=False) or scaled q N·L·E and weights N·h·L·L (need_weights=True)
    tail = N * H * L if not need_weights else N * L * E + N * H * L * L
    assert got == expected == 4 * (5 * N * L * E + tail)


def test_build_measures_what_the_summary_says():
    b = Builder("vit_bits", (E, 4, 4))
    b.add("tokens", Tokens())
    b.add("class_token", ClassToken(E))
    b.add("pos_embedding", PositionEmbedding(17, E))
    b.add("ln", LayerNorm(E, eps=1e-6))
    b.add("attn", MultiheadAttention(E, H))
    b.add("fc", Linear(E, 3))
    b.add("select", SelectToken(0))
    m = b.build()
    got = at.measure(m, batch=N)
    assert got["shapes"]["select"] == (3,)
    assert got["params"]["class_token"] == E and got["params"]["pos_embedding"] == 17 * E
    s = archcalc.summary(m, batch=N)
    # (measure counts each node module's own parameters: the attention's sit in its child)
    assert s.params == sum(p.numel() for p in at.to_torch(m).parameters())
    assert s.memory.saved_for_backward_bytes == got["saved_bytes"]
    # the field: global after attention, the patch grid's before it
    assert s.layers[-1].rf.is_global and not s.layers[2].rf.is_global
    # archcalc's build imports back as itself
    back = at.from_torch(at.to_torch(m), (E, 4, 4))
    assert [n.layer for n in back.live_nodes()] == [n.layer for n in m.live_nodes()]
