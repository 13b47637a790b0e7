"""The engine on whole models: memory walk, receptive fields on graphs, heads, symbols."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc import (
    Add,
    AvgPool2d,
    BatchNorm2d,
    Builder,
    Concat,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool2d,
    Mul,
    ReLU,
    Sigmoid,
    Upsample,
    sequential,
)
from archcalc.engine.shapes import symbol


def test_import_does_not_import_torch_or_sympy():
    code = (
        "import sys, archcalc; archcalc.summary('resnet50', head='gap'); "
        "import archcalc.cli; print(sorted(m for m in ('torch', 'sympy', 'fvcore') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- memory


def test_memory_walk_on_a_residual_block():
    # input x (1x4x4 floats = 64 B, held by the caller throughout); a = conv(x) 2x4x4 = 128 B;
    # r = relu(a) 128 B; s = add(r, a) 128 B. Walk: 64; +a -> 192; +r -> 320 (a is still
    # needed by the add); +s -> 448 (the peak), then a and r are freed.
    b = Builder("blk", (1, 4, 4))
    a = b.add("a", Conv2d(1, 2, 3, padding=1))
    r = b.add("r", ReLU())
    b.add("s", Add(), r, a)
    s = archcalc.summary(b.build())
    m = s.memory
    assert m.input_bytes == 1 * 4 * 4 * 4
    assert m.activations_bytes == 3 * (2 * 4 * 4 * 4)
    assert m.peak_inference_bytes == 64 + 3 * 128
    # training keeps: x (conv input) 64 B, r (ReLU output) 128 B; add keeps nothing
    assert m.saved_for_backward_bytes == 64 + 128


def test_views_own_no_memory_and_batch_dtype_scale():
    m = sequential(
        "v", [Conv2d(3, 8, 3), Flatten(), Dropout(), Linear(8 * 6 * 6, 10)], input_shape=(3, 8, 8)
    )
    s = archcalc.summary(m, batch=4, dtype="float16")
    # conv 4*8*6*6 halfs and linear 4*10 halfs; flatten and eval dropout are views
    assert s.memory.activations_bytes == (4 * 8 * 6 * 6 + 4 * 10) * 2
    assert [r.activation_bytes for r in s.layers][1:3] == [0, 0]
    # training: conv keeps the input, dropout its noise tensor (torch's CPU path: x * noise,
    # same dtype), linear its input (the dropout output: a new tensor in training)
    assert s.memory.saved_for_backward_bytes == (4 * 3 * 8 * 8) * 2 + 4 * 288 * 2 + 4 * 288 * 2


def test_batchnorm_and_maxpool_saved():
    m = sequential("b", [BatchNorm2d(2), MaxPool2d(2)], input_shape=(2, 4, 4))
    s = archcalc.summary(m, batch=3)
    bn = 3 * 2 * 4 * 4 * 4 + 2 * 2 * 4 + 2 * 2 * 4  # input, running stats, mean/invstd
    mp = 3 * 2 * 4 * 4 * 4 + 3 * 2 * 2 * 2 * 8  # input (same storage as bn output? no: bn out)
    assert s.memory.saved_for_backward_bytes == bn + mp


# ----------------------------------------------------------------------------- receptive field


def test_alexnet_features_rf_published():
    # Araujo et al. (Distill 2019): alexnet 195, effective stride 32
    rf = archcalc.summary("alexnet").rf
    assert rf.size == (195, 195) and rf.stride == (32, 32)


def test_rf_closed_form_on_a_chain():
    # r = 1 + sum (k_l - 1) prod_{i<l} s_i ; P = sum p_l prod_{i<l} s_i
    m = sequential(
        "c",
        [
            Conv2d(1, 1, 7, 2, 3),
            MaxPool2d(3, 2, 1),
            Conv2d(1, 1, 3, 1, 1),
            Conv2d(1, 1, 3, 2, 1, dilation=1),
        ],
        input_shape=(1, 64, 64),
    )
    rf = archcalc.summary(m).rf
    assert rf.size[0] == 1 + 6 * 1 + 2 * 2 + 2 * 4 + 2 * 4
    assert rf.stride[0] == 2 * 2 * 1 * 2
    assert rf.offset[0] == -(3 * 1 + 1 * 2 + 1 * 4 + 1 * 4)


def test_rf_branch_union_not_a_chain():
    # a 1x1 path and a two-3x3 path from the same input: the union is the 5x5 of the long path
    b = Builder("br", (1, 16, 16))
    a = b.add("short", Conv2d(1, 1, 1), "input")
    b.add("l1", Conv2d(1, 1, 3, padding=1), "input")
    long_ = b.add("l2", Conv2d(1, 1, 3, padding=1))
    b.add("cat", Concat(), a, long_)
    rf = archcalc.summary(b.build()).rf
    assert rf.size == (5, 5) and rf.offset == (-2, -2) and rf.aligned


def test_rf_misaligned_branches_are_reported():
    b = Builder("mis", (1, 16, 16))
    a = b.add("s1", Conv2d(1, 1, 1), "input")
    c = b.add("s2", Conv2d(1, 1, 2, stride=2), "input")
    b.add("up", Upsample(2))
    b.add("add", Add(), a, "up")
    rf = archcalc.summary(b.build()).rf
    assert rf.aligned  # upsample brings stride 2 back to 1: strides 1 and 1
    b2 = Builder("mis2", (1, 16, 16))
    b2.add("s1", Conv2d(1, 1, 1, stride=2), "input")
    b2.add("s2", Conv2d(1, 1, 2, stride=2), "input")
    b2.add("add", Add(), "s1", "s2")
    assert archcalc.summary(b2.build()).rf.aligned  # both stride 2
    del c


def test_rf_se_gate_is_global_context():
    b = Builder("se", (4, 8, 8))
    x = b.add("conv", Conv2d(4, 4, 3, padding=1))
    b.add("pool", GlobalAvgPool())
    b.add("fc", Conv2d(4, 4, 1))
    b.add("gate", Sigmoid())
    b.add("mul", Mul(), x, "gate")
    rf = archcalc.summary(b.build()).rf
    assert rf.size == (3, 3) and rf.global_context


def test_rf_transposed_conv_fractional_stride():
    m = sequential(
        "t", [Conv2d(1, 1, 3, stride=2), ConvTranspose2d(1, 1, 2, stride=2)], input_shape=(1, 9, 9)
    )
    rf = archcalc.summary(m).rf
    # after the conv: size 3, stride 2; the k=2,s=2 transposed conv maps each output to one
    # input (extent 1), stride 2 * 1/2 = 1
    assert rf.size == (3, 3) and rf.stride == (Fraction(1), Fraction(1))


@given(st.integers(1, 12), st.integers(1, 4))
def test_rf_of_stacked_convs_symbolic(layers, half):
    """Exam Q4: L stacked F x F stride-1 convs see 1 + L(F - 1) pixels, for symbolic F."""
    f = symbol("F")
    m = sequential("s", [Conv2d(1, 1, f, padding=0)] * layers, input_shape=(1, 512, 512))
    rf = archcalc.summary(m, input="1xHxW").rf
    assert sympy.expand(rf.size[0] - (1 + layers * (f - 1))) == 0
    k = 2 * half + 1
    num = sequential("n", [Conv2d(1, 1, k, padding=half)] * layers, input_shape=(1, 64, 64))
    assert archcalc.summary(num).rf.size == (1 + layers * (k - 1),) * 2


# ----------------------------------------------------------------------------- symbolic = numeric


@st.composite
def chains(draw):
    layers = []
    c = draw(st.integers(1, 4))
    c0 = c
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "pool", "relu", "bn"]))
        if kind == "conv":
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 2))
            p = draw(st.integers(0, k // 2))
            d = draw(st.integers(1, 2))
            co = draw(st.integers(1, 4))
            layers.append(Conv2d(c, co, k, s, p, dilation=d))
            c = co
        elif kind == "pool":
            layers.append(
                draw(st.sampled_from([MaxPool2d(2), AvgPool2d(3, 2, 1), MaxPool2d(3, 1, 1)]))
            )
        elif kind == "relu":
            layers.append(ReLU())
        else:
            layers.append(BatchNorm2d(c))
    return c0, layers


@given(chains(), st.integers(24, 40), st.integers(24, 40), st.integers(1, 3))
def test_symbolic_equals_numeric(chain, h, w, batch):
    c0, layers = chain
    m = sequential("r", layers, input_shape=(c0, 32, 32))
    num = archcalc.summary(m, input=(c0, h, w), batch=batch)
    sym = archcalc.summary(m, input=(c0, "H", "W"), batch="B")
    subs = {symbol("H"): h, symbol("W"): w, symbol("B"): batch}
    for field in ("params", "macs", "flops"):
        assert sympy.sympify(getattr(sym, field)).subs(subs) == getattr(num, field)
    for attr in ("activations_bytes", "saved_for_backward_bytes", "peak_inference_bytes"):
        assert sympy.sympify(getattr(sym.memory, attr)).subs(subs) == getattr(num.memory, attr)
    assert tuple(sympy.sympify(x).subs(subs) for x in sym.output_shape) == num.output_shape
    assert sym.rf.size == num.rf.size


def test_conv_flops_polynomial():
    h, w, ci, co, k = (symbol(n) for n in ("H", "W", "C_in", "C_out", "k"))
    m = sequential("c", [Conv2d(ci, co, k, padding=0, bias=False)], input_shape=(ci, 64, 64))
    s = archcalc.summary(m, input=(ci, h, w))
    assert sympy.expand(s.flops - 2 * co * (h - k + 1) * (w - k + 1) * ci * k**2) == 0


def test_very_large_input_is_exact():
    s = archcalc.summary("resnet18", input=(3, 10**6, 10**6), batch=10**3)
    # conv1: 64 x 500000 x 500000 outputs x 3*7*7 MACs x batch 1000, an exact Python int
    assert s.layers[0].macs == 1000 * 64 * 500_000 * 500_000 * 3 * 49
    assert isinstance(s.flops, int)


# ----------------------------------------------------------------------------- heads


def test_gap_head_alexnet():
    fc = archcalc.summary("alexnet")
    gap = archcalc.summary("alexnet", head="gap", classes=10)
    # FC head: (9216 + 1)*4096 + (4096 + 1)*4096 + (4096 + 1)*1000; GAP head: (256 + 1)*10
    fc_head = (256 * 6 * 6 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    assert fc.params - gap.params == fc_head - (256 + 1) * 10


def test_conv_head_larger_input_gives_a_map():
    s = archcalc.summary("alexnet", head="conv", input=(3, 320, 288))
    # features at 320: 79 -> 39 -> 39 -> 19 -> 19 -> 9; at 288: 71 -> 35 -> 17 -> 8
    # the 6x6 head conv leaves (9 - 6 + 1) x (8 - 6 + 1)
    assert s.output_shape == (1000, 4, 3)
    assert s.params == archcalc.summary("alexnet").params  # same weights, reshaped
    assert s.rf is not None and s.rf.size == (195 + 5 * 32, 195 + 5 * 32)


def test_conv_head_resnet_avgpool_becomes_window():
    s = archcalc.summary("resnet18", head="conv", input=(3, 256, 256))
    # features 8x8 at 256; the 7x7 average (training size) slides: 8 - 7 + 1 = 2
    assert s.output_shape == (1000, 2, 2)


# ----------------------------------------------------------------------------- errors in context


def test_errors_name_the_layer():
    m = sequential("bad", [Conv2d(3, 8, 3), Conv2d(4, 8, 3)], input_shape=(3, 16, 16))
    with pytest.raises(
        archcalc.ShapeError,
        match=r"layer 1 '1' \(Conv2d\): Conv2d.in_channels = 4 "
        r"but the input has 8 channels",
    ):
        archcalc.summary(m)
    # the library speaks its Python argument names (the CLI translates them to its flags)
    with pytest.raises(archcalc.OptionError, match="^batch = 0: must be a positive integer") as e:
        archcalc.summary("alexnet", batch=0)
    assert (e.value.argument, e.value.value) == ("batch", 0)
    with pytest.raises(archcalc.OptionError, match="^head = 'big'") as e:
        archcalc.summary("alexnet", head="big")
    assert e.value.argument == "head"
    with pytest.raises(archcalc.OptionError, match="^dtype = 'f32'") as e:
        archcalc.summary("alexnet", dtype="f32")
    with pytest.raises(archcalc.ShapeError, match="larger than the padded input"):
        archcalc.summary("alexnet", input=(3, 32, 32))


def test_summary_json_contract():
    d = archcalc.summary("resnet18").to_dict()
    json.dumps(d)
    assert {"params", "macs", "flops", "memory", "receptive_field", "layers"} <= set(d)
    assert set(d["memory"]) >= {
        "weights_bytes",
        "activations_bytes",
        "peak_inference_bytes",
        "saved_for_backward_bytes",
    }
    rf = d["receptive_field"]
    assert rf["layer"] == "layer4.1.relu_1" and len(rf["size"]) == 2
    layer = d["layers"][0]
    assert set(layer) >= {
        "name",
        "kind",
        "output_shape",
        "params",
        "macs",
        "activations",
        "receptive_field",
    }


def test_the_conv_head_keeps_how_kept_nodes_are_called():
    """head='conv' keeps a per-position layer's ``via`` (a ReLU torch calls as F.relu stays a
    function call for ptflops/thop/torchinfo); the layers it converts (pool -> AvgPool2d,
    Linear -> 1x1 Conv2d) are archcalc's own modules."""
    from archcalc import Builder, Conv2d, Flatten, GlobalAvgPool, Linear, ReLU

    b = Builder("f", input_shape=(3, 8, 8))
    b.add("conv", Conv2d(3, 4, 3))
    b.add("pool", GlobalAvgPool(), via="function")
    b.add("flat", Flatten(), via="function")
    b.add("fc1", Linear(4, 6))
    b.add("relu", ReLU(), via="function")
    b.add("fc2", Linear(6, 10))
    m = archcalc.apply_head(b.build(), "conv")
    assert {n.name: (n.layer.kind, n.via) for n in m.nodes} == {
        "conv": ("Conv2d", "module"),
        "pool": ("AvgPool2d", "module"),
        "fc1": ("Conv2d", "module"),
        "relu": ("ReLU", "function"),
        "fc2": ("Conv2d", "module"),
    }
