"""TimmAttention (timm's ``timm.layers.attention.Attention``, ViT/DeiT): every rule derived by
hand, each foreign convention measured with the installed tools on the real timm module
(fused, timm's default ``F.scaled_dot_product_attention``, and written out), what autograd
saves measured in torch, the torch build and the import.

Measured here (timm 1.0.31, fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1, torchinfo 1.8.0,
torch 2.14.1 CPU) on N=2 sequences of L=5 tokens, E=8 channels, h=2 heads, qkv_bias:
fvcore 2560 fused / 3360 unfused, FlopCounterMode 5120 / 6720, ptflops 490, thop 2560,
torchinfo 576 (528 without qkv_bias) — the figures ``_hand`` derives below.
"""

from __future__ import annotations

import pytest

import archcalc
from archcalc import Builder
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import GLOBAL, TimmAttention

N = 2
L, E, H = 5, 8, 2  # tokens, channels, heads
TOK = ((L, E),)


def test_rules_by_hand():
    a = TimmAttention(E, H, qkv_bias=True)
    # qkv: 3E×E weight + 3E bias; proj: E×E + E
    assert a.params(TOK) == 3 * E * E + 3 * E + E * E + E == 288
    assert TimmAttention(E, H).params(TOK) == 4 * E * E + E  # timm's default: no qkv bias
    assert TimmAttention(E, H, proj_bias=False).params(TOK) == 4 * E * E
    # qkv 3·L·E², QKᵀ and AV L·L·E each (h heads of E/h channels), proj L·E²
    macs = 3 * L * E * E + 2 * L * L * E + L * E * E
    assert a.macs(TOK, (L, E)) == macs == 1680
    # 2·MACs + qkv bias 3·L·E + proj bias L·E + q scaling L·E + softmax 5 per score (h·L²)
    assert a.flops(TOK, (L, E)) == 2 * macs + 3 * L * E + L * E + L * E + 5 * H * L * L
    assert TimmAttention(E, H).flops(TOK, (L, E)) == 2 * macs + L * E + L * E + 5 * H * L * L
    assert a.out_shape(TOK) == (L, E) and a.geometry(TOK, (L, E)) is GLOBAL
    with pytest.raises(archcalc.SpecError, match="must be divisible by num_heads"):
        TimmAttention(E, 3)
    with pytest.raises(archcalc.ShapeError, match="dim = 8 but the tokens have 6 channels"):
        a.out_shape(((L, 6),))


def _hand(qkv_bias: bool, fused: bool) -> dict[str, int]:
    """Each tool's count for a batch of N on L tokens of E channels, h heads."""
    proj, scores = 4 * L * E * E, 2 * L * L * E  # qkv + proj; QKᵀ + AV
    params = 4 * E * E + (3 * E if qkv_bias else 0) + E
    return {
        # linear_flop_jit on qkv and proj; matmul_flop_jit on QKᵀ and AV only written out
        # (aten::scaled_dot_product_attention has no fvcore handle)
        "fvcore": N * (proj + (0 if fused else scores)),
        # addmm 2·m·n·k; bmm only written out (sdpa's CPU flash kernel has no formula)
        "flopcounter": 2 * N * (proj + (0 if fused else scores)),
        # timm_attention_counter_hook per sample: q scaling L·E, h·(2·L²·E/h + L²); the
        # hooked parent's qkv/proj are never accumulated; `@`, Tensor.softmax unpatched
        "ptflops": L * E + scores + H * L * L,
        "thop": N * proj,  # no hook for the parent: its nn.Linear children, no bias
        "torchinfo": N * params,  # leaves qkv and proj: params × batch
    }


torch = pytest.importorskip("torch")
timm_attention = pytest.importorskip("timm.layers.attention")

_CONVENTIONS = ("fvcore", "flopcounter", "ptflops", "thop", "torchinfo")


def _real(qkv_bias: bool, fused: bool):
    m = timm_attention.Attention(E, H, qkv_bias=qkv_bias).eval()
    m.fused_attn = fused
    return m


@pytest.mark.parametrize("qkv_bias", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_every_tool_on_the_real_timm_attention(qkv_bias, fused):
    from foreign_tools import tool_totals

    x = torch.randn(N, L, E, generator=torch.Generator().manual_seed(0))
    hand = _hand(qkv_bias, fused)
    assert tool_totals(_real(qkv_bias, fused), x) == hand
    b = Builder("timm_attn", (L, E))
    b.add("attn", TimmAttention(E, H, qkv_bias=qkv_bias, fused=fused))
    m = b.build()
    shapes = infer_shapes(m)
    assert {c: sum(count(m, shapes, N, c).values()) for c in _CONVENTIONS} == hand
    # torchvision's figure convention counts every matmul MAC
    assert sum(count(m, shapes, N, "torchvision").values()) == N * (4 * L * E * E + 2 * L * L * E)


at = pytest.importorskip("archcalc.torch")


@pytest.mark.parametrize("fused", [True, False])
def test_saved_by_the_real_timm_attention(fused):
    m = _real(True, fused).train()
    x = torch.randn(N, L, E, requires_grad=True) * 1.0  # an activation, saved by qkv
    _, storages = at.saved_tensors(lambda: m(x), exclude=list(m.parameters()))
    got = sum(nbytes for (_, nbytes) in storages)
    items = TimmAttention(E, H, qkv_bias=True, fused=fused).saved(TOK, (L, E), N)
    expected = 4 * sum(N * L * E if i == "in0" else i.elements for i in items)
    # by hand, float32: fused — input N·L·E, qkv output 3·N·L·E, attention output N·L·E,
    # log-sum-exp N·h·L; written out — input, scaled q, copies of k and v, attention
    # output (N·L·E each) and the weights N·h·L²
    tail = 5 * N * L * E + N * H * L if fused else 5 * N * L * E + N * H * L * L
    assert got == expected == 4 * tail


@pytest.mark.parametrize("fused", [True, False])
def test_import_and_build(fused):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = _real(True, fused)

        def forward(self, x):
            return self.attn(x)

    net = Net().eval()
    imported = at.from_torch(net, (L, E))
    (node,) = imported.live_nodes()
    assert node.layer == TimmAttention(E, H, qkv_bias=True, fused=fused)
    assert archcalc.summary(imported).params == sum(p.numel() for p in net.parameters())
    built = at.to_torch(imported)
    assert type(built.module_names and built.get_submodule(built.module_names["attn"])) is (
        timm_attention.Attention
    )
    assert [n.layer for n in at.from_torch(built, (L, E)).live_nodes()] == [node.layer]


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"qk_norm": True, "norm_layer": torch.nn.LayerNorm}, "qk_norm"),
        ({"attn_drop": 0.1}, "attention dropout"),
        ({"gated": True}, "gated"),
        ({"dim_out": 4}, "dim_out other than dim"),
    ],
)
def test_unmodelled_options_are_named(kwargs, why):
    m = timm_attention.Attention(E, H, **kwargs).eval()
    with pytest.raises(archcalc.UnsupportedError, match=f"timm's Attention with .*{why}"):
        at.from_torch(m, (L, E))
