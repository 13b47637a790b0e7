"""archcalc's rules against PyTorch: shapes, params, MACs, saved-for-backward bytes, RFs.

Every layer kind is run in torch through :mod:`archcalc.torch` and compared with the
analytic figures: output shapes, ``numel`` of parameters and buffers, MACs against fvcore
(which counts one MAC as one "flop" for conv and linear layers), the bytes autograd keeps
(each storage once, parameters excluded, measured with ``saved_tensors_hooks``), and the
receptive field against the support of the input gradient of a linear positive probe.

The expected saved bytes are autograd's alone (no correction is added to either side): on
CPU torch runs Dropout unfused (``input * noise``) and keeps ``noise`` in the activation
dtype, which is the rule archcalc documents.

Known disagreements (archcalc is wrong, torch is right) are ``xfail(strict=True)``: the
lead removes the mark when layers.py is fixed.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import archcalc  # noqa: E402
import archcalc.kinds as KS  # noqa: E402  (newer kinds: Slice, ChannelShuffle, Pad, tokens)
from archcalc import (  # noqa: E402
    GELU,
    AdaptiveAvgPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Builder,
    Concat,
    Conv2d,
    ConvTranspose2d,
    CoordAugment,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Hardsigmoid,
    Hardswish,
    Identity,
    LayerNorm2d,
    LayerScale,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Mul,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    StochasticDepth,
    Tanh,
    UnsupportedError,
    Upsample,
    sequential,
)
from archcalc._errors import ArchcalcError, ShapeError, SpecError  # noqa: E402
from archcalc.engine.graph import INPUT, Model  # noqa: E402
from archcalc.engine.heads import last_spatial_node  # noqa: E402
from archcalc.engine.receptive import receptive_fields  # noqa: E402
from archcalc.engine.shapes import infer_shapes  # noqa: E402
from archcalc.kinds import LAYER_KINDS, GroupNorm, Layer  # noqa: E402
from archcalc.torch import (  # noqa: E402
    measure,
    probe_module,
    rf_by_gradient,
    to_torch,
    torch_layer,
)

pytestmark = [
    # torch warns once that an even kernel with padding='same' pads a copy of the input
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]

BATCH = 2  # BatchNorm needs more than one value per channel in training


# ---------------------------------------------------------------- helpers


def check_against_torch(
    model: Model, input_shape: Any = None, *, batch: int = BATCH, requires_grad: bool = True
) -> dict[str, Any]:
    """Shapes, params and buffers per node, and saved-for-backward bytes, archcalc vs torch."""
    s = archcalc.summary(model, input_shape, batch=batch, input_requires_grad=requires_grad)
    shapes = infer_shapes(model, s.input_shape)
    r = measure(model, s.input_shape, batch=batch, input_requires_grad=requires_grad)
    for name, shape in shapes.items():
        assert r["shapes"][name] == tuple(shape), f"shape of {name}"
    for row in s.layers:
        assert r["params"][row.name] == row.params, f"params of {row.name} ({row.kind})"
        assert r["buffers"][row.name] == row.buffers, f"buffers of {row.name} ({row.kind})"
    expected = s.memory.saved_for_backward_bytes
    assert r["saved_bytes"] == expected, (
        f"saved for backward: torch {r['saved_bytes']}, archcalc {expected}; "
        f"torch kept {[v for v in r['saved'].values()]}"
    )
    return r


def _conv_mode_handle(inputs: list[Any], outputs: list[Any]) -> int:
    """fvcore has no handle for ``padding='same'``/``'valid'`` convolutions
    (``aten::_convolution_mode``); count them as fvcore counts ``aten::_convolution``."""
    from fvcore.nn.jit_handles import conv_flop_count, get_shape

    return int(conv_flop_count(get_shape(inputs[0]), get_shape(inputs[1]), get_shape(outputs[0])))


def check_macs_fvcore(model: Model, input_shape: Any = None) -> None:
    """MACs of every conv / transposed conv / linear node equal fvcore's count."""
    fv = pytest.importorskip("fvcore.nn")
    s = archcalc.summary(model, input_shape, batch=1)
    net = to_torch(model).eval()
    x = torch.randn(1, *s.input_shape)
    fca = fv.FlopCountAnalysis(net, (x,))
    fca.set_op_handle("aten::_convolution_mode", _conv_mode_handle)
    fca.unsupported_ops_warnings(False)
    fca.uncalled_modules_warnings(False)
    by_module = fca.by_module()
    # (MultiheadAttention's MACs include QKᵀ and AV, which fvcore does not count without
    # need_weights: its fvcore rule is checked in tests/kinds/test_tokens.py)
    # (the windowed kinds, archcalc/kinds/window.py, hold norms, softmax and einsums besides
    # their linears: fvcore's count is their own rule, compared with fvcore on the real
    # modules in tests/test_windows.py and on these builds in tests/test_conventions.py)
    weighted = [
        row
        for row in s.layers
        if LAYER_KINDS[row.kind].weighted
        and row.kind != "MultiheadAttention"
        and LAYER_KINDS[row.kind].__module__ != "archcalc.kinds.window"
    ]
    assert weighted
    for row in weighted:
        assert by_module[net.module_names[row.name]] == row.macs, f"MACs of {row.name}"


def _region(rf: Any, i: int, j: int) -> tuple[Any, Any, Any, Any]:
    if rf.per_phase is not None:  # a windowed field: unit u = m·P + r sees offset_r + m·P·stride
        (pi, pj), (si, sj) = rf.phases, rf.stride
        (ti, hi), (tj, hj) = rf.per_phase[0][i % pi], rf.per_phase[1][j % pj]
        top, left = ti + i // pi * pi * si, tj + j // pj * pj * sj
        return (top, left, top + hi - 1, left + hj - 1)
    top = rf.offset[0] + i * rf.stride[0]
    left = rf.offset[1] + j * rf.stride[1]
    return (top, left, top + rf.size[0] - 1, left + rf.size[1] - 1)


def _clip(box: tuple[int, int, int, int], h: int, w: int) -> tuple[int, int, int, int] | None:
    top, left = max(box[0], 0), max(box[1], 0)
    bottom, right = min(box[2], h - 1), min(box[3], w - 1)
    return None if top > bottom or left > right else (top, left, bottom, right)


