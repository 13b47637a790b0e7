"""General-rank tensor plumbing (archcalc/kinds/tensor.py, the importer's layouts): each
kind's quantities derived by hand, and imports of small torch modules exercising each op,
checked against torch (every layer's shape is checked by the importer; here the totals:
params = sum(numel), fvcore-convention FLOPs = fvcore's own count on the real module)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
from foreign_tools import tool_totals  # noqa: E402
from torch import nn  # noqa: E402

import archcalc  # noqa: E402
from archcalc import UnsupportedError  # noqa: E402
from archcalc.kinds import (  # noqa: E402
    NO_INPUT,
    Cat,
    Constant,
    Index,
    Narrow,
    Param,
    Permute,
    Reshape,
    Roll,
    Select,
    Stack,
)
from archcalc.kinds._rules import FOREIGN_RULES  # noqa: E402
from archcalc.torch.importer import from_torch, import_torch  # noqa: E402

# ---------------------------------------------------------------- the kinds, by hand


def test_shapes_by_hand() -> None:
    # (L, C) = (197, 2304) -> (L, 3, h, d) = (197, 3, 12, 64): 3·12·64 = 2304
    assert Reshape((197, 3, 12, 64)).out_shape(((197, 2304),)) == (197, 3, 12, 64)
    # permute (2, 0, 3, 1, 4) of (N, L, 3, h, d) per sample: axes (1, 2, 0, 3) of (L, 3, h, d)
    assert Permute((1, 2, 0, 3)).out_shape(((197, 3, 12, 64),)) == (3, 12, 197, 64)
    assert Select(0, 2).out_shape(((3, 12, 197, 64),)) == (12, 197, 64)
    # x[:, 1:8:3]: elements 1, 4, 7 -> 3
    assert Narrow(0, 1, 8, 3).out_shape(((9, 5),)) == (3, 5)
    assert Narrow(1, 4, 8).out_shape(((2, 8, 3),)) == (2, 4, 3)
    # a (h, (2·7-1)²) bias table gathered by a (49, 49) index along axis 1
    assert Index(1).out_shape(((4, 169), (49, 49))) == (4, 49, 49)
    assert Cat(0).out_shape(((1, 64), (1, 64), (196, 64))) == (198, 64)
    assert Stack(1).out_shape(((4, 5), (4, 5))) == (4, 2, 5)
    assert Roll((-3, 3), (0, 1)).out_shape(((56, 56, 96),)) == (56, 56, 96)
    assert Param((1, 768)).out_shape(((3, 224, 224),)) == (1, 768)


def test_params_and_buffers_by_hand() -> None:
    ins = ((3, 8, 8),)
    assert Param((197, 768)).params(ins) == 197 * 768
    assert Param((197, 768)).buffers(ins) == 0
    assert Param((49, 49), trainable=False).params(ins) == 0
    assert Param((49, 49), trainable=False).buffers(ins) == 49 * 49
    assert Constant((49, 49)).params(ins) == 0 and Constant((49, 49)).buffers(ins) == 0


@pytest.mark.parametrize(
    "layer, ins",
    [
        (Permute((1, 0, 2)), ((4, 5, 6),)),
        (Reshape((20, 6)), ((4, 5, 6),)),
        (Narrow(1, 0, 2), ((4, 5, 6),)),
        (Select(2, 1), ((4, 5, 6),)),
        (Index(0), ((10, 6), (4, 4))),
        (Cat(0), ((1, 6), (4, 6))),
        (Stack(0), ((4, 6), (4, 6))),
        (Roll((1,), (0,)), ((4, 5, 6),)),
        (Param((4, 6)), ((3, 8, 8),)),
        (Constant((4, 6)), ((3, 8, 8),)),
    ],
)
def test_no_arithmetic_anywhere(layer: Any, ins: Any) -> None:
    """They move, pick or make elements: 0 MACs, 0 FLOPs, and 0 under every foreign tool
    (fvcore lists each aten op in _IGNORED_OPS; none is a conv or matmul; none a module)."""
    out = layer.out_shape(ins)
    assert layer.macs(ins, out) == 0 and layer.flops(ins, out) == 0
    for rule in FOREIGN_RULES.values():
        assert getattr(layer, rule)(ins, out, 2) == 0


def test_views_share_storage_copies_do_not() -> None:
    assert all(k.alias for k in (Permute, Reshape, Narrow, Select))
    assert not any(k.alias for k in (Cat, Stack, Roll, Index))
    assert Cat(0).saved(((1, 6), (4, 6)), (5, 6), 2) == ()


def test_receptive_field_is_kept_or_declined() -> None:
    # leading axes moved: the last two (a map's H, W) stay, every unit sees what it saw
    assert Permute((1, 0, 2, 3)).geometry(((2, 3, 5, 5),), (3, 2, 5, 5)) == (
        (1, 1, 0),
        (1, 1, 0),
    )
    with pytest.raises(UnsupportedError, match=r"Permute\(0, 2, 1\).*spatial"):
        Permute((0, 2, 1)).geometry(((4, 5, 6),), (4, 6, 5))
    with pytest.raises(UnsupportedError, match="Reshape"):
        Reshape((20, 6)).geometry(((4, 5, 6),), (20, 6))
    assert Param((4,)).geometry(((3, 8, 8),), (4,)) is NO_INPUT  # it reads no position


def test_a_parameter_added_keeps_the_field() -> None:
    """x + pos_embed: the parameter sees no input position, so the sum sees what x sees.
    Two 3x3 convs (stride 1, padding 1) around it: size 1 + 2 + 2 = 5, offset -1 - 1 = -2."""
    from archcalc.engine.graph import INPUT, Builder

    b = Builder("pos", (4, 8, 8))
    b.add("c1", archcalc.Conv2d(4, 4, 3, padding=1))
    b.add("pos", Param((4, 8, 8)), INPUT)
    b.add("sum", archcalc.Add(), "c1", "pos")
    b.add("c2", archcalc.Conv2d(4, 4, 3, padding=1))
    s = archcalc.summary(b.build())
    assert (s.rf.size, s.rf.stride, s.rf.offset) == ((5, 5), (1, 1), (-2, -2))
    rows = {r.name: r for r in s.layers}
    assert rows["pos"].rf is None  # the table shows n/a: a parameter has no field
    assert rows["sum"].rf.size == (3, 3)


def test_bad_fields_are_named() -> None:
    with pytest.raises(archcalc.SpecError, match="Permute.dims"):
        Permute((0, 0, 1))
    with pytest.raises(archcalc.SpecError, match="Narrow.stop"):
        Narrow(0, 3, 2)
    with pytest.raises(archcalc.SpecError, match="Roll.dims"):
        Roll((1, 2), (0,))


# ---------------------------------------------------------------- imports against torch


def fvcore_total(net: nn.Module, shape: tuple[int, ...]) -> int:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(net.eval(), (torch.randn(1, *shape),))
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        return int(a.total())


def imported(net: nn.Module, shape: tuple[int, ...]) -> archcalc.Summary:
    """The import of ``net`` (each layer's shape checked against torch by the importer),
    its params equal to sum(numel) and its fvcore-convention FLOPs to fvcore's count."""
    model = from_torch(net, shape)
    s = archcalc.summary(model, convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    assert s.flops == fvcore_total(net, shape)
    out = net.eval()(torch.randn(2, *shape))
    assert s.output_shape == tuple(out.shape[1:])
    return s


class TokenMixer(nn.Module):
    """MLP-Mixer's token mixing: a Linear over the token axis, between two transposes."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, 8, 4, stride=4)
        self.tokens = nn.Linear(16, 16)

    def forward(self, x: Any) -> Any:
        x = self.embed(x).flatten(2).transpose(1, 2)  # (N, 16, 8): Tokens
        return x + self.tokens(x.transpose(1, 2)).transpose(1, 2)


def test_token_mixing_transposes() -> None:
    s = imported(TokenMixer(), (3, 16, 16))
    kinds = [r.kind for r in s.layers]
    assert kinds == ["Conv2d", "Tokens", "Permute", "Linear", "Permute", "Add"]
    # Linear(16, 16) on 8 rows of 16: 8·16·16 MACs (fvcore counts MACs), conv 8·48·16
    assert s.flops == 8 * 16 * 16 + 8 * 3 * 4 * 4 * 16


class Heads(nn.Module):
    """timm's attention plumbing: qkv reshaped to (N, L, 3, h, d), permuted (2, 0, 3, 1, 4)
    (the batch moves to axis 1), unbound, and back to (N, L, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.proj = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, 2, c // 2).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        y = (q + k + v).transpose(1, 2).reshape(b, n, c)
        return self.proj(y)


def test_heads_move_the_batch_axis() -> None:
    s = imported(Heads(), (5, 8))
    rows = {r.name: r for r in s.layers}
    # (5, 24) -> (5, 3, 2, 4) -> permuted per sample (3, 2, 5, 4); unbind: three (2, 5, 4)
    assert rows["reshape"].output_shape == (5, 3, 2, 4)
    assert rows["permute"].output_shape == (3, 2, 5, 4)
    assert [rows[n].kind for n in ("unbind", "unbind_1", "unbind_2")] == ["Select"] * 3
    # fvcore: two Linear layers, 5·8·24 + 5·8·8 MACs
    assert s.flops == 5 * 8 * 24 + 5 * 8 * 8


class SplitLast(nn.Module):
    """MambaOut's gate: a split on the last axis."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 10)

    def forward(self, x: Any) -> Any:
        g, c = torch.split(self.fc(x), [4, 6], dim=-1)
        return torch.cat((g, c[..., 1:5]), dim=-1)


def test_split_on_the_last_axis_and_ellipsis_slice() -> None:
    s = imported(SplitLast(), (7, 6))
    rows = {r.name: r for r in s.layers}
    assert (rows["split"].kind, rows["split"].output_shape) == ("Narrow", (7, 4))
    assert rows["split_1"].output_shape == (7, 6)
    assert (rows["getitem"].kind, rows["getitem"].output_shape) == ("Narrow", (7, 4))
    assert (rows["cat"].kind, s.output_shape) == ("Cat", (7, 8))


class Stacked(nn.Module):
    """SKNet's branches: stacked on a new axis 1, then flattened back into channels."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 3, padding=2, dilation=2)
        self.fuse = nn.Conv2d(8, 4, 1)

    def forward(self, x: Any) -> Any:
        y = torch.stack([self.a(x), self.b(x)], dim=1)  # (N, 2, 4, H, W)
        return self.fuse(y.reshape(x.shape[0], 8, *x.shape[2:]))


def test_stack_then_reshape() -> None:
    s = imported(Stacked(), (3, 6, 6))
    rows = {r.name: r for r in s.layers}
    assert (rows["stack"].kind, rows["stack"].output_shape) == ("Stack", (2, 4, 6, 6))
    assert rows["reshape"].output_shape == (8, 6, 6)
    # the (2, 4, H, W) -> (8, H, W) reshape keeps the map's positions: fields followed
    assert s.rf is not None


class Tokens2(nn.Module):
    """Two learned tokens (DeiT's class and distillation tokens) put in front, one of them
    twice: its parameters are counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.dist = nn.Parameter(torch.zeros(1, 1, 8))
        self.fc = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        b = x.shape[0]
        t = torch.cat((self.cls.expand(b, -1, -1), self.dist.expand(b, -1, -1), x), dim=1)
        t = torch.cat((self.cls.expand(b, -1, -1), self.fc(t)), dim=1)
        return t


def test_parameters_used_directly_are_counted_once() -> None:
    s = imported(Tokens2(), (5, 8))
    params = [r for r in s.layers if r.kind == "Param"]
    assert sorted(r.name for r in params) == ["cls", "dist"]
    assert [r.params for r in params] == [8, 8]
    assert s.output_shape == (1 + 1 + 1 + 5, 8)


class WithConstants(nn.Module):
    """A channel of zeros and an arange-made position channel, built in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(5, 4, 1)

    def forward(self, x: Any) -> Any:
        b, _, h, w = x.shape
        pos = torch.arange(h * w, dtype=x.dtype).reshape(1, 1, h, w).expand(b, 1, h, w)
        return self.conv(torch.cat((x, x.new_zeros(b, 1, h, w), pos), dim=1))


def test_constants_made_in_forward() -> None:
    s = imported(WithConstants(), (3, 4, 4))
    consts = [r for r in s.layers if r.kind == "Constant"]
    assert [r.params for r in consts] == [0, 0]
    assert s.params == 5 * 4 + 4


class Rolled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: Any) -> Any:
        return torch.roll(self.conv(x), (1, -1), (2, 3))


def test_roll_is_a_reported_field_gap() -> None:
    model = from_torch(Rolled(), (3, 8, 8))
    s = archcalc.summary(model)
    assert model.node("roll").layer == Roll((1, -1), (1, 2))
    assert s.rf is None and "Roll" in s.to_dict()["receptive_field"]["unavailable"]


class Sliced(nn.Module):
    def forward(self, x: Any) -> Any:
        return x[:, :, ::2][:, None, 1]


def test_getitem_slices_ints_and_none() -> None:
    model = from_torch(Sliced(), (3, 8, 6))
    # x[:, :, ::2]: rows 0, 2, 4, 6 -> (3, 4, 6); [:, None, 1]: channel 1, a new axis
    assert model.node("getitem").layer == Narrow(1, 0, 8, 2)
    assert archcalc.summary(model).output_shape == (1, 4, 6)


class Folded(nn.Module):
    """LeViT's LinearNorm folds the batch into the tokens: (N, L, C) -> (N·L, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 6)

    def forward(self, x: Any) -> Any:
        b, n, _ = x.shape
        y = self.fc(x).flatten(0, 1)[:, 1:4]  # (N·L, 3): a slice of the folded tensor
        return y.reshape(b, n, 3)


def test_a_batch_folded_into_axis_0() -> None:
    r = import_torch(Folded(), (5, 4))
    s = imported(Folded(), (5, 4))
    # (N·5, 6)[:, 1:4]: per sample (5, 6) -> (5, 3), axis 1 of torch is per-sample axis 1
    assert r.model.node("getitem").layer == Narrow(1, 1, 4)
    assert s.output_shape == (5, 3)


class FourierPosition(nn.Module):
    """XCiT's position encoding: a 1x1 convolution of features built from arange (a batch of
    one), repeated along the batch and added to the map."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, 6, 2, stride=2)
        self.proj = nn.Conv2d(4, 6, 1)

    def forward(self, x: Any) -> Any:
        x = self.embed(x)
        b, _, h, w = x.shape
        grid = torch.arange(h * w, dtype=x.dtype).reshape(1, 1, h, w)
        feats = torch.cat([grid.sin(), grid.cos(), grid, grid * 2], dim=1)  # (1, 4, h, w)
        return x + self.proj(feats).repeat(b, 1, 1, 1)


def test_a_module_on_a_constant_is_counted() -> None:
    s = imported(FourierPosition(), (3, 8, 8))
    # fvcore at batch 1: embed 6·3·2·2 per output position (16), proj 6·4 per position (16)
    assert s.flops == 16 * 6 * 3 * 2 * 2 + 16 * 6 * 4
    assert s.layer("proj").params == 6 * 4 + 6


def test_pad_any_axes_by_hand() -> None:
    from archcalc.kinds.tensor import PadAxes

    # CoaT pads the token axis of (h, L, d) by one in front: (4, 196 + 1, 32)
    assert PadAxes((1,), (1,), (0,)).out_shape(((4, 196, 32),)) == (4, 197, 32)
    # a map's H and W padded (1, 0) and (2, 3): unit 0's window starts 1 row, 2 columns up/left
    p = PadAxes((1, 2), (1, 2), (0, 3))
    assert p.out_shape(((8, 5, 5),)) == (8, 6, 10)
    assert p.geometry(((8, 5, 5),), (8, 6, 10)) == ((1, 1, -1), (1, 1, -2))
    assert p.flops(((8, 5, 5),), (8, 6, 10)) == 0


class PadTokens(nn.Module):
    """CoaT's F.pad of the token axis of a multi-head tensor, DaViT's of a channels-last map."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4, 4)

    def forward(self, x: Any) -> Any:
        x = self.conv(x).permute(0, 2, 3, 1)  # (N, H, W, C): channels-last
        x = torch.nn.functional.pad(x, (0, 0, 1, 2, 0, 1))  # W by (1, 2), H by (0, 1)
        t = self.fc(x).flatten(1, 2)  # (N, L, C)
        return torch.nn.functional.pad(t, (0, 0, 1, 0))  # one token in front


def test_pad_of_a_channels_last_map_and_of_tokens() -> None:
    s = imported(PadTokens(), (3, 5, 5))
    # (5 + 0 + 1) x (5 + 1 + 2) positions = 48 tokens, one more in front
    assert s.output_shape == (6 * 8 + 1, 4)
    assert [r.kind for r in s.layers if "pad" in r.name] == ["PadAxes", "PadAxes"]


class PerHead(nn.Module):
    """MViTv2's pooling: a depthwise convolution run on every head, the heads folded into the
    batch ((N·h, C, H, W)); then its relative positions added into a region in place."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.Conv2d(4, 4, 3, padding=1, groups=4)

    def forward(self, x: Any) -> Any:
        b, c, h, w = x.shape  # c = 2 heads of 4 channels
        y = self.pool(x.reshape(b * 2, 4, h, w)).reshape(b, c, h, w)
        y[:, :, 1:, 1:] = y[:, :, 1:, 1:] + x[:, :, :-1, :-1]
        return y


class SharedConv(nn.Module):
    """CoaT's position encoding: one depthwise convolution applied in two blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.cpe = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.mix = nn.Conv2d(4, 4, 1)

    def forward(self, x: Any) -> Any:
        x = x + self.cpe(x)
        x = self.mix(x)
        return x + self.cpe(x)


@pytest.mark.parametrize(
    "net, shape",
    [
        (TokenMixer(), (3, 16, 16)),
        (Heads(), (5, 8)),
        (SplitLast(), (7, 6)),
        (Stacked(), (3, 6, 6)),
        (Tokens2(), (5, 8)),
        (Sliced(), (3, 8, 6)),
        (PadTokens(), (3, 5, 5)),
        (PerHead(), (8, 5, 5)),
    ],
)
def test_built_back_in_torch(net: nn.Module, shape: tuple[int, ...]) -> None:
    """to_torch of the import runs in torch with torch's output shape and parameter count."""
    from archcalc.torch import to_torch

    model = from_torch(net, shape)
    built = to_torch(model).eval()
    x = torch.randn(2, *shape)
    assert built(x).shape == net.eval()(x).shape
    assert sum(p.numel() for p in built.parameters()) == sum(p.numel() for p in net.parameters())


class Heads2(nn.Module):
    """CrossViT's heads: stacked on a new axis 0 (the batch moves to axis 1), then averaged;
    a constant cast to a parameter's dtype (Gemma's one-hot.to(table))."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.b = nn.Linear(6, 4)
        self.register_buffer("table", torch.zeros(4))

    def forward(self, x: Any) -> Any:
        bias = torch.ones(4).to(self.table)  # only the buffer's dtype is read
        y = torch.stack([self.a(x), self.b(x)], dim=0)  # (2, N, 4)
        return y[0] + y[1] + bias


def test_stack_on_axis_0_moves_the_batch() -> None:
    model = from_torch(Heads2(), (6,))
    assert model.node("stack").layer == Stack(0)
    s = imported(Heads2(), (6,))
    assert s.layer("stack").output_shape == (2, 4) and s.output_shape == (4,)


# ---------------------------------------------------------------- real timm families

#: timm families the general tensors import exactly (one small model each, a small input
#: where the model takes one): params = sum(numel), fvcore-convention FLOPs = fvcore's total
TIMM_EXACT = [
    ("pvt_v2_b0", (3, 64, 64)),  # reshapes into heads, permutes (0, 2, 1, 3), sr attention
    ("efficientvit_b0", (3, 64, 64)),  # ReLU linear attention on (N, heads, C, H·W) views
    ("skresnet18", (3, 64, 64)),  # torch.stack of the kernel branches
    ("levit_128", (3, 224, 224)),  # flatten(0, 1): a batch folded into the tokens
    ("edgenext_xx_small", (3, 64, 64)),  # chunk on channels, constants in its position code
]


@pytest.mark.parametrize("name, shape", TIMM_EXACT)
def test_timm_families_exact(name: str, shape: tuple[int, ...]) -> None:
    timm = pytest.importorskip("timm")
    net = timm.create_model(name).eval()
    s = archcalc.summary(from_torch(net, shape), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    assert s.flops == fvcore_total(net, shape)


def test_a_module_per_folded_row_and_an_assignment() -> None:
    from archcalc.kinds.tensor import Assign, PerRow

    model = from_torch(PerHead(), (8, 5, 5))
    pool = model.node("pool").layer
    assert isinstance(pool, PerRow) and pool.inner.groups == 4
    assert model.node("setitem").layer == Assign((1, 2), (1, 1), (5, 5), (1, 1))
    s = imported(PerHead(), (8, 5, 5))
    # fvcore: the depthwise 3x3 conv on N·2 maps of 4 channels: 2·(4·9)·25 per sample
    assert s.flops == 2 * 4 * 9 * 25
    assert s.layer("pool").params == 4 * 9 + 4


def test_a_module_called_twice_counts_its_parameters_once() -> None:
    from archcalc.kinds.tensor import Shared

    r = import_torch(SharedConv(), (4, 6, 6))
    again = r.model.node("cpe_1").layer
    assert isinstance(again, Shared) and again.first == "cpe"
    s = imported(SharedConv(), (4, 6, 6))
    assert s.layer("cpe_1").params == 0 and s.layer("cpe").params == 4 * 9 + 4
    # fvcore counts both calls: 2 · (4·9·36) + the 1x1 mix 4·4·36
    assert s.flops == 2 * 4 * 9 * 36 + 4 * 4 * 36
    assert any("counted once" in n for n in r.notes)


class GlobalQuery(nn.Module):
    """GCViT's global query: one per sample, copied to each of its k windows (a batch folded
    into the windows) by repeat_interleave; a tile of the channels by repeat."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(4, 4)

    def forward(self, x: Any) -> Any:
        b, c, h, w = x.shape  # 4 windows of 2x2 on a 4x4 map
        win = x.reshape(b, c, 2, 2, 2, 2).permute(0, 2, 4, 3, 5, 1).reshape(b * 4, 4, c)
        q = self.q(x.mean((2, 3)))[:, None].repeat_interleave(4, dim=0)  # (N·4, 1, C)
        return (win + q).repeat(1, 1, 2).reshape(b, 16, 2 * c)


