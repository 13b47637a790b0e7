"""Importing torch modules: :func:`archcalc.torch.importer.from_torch` and the
``file.py:factory`` loader.

1. Round trip: ``from_torch(to_torch(m))`` has the figures of ``m`` for the whole zoo, layer
   by layer (the torch modules are built on the ``meta`` device: nothing is allocated).
2. Models written here in torch, in torchvision's style (not by archcalc): their figures
   against torch (parameter numel per module, output shapes per module and in all) and
   MACs against fvcore's ``FlopCountAnalysis`` (conv and linear, one MAC a "flop") or
   torch's ``FlopCounterMode`` (2 per MAC); where an archcalc spec of the same network is
   easy to write, layer-by-layer equality with it.
3. Errors: an operation without an archcalc layer names itself and where it is called;
   a partial import says exactly what it left out; a forward torch.fx cannot trace is a
   clear error.
4. The ``file.py:factory`` loader.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import archcalc  # noqa: E402
from archcalc import (  # noqa: E402
    GELU,
    Add,
    BatchNorm2d,
    Builder,
    Conv2d,
    Identity,
    Linear,
    MaxPool2d,
    OptionError,
    ReLU,
    ShapeError,
    UnsupportedError,
    zoo,
)
from archcalc._errors import FileFormatError, UnknownModelError  # noqa: E402
from archcalc.torch import to_torch  # noqa: E402
from archcalc.torch.factory import load_python_factory  # noqa: E402
from archcalc.torch.importer import from_torch, import_torch  # noqa: E402
from archcalc.zoo.resnet import _basic  # noqa: E402

THIS = Path(__file__).name

#: every figure of a summary compared between a model and its import
FIGURES = ("params", "buffers", "macs", "flops", "memory", "rf", "rf_layer", "output_shape")


def assert_same_figures(a: archcalc.Summary, b: archcalc.Summary) -> None:
    """Totals, and every layer row (name, kind, inputs, shape, params, MACs, FLOPs,
    activations, receptive field) equal."""
    for k in FIGURES:
        assert getattr(a, k) == getattr(b, k), k
    rows_a, rows_b = a.to_dict()["layers"], b.to_dict()["layers"]
    assert [r["name"] for r in rows_a] == [r["name"] for r in rows_b]
    for ra, rb in zip(rows_a, rows_b):
        assert ra == rb, ra["name"]


def meta_module(model: archcalc.Model) -> nn.Module:
    with torch.device("meta"):
        return to_torch(model)


# ---------------------------------------------------------------- 1. round trip


@pytest.mark.parametrize("name", zoo.names())
def test_round_trip_zoo(name: str) -> None:
    m = zoo.get(name)
    shape = (3, 64, 64)
    try:
        archcalc.summary(m, input=shape)
    except archcalc.ShapeError:  # a fixed input size (vit_b_16's position embedding)
        shape = tuple(m.input_shape)
    got = from_torch(meta_module(m), shape)
    assert got.name == m.name
    assert_same_figures(archcalc.summary(m, input=shape), archcalc.summary(got, input=shape))
    # training figures and a batch: the same layers give the same saved bytes
    a = archcalc.summary(m, input=shape, batch=3, dtype="float16")
    b = archcalc.summary(got, input=shape, batch=3, dtype="float16")
    assert a.memory == b.memory


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet50", "convnext_tiny", "googlenet", "efficientnet_b0"])
def test_round_trip_at_224(name: str) -> None:
    m = zoo.get(name)
    got = from_torch(meta_module(m), m.input_shape)
    assert_same_figures(archcalc.summary(m), archcalc.summary(got))


def test_round_trip_with_real_tensors_restores_training_mode() -> None:
    m = zoo.get("resnet18")
    net = to_torch(m).train()
    got = from_torch(net, (3, 32, 32))
    assert all(mod.training for mod in net.modules())
    assert_same_figures(
        archcalc.summary(m, input=(3, 32, 32)), archcalc.summary(got, input=(3, 32, 32))
    )


def test_round_trip_renamed_modules() -> None:
    """Node names torch cannot register (``training``, ``a..b``) come back as they were."""
    b = Builder("odd", (3, 8, 8))
    b.add("training", Conv2d(3, 4, 3, padding=1))
    b.add("a..b", ReLU())
    b.add("conv", Conv2d(4, 4, 1))
    b.add("conv.relu", ReLU())
    b.add("sum", Add(), "conv.relu", "a..b")
    m = b.build()
    assert_same_figures(archcalc.summary(m), archcalc.summary(from_torch(to_torch(m), (3, 8, 8))))


def test_round_trip_symbolic_analysis() -> None:
    """An imported model holds no input size: a symbolic summary substitutes to the
    numeric one."""
    m = from_torch(meta_module(zoo.get("mobilenet_v3_small")), (3, 64, 64))
    sym = archcalc.summary(m, input="3xHxW")
    num = archcalc.summary(m, input=(3, 96, 128))
    h, w = archcalc.symbol("H"), archcalc.symbol("W")
    assert sym.macs.subs({h: 96, w: 128}) == num.macs
    assert sym.memory.saved_for_backward_bytes.subs({h: 96, w: 128}) == (
        num.memory.saved_for_backward_bytes
    )


# ---------------------------------------------------------------- 2. models written in torch


class BasicBlock(nn.Module):
    """torchvision's BasicBlock, written out: ``out += identity`` and a functional ReLU."""

    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: Any) -> Any:
        identity = x
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return F.relu(out)


class TinyResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, 10)

    def forward(self, x: Any) -> Any:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def tiny_resnet_spec() -> archcalc.Model:
    """The same network with archcalc's zoo helpers (torch.fx's names)."""
    b = Builder("TinyResNet", (3, 64, 64))
    b.add("conv1", Conv2d(3, 16, 7, stride=2, padding=3, bias=False))
    b.add("bn1", BatchNorm2d(16))
    b.add("relu", ReLU())
    x = b.add("maxpool", MaxPool2d(3, 2, padding=1))
    x = _basic(b, "layer1.0", 16, 16, 1, x)
    x = _basic(b, "layer1.1", 16, 16, 1, x)
    x = _basic(b, "layer2.0", 16, 32, 2, x)
    b.add("avgpool", archcalc.AdaptiveAvgPool2d(1))
    b.add("flatten", archcalc.Flatten())
    b.add("fc", Linear(32, 10))
    return b.build()


class TinyVGG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 8 * 8, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, 10)
        )

    def forward(self, x: Any) -> Any:
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)

    def forward(self, x: Any) -> Any:
        s = x.mean((2, 3), keepdim=True)
        s = F.relu(self.fc1(s))
        s = torch.sigmoid(self.fc2(s))
        return x * s


class SENet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 5, 1, 2, groups=16, bias=False)
        self.se = SqueezeExcite(16, 4)
        self.proj = nn.Conv2d(16, 24, 1)
        self.fc = nn.Linear(24, 5)

    def forward(self, x: Any) -> Any:
        x = F.hardswish(self.bn(self.stem(x)))
        x = self.se(F.silu(self.dw(x)))
        x = F.relu6(self.proj(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(F.dropout(x, 0.2, self.training))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, features: list[Any]) -> Any:
        x = torch.cat(features, 1)
        return self.conv(self.relu(self.norm(x)))


class DenseBlock(nn.ModuleDict):
    def __init__(self, n: int, cin: int, growth: int) -> None:
        super().__init__()
        for i in range(n):
            self[f"denselayer{i + 1}"] = DenseLayer(cin + i * growth, growth)

    def forward(self, x: Any) -> Any:
        features = [x]
        for _, layer in self.items():
            features.append(layer(features))
        return torch.cat(features, 1)


class TinyDenseNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.block = DenseBlock(3, 16, 8)
        self.pool = nn.AvgPool2d(2)
        self.classifier = nn.Linear(40, 3)

    def forward(self, x: Any) -> Any:
        x = self.pool(self.block(self.conv0(x)))
        x = F.relu(x, inplace=True)
        x = F.avg_pool2d(x, x.size()[2:])  # a global pool written as an average pool
        return self.classifier(torch.flatten(x, 1))


class LayerNorm2d(nn.LayerNorm):
    """timm/torchvision style: permute, layer norm over channels, permute back."""

    def forward(self, x: Any) -> Any:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """The official ConvNeXt block: channels-last LayerNorm and Linear, ``gamma`` (C,)
    applied channels-last."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x: Any) -> Any:
        inp = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        x = self.gamma * x
        x = x.permute(0, 3, 1, 2)
        return inp + x


class TinyConvNeXt(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, stride=4), LayerNorm2d(16, eps=1e-6))
        self.stage1 = ConvNeXtBlock(16)
        self.down = nn.Sequential(LayerNorm2d(16, eps=1e-6), nn.Conv2d(16, 32, 2, stride=2))
        self.stage2 = ConvNeXtBlock(32)
        self.norm = nn.LayerNorm(32, eps=1e-6)
        self.head = nn.Linear(32, 7)

    def forward(self, x: Any) -> Any:
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(self.norm(x.mean([-2, -1])))


def tiny_convnext_spec() -> archcalc.Model:
    """The same network in archcalc's layers (LayerScale on the channels-last map)."""
    b = Builder("TinyConvNeXt", (3, 64, 64))
    ln = archcalc.LayerNorm2d
    b.seq("stem", [Conv2d(3, 16, 4, stride=4), ln(16)])

    def block(p: str, c: int) -> None:
        x = b.last
        b.add(f"{p}.dwconv", Conv2d(c, c, 7, padding=3, groups=c))
        b.add(f"{p}.norm", ln(c, exact_type=True))  # nn.LayerNorm itself
        b.add(f"{p}.pwconv1", Linear(c, 4 * c))
        b.add(f"{p}.act", GELU())
        b.add(f"{p}.pwconv2", Linear(4 * c, c))
        b.add(f"{p}.gamma", archcalc.LayerScale(c))
        b.add(f"{p}.add", Add(), x, b.last)

    block("stage1", 16)
    b.seq("down", [ln(16), Conv2d(16, 32, 2, stride=2)])
    block("stage2", 32)
    b.add("mean", archcalc.GlobalAvgPool(op="mean"))  # x.mean([-2, -1]): fvcore counts 0
    b.add("mean_flatten", archcalc.Flatten())
    b.add("norm", ln(32, exact_type=True))
    b.add("head", Linear(32, 7))
    return b.build()


class TinyUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.fuse = nn.Conv2d(32, 8, 3, padding=1, bias=False)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x: Any) -> Any:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        skip = F.interpolate(e2, scale_factor=2, mode="bilinear", align_corners=False)
        y = torch.cat([self.up(e2), e1, skip], dim=1)
        y = F.leaky_relu(self.fuse(y), 0.1)
        y = self.pool(y)
        return torch.tanh(self.out(self.up2(y)))