def _inside(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> bool:
    """Box ``a`` lies inside box ``b`` (an empty ``a`` lies inside anything)."""
    if a is None:
        return True
    return b is not None and b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def _units(n: int) -> list[int]:
    return sorted({0, 1, n // 2, n - 2, n - 1} & set(range(n))) if n > 6 else list(range(n))


def check_rf(
    model: Model, input_shape: Any = None, node: str | None = None, exact_border: bool = True
) -> None:
    """archcalc's receptive field of ``node`` against the input-gradient support.

    Integer strides: a unit whose region lies inside the input gets exactly its region, and
    the next unit's region is shifted by the effective stride; a border unit gets its region
    clipped to the input (``exact_border``), or a box inside it (holes of a dilation or a
    stride can fall on the clipped edge). Fractional strides (transposed conv, upsampling,
    non-dividing adaptive pooling) give unit ``j`` the region ``offset + j·stride`` rounded
    either way: the support must lie inside ``[floor(start), ceil(start) + size − 1]``, be
    at most ``size`` wide, and unit 0 must start at the clipped offset.
    """
    s = archcalc.summary(model, input_shape, batch=1)
    shapes = infer_shapes(model, s.input_shape)
    node = node or model.output
    rf = receptive_fields(model, shapes)[node]
    _, h, w = s.input_shape
    net = probe_module(model)
    if rf.is_global or rf.global_context:
        box = rf_by_gradient(model, s.input_shape, (0, 0), node=node, net=net)
        assert box == (0, 0, h - 1, w - 1)
        return
    oh, ow = shapes[node][1:]
    fractional = any(not isinstance(v, int) for v in (*rf.stride, *rf.offset))
    boxes: dict[tuple[int, int], Any] = {}
    for i in _units(oh):
        for j in _units(ow):
            got = rf_by_gradient(model, s.input_shape, (i, j), node=node, net=net)
            boxes[i, j] = got
            region = _region(rf, i, j)
            if fractional:
                loose = (
                    math.floor(region[0]),
                    math.floor(region[1]),
                    math.ceil(region[0]) + rf.size[0] - 1,
                    math.ceil(region[1]) + rf.size[1] - 1,
                )
                assert _inside(got, _clip(loose, h, w)), (i, j, got, region)
                assert got is not None
                assert got[2] - got[0] < rf.size[0] and got[3] - got[1] < rf.size[1]
                if (i, j) == (0, 0) and exact_border:
                    assert got[:2] == (max(rf.offset[0], 0), max(rf.offset[1], 0))
                continue
            clipped = _clip(region, h, w)
            interior = clipped == region
            if interior or exact_border:
                assert got == clipped, f"unit {(i, j)}: gradient {got}, archcalc {region}"
            else:
                assert _inside(got, clipped), f"unit {(i, j)}: gradient {got}, archcalc {region}"
    if fractional:
        return
    for (i, j), got in boxes.items():
        nxt = boxes.get((i + 1, j + 1))
        if nxt is None or got is None:
            continue
        if _clip(_region(rf, i, j), h, w) == _region(rf, i, j) and _clip(
            _region(rf, i + 1, j + 1), h, w
        ) == _region(rf, i + 1, j + 1):
            shift = (nxt[0] - got[0], nxt[1] - got[1])
            a, b = _region(rf, i, j), _region(rf, i + 1, j + 1)
            step = (b[0] - a[0], b[1] - a[1])  # the stride; per phase for a windowed field
            assert shift == step, f"unit {(i, j)}: shift {shift} != {step}"


def check_clipped_boxes(model: Model, node: str | None = None) -> None:
    """:func:`archcalc.engine.receptive.clipped_boxes` (exact per-unit boxes, clipped to the pixels
    read) against the input-gradient support, for every unit (sampled on large maps)."""
    from archcalc.engine.receptive import clipped_boxes

    shapes = infer_shapes(model)
    node = node or model.output
    b = clipped_boxes(model, shapes)[node]
    net = probe_module(model)
    for i in _units(shapes[node][1]):
        for j in _units(shapes[node][2]):
            got = rf_by_gradient(model, None, (i, j), node=node, net=net)
            box = (int(b[0][i]), int(b[2][j]), int(b[1][i]), int(b[3][j]))
            expected = None if -1 in box else box
            assert got == expected, f"unit {(i, j)}: gradient {got}, clipped_boxes {expected}"


def _integer_strides(model: Model, node: str) -> bool:
    rf = receptive_fields(model, infer_shapes(model))[node]
    return rf.is_global or all(isinstance(v, int) for v in (*rf.stride, *rf.offset))


def _dilated(model: Model) -> bool:
    def most(d: Any) -> Any:  # a pair, or one int (Conv1d)
        return max(d) if isinstance(d, tuple) else d

    return any(most(getattr(n.layer, "dilation", (1, 1))) > 1 for n in model.live_nodes())


# ---------------------------------------------------------------- per layer kind


def _seq(layers: list[Layer], shape: tuple[int, int, int]) -> Model:
    return sequential("case", layers, input_shape=shape)


def _residual(shape: tuple[int, int, int]) -> Model:
    b = Builder("residual", shape)
    b.add("conv", Conv2d(shape[0], shape[0], 3, padding=1), INPUT)
    b.add("relu", ReLU())
    b.add("add", Add(), "relu", INPUT)
    return b.build()


def _residual_sub(shape: tuple[int, int, int]) -> Model:
    b = Builder("residual_sub", shape)
    b.add("conv", Conv2d(shape[0], shape[0], 3, padding=1), INPUT)
    b.add("sub", KS.Sub(), "conv", INPUT)
    return b.build()


def _concat(shape: tuple[int, int, int]) -> Model:
    b = Builder("concat", shape)
    b.add("a", Conv2d(shape[0], 2, 1, stride=2), INPUT)
    b.add("b", Conv2d(shape[0], 3, 3, stride=2, padding=1), INPUT)
    b.add("pool", MaxPool2d(3, 2, padding=1), INPUT)
    b.add("cat", Concat(), "a", "b", "pool")
    return b.build()


def _se(shape: tuple[int, int, int]) -> Model:
    c = shape[0]
    b = Builder("se", shape)
    b.add("conv", Conv2d(c, c, 3, padding=1), INPUT)
    b.add("pool", GlobalAvgPool())
    b.add("fc1", Conv2d(c, 2, 1))
    b.add("relu", ReLU())
    b.add("fc2", Conv2d(2, c, 1))
    b.add("gate", Hardsigmoid())
    b.add("scale", Mul(), "conv", "gate")
    return b.build()


def _mul_equal(shape: tuple[int, int, int]) -> Model:
    b = Builder("mul", shape)
    b.add("a", Conv2d(shape[0], 3, 3, padding=1), INPUT)
    b.add("b", Conv2d(shape[0], 3, 1), INPUT)
    b.add("mul", Mul(), "a", "b")
    return b.build()


_ACTIVATIONS: list[Layer] = [
    ReLU(),
    ReLU6(),
    LeakyReLU(0.2),
    SiLU(),
    GELU(),
    Sigmoid(),
    Hardswish(),
    Hardsigmoid(),
    Tanh(),
    Identity(),
]

#: (id, model, flags); flags: "fvcore" (compare MACs), "rf" (exact RF), "rf_inside" (RF: border
#: units inside their region), "no_rf"
CASES: list[tuple[str, Model, set[str]]] = [
    ("conv_pad_int", _seq([Conv2d(3, 4, 3, padding=1)], (3, 9, 8)), {"fvcore"}),
    # windowed attention (unshifted: a shifted window's masked keys weigh e^-100, not 0, in
    # the float64 probe; shifted windows are checked on the real models in test_windows.py)
    (
        "swin_windows",
        _seq(
            [
                Conv2d(3, 8, 2, stride=2),
                KS.ShiftedWindowAttention(8, 2, 3, 0),
                KS.ShiftedWindowAttentionV2(8, 2, 3, 0),
                KS.PatchMerging(8),
                KS.PatchMergingV2(16),
            ],
            (3, 12, 10),
        ),
        {"fvcore"},
    ),
    (
        "maxvit_partitions",
        _seq(
            [
                Conv2d(3, 64, 2, stride=2),
                KS.PartitionAttention(64, 32, 4, "window", 2),
                KS.PartitionAttention(64, 32, 2, "grid", 2),
            ],
            (3, 16, 16),
        ),
        {"fvcore"},
    ),
    (
        "timm_swin_blocks",
        _seq(
            [
                Conv2d(3, 64, 2, stride=2),
                KS.TimmSwinBlock(64, 2, 4, 0, 128, fused=False),
                KS.TimmSwinV2Block(64, 2, 4, 0, 128),
                KS.TimmSwinV2CrBlock(64, 2, 4, 0, 128, meta_hidden=16, meta_dropout=0.0),
            ],
            (3, 16, 16),
        ),
        {"fvcore"},
    ),
    (
        "conv_nonsquare",
        _seq([Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))], (3, 11, 9)),
        {"fvcore"},
    ),
    ("conv_same_odd", _seq([Conv2d(3, 4, 3, padding="same")], (3, 8, 7)), {"fvcore"}),
    (
        "conv_same_dilated",
        _seq([Conv2d(3, 4, (3, 5), padding="same", dilation=2)], (3, 12, 13)),
        {"fvcore", "rf_inside"},
    ),
    ("conv_valid", _seq([Conv2d(3, 4, 3, padding="valid")], (3, 7, 9)), {"fvcore"}),
    (
        "conv_dilation",
        _seq([Conv2d(2, 4, 3, padding=2, dilation=2)], (2, 9, 9)),
        {"fvcore", "rf_inside"},
    ),
    (
        "conv_dilation_holes",
        _seq([Conv2d(2, 4, 3, padding=1, dilation=2)], (2, 9, 8)),
        {"fvcore", "rf_inside"},
    ),
    ("conv_groups", _seq([Conv2d(4, 6, 3, padding=1, groups=2)], (4, 7, 7)), {"fvcore"}),
    (
        "conv_depthwise_stride",
        _seq([Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)], (4, 9, 10)),
        {"fvcore"},
    ),
    (
        "conv_stride_nonsquare",
        _seq([Conv2d(2, 3, (2, 3), stride=(2, 3), padding=(0, 1))], (2, 8, 11)),
        {"fvcore"},
    ),
    (
        "convT_output_padding",
        _seq([ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)], (4, 5, 6)),
        {"fvcore"},
    ),
    (
        "convT_dilation_groups",
        _seq(
            [
                ConvTranspose2d(
                    4, 6, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=2
                )
            ],
            (4, 5, 4),
        ),
        {"fvcore", "rf_inside"},
    ),
    ("convT_k4_s2", _seq([ConvTranspose2d(2, 2, 4, stride=2, padding=1)], (2, 5, 5)), {"fvcore"}),
    ("linear_flat", _seq([Flatten(), Linear(48, 5)], (3, 4, 4)), {"fvcore"}),
    ("linear_channels", _seq([Conv2d(3, 4, 1), Linear(4, 6)], (3, 5, 6)), {"fvcore"}),
    (
        "linear_channels_after_layernorm",
        _seq([Conv2d(3, 4, 1), LayerNorm2d(4), Linear(4, 8), GELU(), Linear(8, 4)], (3, 5, 6)),
        {"fvcore"},
    ),
    ("maxpool", _seq([MaxPool2d(2)], (3, 8, 9)), set()),
    ("maxpool_pad_ceil", _seq([MaxPool2d(3, 2, padding=1, ceil_mode=True)], (3, 6, 7)), set()),
    # ceil_mode's last-window rule: 4 + 1 padding, k 2, s 3: a 3rd window would start in the
    # right padding, so torch drops it: 2 outputs (not ceil(4/3) + 1 = 3)
    (
        "maxpool_ceil_last_window",
        _seq([MaxPool2d(2, 3, padding=1, ceil_mode=True)], (2, 4, 7)),
        set(),
    ),
    (
        "maxpool_dilation_ceil",
        _seq([MaxPool2d(3, 2, padding=1, dilation=2, ceil_mode=True)], (2, 9, 10)),
        {"rf_inside"},
    ),
    ("avgpool", _seq([AvgPool2d(3, 2, padding=1)], (3, 7, 8)), set()),
    ("avgpool_ceil", _seq([AvgPool2d(2, 3, padding=1, ceil_mode=True)], (2, 4, 8)), set()),
    ("adaptive_divisible", _seq([AdaptiveAvgPool2d((3, 2))], (3, 9, 6)), set()),
    ("adaptive_nondivisible", _seq([AdaptiveAvgPool2d((3, 4))], (3, 7, 9)), set()),
    ("adaptive_identity_size", _seq([AdaptiveAvgPool2d(4)], (2, 4, 4)), set()),
    ("adaptive_1", _seq([AdaptiveAvgPool2d(1)], (3, 5, 6)), set()),
    ("global_avg_pool", _seq([GlobalAvgPool()], (3, 5, 6)), set()),
    ("global_avg_pool_mean", _seq([GlobalAvgPool(op="mean")], (3, 5, 6)), set()),
    ("slice", _seq([Conv2d(2, 6, 1), KS.Slice(1, 4), Conv2d(3, 2, 3)], (2, 6, 5)), set()),
    ("channel_shuffle", _seq([Conv2d(2, 6, 1), KS.ChannelShuffle(3)], (2, 5, 4)), set()),
    ("pad", _seq([KS.Pad((1, 2, 0, 1)), Conv2d(2, 3, 3)], (2, 6, 5)), set()),
    ("pad_crop", _seq([Conv2d(2, 3, 1), KS.Pad((-1, 0, 1, -2))], (2, 6, 5)), set()),
    ("avgpool_exclude_pad", _seq([AvgPool2d(3, 1, 1, count_include_pad=False)], (2, 5, 6)), set()),
    ("scale", _seq([Conv2d(2, 3, 3), KS.Scale(0.25)], (2, 6, 5)), set()),
    ("sub", _residual_sub((3, 6, 7)), set()),
    *[(f"act_{a.kind}", _seq([Conv2d(2, 3, 1), a], (2, 5, 4)), set()) for a in _ACTIVATIONS],
    ("batchnorm", _seq([Conv2d(2, 3, 3), BatchNorm2d(3), ReLU()], (2, 6, 5)), set()),
    ("layernorm2d", _seq([Conv2d(2, 3, 3), LayerNorm2d(3)], (2, 6, 5)), set()),
    ("groupnorm", _seq([Conv2d(2, 4, 3), GroupNorm(2, 4)], (2, 6, 5)), set()),
    ("dropout", _seq([Conv2d(2, 3, 1), Dropout(0.3)], (2, 4, 5)), set()),
    ("dropout_flat", _seq([Flatten(), Dropout(0.5), Linear(30, 4)], (2, 3, 5)), {"fvcore"}),
    ("stochastic_depth", _seq([Conv2d(2, 3, 1), StochasticDepth(0.3)], (2, 4, 5)), set()),
    ("layerscale", _seq([Conv2d(2, 3, 1), LayerScale(3)], (2, 4, 5)), set()),
    ("upsample_nearest", _seq([Conv2d(2, 3, 1), Upsample(2)], (2, 4, 5)), set()),
    ("upsample_nearest_2x3", _seq([Upsample((2, 3))], (2, 4, 3)), set()),
    ("upsample_bilinear", _seq([Conv2d(2, 3, 1), Upsample(2, "bilinear")], (2, 4, 5)), set()),
    ("upsample_bilinear_3", _seq([Upsample(3, "bilinear")], (2, 4, 3)), set()),
    ("coord_augment", _seq([CoordAugment(), Conv2d(4, 3, 3, padding=1)], (2, 5, 6)), set()),
    ("flatten", _seq([Conv2d(2, 3, 1), Flatten()], (2, 4, 5)), set()),
    ("add_residual", _residual((3, 6, 7)), set()),
    ("concat", _concat((3, 7, 8)), set()),
    ("mul_se", _se((3, 6, 5)), set()),
    ("mul_equal", _mul_equal((3, 5, 4)), set()),
    (
        # a two-block ViT in miniature: patches -> tokens, class token, position embedding,
        # pre-norm attention, the class token's head
        "vit_tokens",
        _seq(
            [
                Conv2d(2, 6, 2, stride=2),
                KS.Tokens(),
                KS.ClassToken(6),
                KS.PositionEmbedding(7, 6),
                KS.LayerNorm(6),
                KS.MultiheadAttention(6, 2),
                KS.SelectToken(0),
                Linear(6, 3),
            ],
            (2, 6, 4),
        ),
        set(),
    ),
    (
        # timm's ViT attention (timm.layers.attention.Attention), fused and written out
        "timm_attention",
        _seq(
            [
                Conv2d(2, 6, 2, stride=2),
                KS.Tokens(),
                KS.LayerNorm(6),
                KS.TimmAttention(6, 2, qkv_bias=True),
                KS.TimmAttention(6, 3, proj_bias=False, fused=False),
                KS.SelectToken(0),
            ],
            (2, 6, 4),
        ),
        set(),
    ),
    # the timm-modules kinds (tests/test_timm_modules.py has their foreign counts)
    (
        "std_conv_same_stride2",
        _seq(
            [
                KS.StdConv2d(2, 4, 3, stride=2, padding="same", gain=True),
                KS.StdConv2d(4, 3, 4, padding="same"),
            ],
            (2, 9, 10),
        ),
        set(),
    ),
    (
        "conv2d_same_stride2_even",
        _seq([KS.Conv2dSame(2, 4, 3, stride=2), KS.Conv2dSame(4, 3, 4, groups=1)], (2, 10, 9)),
        set(),
    ),
    (
        "blur_pool_and_reflect_pad",
        _seq(
            [Conv2d(2, 3, 1), KS.Pad((1, 1, 1, 1), mode="replicate"), KS.BlurPool2d(3)],
            (2, 9, 10),
        ),
        {"rf_inside"},
    ),
    (
        "adaptive_max_pool_rms_norm2d",
        _seq(
            [Conv2d(2, 3, 3, padding=1), KS.RMSNorm2d(3), KS.AdaptiveMaxPool2d((4, 3))], (2, 8, 9)
        ),
        set(),
    ),
    (
        "resize_bilinear_down",
        _seq([Conv2d(2, 3, 1), KS.Resize(size=(5, 4), mode="bilinear")], (2, 9, 11)),
        {"rf_inside"},
    ),
    (
        "unfold_conv1d_fold",
        _seq(
            [
                KS.Unfold(3, padding=1),
                KS.Conv1d(18, 18, 1),
                KS.Fold((9, 11), 3, padding=1),
            ],
            (2, 9, 11),
        ),
        {"rf_inside"},
    ),
    (
        "sequence_norms",
        _seq(
            [
                KS.Conv1d(3, 4, 3, padding=1),
                KS.BatchNorm1d(4),
                KS.RMSNorm(5),
                KS.LayerNorm(5, bias=False),
            ],
            (3, 5),
        ),
        set(),
    ),
]


