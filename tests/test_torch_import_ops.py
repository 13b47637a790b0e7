"""Importing the ops of modern networks and the meta tracer itself: several outputs
(``split``/``chunk``/``x[:, a:b]``), ShuffleNet's channel shuffle, control flow on shapes, dict
outputs, inputs at sizes no real tensor could have, and how a call is recorded.

Each model here is checked against torch: parameters, output shape, and (where fvcore runs)
fvcore's total against the ``fvcore`` convention."""

from __future__ import annotations

import tracemalloc
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import archcalc  # noqa: E402
from archcalc.torch import to_torch  # noqa: E402
from archcalc.torch.importer import from_torch, import_torch  # noqa: E402


def fvcore_total(net: nn.Module, shape: tuple[int, ...]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        f = FlopCountAnalysis(net.eval(), (torch.randn(1, *shape),))
        f.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(f.total())


def check(net: nn.Module, shape: tuple[int, ...]) -> archcalc.Summary:
    net.eval()
    s = archcalc.summary(from_torch(net, shape), convention="fvcore")
    assert s.params == sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        y = net(torch.randn(2, *shape))
    if isinstance(y, dict):
        y = y["out"]
    assert s.output_shape == tuple(y.shape[1:])
    assert s.flops == fvcore_total(net, shape)
    return s


class Splits(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.branch = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: Any) -> Any:
        a, b = self.stem(x).split(4, dim=1)
        c, d = torch.chunk(b, 2, 1)
        return torch.cat([self.branch(a), c, d, b[:, 1:3], b.narrow(1, 0, 1)], 1)


def test_split_chunk_getitem_are_slices() -> None:
    s = check(Splits(), (3, 8, 8))
    rows = {r.name: r for r in s.layers}
    assert [(n, rows[n].kind, rows[n].output_shape) for n in ("split", "split_1", "chunk_1")] == [
        ("split", "Slice", (4, 8, 8)),
        ("split_1", "Slice", (4, 8, 8)),
        ("chunk_1", "Slice", (2, 8, 8)),
    ]
    m = s.model
    assert (m.node("split_1").layer.start, m.node("split_1").layer.stop) == (4, 8)
    assert (m.node("getitem").layer.start, m.node("getitem").layer.stop) == (1, 3)
    assert s.output_shape == (4 + 2 + 2 + 2 + 1, 8, 8)
    # and back: the spec runs in torch with the same figures
    back = from_torch(to_torch(m), (3, 8, 8))
    assert archcalc.summary(back).params == s.params


def test_list_indexing_is_named() -> None:
    # (a strided spatial slice x[:, :, ::2] imports now: tests/test_tensor_ops.py)
    class Picked(nn.Module):
        def forward(self, x: Any) -> Any:
            return x[:, [0, 2]]

    with pytest.raises(archcalc.UnsupportedError, match=r"operator\.getitem .*range of channels"):
        from_torch(Picked(), (3, 8, 8))


def test_channel_shuffle() -> None:
    class Shuffle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)
            self.mod = nn.ChannelShuffle(4)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            n, c, h, w = x.size()
            x = x.view(n, 2, c // 2, h, w)
            x = torch.transpose(x, 1, 2).contiguous()
            return self.mod(x.view(n, -1, h, w))

    s = check(Shuffle(), (3, 6, 6))
    assert [(r.name, r.kind) for r in s.layers][1:] == [
        ("view", "ChannelShuffle"),
        ("mod", "ChannelShuffle"),
    ]
    assert s.model.node("view").layer.groups == 2


def test_shape_dependent_control_flow_runs() -> None:
    """torch.fx could not trace a branch on a size; the meta run just takes it."""

    class Pads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3, padding=1)
            self.b = nn.Conv2d(3, 4, 1)

        def forward(self, x: Any) -> Any:
            if x.shape[-1] > 16:
                return self.a(x)
            return self.b(x)

    assert [n.layer.kind for n in from_torch(Pads(), (3, 32, 32)).nodes] == ["Conv2d"]
    assert from_torch(Pads(), (3, 32, 32)).nodes[0].name == "a"
    assert from_torch(Pads(), (3, 8, 8)).nodes[0].name == "b"


def test_dict_output_is_analysed_at_out() -> None:
    class Seg(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = nn.Conv2d(3, 4, 3, padding=1)
            self.head = nn.Conv2d(4, 2, 1)

        def forward(self, x: Any) -> Any:
            f = self.backbone(x)
            return {"out": self.head(f), "features": f}

    r = import_torch(Seg(), (3, 8, 8))
    assert r.model.output == "head"
    assert any("'features'" in n for n in r.notes)
    check(Seg(), (3, 8, 8))


def test_huge_input_allocates_nothing() -> None:
    """The meta run holds shapes, not data: an 8192² import stays far below one real map."""
    net = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    tracemalloc.start()
    try:
        m = from_torch(net, (3, 8192, 8192))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert archcalc.summary(m).output_shape == (64, 4096, 4096)
    assert peak < 20 * 2**20  # one real float32 output map would be 16 GiB


def test_calls_record_module_or_function() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.act = nn.ReLU()

        def forward(self, x: Any) -> Any:
            return torch.relu(self.act(self.conv(x))).mean((2, 3))

    r = import_torch(Mixed(), (3, 4, 4))
    assert r.via["conv"] == ("module", "nn.Conv2d")
    assert r.via["act"] == ("module", "nn.ReLU")
    assert r.via["relu"] == ("function", "torch.relu")
    assert r.via["mean"] == ("method", "Tensor.mean")


def test_docs_import_table_is_the_registry() -> None:
    """docs/import.md's table of what maps to what is generated from the kinds."""
    from pathlib import Path

    from archcalc.torch.emit import import_table

    text = (Path(__file__).parent.parent / "docs" / "import.md").read_text()
    block = text.split("<!-- import-table:start -->\n", 1)[1].split("<!-- import-table:end -->")[0]
    assert block.strip() == import_table().strip(), "regenerate it with import_table()"


def test_scalar_products_and_differences() -> None:
    """``x * 0.17 + y`` (Inception-ResNet), ``pool(x) - x`` (PoolFormer), ``x / 2``."""

    class Arith(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            z = self.pool(y) - y
            return (z * 0.17 + y) / 2

    s = check(Arith(), (3, 8, 8))
    kinds = [(r.name, r.kind) for r in s.layers]
    assert kinds == [
        ("conv", "Conv2d"),
        ("pool", "AvgPool2d"),
        ("sub", "Sub"),
        ("mul", "Scale"),
        ("add", "Add"),
        ("truediv", "Scale"),
    ]
    assert s.model.node("truediv").layer.factor == 0.5
    assert s.model.node("pool").layer.count_include_pad is False