class StochasticDepth(nn.Module):
    """Named like torchvision's ``StochasticDepth`` (matched by name, row mode)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty(x.shape[0], 1, 1, 1).bernoulli_(1 - self.p)  # pragma: no cover
        return x * keep / (1 - self.p)  # pragma: no cover


class Odds(nn.Module):
    """Padding modes, dilation, groups, functional pools and activations, views."""

    def __init__(self) -> None:
        super().__init__()
        self.same = nn.Conv2d(3, 8, 4, padding="same", dilation=1, bias=False)
        self.valid = nn.Conv2d(8, 8, 3, padding="valid", dilation=2, groups=4)
        self.act = nn.Hardsigmoid()
        self.drop = nn.Dropout2d(0.1)
        self.sd = StochasticDepth(0.2)
        self.ident = nn.Identity()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(8 * 6 * 6, 4)

    def forward(self, x: Any) -> Any:
        x = self.same(x).clamp(min=0)
        x = F.max_pool2d(x, 3, stride=1, padding=1, ceil_mode=True)
        x = self.act(self.valid(x)).contiguous()
        x = F.hardtanh(x, 0.0, 6.0)
        x = self.sd(self.drop(x)) + 0
        x = F.avg_pool2d(self.ident(x), 2, ceil_mode=True).unsqueeze(-1).squeeze(-1)
        return self.fc(self.flat(x)).tanh_()


def _leaf_output_shapes(net: nn.Module, x: Any) -> dict[str, tuple[int, ...]]:
    """Output shape (per sample) of each module called once with one tensor output."""
    shapes: dict[str, list[tuple[int, ...]]] = {}
    handles = []
    for name, mod in net.named_modules():
        if name:

            def hook(m: nn.Module, inp: Any, out: Any, name: str = name) -> None:
                if isinstance(out, torch.Tensor):
                    shapes.setdefault(name, []).append(tuple(out.shape[1:]))

            handles.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return {k: v[0] for k, v in shapes.items() if len(v) == 1}


def check_against_torch(net: nn.Module, shape: tuple[int, ...], counter: str = "fvcore") -> Any:
    """Import ``net`` and check it against torch; returns the summary."""
    net.eval()
    m = from_torch(net, shape)
    s = archcalc.summary(m, input=shape)
    # parameters: in all, and per module
    assert s.params == sum(p.numel() for p in net.parameters())
    modules = dict(net.named_modules())
    for row in s.layers:
        if row.name in modules:
            own = modules[row.name].parameters(recurse=False)
            assert row.params == sum(p.numel() for p in own), row.name
    # output shapes: in all, and of every module called once
    x = torch.randn(1, *shape)
    with torch.no_grad():
        y = net(x)
    assert s.output_shape == tuple(y.shape[1:])
    torch_shapes = _leaf_output_shapes(net, x)
    rows = {r.name: r for r in s.layers}
    matched = [k for k in torch_shapes if k in rows]
    assert matched
    for k in matched:
        out = rows[k].output_shape
        assert torch_shapes[k] in (out, (*out[1:], out[0])), k  # NCHW or channels-last
    # MACs: fvcore counts one MAC a flop for conv and linear layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if counter == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            fca = FlopCountAnalysis(net, x)
            fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            ops = fca.by_operator()
            macs = sum(v for k, v in ops.items() if k in ("conv", "linear", "addmm", "matmul"))
        else:
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as fc:
                net(x)
            macs = fc.get_total_flops() // 2
    assert s.macs == macs
    return s


def test_hand_resnet_equals_spec() -> None:
    s = check_against_torch(TinyResNet(), (3, 64, 64))
    assert_same_figures(archcalc.summary(tiny_resnet_spec()), s)
    names = [r.name for r in s.layers]
    assert "layer1.0.add" in names and "layer1.0.relu_1" in names


def test_hand_vgg_view_flatten() -> None:
    s = check_against_torch(TinyVGG(), (3, 32, 32))
    kinds = {r.name: r.kind for r in s.layers}
    assert kinds["view"] == "Flatten" and kinds["classifier.2"] == "Dropout"


def test_hand_squeeze_excitation() -> None:
    s = check_against_torch(SENet(), (3, 32, 32))
    kinds = {r.name: r.kind for r in s.layers}
    assert kinds["se.mean"] == "GlobalAvgPool"
    assert kinds["se.sigmoid"] == "Sigmoid"
    assert kinds["se.mul"] == "Mul"
    assert s.layer("se.mul").inputs == ("silu", "se.sigmoid")
    assert (kinds["hardswish"], kinds["relu6"], kinds["dropout"]) == (
        "Hardswish",
        "ReLU6",
        "Dropout",
    )
    assert s.rf is not None and s.rf.global_context


def test_squeeze_excitation_variants() -> None:
    """``gate.expand_as(x)`` is the broadcast archcalc's Mul does; an SE whose gate goes
    through ``Linear`` on a vector and back to ``(N, C, 1, 1)`` imports with a ``Reshape``
    from the vector back to a map."""

    class ExpandSE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.fc = nn.Conv2d(8, 8, 1)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            g = torch.sigmoid(self.fc(F.adaptive_avg_pool2d(x, 1)))
            return x * g.expand_as(x)

    s = check_against_torch(ExpandSE(), (3, 10, 10))
    assert s.layer("mul").inputs == ("conv", "sigmoid")

    class LinearSE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x: Any) -> Any:
            b, c, _, _ = x.size()
            g = self.fc(x.mean((2, 3))).view(b, c, 1, 1)
            return x * g

    s = check_against_torch(LinearSE(), (3, 8, 8))
    assert s.layer("view").kind == "Reshape" and s.layer("view").output_shape == (3, 1, 1)


def test_hand_densenet_cat() -> None:
    s = check_against_torch(TinyDenseNet(), (3, 16, 16))
    cats = [r for r in s.layers if r.kind == "Concat"]
    assert [len(r.inputs) for r in cats] == [1, 2, 3, 4]
    assert cats[-1].name == "block.cat" and cats[0].name == "block.denselayer1.cat"
    assert s.layer("avg_pool2d").kind == "AvgPool2d"


def test_hand_convnext_channels_last_equals_spec() -> None:
    s = check_against_torch(TinyConvNeXt(), (3, 64, 64))
    assert_same_figures(archcalc.summary(tiny_convnext_spec()), s)


def test_hand_unet_upsampling_and_transpose() -> None:
    s = check_against_torch(TinyUNet(), (3, 32, 32))
    kinds = {r.name: r.kind for r in s.layers}
    assert kinds["up"] == "ConvTranspose2d"
    assert kinds["interpolate"] == "Upsample" and kinds["up2"] == "Upsample"
    assert s.model.node("interpolate").layer.mode == "bilinear"
    assert kinds["leaky_relu"] == "LeakyReLU" and kinds["tanh"] == "Tanh"


def test_hand_odds_and_ends() -> None:
    s = check_against_torch(Odds(), (3, 16, 16), counter="flopcounter")
    kinds = [(r.name, r.kind) for r in s.layers]
    assert kinds == [
        ("same", "Conv2d"),
        ("clamp", "ReLU"),
        ("max_pool2d", "MaxPool2d"),
        ("valid", "Conv2d"),
        ("act", "Hardsigmoid"),
        ("hardtanh", "ReLU6"),
        ("drop", "Dropout"),
        ("sd", "StochasticDepth"),
        ("ident", "Identity"),
        ("avg_pool2d", "AvgPool2d"),
        ("flat", "Flatten"),
        ("fc", "Linear"),
        ("tanh", "Tanh"),
    ]
    same = s.model.node("same").layer
    assert same.padding == "same" and same.kernel_size == (4, 4)
    assert s.model.node("sd").layer.p == 0.2
    # 'same' with an even kernel keeps a padded copy for backward (archcalc's rule)
    assert s.memory.saved_for_backward_bytes > 0


def test_lone_layer_and_meta_module() -> None:
    m = from_torch(nn.Conv2d(3, 4, 3), (3, 8, 8))
    assert [(n.name, n.layer.kind) for n in m.nodes] == [("0", "Conv2d")]
    with torch.device("meta"):
        net = TinyResNet()
    assert archcalc.summary(from_torch(net, "3x64x64")).params == sum(
        p.numel() for p in net.parameters()
    )


# ---------------------------------------------------------------- 3. errors and partial


class Spectral(nn.Module):
    def forward(self, x: Any) -> Any:
        return torch.fft.fftshift(x)  # real in, real out: same shape


class WithFFT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.spectral = Spectral()
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x: Any) -> Any:
        return self.head(self.spectral(self.conv(x)))


def test_unmappable_function_names_op_and_place() -> None:
    with pytest.raises(UnsupportedError) as e:
        from_torch(WithFFT(), (3, 8, 8))
    msg = str(e.value)
    assert "torch.fft.fftshift" in msg
    assert "module 'spectral' (Spectral)" in msg
    assert "call 'fft_fftshift'" in msg
    assert f"{THIS}:" in msg and "torch.fft.fftshift(x)" in msg
    assert "partial=True" in msg


def test_unmappable_method_returning_a_tuple() -> None:
    class Sorts(nn.Module):
        def forward(self, x: Any) -> Any:
            y, _ = x.sort(dim=1)
            return y

    with pytest.raises(UnsupportedError, match=r"Tensor\.sort .*call 'sort'.*several tensors"):
        from_torch(Sorts(), (3, 8, 8))


def test_custom_autograd_function() -> None:
    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.cumsum(1)  # (x.exp() imports now: kinds/tensor_math.Unary)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:  # pragma: no cover - never run
            return g

    class Act(nn.Module):
        def forward(self, x: Any) -> Any:
            return Exp.apply(x)

    net = nn.Sequential(nn.Conv2d(3, 4, 1))
    net.add_module("act", Act())
    with pytest.raises(UnsupportedError, match="'act'"):
        from_torch(net, (3, 8, 8))


def test_unmappable_module_and_wrong_params() -> None:
    with pytest.raises(UnsupportedError, match=r"nn\.Softmin \(module '1'\)"):
        from_torch(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softmin(dim=1)), (3, 8, 8))
    with pytest.raises(UnsupportedError, match="affine=False"):
        from_torch(nn.Sequential(nn.BatchNorm2d(3, affine=False)), (3, 8, 8))
    # nn.Linear on the last axis (W) of an NCHW map: torch's rule, imported as such
    lin = from_torch(nn.Sequential(nn.Linear(8, 4)), (3, 8, 8)).live_nodes()[0].layer
    assert lin == archcalc.kinds.Linear(8, 4, channels_last=True)
    with pytest.raises(UnsupportedError, match="padding_mode='reflect'"):
        from_torch(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (3, 8, 8))


def test_partial_identity_placeholder() -> None:
    r = import_torch(WithFFT(), (3, 8, 8), partial=True)
    assert len(r.gaps) == 1
    gap = r.gaps[0]
    assert (gap.op, gap.action) == ("torch.fft.fftshift", "identity")
    assert gap.placeholder == "spectral.fft_fftshift"
    assert "module 'spectral'" in gap.where
    assert str(gap) in r.model.description
    b = Builder("expected", (3, 8, 8))
    b.add("conv", Conv2d(3, 4, 3, padding=1))
    b.add("spectral.fft_fftshift", Identity())
    b.add("head", Conv2d(4, 2, 1))
    assert_same_figures(archcalc.summary(b.build()), archcalc.summary(r.model))
    # from_torch gives the same model; its description lists the gap
    m = from_torch(WithFFT(), (3, 8, 8), partial=True, name="fft")
    assert m.name == "fft" and "torch.fft.fftshift" in m.description


def test_partial_cut_lists_what_is_left_out() -> None:
    class Strided(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.side = nn.Conv2d(3, 4, 1)
            self.head = nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            s = self.side(x)
            y = F.relu(self.conv(x))
            y = y[:, :, [0, 2, 4, 6], ::2]  # by a list: no archcalc layer; the shape changes
            return self.head(y) + F.max_pool2d(s, 2).mean((2, 3), keepdim=True)

    r = import_torch(Strided(), (3, 8, 8), partial=True)
    assert len(r.gaps) == 1
    gap = r.gaps[0]
    assert gap.action == "cut" and gap.op == "operator.getitem"
    assert gap.dropped == ("head", "max_pool2d", "mean", "add")
    assert gap.unreached == ("side",)  # computed before the cut, no longer reaches the output
    assert r.model.output == "relu"
    b = Builder("expected", (3, 8, 8))
    b.add("conv", Conv2d(3, 4, 3, padding=1))
    b.add("relu", ReLU())
    assert_same_figures(archcalc.summary(b.build()), archcalc.summary(r.model))
    assert "operator.getitem" in r.model.description
    assert "not analysed: head, max_pool2d, mean, add" in r.model.description


def test_partial_parameter_add_and_constant() -> None:
    class PosEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.pos = nn.Parameter(torch.zeros(1, 4, 8, 8))

        def forward(self, x: Any) -> Any:
            return F.relu(self.conv(x) + self.pos.cumsum(1))  # (exp imports now)

    with pytest.raises(UnsupportedError, match=r"Tensor\.cumsum"):
        from_torch(PosEmbed(), (3, 8, 8))
    r = import_torch(PosEmbed(), (3, 8, 8), partial=True)
    assert [(g.op, g.action) for g in r.gaps] == [
        ("Tensor.cumsum", "constant"),
        ("operator.add", "identity"),
    ]
    assert "a tensor left out earlier" in r.gaps[1].reason
    assert [n.name for n in r.model.nodes] == ["conv", "add", "relu"]
    assert any("256 parameters are not counted" in n for n in r.notes)


class Gate(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.mean() > 0:  # data-dependent control flow
            return x
        return -x


def test_trace_failure_at_top_level() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)

        def forward(self, x: Any) -> Any:
            if x.sum() > 0:
                return self.conv(x)
            return x  # pragma: no cover

    with pytest.raises(UnsupportedError) as e:
        from_torch(Branchy(), (3, 8, 8))
    msg = str(e.value)
    assert "cannot trace Branchy.forward" in msg and "control flow" in msg
    assert f"{THIS}:" in msg and "if x.sum() > 0" in msg


def test_trace_failure_in_a_submodule() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 1), Gate(), nn.ReLU())
    with pytest.raises(UnsupportedError) as e:
        from_torch(net, (3, 8, 8))
    msg = str(e.value)
    assert "module '1'" in msg and "cannot trace its forward" in msg
    assert "control flow" in msg
    r = import_torch(net, (3, 8, 8), partial=True)
    assert [(n.name, n.layer.kind) for n in r.model.nodes] == [
        ("0", "Conv2d"),
        ("1", "Identity"),
        ("2", "ReLU"),
    ]
    assert r.gaps[0].op.endswith("Gate") and r.gaps[0].action == "identity"


def test_bad_inputs() -> None:
    with pytest.raises(OptionError, match="positive integers"):
        from_torch(TinyVGG(), "3xHxW")
    with pytest.raises(OptionError, match="nn.Module"):
        from_torch("resnet18", (3, 8, 8))  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"nn\.Linear \(module 'classifier\.0'"):
        from_torch(TinyVGG(), (3, 64, 64))  # the classifier is sized for 32x32

    class TwoInputs(nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return x + y

    with pytest.raises(UnsupportedError, match="takes 2 inputs"):
        from_torch(TwoInputs(), (3, 8, 8))

    class TwoOutputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 4, 1)

        def forward(self, x: Any) -> Any:
            return self.a(x), x

    with pytest.raises(UnsupportedError, match="returns 2 values"):
        from_torch(TwoOutputs(), (3, 8, 8))
    r = import_torch(TwoOutputs(), (3, 8, 8), partial=True)
    assert r.model.output == "a" and r.gaps[0].dropped == ("x",)


# ---------------------------------------------------------------- 4. file.py:factory


FACTORY = """
import torch.nn as nn
from helper import width