def _tensor_views() -> Model:
    """archcalc/kinds/tensor.py's views and copies of a map along its channels, and a pad of
    its height and width (the fields followed: checked by gradient support)."""
    import archcalc.kinds.tensor as KT

    b = Builder("tensor_views", (4, 6, 6))
    b.add("conv", Conv2d(4, 4, 3, padding=1))
    b.add("half", KT.Narrow(0, 0, 2))
    b.add("rolled", KT.Roll((1,), (0,)))
    b.add("wide", KT.Repeat((2, 1, 1)))
    b.add("pad", KT.PadAxes((1, 2), (1, 0), (0, 1)))
    b.add("conv2", Conv2d(4, 4, 3))
    return b.build()


def _tensor_sources() -> Model:
    """Reshape, Permute, Select, Cat, Stack, Expand, Index, Assign, PerRow and the sources
    Param/Constant on token sequences (a Param sees no input: no receptive field)."""
    import archcalc.kinds.tensor as KT

    b = Builder("tensor_sources", (6, 8))
    b.add("a", Linear(8, 8))
    b.add("b", Linear(8, 8), INPUT)
    b.add("cat", KT.Cat(0), "a", "b")
    b.add("stack", KT.Stack(0), "a", "b")
    b.add("flat", KT.Reshape((12, 8)), "stack")
    b.add("p", KT.Param((12, 8)), INPUT)
    b.add("k", KT.Constant((12, 8)), INPUT)
    b.add("sum", Add(), "cat", "flat", "p", "k")
    b.add("table", KT.Param((5, 8), trainable=False), INPUT)
    b.add("idx", KT.Constant((12,)), INPUT)
    b.add("gather", KT.Index(0), "table", "idx")
    b.add("plus", Add(), "sum", "gather")
    b.add("e", KT.Expand((12, 8)), "plus")
    b.add("rows", KT.Reshape((3, 4, 8)), "e")
    b.add("per_row", KT.PerRow(Linear(8, 8)), "rows")
    b.add("back", KT.Reshape((12, 8)), "per_row")
    b.add("heads", KT.Reshape((6, 2, 4)), "a")
    b.add("swap", KT.Permute((1, 0, 2)), "heads")
    b.add("head1", KT.Select(0, 1), "swap")
    b.add("lin", Linear(4, 8), "head1")
    b.add("set", KT.Assign((0,), (0,), (6,), (1,)), "back", "lin")
    return b.build()


