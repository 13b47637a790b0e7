"""GroupNorm end to end: every rule derived by hand, every foreign convention measured with
the installed tools on a real ``nn.GroupNorm``, what autograd saves measured in torch, the
torch build, and the import of ``nn.GroupNorm`` and ``F.group_norm``.

The kind is one class (archcalc/kinds/norm.py); nothing else in archcalc names it.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import pytest

import archcalc
from archcalc import Builder, Conv2d, SpecError
from archcalc.conventions import count
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import GLOBAL, Extra, GroupNorm, layer_from_dict

C, H, W = 8, 5, 7
N = 2
NUMEL = C * H * W  # 280 per sample


# ---------------------------------------------------------------- rules, by hand


def test_quantities():
    g = GroupNorm(4, C)
    ins = ((C, H, W),)
    assert g.out_shape(ins) == (C, H, W)
    assert g.params(ins) == 2 * C  # weight and bias, one per channel
    assert g.buffers(ins) == 0  # no running statistics
    assert g.macs(ins, (C, H, W)) == 0
    # mean, centre, square, variance sum (1 each), normalise (2), affine (2)
    assert g.flops(ins, (C, H, W)) == 8 * NUMEL
    # every output depends on all positions of its group
    assert g.geometry(ins, (C, H, W)) is GLOBAL
    # the input, and mean and rstd per (sample, group)
    assert g.saved(ins, (C, H, W), N) == ("in0", Extra(2 * N * 4, None, "mean/rstd per group"))


def test_without_affine():
    g = GroupNorm(2, C, affine=False)
    ins = ((C, H, W),)
    assert g.params(ins) == 0
    assert g.flops(ins, (C, H, W)) == 6 * NUMEL
    assert g.saved(ins, (C, H, W), N)[1].elements == 2 * N * 2


def test_any_rank():
    assert GroupNorm(2, 6).out_shape(((6,),)) == (6,)
    assert GroupNorm(3, 6).out_shape(((6, 10),)) == (6, 10)


def test_validation():
    with pytest.raises(SpecError, match=re.escape("GroupNorm.num_channels = 6: must be divisible")):
        GroupNorm(4, 6)
    with pytest.raises(SpecError, match="GroupNorm.affine = 'yes': must be true or false"):
        GroupNorm(2, 4, affine="yes")
    with pytest.raises(SpecError, match="GroupNorm.eps = -1: must be >= 0"):
        GroupNorm(2, 4, eps=-1)
    with pytest.raises(archcalc.ShapeError, match="num_channels = 4 but the input has 6"):
        GroupNorm(2, 4).out_shape(((6, 3, 3),))
    spec = {"kind": "GroupNorm", "num_groups": 2, "num_channels": 4, "eps": 1e-6, "affine": False}
    assert layer_from_dict(spec) == GroupNorm(2, 4, 1e-6, False)
    assert GroupNorm(2, 4).to_dict()["affine"] is True


def test_summary_of_a_spec():
    b = Builder("gn", (3, 8, 8))
    b.add("conv", Conv2d(3, 8, 3, padding=1))
    b.add("gn", GroupNorm(4, 8))
    s = archcalc.summary(b.build(), batch=N)
    row = s.layers[1]
    assert row.params == 16 and row.macs == 0
    assert row.flops == N * 8 * 8 * 8 * 8  # 8 FLOPs per element, 8·8·8 elements per sample


# ---------------------------------------------------------------- the tools on nn.GroupNorm

torch = pytest.importorskip("torch")


def _tools(net, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fvcore.nn as fv
        import ptflops
        import thop
        import torchinfo
        from torch.utils.flop_counter import FlopCounterMode

        a = fv.FlopCountAnalysis(net, (x,))
        a.unsupported_ops_warnings(False)
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            net(x)
        with contextlib.redirect_stdout(io.StringIO()):
            pt, _ = ptflops.get_model_complexity_info(
                net,
                tuple(x.shape[1:]),
                as_strings=False,
                print_per_layer_stat=False,
                input_constructor=lambda res: x,
                backend="pytorch",
            )
        return {
            "fvcore": a.total(),
            "flopcounter": fc.get_total_flops(),
            "torchvision": fc.get_total_flops() // 2,  # conv + matmul MACs
            "ptflops": pt,
            "thop": thop.profile(net, (x,), verbose=False)[0],
            "torchinfo": torchinfo.summary(net, input_data=x, verbose=0).total_mult_adds,
        }


def _ours(layer) -> dict[str, object]:
    b = Builder("gn", (C, H, W))
    b.add("gn", layer)
    m = b.build()
    return {c: sum(count(m, infer_shapes(m), N, c).values()) for c in _HAND}


#: each tool's count for a batch of N = 2 on an 8×5×7 input (560 elements), by hand from the
#: rule the tool applies (docs/conventions.md)
_HAND = {
    "fvcore": (5 * N * NUMEL, 4 * N * NUMEL),  # norm_flop_counter(2): 5 (affine) or 4 per elem
    "flopcounter": (0, 0),  # no formula for group_norm
    "torchvision": (0, 0),
    "ptflops": (2 * N * NUMEL // N, N * NUMEL // N),  # bn_flops_counter_hook, ÷ batch
    "thop": (0, 0),  # nn.GroupNorm not in register_hooks
    "torchinfo": (N * 2 * C, 0),  # (weight + bias numel) × batch
}


@pytest.mark.parametrize("affine", [True, False])
def test_every_tool_on_a_real_groupnorm(affine):
    groups = 4 if affine else 2
    net = torch.nn.Sequential(torch.nn.GroupNorm(groups, C, affine=affine)).eval()
    x = torch.randn(N, C, H, W, generator=torch.Generator().manual_seed(0))
    measured = _tools(net, x)
    hand = {k: v[0 if affine else 1] for k, v in _HAND.items()}
    assert measured == hand
    assert _ours(GroupNorm(groups, C, affine=affine)) == hand


def test_functional_group_norm_is_not_patched_by_ptflops():
    class Fn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(C))
            self.b = torch.nn.Parameter(torch.zeros(C))

        def forward(self, x):
            return torch.nn.functional.group_norm(x, 4, self.w, self.b)

    x = torch.randn(N, C, H, W)
    assert GroupNorm(4, C).count_ptflops_functional(((C, H, W),), (C, H, W), N) == 0
    assert _tools(Fn().eval(), x)["ptflops"] == 0
    assert _tools(Fn().eval(), x)["fvcore"] == 5 * N * NUMEL


# ---------------------------------------------------------------- torch build, saved, import

at = pytest.importorskip("archcalc.torch")


def test_to_torch_and_saved_tensors():
    b = Builder("gn", (3, H, W))
    b.add("conv", Conv2d(3, C, 3, padding=1))
    b.add("gn", GroupNorm(4, C, eps=1e-3))
    m = b.build()
    net = at.to_torch(m)
    gn = net.node_module("gn")
    assert type(gn) is torch.nn.GroupNorm
    assert (gn.num_groups, gn.num_channels, gn.eps, gn.affine) == (4, C, 1e-3, True)
    got = at.measure(m, batch=N)
    assert got["params"]["gn"] == 2 * C and got["buffers"]["gn"] == 0
    # the conv keeps its input for its weight's gradient (N·3·H·W float32); GroupNorm keeps
    # its input (the conv output, N·C·H·W) and mean and rstd (N·G each, float32)
    assert got["saved_bytes"] == 4 * (N * 3 * H * W + N * C * H * W + 2 * N * 4)
    assert archcalc.summary(m, batch=N).memory.saved_for_backward_bytes == got["saved_bytes"]


def test_import_module_and_function():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, C, 3), torch.nn.GroupNorm(2, C, eps=1e-4))
    m = at.from_torch(net, (3, H + 2, W + 2))
    assert [n.layer for n in m.live_nodes()][1] == GroupNorm(2, C, 1e-4, True)

    class Fn(torch.nn.Module):
        def __init__(self, affine):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, C, 1)
            self.w = torch.nn.Parameter(torch.ones(C)) if affine else None
            self.b = torch.nn.Parameter(torch.zeros(C)) if affine else None

        def forward(self, x):
            return torch.nn.functional.group_norm(self.conv(x), 4, self.w, self.b, eps=1e-3)

    for affine in (True, False):
        m = at.from_torch(Fn(affine), (3, H, W))
        assert [n.layer for n in m.live_nodes()][-1] == GroupNorm(4, C, 1e-3, affine)
