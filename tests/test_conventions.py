"""FLOP conventions (:mod:`archcalc.conventions`) against the counting tools themselves.

Every tool runs on ``archcalc.torch.to_torch(model)`` in eval mode, on a batch of 2 (the
batch exercises ptflops' division by the batch) unless stated:

* (a) one tiny model per layer kind (and variants: groups, bias, transposed, a Linear on a
  flat vector, on an NCHW map and on a channels-last map, non-dividing adaptive pools, ...),
  compared per layer where the tool reports per layer (fvcore ``by_module``,
  FlopCounterMode ``get_flop_counts``, thop ``ret_layer_info``, torchinfo's layer list), and
  in total for all (ptflops reports a total only);
* (b) every zoo model at a small input, totals and per-layer figures;
* (c) resnet50 at 224²: the published figures of ``/work/shared/references.md``.

``torchvision``'s convention (its published GFLOPS: conv + matmul MACs, no bias) has no tool
to run (torchvision is not installed); it is measured as FlopCounterMode's count / 2, which
counts exactly the multiplies of convolutions and matrix products.

archcalc.torch builds a ``Linear`` as ``ChannelLinear``, a subclass of ``nn.Linear`` (it
permutes maps to channels-last). ptflops and thop look hooks up by *exact* type and would
skip it; torchvision's models use the stock ``nn.Linear``, so the tools are given their own
``nn.Linear`` hook for ``ChannelLinear`` (for ptflops applied to the channels-last view that
a stock ``nn.Linear`` sees on a map, as in torchvision's ConvNeXt).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from fractions import Fraction
from typing import Any

import pytest

import archcalc
from archcalc import (
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Builder,
    Concat,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerNorm2d,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Mul,
    ReLU,
    Sigmoid,
    StochasticDepth,
    UnsupportedError,
    Upsample,
    zoo,
)
from archcalc.conventions import CONVENTIONS, count, rule_kinds, total
from archcalc.engine.graph import Model
from archcalc.engine.shapes import infer_shapes
from archcalc.kinds import LAYER_KINDS, Layer

torch = pytest.importorskip("torch")
at = pytest.importorskip("archcalc.torch")

with warnings.catch_warnings():  # thop imports distutils; the tools are not under test here
    warnings.simplefilter("ignore")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    flop_counter = pytest.importorskip("torch.utils.flop_counter")
    ptflops = pytest.importorskip("ptflops")
    ptflops_ops = pytest.importorskip("ptflops.pytorch_ops")
    thop = pytest.importorskip("thop")
    thop_hooks = pytest.importorskip("thop.vision.basic_hooks")
    torchinfo = pytest.importorskip("torchinfo")

BATCH = 2


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # the tools run many tiny ops; one thread avoids oversubscription on shared CI cores
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


FOREIGN = [c for c in CONVENTIONS if c != "archcalc"]

# ---------------------------------------------------------------- running the tools

#: the module archcalc builds for a Linear on channels (a stock nn.Linear on a permuted view)
_CHANNEL_LINEAR = at.build.ChannelLinear


def _ptflops_linear(module, inputs, output):
    """ptflops' own nn.Linear hook, on the channels-last view a stock nn.Linear sees."""
    x = inputs[0]
    if x.dim() == 4:
        inputs, output = (x.permute(0, 2, 3, 1),), output.permute(0, 2, 3, 1)
    ptflops_ops.linear_flops_counter_hook(module, inputs, output)


def _ptflops_hooks() -> dict[Any, Any]:
    return {_CHANNEL_LINEAR: _ptflops_linear}


def _thop_ops() -> dict[Any, Any]:
    return {_CHANNEL_LINEAR: thop_hooks.count_linear}


def _fvcore(net, x) -> tuple[int, dict[str, int]]:
    a = fvcore_nn.FlopCountAnalysis(net, (x,))
    a.unsupported_ops_warnings(False)
    a.uncalled_modules_warnings(False)
    return a.total(), dict(a.by_module())