CASES += [
    ("tensor_views", _tensor_views(), set()),
    ("tensor_sources", _tensor_sources(), set()),
]


def _math_ops() -> list[tuple[str, Model, set[str]]]:
    """archcalc/kinds/tensor_math.py's compute ops (and Addcmul, AvgPool1d, MaxPool1d,
    Shift, LinearBiasInput) built alone: every operand is made from the input by a layer, so
    each field is followed (a product of two activations or a softmax over positions sees the
    whole image)."""
    import archcalc.kinds as K

    def one(name: str, shape: tuple[int, ...], *steps: tuple[str, Layer, tuple[str, ...]]) -> Any:
        b = Builder(name, shape)
        for n, layer, ins in steps:
            b.add(n, layer, *(ins or (INPUT,)))
        return (name, b.build(), set())

    x = INPUT
    return [
        one(
            "addcmul",
            (4, 9, 11),
            ("g1", AdaptiveAvgPool2d(1), (x,)),
            ("c", Conv2d(4, 4, 3, padding=1), (x,)),
            ("g2", AdaptiveAvgPool2d(1), ("c",)),
            ("op", K.Addcmul(0.5), ("c", "g1", "g2")),
        ),
        one(
            "pool1d",
            (4, 11),
            ("avg", K.AvgPool1d(3, 2, 1), (x,)),
            ("max", K.MaxPool1d(3, 1, 1), ()),
        ),
        one(
            "div_pow_clamp_unary_shift",
            (3, 5, 7),
            ("c", Conv2d(3, 3, 3, padding=1), (x,)),
            ("pos", K.Unary("exp"), ("c",)),
            ("div", K.Div(), (x, "pos")),
            ("pow", K.Pow(2.0), ("div",)),
            ("clamp", K.Clamp(0.0, 6.0), ("pow",)),
            ("shift", K.Shift(1.0, negate=True), ("clamp",)),
        ),
        one(
            "einsum_matmul",
            (2, 5, 4),
            ("k", Conv2d(2, 2, (3, 1), padding=(2, 0)), (x,)),  # (2, 7, 4)
            ("scores", K.Einsum("hld,hmd->hlm"), (x, "k")),  # (2, 5, 7)
            ("w", Conv2d(2, 1, (1, 3), padding=(0, 1)), ("scores",)),  # (1, 5, 7)
            ("t", Conv2d(1, 1, 1), ("w",)),
            ("kt", K.Reduce("sum", (0,), keepdim=True), ("k",)),  # (1, 7, 4)
            ("mm", K.Matmul(), ("scores", "kt")),  # (2, 5, 7) @ (1, 7, 4) -> (2, 5, 4)
        ),
        one(
            "attention",
            (3, 4, 4),
            ("q", Conv2d(3, 3, 1), (x,)),
            ("mask", Conv2d(3, 1, 1), (x,)),
            ("sdpa", K.ScaledDotProductAttention(), ("q", x, x)),
            ("masked", K.MaskedScaledDotProductAttention(), ("sdpa", x, x, "mask")),
            ("soft", K.Softmax(0), ("masked",)),  # over the channels: pointwise
            ("norm", K.Normalize(0), ("soft",)),
        ),
        one(
            "linear_bias_input",
            (5, 8),
            ("b", K.Reduce("mean", (0,)), (x,)),
            ("bias", Linear(8, 24), ("b",)),
            ("op", K.LinearBiasInput(8, 24), (x, "bias")),
        ),
    ]


