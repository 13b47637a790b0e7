"""Windowed attention (Swin v1/v2 attention and patch merging): each kind's quantities
derived by hand, every foreign tool and autograd's saved tensors measured on the real
torchvision modules, the real swin_t / swin_v2_t imported exactly (params = numel, the fvcore
convention = fvcore's total), and swin_t's receptive field per stage equal to the gradient
support of the real model.

The receptive field of a window partition depends on the unit's position in its window
(phases); engine/receptive.py keeps it exactly per phase (``RF.per_phase``), and
``clipped_boxes`` gives every unit's box clipped to the image.
"""

from __future__ import annotations

import warnings

import pytest

import archcalc
from archcalc.engine.graph import sequential
from archcalc.engine.receptive import receptive_fields
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import (
    Conv2d,
    PartitionAttention,
    PatchMerging,
    PatchMergingV2,
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
    TimmSwinBlock,
    TimmSwinV2Block,
    TimmSwinV2CrBlock,
    Windows,
)

# ---------------------------------------------------------------- by hand, torch-free


def test_window_attention_quantities_by_hand():
    # C = 96, 3 heads, window 7 on a 16 × 16 map: padded to 21 × 21, L = 441 tokens,
    # N = 49 per window, 9 windows
    a = ShiftedWindowAttention(96, 3, 7, 3)
    ins = ((96, 16, 16),)
    c, n_tok, win, h = 96, 21 * 21, 49, 3
    assert a.out_shape(ins) == (96, 16, 16)
    assert a.params(ins) == (3 * c * c + 3 * c) + (c * c + c) + 13 * 13 * h
    assert a.buffers(ins) == win * win  # relative_position_index
    macs = 3 * n_tok * c * c + n_tok * c * c + 2 * (9 * h * win * win * (c // h))
    assert a.macs(ins, ins[0]) == macs
    scores = 9 * h * win * win
    # 2·MACs, biases 4·L·C, q scaling L·C, bias add, mask add (shifted), softmax 5/score
    assert a.flops(ins, ins[0]) == 2 * macs + 4 * n_tok * c + n_tok * c + 7 * scores
    # no shift on an axis the window covers (torchvision sets it to 0): no mask add
    small = ((96, 7, 7),)
    assert a.flops(small, small[0]) == 2 * a.macs(small, small[0]) + 5 * 49 * c + 6 * 3 * 49 * 49


def test_window_attention_v2_quantities_by_hand():
    a = ShiftedWindowAttentionV2(96, 3, 8, 4)
    ins = ((96, 16, 16),)
    c, h, t = 96, 3, 15 * 15
    # qkv, proj, logit_scale (h), cpb_mlp Linear(2, 512) and Linear(512, h, bias=False)
    assert a.params(ins) == 4 * c * c + 4 * c + h + (2 * 512 + 512) + 512 * h
    assert a.buffers(ins) == 2 * t + 64 * 64  # relative_coords_table, relative_position_index
    assert a.macs(ins, ins[0]) == 4 * 256 * c * c + 2 * 256 * 64 * c + t * 512 * (2 + h)


def test_patch_merging_by_hand():
    m, m2 = PatchMerging(96), PatchMergingV2(96)
    ins = ((96, 7, 5),)  # odd sides: F.pad adds a row and a column, 4 × 3 blocks
    assert m.out_shape(ins) == m2.out_shape(ins) == (192, 4, 3)
    assert m.params(ins) == 4 * 96 * 2 * 96 + 2 * 4 * 96  # reduction, LayerNorm(4C)
    assert m2.params(ins) == 4 * 96 * 2 * 96 + 2 * 2 * 96  # reduction, LayerNorm(2C)
    assert m.macs(ins, (192, 4, 3)) == 12 * 4 * 96 * 2 * 96
    assert m.geometry(ins, (192, 4, 3)) == ((2, 2, 0), (2, 2, 0))


def test_windows_step_reads_the_window_members():
    w = Windows(7, 3, 16)
    # windows start at positions ≡ 3 (mod 7): [-4, 2], [3, 9], [10, 16]
    assert [w.base(j) for j in range(16)] == [-4] * 3 + [3] * 7 + [10] * 6
    g = Windows(4, 0, 8, grid=True)  # 4 blocks of q = 2: unit j reads j mod 2 + 2t
    assert [g.base(j) for j in range(8)] == [0, 1] * 4 and g.dilation == 2


def _stage1(shift_second: bool = True):
    layers = [
        Conv2d(3, 8, 4, stride=4),
        ShiftedWindowAttention(8, 2, 7, 0),
        ShiftedWindowAttention(8, 2, 7, 3 if shift_second else 0),
        PatchMerging(8),
    ]
    return sequential("swin_stage1", layers, input_shape=(3, 112, 112))


def test_receptive_field_per_phase_by_hand():
    """Swin's first stage on one axis (patch 4, window 7, shift 3), unit j = 7m + r:

    * W-MSA: unit r reads units 0..6, pixels [0, 27] whatever r: (offset 0, size 28);
    * SW-MSA: windows start at ≡ 3 (mod 7); units 0..2 read units -4..2 (units -4..-1 are
      the previous window, pixels [-28, -1]): [-28, 27]; units 3..6 read 3..9: [0, 55];
    * PatchMerging (2×2, stride 2): unit r' reads units 2r', 2r'+1 (period 7, 56 pixels
      per 7 units): r' = 0 → [-28, 27]; 1 → [-28, 55]; 2, 3, 4 → [0, 55]; 5, 6 → [28, 83].
    """
    m = _stage1()
    rfs = receptive_fields(m, infer_shapes(m))
    assert rfs["1"].per_phase[0] == ((0, 28),) * 7 and rfs["1"].stride == (4, 4)
    assert rfs["2"].per_phase[0] == ((-28, 56),) * 3 + ((0, 56),) * 4
    assert rfs["3"].per_phase[0] == (
        (-28, 56),
        (-28, 84),
        (0, 56),
        (0, 56),
        (0, 56),
        (28, 56),
        (28, 56),
    )
    rf = rfs["3"]
    assert (rf.size, rf.stride, rf.offset, rf.phases) == ((84, 84), (8, 8), (-28, -28), (7, 7))
    assert not rf.exact and "per phase" in rf.holds_for
    # without the shift the second W-MSA reads the same window: still [0, 27] for every
    # unit of a window (7 phases: unit j sees [28·(j // 7), 28·(j // 7) + 27])
    plain = receptive_fields(_stage1(False), infer_shapes(_stage1(False)))["2"]
    assert (plain.size, plain.phases, plain.per_phase[0]) == ((28, 28), (7, 7), ((0, 28),) * 7)


def test_large_windows_stay_fast_and_many_phases_are_named():
    """A 3000-unit window: the union over a window reads each phase class once (O(period),
    not O(window)); a chain of windows whose phase count passes the cap gives an
    approximate field with a note, never a wrong one silently."""
    import time

    t = time.perf_counter()
    big = sequential("w", [ShiftedWindowAttention(8, 2, 3000, 1000)], input_shape=(8, 6000, 6000))
    rf = receptive_fields(big, infer_shapes(big))["0"]
    assert time.perf_counter() - t < 5
    # unit j's window starts at ≡ 1000 (mod 3000): unit 0 reads [-2000, 999]
    assert rf.size == (3000, 3000) and rf.per_phase[0][0] == (-2000, 3000)
    sizes = (7, 11, 13, 17, 19, 23)  # phases lcm(7, …, 19) = 323,323 > 65,536 at the fifth
    chain = [ShiftedWindowAttention(8, 2, w, 5 if w > 7 else 3) for w in sizes]
    m = sequential("c", chain, input_shape=(8, 600, 600))
    rf = receptive_fields(m, infer_shapes(m))["5"]
    assert rf.per_phase is None and any("approximate field" in n for n in rf.notes)


# ---------------------------------------------------------------- the real modules

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
at = pytest.importorskip("archcalc.torch")

from foreign_tools import tool_totals  # noqa: E402
from torchvision.models import swin_transformer as sw  # noqa: E402
from torchvision.models.maxvit import PartitionAttentionLayer  # noqa: E402

timm = pytest.importorskip("timm")
from timm.models.swin_transformer import PatchMerging as TimmPatchMerging  # noqa: E402
from timm.models.swin_transformer import SwinTransformerBlock as TimmBlock  # noqa: E402
from timm.models.swin_transformer_v2 import PatchMerging as TimmPatchMergingV2  # noqa: E402
from timm.models.swin_transformer_v2 import SwinTransformerV2Block as TimmV2Block  # noqa: E402
from timm.models.swin_transformer_v2_cr import PatchMerging as TimmPatchMergingCr  # noqa: E402
from timm.models.swin_transformer_v2_cr import SwinTransformerV2CrBlock as TimmCrBlock  # noqa: E402

from archcalc.conventions import count  # noqa: E402
from archcalc.engine.receptive import clipped_boxes  # noqa: E402
from archcalc.kinds._rules import FOREIGN_RULES  # noqa: E402

CASES = {
    "shifted": (ShiftedWindowAttention(8, 2, 3, 1), lambda: sw.ShiftedWindowAttention(8, [3, 3], [1, 1], 2), (5, 4)),
    "plain": (ShiftedWindowAttention(8, 2, 3, 0), lambda: sw.ShiftedWindowAttention(8, [3, 3], [0, 0], 2), (6, 6)),
    "v2": (ShiftedWindowAttentionV2(8, 2, 3, 1), lambda: sw.ShiftedWindowAttentionV2(8, [3, 3], [1, 1], 2), (5, 4)),
    "merging": (PatchMerging(4), lambda: sw.PatchMerging(4), (5, 6)),
    "merging_v2": (PatchMergingV2(4), lambda: sw.PatchMergingV2(4), (5, 6)),
    "maxvit_window": (PartitionAttention(64, 32, 4, "window", 4, 0.5), lambda: _maxvit("window", (8, 12)), (8, 12)),
    "maxvit_grid": (PartitionAttention(64, 32, 4, "grid", 4, 0.5), lambda: _maxvit("grid", (8, 8)), (8, 8)),
    "timm_block_shifted": (TimmSwinBlock(64, 2, 4, 2, 256, True, False), lambda: _timm_block((8, 12), 2, False), (8, 12)),
    "timm_block_padded": (TimmSwinBlock(64, 2, 4, 0, 256, True, True, 0.3), lambda: _timm_block((6, 10), 0, True, 0.3), (6, 10)),
    "timm_merging": (PatchMerging(4), lambda: TimmPatchMerging(4), (5, 6)),
    "timm_v2_shifted": (TimmSwinV2Block(64, 2, 4, 2, 256), lambda: _timm_v2((8, 8), 2), (8, 8)),
    "timm_v2_padded": (TimmSwinV2Block(64, 2, 4, 0, 256), lambda: _timm_v2((6, 10), 0), (6, 10)),
    "timm_v2_merging": (PatchMergingV2(4), lambda: TimmPatchMergingV2(4), (5, 6)),
    "timm_cr_shifted": (TimmSwinV2CrBlock(64, 2, 4, 2, 256, extra_norm=True), lambda: _timm_cr((8, 8), 2, True), (8, 8)),
    "timm_cr_padded": (TimmSwinV2CrBlock(64, 2, 4, 0, 256, drop_path=0.2), lambda: _timm_cr((6, 10), 0, False, 0.2), (6, 10)),
    "timm_cr_merging": (PatchMerging(4), lambda: TimmPatchMergingCr(4), (5, 6)),
}  # fmt: skip


def _timm_cr(size, shift, extra_norm, drop_path=0.0):
    return TimmCrBlock(
        64, 2, size, (4, 4), shift_size=(shift, shift), extra_norm=extra_norm, drop_path=drop_path
    )


def _timm_v2(size, shift):
    return TimmV2Block(64, size, num_heads=2, window_size=4, shift_size=shift)


def _timm_block(size, shift, fused, drop_path=0.0):
    m = TimmBlock(64, size, num_heads=2, window_size=4, shift_size=shift, drop_path=drop_path)
    m.attn.fused_attn = fused
    return m


def _maxvit(kind, grid_size):
    return PartitionAttentionLayer(
        64, 32, 4, kind, grid_size, 4, torch.nn.GELU, torch.nn.LayerNorm, 0.0, 0.0, 0.5
    )


def _input(layer, h, w, **kw):
    """torchvision's Swin modules take channels-last maps, MaxViT's (N, C, H, W)."""
    c = layer.dim
    shape = (B, c, h, w) if isinstance(layer, PartitionAttention) else (B, h, w, c)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0), **kw)