def _flopcounter(net, x) -> tuple[int, dict[str, int]]:
    with flop_counter.FlopCounterMode(display=False) as fc:
        net(x)
    root = type(net).__name__ + "."
    per = {
        k[len(root) :]: sum(v.values())
        for k, v in fc.get_flop_counts().items()
        if k.startswith(root)
    }
    return fc.get_total_flops(), per


def _ptflops(net, x) -> tuple[int, None]:
    with contextlib.redirect_stdout(io.StringIO()):
        flops, _ = ptflops.get_model_complexity_info(
            net,
            tuple(x.shape[1:]),
            as_strings=False,
            print_per_layer_stat=False,
            input_constructor=lambda res: x,
            custom_modules_hooks=_ptflops_hooks(),
            backend="pytorch",
        )
    assert flops is not None, "ptflops failed"
    return flops, None


def _thop(net, x) -> tuple[float, dict[str, float]]:
    ops, _, layers = thop.profile(
        net, (x,), custom_ops=_thop_ops(), verbose=False, ret_layer_info=True
    )

    def flat(d: dict[str, Any], prefix: str) -> dict[str, float]:
        out = {}
        for k, (o, _, sub) in d.items():
            out[prefix + k] = o
            out.update(flat(sub, prefix + k + "."))
        return out

    return ops, flat(layers, "")


def _torchinfo(net, x) -> tuple[int, dict[str, int]]:
    stats = torchinfo.summary(net, input_data=x, verbose=0)
    names = {id(m): n for n, m in net.named_modules()}
    per: dict[str, int] = {}
    for info in stats.summary_list:
        if info.is_leaf_layer:
            n = names[id(info.module)]
            per[n] = per.get(n, 0) + info.macs
    return stats.total_mult_adds, per