CASES += _math_ops()

#: kinds no standalone build can show: Shared's parameters belong to its first call's module
#: (its import and build are checked in tests/test_tensor_ops.py)
NOT_BUILT_ALONE = {"Shared"}


def test_cases_cover_every_kind():
    covered = {n.layer.kind for _, m, _ in CASES for n in m.nodes}
    assert covered | NOT_BUILT_ALONE == set(LAYER_KINDS)


@pytest.mark.parametrize(("model", "flags"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_layer_kind(model: Model, flags: set[str]) -> None:
    check_against_torch(model)
    node = last_spatial_node(model)
    if node != INPUT and len(infer_shapes(model)[node]) == 3:
        check_rf(model, node=node, exact_border="rf_inside" not in flags)
        rf = receptive_fields(model, infer_shapes(model))[node]
        if not (_dilated(model) or rf.global_context) and _integer_strides(model, node):
            check_clipped_boxes(model, node)
    if "fvcore" in flags:
        check_macs_fvcore(model)


def test_ceil_mode_counts_match_torch():
    # the brief's case: 6 + 2·1 padding, k 3, s 2: floor gives 3, ceil 4 (last window starts
    # at 5, inside the input, so it is kept)
    assert MaxPool2d(3, 2, padding=1, ceil_mode=True).out_shape(((1, 6, 6),)) == (1, 4, 4)
    assert MaxPool2d(3, 2, padding=1).out_shape(((1, 6, 6),)) == (1, 3, 3)
    assert MaxPool2d(2, 3, padding=1, ceil_mode=True).out_shape(((1, 4, 4),)) == (1, 2, 2)
    for size in range(2, 12):
        for k, s, p in [(3, 2, 1), (2, 3, 1), (3, 3, 1), (2, 2, 1), (3, 2, 0)]:
            if size + 2 * p < k:
                continue
            t = torch.nn.functional.max_pool2d(
                torch.zeros(1, 1, size, size), k, s, p, ceil_mode=True
            )
            assert MaxPool2d(k, s, padding=p, ceil_mode=True).out_shape(((1, size, size),)) == (
                1,
                *t.shape[2:],
            ), (size, k, s, p)


def test_unknown_kind_is_unsupported():
    class Weird(Layer):
        pass

    with pytest.raises(UnsupportedError, match="Weird"):
        torch_layer(Weird())


def test_symbolic_layer_is_unsupported():
    f = archcalc.symbol("F")
    with pytest.raises(UnsupportedError, match="symbolic"):
        to_torch(_seq([Conv2d(3, f, 3)], (3, 8, 8)))


def test_module_names_are_node_names():
    b = Builder("nested", (3, 8, 8))
    b.add("layer1.0.conv1", Conv2d(3, 4, 3, padding=1))
    b.add("layer1.0.relu", ReLU())
    b.add("layer1.1", Conv2d(4, 4, 1))
    b.add("layer1", ReLU())  # a node whose name prefixes others
    b.add("training", ReLU())  # clashes with nn.Module.training: registered renamed
    net = to_torch(b.build())
    names = {n for n, _ in net.named_modules()}
    assert {"layer1.0.conv1", "layer1.0.relu", "layer1.1", "layer1"} <= names
    assert net.module_names["training"] == "_renamed.node4"
    assert set(net.state_dict()) == {
        "layer1.0.conv1.weight",
        "layer1.0.conv1.bias",
        "layer1.1.weight",
        "layer1.1.bias",
    }
    out = net(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 4, 8, 8)


def test_to_torch_is_seeded_and_leaves_global_rng_alone():
    m = _seq([Conv2d(3, 4, 3)], (3, 8, 8))
    state = torch.random.get_rng_state()
    a, b = to_torch(m, seed=1), to_torch(m, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a.state_dict()["0.weight"], b.state_dict()["0.weight"])
    assert not torch.equal(a.state_dict()["0.weight"], to_torch(m, seed=2).state_dict()["0.weight"])


def test_coord_augment_channels():
    net = to_torch(_seq([CoordAugment()], (1, 3, 5)))
    y = net(torch.zeros(2, 1, 3, 5))
    assert torch.allclose(y[0, 1, :, 0], torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.allclose(y[1, 2, 0, :], torch.linspace(-1, 1, 5))


def test_stochastic_depth_rows():
    net = to_torch(_seq([StochasticDepth(0.5)], (2, 3, 3))).train()
    y = net(torch.ones(64, 2, 3, 3))
    per_sample = y.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample == per_sample[:, :1]).all()  # one draw per sample (row mode)
    assert torch.equal(net.eval()(torch.ones(4, 2, 3, 3)), torch.ones(4, 2, 3, 3))


# ---------------------------------------------------------------- known disagreements


def test_conv_same_even_kernel_saved():
    check_against_torch(_seq([Conv2d(3, 4, 4, padding="same")], (3, 8, 7)))


def test_conv_same_even_kernel_shape_params_rf():
    m = _seq([Conv2d(3, 4, (4, 2), padding="same")], (3, 8, 7))
    r = measure(m, batch=BATCH, input_requires_grad=True)
    assert r["shapes"]["0"] == infer_shapes(m)["0"]
    assert r["params"]["0"] == archcalc.summary(m).params
    # the corrected rule: the input padded by δ = 3 mod 2 = 1 at the bottom (k 4) and
    # δ = 1 mod 2 = 1 at the right (k 2)
    assert r["saved_bytes"] == BATCH * 3 * (8 + 1) * (7 + 1) * 4
    check_rf(m)
    check_macs_fvcore(m)


def test_stochastic_depth_p0_saved():
    check_against_torch(_seq([Conv2d(2, 3, 1), StochasticDepth(0.0)], (2, 4, 5)))


def test_dropout_p0_saved():
    check_against_torch(_seq([Conv2d(2, 3, 1), Dropout(0.0)], (2, 4, 5)))


def test_no_grad_prefix_saves_nothing():
    m = _seq([MaxPool2d(2), ReLU(), Conv2d(3, 4, 3)], (3, 8, 8))
    check_against_torch(m, requires_grad=False)


def test_no_grad_prefix_torch_value():
    # the corrected rule's value: only the conv's input (the ReLU output) is kept
    m = _seq([MaxPool2d(2), ReLU(), Conv2d(3, 4, 3)], (3, 8, 8))
    r = measure(m, batch=BATCH)
    assert r["saved_bytes"] == BATCH * 3 * 4 * 4 * 4


def test_maxpool_dilated_padding_limit():
    with pytest.raises(SpecError):
        MaxPool2d(3, 1, padding=2, dilation=2)


def test_maxpool_dilated_padding_torch_rejects():
    with pytest.raises(RuntimeError, match="half of kernel size"):
        torch.nn.functional.max_pool2d(torch.zeros(1, 1, 9, 9), 3, 1, 2, 2)
    # padding 1 = 3 // 2 is accepted with any dilation
    torch.nn.functional.max_pool2d(torch.zeros(1, 1, 9, 9), 3, 1, 1, 3)


def _norm_models() -> list[Any]:
    return [
        pytest.param(_seq([Conv2d(2, 3, 3), BatchNorm2d(3)], (2, 6, 5)), id="batchnorm"),
        pytest.param(_seq([Conv2d(2, 3, 3), LayerNorm2d(3)], (2, 6, 5)), id="layernorm2d"),
    ]


@pytest.mark.parametrize("model", _norm_models())
def test_norm_stats_float64(model: Model) -> None:
    r = measure(model, batch=BATCH, dtype="float64", input_requires_grad=True)
    s = archcalc.summary(model, batch=BATCH, dtype="float64")
    assert r["saved_bytes"] == s.memory.saved_for_backward_bytes


def _mul3() -> Model:
    b = Builder("mul3", (2, 4, 4))
    for name in "abc":
        b.add(name, Conv2d(2, 2, 1), INPUT)
    b.add("mul", Mul(), "a", "b", "c")
    return b.build()


def test_mul_three_inputs_saved():
    check_against_torch(_mul3())


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(_seq([Conv2d(2, 4, 3, padding=1, dilation=2)], (2, 9, 8)), id="conv"),
        pytest.param(
            _seq([MaxPool2d(3, 2, padding=1, dilation=2, ceil_mode=True)], (2, 9, 10)),
            id="maxpool",
        ),
    ],
)
def test_clipped_boxes_dilation_holes(model: Model) -> None:
    check_clipped_boxes(model)