def test_repeat_and_repeat_interleave_into_a_folded_batch() -> None:
    from archcalc.kinds.tensor import Repeat

    model = from_torch(GlobalQuery(), (4, 4, 4))
    # per sample q is (1, C): read as (1, 1, C), tiled 4 times along the new axis 0
    assert model.node("repeat_interleave_repeat").layer == Repeat((4, 1, 1))
    s = imported(GlobalQuery(), (4, 4, 4))
    assert s.output_shape == (16, 8)  # per sample: 4 windows of 4 tokens of 2·4 channels


class RelPosBias(nn.Module):
    """BoTNet's relative logits: a folded tensor padded on its last axis and broadcast by
    expand; a position MLP on a constant coordinate table (timm's relpos MLP)."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Linear(2, 3)

    def forward(self, x: Any) -> Any:
        b, c, h, w = x.shape  # (N, 3, 4, 4)
        rows = torch.nn.functional.pad(x.reshape(b * c, h, w), [0, 1])  # (N·3, 4, 5)
        grid = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), -1)
        table = self.mlp(grid.to(x.dtype)).permute(2, 0, 1)  # (3, 4, 4): a constant's MLP
        wide = rows.reshape(b, c, h, 1, w + 1).expand(-1, -1, -1, 2, -1)  # (N, 3, 4, 2, 5)
        return wide.sum((3, 4)) + table.sum(-1)


def test_expand_and_pad_of_a_fold_and_a_module_on_a_constant() -> None:
    from archcalc.kinds.tensor import Expand, PadAxes

    model = from_torch(RelPosBias(), (3, 4, 4))
    assert model.node("pad").layer == PadAxes((2,), (0,), (1,))  # per sample (3, 4, 4+1)
    assert model.node("expand").layer == Expand((3, 4, 2, 5))
    s = imported(RelPosBias(), (3, 4, 4))
    # the MLP on the 4x4 table of 2 coordinates: 16·2·3 MACs (fvcore, batch 1)
    assert s.flops == 16 * 2 * 3


class Rope(nn.Module):
    """timm's AttentionRope with no prefix tokens: q[:, :, :0] is empty and cat drops it;
    HieraDet tiles a window embedding (a parameter) over the map."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.window = nn.Parameter(torch.zeros(1, 4, 2, 2))

    def forward(self, x: Any) -> Any:
        q = self.fc(x)  # (N, 16, 4)
        q = torch.cat([q[:, :0], q[:, 0:] * 2], dim=1)
        pos = self.window.tile((2, 2)).flatten(2).transpose(1, 2)  # (1, 16, 4)
        return q + pos