def measure(model: Model, input_shape: tuple[int, ...], batch: int = BATCH) -> dict[str, Any]:
    """``{convention: (total, per-module or None)}`` from every tool on one network."""
    with torch.device("meta"):  # counts depend on shapes only: skip the weight init
        net = at.to_torch(model)
    net = net.to_empty(device="cpu").eval()
    g = torch.Generator().manual_seed(0)
    x = torch.randn((batch, *input_shape), generator=g)
    out: dict[str, Any] = {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        out["fvcore"] = _fvcore(net, x)
        fc_total, fc_per = _flopcounter(net, x)
        out["flopcounter"] = (fc_total, fc_per)
        out["torchvision"] = (fc_total // 2, {k: v // 2 for k, v in fc_per.items()})
        out["torchinfo"] = _torchinfo(net, x)
        out["thop"] = _thop(net, x)
        out["ptflops"] = _ptflops(net, x)
    out["_names"] = net.module_names
    return out


def _rolled_up(per: dict[str, Any], nodes: set[str]) -> dict[str, Any]:
    """Per-module counts moved up to the innermost node module holding each (a module that is
    not a node itself, such as the qkv Linear inside an attention node, counts for the node)."""
    out: dict[str, Any] = {}
    for k, v in per.items():
        parts = k.split(".")
        owner = next(
            (".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in nodes),
            k,
        )
        out[owner] = out.get(owner, 0) + v
    return out


def check(model: Model, input_shape: tuple[int, ...], batch: int = BATCH, per_layer=True):
    shapes = infer_shapes(model, input_shape)
    got = measure(model, input_shape, batch)
    names = got.pop("_names")
    errors = []
    # the torchvision stand-in (FlopCounterMode / 2) misses scaled_dot_product_attention on
    # CPU (no flop formula for its CPU kernel); torchvision's published figure counts QKᵀ
    # and AV (vit_b_16's 17.564 GFLOPS: tests/test_vit.py)
    sdpa = any(
        (n.layer.kind == "MultiheadAttention" and not n.layer.need_weights)
        or (n.layer.kind == "TimmAttention" and n.layer.fused)  # timm's fused_attn: sdpa too
        or n.layer.kind in ("ScaledDotProductAttention", "MaskedScaledDotProductAttention")
        for n in model.live_nodes()
    )
    for conv in FOREIGN:
        if conv == "torchvision" and sdpa:
            continue
        tool_total, tool_per = got[conv]
        ours = count(model, shapes, batch, conv)
        if sum(ours.values()) != tool_total:
            errors.append(f"{conv}: total {sum(ours.values())} != tool {tool_total}")
        if per_layer and tool_per is not None:
            if conv == "torchinfo":  # its list holds leaf modules only (timm's qkv, proj)
                tool_per = _rolled_up(tool_per, set(names.values()))
            for name, v in ours.items():
                theirs = tool_per.get(names[name], 0)
                if v != theirs:
                    errors.append(f"{conv}: layer {name}: {v} != tool {theirs}")
    assert not errors, "\n".join(errors)


# ---------------------------------------------------------------- (a) every layer kind


def _single(layer: Layer, shape=(4, 9, 11), before: list[Layer] | None = None) -> Model:
    b = Builder(f"one_{layer.kind}", shape)
    for i, pre in enumerate(before or []):
        b.add(f"pre{i}", pre)
    b.add("layer", layer)
    return b.build()


def _merge(layer: Layer, gate: bool = False, n: int = 2) -> Model:
    b = Builder(f"merge_{layer.kind}", (4, 9, 11))
    srcs = []
    for i in range(n - 1):
        srcs.append(b.add(f"branch{i}", Conv2d(4, 4, 3, padding=1), "input"))
    if gate:
        g = b.add("pool", GlobalAvgPool(), "input")
        srcs = [b.add("gate", Sigmoid(), g)]
    b.add("layer", layer, "input", *srcs)
    return b.build()


def _example_model(cls: type[Layer]) -> Model:
    """The kind's registry example as a model: input 0 is the model input; a further input
    comes from a 1×1 convolution of it (after a global pool for a (C, 1, 1) gate)."""
    layer, ins = cls.example()
    b = Builder(f"one_{cls.__name__}", ins[0])
    srcs = ["input"]
    for i, s in enumerate(ins[1:]):
        src = "input"
        if tuple(s[1:]) == (1, 1) != tuple(ins[0][1:]):
            src = b.add(f"pool{i}", GlobalAvgPool(), "input")
        srcs.append(b.add(f"branch{i}", Conv2d(ins[0][0], s[0], 1), src))
    b.add("layer", layer, *srcs)
    return b.build()


def _bias_input_linear() -> Model:
    from archcalc.kinds import LinearBiasInput, Param

    b = Builder("one_LinearBiasInput", (4, 3, 8))
    b.add("bias", Param((24,)), "input")
    b.add("layer", LinearBiasInput(8, 24), "input", "bias")
    return b.build()


#: every kind's registry example, and variants (groups, bias, transposed, a Linear on a flat
#: vector, on an NCHW map and on a channels-last map, non-dividing adaptive pools, ...)
KIND_MODELS: dict[str, Model] = {
    **{kind: _example_model(cls) for kind, cls in LAYER_KINDS.items()},
    "Conv2d_nobias_groups_dilated": _single(
        Conv2d(4, 8, (3, 2), padding=(2, 1), dilation=2, groups=2, bias=False)
    ),
    "Conv2d_same": _single(Conv2d(4, 4, 4, padding="same", groups=4)),
    "ConvTranspose2d_groups_nobias": _single(
        ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), groups=2, bias=False, dilation=(1, 2))
    ),
    # the bias is a parameter read directly (BEiT's concatenated q/k/v bias), not a map
    "LinearBiasInput": _bias_input_linear(),
    "Linear_flat": _single(Linear(4 * 9 * 11, 10), before=[Flatten()]),
    "Linear_flat_nobias": _single(Linear(4 * 9 * 11, 10, bias=False), before=[Flatten()]),
    "Linear_map_nchw": _single(Linear(4, 7)),
    "Linear_map_channels_last": _single(Linear(4, 7), before=[LayerNorm2d(4)]),
    "Linear_map_channels_last_nobias": _single(Linear(4, 7, bias=False), before=[LayerNorm2d(4)]),
    "LeakyReLU_0.1": _single(LeakyReLU(0.1)),
    "MaxPool2d_dilated": _single(MaxPool2d(2, 1, dilation=2)),
    "AdaptiveAvgPool2d_global": _single(AdaptiveAvgPool2d(1)),
    "AdaptiveAvgPool2d_nondividing": _single(AdaptiveAvgPool2d((4, 3))),
    "AdaptiveAvgPool2d_upsizing": _single(AdaptiveAvgPool2d((5, 7)), shape=(3, 3, 5)),
    "Dropout_0.3": _single(Dropout(0.3)),
    "StochasticDepth_0.2": _single(StochasticDepth(0.2)),
    "Upsample_nearest": _single(Upsample((2, 3))),
    "Upsample_bilinear": _single(Upsample(2, mode="bilinear")),
    "Add_two": _merge(Add()),
    "Add_three": _merge(Add(), n=3),
    "Concat_three": _merge(Concat(), n=3),
    "Mul_two_maps": _merge(Mul()),
    "Mul_gate": _merge(Mul(), gate=True),
}


def test_every_kind_has_a_tiny_model():
    covered = {n.layer.kind for m in KIND_MODELS.values() for n in m.nodes}
    assert covered == set(LAYER_KINDS)


@pytest.mark.parametrize("case", list(KIND_MODELS))
def test_kind_matches_every_tool(case):
    m = KIND_MODELS[case]
    check(m, m.input_shape)


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_every_kind_has_a_rule(convention):
    # a kind without a rule would raise UnsupportedError; none is missing today
    assert rule_kinds(convention) == set(LAYER_KINDS)


def test_archcalc_convention_is_archcalc_flops_times_batch():
    m = zoo.get("mobilenet_v3_small")
    s = archcalc.summary(m, batch=3)
    ours = count(m, infer_shapes(m), 3, "archcalc")
    assert ours == {r.name: r.flops for r in s.layers}
    assert sum(ours.values()) == s.flops


def test_torchvision_convention_is_archcalc_macs():
    m = zoo.get("convnext_tiny")
    s = archcalc.summary(m, batch=2)
    assert total(m, infer_shapes(m), 2, "torchvision") == s.macs


def test_unknown_kind_and_convention_raise():
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Swish2(Layer):  # a kind no convention has a rule for (not registered)
        def out_shape(self, ins):
            return ins[0]

        def flops(self, ins, out):
            return 3 * ins[0][0] * ins[0][1] * ins[0][2]

    b = Builder("odd", (2, 3, 3))
    b.add("x", Swish2())
    m = b.build()
    shapes = infer_shapes(m)
    assert count(m, shapes, 2, "archcalc") == {"x": 2 * 3 * 18}
    for conv in FOREIGN:
        with pytest.raises(UnsupportedError, match="Swish2.*no rule"):
            count(m, shapes, 1, conv)
    with pytest.raises(archcalc.OptionError, match="unknown"):
        count(m, shapes, 1, "flops_by_guesswork")


def test_symbolic_batch():
    import sympy

    m = KIND_MODELS["Linear_map_channels_last"]
    shapes = infer_shapes(m)
    B = archcalc.symbol("B")
    for conv in CONVENTIONS:
        sym = total(m, shapes, B, conv)
        assert sympy.simplify(sym.subs(B, 5) - total(m, shapes, 5, conv)) == 0
    with pytest.raises(UnsupportedError, match="floating point"):
        count(KIND_MODELS["AdaptiveAvgPool2d_nondividing"], infer_shapes(m), B, "thop")


def test_nested_module_names():
    # "blk.bn" is registered inside the module of "blk" (archcalc.torch nests dotted names):
    # ptflops and thop take a hooked module's own count and skip its children; torchinfo sums
    # leaf layers only, so "blk" itself (no longer a leaf) counts 0 there
    b = Builder("nested", (3, 8, 8))
    b.add("blk", Conv2d(3, 4, 3, padding=1))
    b.add("blk.bn", BatchNorm2d(4))
    b.add("blk.relu", ReLU())
    b.add("head", Conv2d(4, 2, 1))
    m = b.build()
    ours = {c: count(m, infer_shapes(m), BATCH, c) for c in FOREIGN}
    assert ours["thop"]["blk.bn"] == 0 and ours["torchinfo"]["blk"] == 0
    assert ours["ptflops"]["blk.relu"] == BATCH * 4 * 8 * 8  # only the patched F.relu
    check(m, m.input_shape, per_layer=False)


def test_ptflops_upsample_counts_one_sample():
    # ptflops' upsample hook reads output[0] (one sample), then divides by the batch: with a
    # batch of 9 the shares are fractional and ptflops prints int() of the float sum
    b = Builder("ups", (3, 5, 7))
    b.add("a", Upsample(2))  # 3·10·14 = 420 outputs per sample
    b.add("b", Upsample((1, 3), mode="bilinear"))  # 3·10·42 = 1260
    b.add("c", Conv2d(3, 2, 1))  # 2·10·42 outputs, 3 MACs + 1 bias each
    m = b.build()
    batch = 9
    c = count(m, infer_shapes(m), batch, "ptflops")
    exact = Fraction(420 + 1260, batch) + batch * (420 + 1260) + 2 * 10 * 42 * (3 + 1)
    assert exact.denominator != 1
    assert sum(c.values()) == int(exact)
    assert all(isinstance(v, int) for v in c.values())
    check(m, m.input_shape, batch=batch)


# ---------------------------------------------------------------- (b) the zoo


def _small_input(name: str) -> tuple[int, ...]:
    m = zoo.get(name)
    for side in (64, 96, 128, 224):
        try:
            infer_shapes(m, (m.input_shape[0], side, side))
        except archcalc.ShapeError:
            continue
        return (m.input_shape[0], side, side)
    return tuple(m.input_shape)


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_small_input_matches_every_tool(name):
    m = zoo.get(name)
    check(m, _small_input(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_zoo_224_matches_every_tool(name):
    m = zoo.get(name)
    check(m, (3, 224, 224), batch=1, per_layer=False)


# ---------------------------------------------------------------- (c) published figures

#: torchvision resnet50 at 224², batch 1, as printed by each tool (references.md); the
#: installed tools print exactly these (test_zoo_224_matches_every_tool)
RESNET50_PUBLISHED = {
    "fvcore": 4_111_512_576,
    "flopcounter": 8_178_368_512,
    "torchvision": 4_089_184_256,
    "ptflops": 4_132_436_968,
    "thop": 4_133_742_592,
    "torchinfo": 4_089_238_376,
}


@pytest.mark.parametrize("convention", list(RESNET50_PUBLISHED))
def test_resnet50_published_totals(convention):
    m = zoo.get("resnet50")
    assert total(m, infer_shapes(m), 1, convention) == RESNET50_PUBLISHED[convention]


def test_resnet50_fvcore_operator_split():
    # references.md: conv 4,087,136,256; batch_norm 22,227,968; adaptive_avg_pool2d 100,352;
    # linear 2,048,000
    m = zoo.get("resnet50")
    c = count(m, infer_shapes(m), 1, "fvcore")
    by_kind: dict[str, int] = {}
    for node in m.live_nodes():
        by_kind[node.layer.kind] = by_kind.get(node.layer.kind, 0) + c[node.name]
    assert by_kind["Conv2d"] == 4_087_136_256
    assert by_kind["BatchNorm2d"] == 22_227_968
    assert by_kind["AdaptiveAvgPool2d"] == 100_352
    assert by_kind["Linear"] == 2_048_000