def test_clipped_boxes_se_gate() -> None:
    from archcalc.engine.receptive import clipped_boxes

    m = _se((3, 6, 5))
    boxes = clipped_boxes(m, infer_shapes(m))
    assert all((a == b).all() for a, b in zip(boxes["scale"], boxes["conv"]))


def test_clipped_boxes_dilated_same_is_not_monotone() -> None:
    # found by hypothesis: a k=2, d=2 'same' conv on 3 rows reads rows {1}, {0, 2}, {1} for
    # units 0, 1, 2 -- unit 0's box does not start before unit 1's -- so a following 3-tap
    # conv's unit 0 (units 0..1) starts at row 0, not at unit 0's row 1
    b = Builder("holes", (1, 3, 3))
    b.add("n1", Conv2d(1, 1, (2, 1), padding="same", dilation=(2, 1), bias=False))
    b.add("n2", Conv2d(1, 1, (3, 1), padding="same"))
    b.add("n3", ReLU())
    b.add("n4", Add(), "n3", "n1")
    check_clipped_boxes(b.build())


# ---------------------------------------------------------------- random graphs


_ACTS = [ReLU(), ReLU6(), LeakyReLU(), SiLU(), GELU(), Sigmoid(), Hardswish(), Tanh()]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Model, set[str]]:
    """A random valid graph of chains and branches: small odd sizes, dilation, groups,
    ceil_mode; returns the model and the features it uses ("se", "up", "convT")."""
    c0 = draw(st.integers(1, 4))
    h, w = draw(st.integers(3, 17)), draw(st.integers(3, 17))
    b = Builder("random", (c0, h, w))
    shapes = {INPUT: (c0, h, w)}
    cur = INPUT
    used: set[str] = set()
    count = [0]

    def add(layer: Layer, *inputs: str) -> str | None:
        ins = inputs or (cur,)
        try:
            out = layer.out_shape(tuple(shapes[i] for i in ins))
        except (ShapeError, SpecError):
            return None
        if any(d < 1 or d > 40 for d in out[1:]) or out[0] > 12:
            return None
        count[0] += 1
        name = f"n{count[0]}"
        b.add(name, layer, *ins)
        shapes[name] = out
        return name

    def conv(c: int, *, stride: int | None = None, keep: bool = False) -> Layer:
        groups = draw(st.sampled_from([g for g in (1, 2, 3, 4) if c % g == 0]))
        cout = groups * draw(st.integers(1, 3)) if not keep else c
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        if keep:  # shape-preserving: odd kernel, stride 1, symmetric 'same'
            kh, kw = 2 * (kh // 2) + 1, 2 * (kw // 2) + 1
            return Conv2d(c, c, (kh, kw), padding="same", dilation=(dh, dw), groups=groups)
        s = stride or draw(st.integers(1, 3))
        pad: Any = draw(st.sampled_from(["int", "valid"] + (["same"] if s == 1 else [])))
        if pad == "int":
            pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        return Conv2d(
            c,
            cout,
            (kh, kw),
            stride=s,
            padding=pad,
            dilation=(dh, dw),
            groups=groups,
            bias=draw(st.booleans()),
        )

    def pool() -> Layer:
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        d = draw(st.integers(1, 2))
        p = draw(st.integers(0, k // 2))  # torch: padding <= kernel_size // 2, any dilation
        ceil = draw(st.booleans())
        if draw(st.booleans()):
            return MaxPool2d(k, s, padding=p, dilation=d, ceil_mode=ceil)
        return AvgPool2d(k, s, padding=p, ceil_mode=ceil)

    ops = draw(
        st.lists(
            st.sampled_from(
                [
                    "conv",
                    "conv",
                    "pool",
                    "act",
                    "bn",
                    "res",
                    "cat",
                    "se",
                    "up",
                    "convT",
                    "ln_linear",
                    "misc",
                ]
            ),
            min_size=1,
            max_size=6,
        )
    )
    for op in ops:
        c = shapes[cur][0]
        new: str | None = None
        if op == "conv":
            new = add(conv(c))
        elif op == "pool":
            new = add(pool())
        elif op == "act":
            new = add(draw(st.sampled_from(_ACTS)))
        elif op == "bn":
            new = add(BatchNorm2d(c))
        elif op == "res":
            a = add(conv(c, keep=True))
            if a is not None:
                a2 = add(draw(st.sampled_from(_ACTS)), a)
                new = add(Add(), a2 or a, cur)
        elif op == "cat":
            s = draw(st.integers(1, 2))
            a = add(Conv2d(c, draw(st.integers(1, 3)), 1, stride=s), cur)
            bb = add(Conv2d(c, 2, 3, stride=s, padding=1, dilation=1), cur)
            pp = add(MaxPool2d(3, s, padding=1), cur)
            if a and bb and pp:
                new = add(Concat(), a, bb, pp)
        elif op == "se":
            g = add(GlobalAvgPool(), cur)
            f1 = add(Conv2d(c, 2, 1), g) if g else None
            f2 = add(Conv2d(2, c, 1), f1) if f1 else None
            gate = add(Sigmoid(), f2) if f2 else None
            if gate:
                new = add(Mul(), cur, gate)
                used.add("se")
        elif op == "up":
            new = add(
                Upsample(draw(st.integers(1, 2)), draw(st.sampled_from(["nearest", "bilinear"])))
            )
            used.add("up")
        elif op == "convT":
            s = draw(st.integers(1, 2))
            k = draw(st.integers(1, 3))
            new = add(
                ConvTranspose2d(
                    c,
                    draw(st.integers(1, 3)),
                    k,
                    stride=s,
                    padding=draw(st.integers(0, k // 2)),
                    output_padding=draw(st.integers(0, s - 1)),
                )
            )
            used.add("convT")
        elif op == "ln_linear":
            n1 = add(LayerNorm2d(c))
            n2 = add(Linear(c, 2 * c), n1) if n1 else None
            n3 = add(GELU(), n2) if n2 else None
            n4 = add(Linear(2 * c, c), n3) if n3 else None
            n5 = add(LayerScale(c), n4) if n4 else None
            n6 = add(StochasticDepth(0.25), n5) if n5 else None
            new = add(Add(), n6, cur) if n6 else None
        elif op == "misc":
            new = add(draw(st.sampled_from([CoordAugment(), Dropout(0.5), Identity()])))
        if new is not None:
            cur = new
    if cur == INPUT:
        cur = add(Identity()) or INPUT
    if draw(st.booleans()):
        c = shapes[cur][0]
        g = add(GlobalAvgPool(), cur)
        f = add(Flatten(), g) if g else None
        if f:
            add(Linear(c, 3), f)
    return b.build(), used


@settings(max_examples=30, deadline=None)
@given(graphs())
def test_random_graphs(case: tuple[Model, set[str]]) -> None:
    model, used = case
    check_against_torch(model)
    check_against_torch(model, requires_grad=False)
    if used & {"se", "up", "convT"}:
        return
    node = last_spatial_node(model)
    if node == INPUT:
        return
    rf = receptive_fields(model, infer_shapes(model))[node]
    assert rf.aligned
    check_rf(model, node=node, exact_border=False)
    check_clipped_boxes(model, node)


# ---------------------------------------------------------------- the zoo


def _zoo_input(model: Model) -> tuple[int, int, int]:
    """64x64 where the model accepts it, else the smallest square size that works."""
    c = model.input_shape[0]
    for size in (64, 96, 128, 160, 192, 224, 299):
        try:
            infer_shapes(model, (c, size, size))
        except ArchcalcError:
            continue
        return (c, size, size)
    return tuple(model.input_shape)  # type: ignore[return-value]


#: every zoo model; a model whose build fails fails its tests (never a skip). One xdist group
#: per model: under ``--dist loadgroup`` its tests share one worker and one measurement.
ZOO = [pytest.param(n, marks=pytest.mark.xdist_group(f"zoo-{n}")) for n in archcalc.zoo.names()]
_ZOO_CACHE: dict[str, tuple[Model, Any, dict[str, Any]]] = {}


def _zoo_measure(name: str) -> tuple[Model, Any, dict[str, Any]]:
    if name not in _ZOO_CACHE:
        model = archcalc.zoo.get(name)
        shape = _zoo_input(model)
        _ZOO_CACHE[name] = (model, shape, measure(model, shape, batch=BATCH))
    return _ZOO_CACHE[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_shapes_params(name: str) -> None:
    model, shape, r = _zoo_measure(name)
    s = archcalc.summary(model, shape, batch=BATCH)
    shapes = infer_shapes(model, shape)
    for node, sh in shapes.items():
        assert r["shapes"][node] == tuple(sh), f"shape of {node}"
    for row in s.layers:
        assert r["params"][row.name] == row.params, f"params of {row.name}"
        assert r["buffers"][row.name] == row.buffers, f"buffers of {row.name}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_saved_bytes(name: str) -> None:
    model, shape, r = _zoo_measure(name)
    s = archcalc.summary(model, shape, batch=BATCH)
    assert r["saved_bytes"] == s.memory.saved_for_backward_bytes


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_macs_fvcore(name: str) -> None:
    model = archcalc.zoo.get(name)
    check_macs_fvcore(model, _zoo_input(model))