B = 2


def _ours(layer, ins):
    out = layer.out_shape(ins)
    r = {t: getattr(layer, FOREIGN_RULES[t])(ins, out, B) for t in FOREIGN_RULES}
    # ptflops divides its module hooks' sum by the batch, not its patched functionals
    pt = int(r["ptflops_hook"] / B + r["ptflops_functional"])
    return {
        "fvcore": r["fvcore"],
        "flopcounter": r["flopcounter"],
        "ptflops": pt,
        "thop": r["thop"],
        "torchinfo": r["torchinfo"],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_tool_on_the_real_module(case):
    layer, make, (h, w) = CASES[case]
    net = make().eval()
    c = layer.dim
    ins = ((c, h, w),)
    assert layer.params(ins) == sum(p.numel() for p in net.parameters())
    assert layer.buffers(ins) == sum(b.numel() for b in net.buffers())
    assert tool_totals(net, _input(layer, h, w)) == _ours(layer, ins)


@pytest.mark.parametrize("case", sorted(CASES))
def test_saved_tensors_are_autograd_s(case):
    layer, make, (h, w) = CASES[case]
    net = make().train()
    c = layer.dim
    x = _input(layer, h, w, requires_grad=True) * 1.0
    keep = list(net.parameters()) + list(net.buffers())
    _, storages = at.saved_tensors(lambda: net(x), exclude=keep)
    got = sum(nbytes for (_, nbytes) in storages)
    ins = ((c, h, w),)
    items = layer.saved(ins, layer.out_shape(ins), B)
    # float32 activations and accumulators; the index buffer is referenced, not new memory
    assert got == 4 * sum(i.elements for i in items if not i.buffer)


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_and_build(case):
    layer, make, (h, w) = CASES[case]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = make()

        def forward(self, x):  # an NCHW map, the Swin module on its channels-last view
            if isinstance(layer, PartitionAttention):
                return self.m(x)
            return self.m(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    imported = at.from_torch(Net().eval(), (layer.dim, h, w))
    (node,) = [n for n in imported.live_nodes() if n.layer.kind == layer.kind]
    assert node.layer == layer
    built = at.torch_layer(layer)
    y = built(torch.zeros(1, layer.dim, h, w))
    assert tuple(y.shape[1:]) == layer.out_shape(((layer.dim, h, w),))


def _fvcore_total(net, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(net, (torch.zeros(1, 3, size, size),))
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        return a.total()


@pytest.mark.parametrize(
    "name, size, published",
    [("swin_t", 64, 28_288_354), ("swin_v2_t", 64, 28_351_570)],
)
def test_real_swin_imports_exactly(name, size, published):
    """At 64 × 64 (stage maps 16, 8, 4, 2: padded windows, shifted and unshifted)."""
    net = getattr(torchvision.models, name)().eval()
    model = at.from_torch(net, (3, size, size))
    s = archcalc.summary(model)
    assert s.params == sum(p.numel() for p in net.parameters()) == published
    ours = sum(count(model, infer_shapes(model), 1, "fvcore").values())
    assert ours == _fvcore_total(net, size)


def test_swin_t_receptive_field_per_stage_is_gradient_support():
    """swin_t at 112 × 112 (stage maps 28, 14, 7, 4): every probed unit's box in the input
    gradient of the real model equals archcalc's clipped box and its per-phase field
    clipped to the image. Probes cover every phase of the 7-unit windows on both axes in
    stages 1 and 2; stages 3 and 4 (the window covers the map) see the whole image.

    torchvision masks the shifted windows by adding -100, not -inf: a masked token's weight
    is e^-100 ≈ 4e-44 (about 1e-46 of the largest gradient in float64, a denormal or 0 in
    float32): the support is taken above 1e-30 of the largest gradient, and archcalc counts
    masked tokens as unseen, as Swin intends."""
    torch.manual_seed(0)
    size = 112
    net = torchvision.models.swin_t().eval()
    model = at.from_torch(net, (3, size, size))
    shapes = infer_shapes(model)
    boxes = clipped_boxes(model, shapes)
    rfs = receptive_fields(model, shapes)
    names = [n.name for n in model.live_nodes()]
    probes = []
    for stage, step in ((1, 4), (3, 2), (5, 7), (7, 4)):
        last = [n for n in names if n.startswith(f"features.{stage}.")][-1]
        n = shapes[last][1]
        probes += [(stage, last, i, (3 * i + 1) % n) for i in range(0, n, step)]
    outs = {}
    for s in (1, 3, 5, 7):
        net.features[s].register_forward_hook(lambda m, i, o, s=s: outs.__setitem__(s, o))
    x = (torch.rand(len(probes), 3, size, size) + 0.5).requires_grad_()
    net.features(x)
    r = torch.rand(768)
    loss = sum(
        (outs[s][k, i, j] * r[: outs[s].shape[-1]]).sum() for k, (s, _, i, j) in enumerate(probes)
    )
    loss.backward()
    g = x.grad.abs().sum(1)
    for k, (s, last, i, j) in enumerate(probes):
        nz = (g[k] > 1e-30 * g[k].max()).nonzero()  # masked keys weigh e^-100: see above
        got = (
            nz[:, 0].min().item(),
            nz[:, 1].min().item(),
            nz[:, 0].max().item(),
            nz[:, 1].max().item(),
        )
        b = boxes[last]
        assert got == (int(b[0][i]), int(b[2][j]), int(b[1][i]), int(b[3][j])), (s, i, j)
        rf = rfs[last]
        if rf.per_phase is None:
            top = rf.offset[0] + i * rf.stride[0], rf.offset[1] + j * rf.stride[1]
            sizes = rf.size
        else:
            region = []
            for ax, u in enumerate((i, j)):
                p = rf.phases[ax]
                off, sz = rf.per_phase[ax][u % p]
                region.append((off + (u // p) * p * rf.stride[ax], sz))
            top = (region[0][0], region[1][0])
            sizes = (region[0][1], region[1][1])
        clipped = (
            max(top[0], 0),
            max(top[1], 0),
            min(top[0] + sizes[0] - 1, size - 1),
            min(top[1] + sizes[1] - 1, size - 1),
        )
        assert got == clipped, (s, i, j)
    stage_sizes = [
        rfs[[n for n in names if n.startswith(f"features.{s}.")][-1]].size for s in (1, 3)
    ]
    # by hand (test_receptive_field_per_phase_by_hand): stage 1 ends at 56 pixels; stage 2
    # (8 pixels a unit, 56 per 7 units): merging [-28, 83] at most; W-MSA unites units 0..6:
    # [-28, 83] (112) for every phase; SW-MSA units 0..2 add the previous window
    # [-84, 27]: [-84, 83], units 3..6 the next [28, 139]: [-28, 139]: 168 either way
    assert stage_sizes == [(56, 56), (168, 168)]


def test_partition_attention_by_hand():
    # maxvit_t's first stage: C = 64, head_dim 32 (2 heads), P = 7, MLP ratio 4, 56 × 56
    a = PartitionAttention(64, 32, 7, "grid", 4)
    ins = ((64, 56, 56),)
    c, n_tok, win = 64, 56 * 56, 49
    linears = (3 * c * c + 3 * c) + (c * c + c) + (c * 4 * c + 4 * c) + (4 * c * c + c)
    assert a.params(ins) == linears + 2 * 2 * c + 13 * 13 * 2  # + 2 LayerNorms, bias table
    assert a.buffers(ins) == win * win
    assert a.macs(ins, ins[0]) == 12 * n_tok * c * c + 2 * n_tok * win * c
    # grid: blocks of q = 56 / 7 = 8 units; unit j reads j mod 8 + 8t, t < 7
    (gh, _) = a.geometry(ins, ins[0])
    assert (gh.base(13), gh.dilation, gh.taps) == (5, 8, 7)


@pytest.mark.parametrize("kind", ["window", "grid"])
def test_partition_field_is_gradient_support(kind):
    """Every unit of the real PartitionAttentionLayer (8 × 8 map, P = 4): the box of its
    input gradient is archcalc's clipped box (window: its 4 × 4 block; grid: rows and
    columns j mod 2 + 2t, t < 4, a dilated window)."""
    net = _maxvit(kind, (8, 8)).eval()
    model = sequential("p", [PartitionAttention(64, 32, 4, kind, 4, 0.5)], input_shape=(64, 8, 8))
    b = clipped_boxes(model, infer_shapes(model))["0"]
    x = (torch.rand(64, 64, 8, 8) + 0.5).requires_grad_()
    out = net(x)
    r = torch.rand(64)
    sum((out[8 * i + j, :, i, j] * r).sum() for i in range(8) for j in range(8)).backward()
    g = x.grad.abs().sum(1)
    for i in range(8):
        for j in range(8):
            nz = (g[8 * i + j] > 0).nonzero()
            got = (nz[:, 0].min(), nz[:, 1].min(), nz[:, 0].max(), nz[:, 1].max())
            assert tuple(int(v) for v in got) == (b[0][i], b[2][j], b[1][i], b[3][j])
    if kind == "grid":
        assert (b[0][3], b[1][3]) == (1, 7)  # rows 1, 3, 5, 7


def test_real_maxvit_t_imports_exactly():
    """maxvit_t at 224 (its only size: torchvision fixes the grids at construction)."""
    net = torchvision.models.maxvit_t().eval()
    model = at.from_torch(net, (3, 224, 224))
    s = archcalc.summary(model)
    assert s.params == sum(p.numel() for p in net.parameters()) == 30_919_624
    ours = sum(count(model, infer_shapes(model), 1, "fvcore").values())
    assert ours == _fvcore_total(net, 224)
    # the squeeze-excitation of every MBConv gives every unit global context
    assert s.rf.global_context


def test_timm_swin_block_field_is_gradient_support():
    """timm's block (8 × 8 map, window 4, shift 2): every unit's input-gradient box is
    archcalc's clipped box; the shifted windows start at ≡ 2 (mod 4): [-2, 1], [2, 5], [6, 9]."""
    net = _timm_block((8, 8), 2, False).eval()
    model = sequential("t", [TimmSwinBlock(64, 2, 4, 2, 256, True, False)], input_shape=(64, 8, 8))
    b = clipped_boxes(model, infer_shapes(model))["0"]
    assert [int(v) for v in b[0]] == [0, 0, 2, 2, 2, 2, 6, 6]
    assert [int(v) for v in b[1]] == [1, 1, 5, 5, 5, 5, 7, 7]
    x = (torch.rand(64, 8, 8, 64) + 0.5).requires_grad_()
    out = net(x)
    r = torch.rand(64)
    sum((out[8 * i + j, i, j] * r).sum() for i in range(8) for j in range(8)).backward()
    g = x.grad.abs().sum(-1)
    for i in range(8):
        for j in range(8):
            # a masked key weighs e^-100 ≈ 4e-44 (timm adds -100): a float32 denormal, not 0
            gk = g[8 * i + j]
            nz = (gk > 1e-30 * gk.max()).nonzero()
            got = (nz[:, 0].min(), nz[:, 1].min(), nz[:, 0].max(), nz[:, 1].max())
            assert tuple(int(v) for v in got) == (b[0][i], b[2][j], b[1][i], b[3][j])


@pytest.mark.parametrize(
    "name, size",
    [
        ("swin_tiny_patch4_window7_224", 112),
        ("swinv2_tiny_window8_256", 128),
        ("swinv2_cr_tiny_224", 112),  # window img_size / 32 = 3 on 28, 14, 7: see below
    ],
)
def test_timm_swin_imports_exactly(name, size):
    """timm's Swin v1, v2 and v2-cr, built for a small image where the model allows (stage
    maps 28, 14, 7, 4 and 32, 16, 8, 4; timm shrinks a window larger than its map and drops
    its shift)."""
    net = timm.create_model(name, img_size=size).eval()
    model = at.from_torch(net, (3, size, size))
    assert archcalc.summary(model).params == sum(p.numel() for p in net.parameters())
    ours = sum(count(model, infer_shapes(model), 1, "fvcore").values())
    assert ours == _fvcore_total(net, size)


def test_timm_roll_before_pad_field_is_a_named_gap():
    """swinv2_cr_tiny_224 at 112 shifts a 3-wide window on a 28-unit map: timm rolls before
    it pads, so the windows are not contiguous in the map: the counts are exact (above) and
    the receptive field is reported unavailable with the reason, never a wrong number."""
    net = timm.create_model("swinv2_cr_tiny_224", img_size=112).eval()
    s = archcalc.summary(at.from_torch(net, (3, 112, 112)))
    rf = s.to_dict(layers=False)["receptive_field"]
    assert rf["size"] is None and "rolls before it pads" in rf["unavailable"]