def test_an_empty_slice_and_a_tiled_parameter() -> None:
    from archcalc.kinds.tensor import Repeat

    model = from_torch(Rope(), (16, 4))
    assert model.node("cat").inputs == ("mul",)  # the empty piece dropped
    assert model.node("tile").layer == Repeat((1, 1, 2, 2))
    assert model.node("add").inputs == ("cat", "transpose.squeeze")  # (1, 16, 4) -> (16, 4)
    s = imported(Rope(), (16, 4))
    assert s.layer("window").params == 4 * 2 * 2


class CumsumBias(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.p = nn.Parameter(torch.zeros(4))

    def forward(self, x: Any) -> Any:
        return self.fc(x) + torch.cumsum(self.p * 2, 0)


def test_partial_an_unsupported_op_on_a_parameter_is_a_constant_gap() -> None:
    r = import_torch(CumsumBias(), (5, 4), partial=True)
    assert [(g.op, g.action) for g in r.gaps] == [
        ("torch.cumsum", "constant"),
        ("operator.add", "identity"),
    ]
    assert r.model.output != "p"  # the model still ends at the tokens, not at the parameter


@pytest.mark.parametrize(
    "net, shape",
    [
        (Heads(), (5, 8)),
        (Stacked(), (3, 6, 6)),
        (Tokens2(), (5, 8)),
        (PerHead(), (8, 5, 5)),
        (SplitLast(), (7, 6)),
        (PadTokens(), (3, 5, 5)),
        (SharedConv(), (4, 6, 6)),
        (TokenMixer(), (3, 16, 16)),
    ],
)
def test_every_foreign_tool_on_the_real_module(net: nn.Module, shape: tuple[int, ...]) -> None:
    """fvcore, FlopCounterMode, ptflops, thop and torchinfo run on the torch module (batch 2)
    equal archcalc's count of its import under each one's convention."""
    tools = tool_totals(net.eval(), torch.randn(2, *shape))
    model = from_torch(net, shape)
    ours = {c: archcalc.summary(model, batch=2, convention=c).flops for c in tools}
    assert ours == tools


class ChannelsLastTokens(nn.Module):
    """PVT v2's patch embedding: a channels-last map (N, H, W, C) reshaped to tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 4, stride=4)
        self.fc = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        y = self.proj(x).permute(0, 2, 3, 1)  # (N, 4, 4, 8)
        return self.fc(y.reshape(y.shape[0], -1, 8))


def test_a_channels_last_map_read_as_tokens_keeps_its_field() -> None:
    from archcalc.kinds import Tokens

    model = from_torch(ChannelsLastTokens(), (3, 16, 16))
    assert model.node("reshape").layer == Tokens()
    s = imported(ChannelsLastTokens(), (3, 16, 16))
    # token t is map position (t // 4, t mod 4): each sees the 4x4 patch of the stride-4 conv
    assert s.rf is not None and s.rf.size == (4, 4) and s.rf.stride == (4, 4)