INPUT_SHAPE = (1, 28, 28)


def net():
    return nn.Sequential(
        nn.Conv2d(1, width(), 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(width(), 10),
    )


def fails():
    raise RuntimeError("no weights here")


def not_a_module():
    return 42
"""


@pytest.fixture
def factory_file(tmp_path: Path) -> Path:
    (tmp_path / "helper.py").write_text("def width():\n    return 6\n")
    p = tmp_path / "mynet.py"
    p.write_text(FACTORY)
    return p


def test_load_python_factory(factory_file: Path) -> None:
    m = load_python_factory(f"{factory_file}:net")
    assert m.name == "mynet:net" and m.input_shape == (1, 28, 28)  # the file's INPUT_SHAPE
    s = archcalc.summary(m)
    assert s.params == 6 * 9 + 6 + 6 * 10 + 10
    assert [r.kind for r in s.layers] == [
        "Conv2d",
        "ReLU",
        "AdaptiveAvgPool2d",
        "Flatten",
        "Linear",
    ]
    # an HxW input keeps the file's channels; a symbolic one traces at the default
    assert load_python_factory(f"{factory_file}:net", "40x40").input_shape == (1, 40, 40)
    assert load_python_factory(f"{factory_file}:net", "1xHxW").input_shape == (1, 28, 28)
    assert load_python_factory(f"{factory_file}:net", (1, 32, 32)).input_shape == (1, 32, 32)


def test_load_python_factory_errors(factory_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="no function 'nope'.*fails, net, not_a_module"):
        load_python_factory(f"{factory_file}:nope")
    with pytest.raises(UnknownModelError, match="no such file"):
        load_python_factory(f"{tmp_path}/missing.py:net")
    with pytest.raises(OptionError, match="file.py:factory"):
        load_python_factory(f"{factory_file}:not an identifier")
    with pytest.raises(FileFormatError, match="fails\\(\\) failed: RuntimeError: no weights here"):
        load_python_factory(f"{factory_file}:fails")
    with pytest.raises(FileFormatError, match="returned int"):
        load_python_factory(f"{factory_file}:not_a_module")
    broken = tmp_path / "broken.py"
    broken.write_text("import not_a_module_anywhere\n")
    with pytest.raises(FileFormatError, match="importing it failed: ModuleNotFoundError"):
        load_python_factory(f"{broken}:net")


def test_load_python_factory_returning_a_model(tmp_path: Path) -> None:
    p = tmp_path / "spec.py"
    p.write_text("import archcalc\n\ndef model():\n    return archcalc.zoo.get('alexnet')\n")
    assert load_python_factory(f"{p}:model") is zoo.get("alexnet")


def test_summary_accepts_a_factory(factory_file: Path) -> None:
    """``load_model`` hands ``file.py:factory`` to the loader, so every command takes it."""
    spec = f"{factory_file}:net"
    assert archcalc.load_model(spec).name == "mynet:net"
    s = archcalc.summary(spec)
    assert s.params == 6 * 9 + 6 + 6 * 10 + 10
