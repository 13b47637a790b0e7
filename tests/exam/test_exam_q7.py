"""Question 7, claim by claim: archcalc's values against hand derivations (torch measures what
autograd keeps), and the verdicts."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import pytest
from _audit import claim, held, ours, theirs

#: exam_q7a: C·H·W of each stage's maps (64@112, then halving: 128@56 … 1024@7)
STAGE = [64 * 112**2, 128 * 56**2, 256 * 28**2, 512 * 14**2, 1024 * 7**2]
BIG = 4 * 64 * 112**2  # bytes of one 64×112×112 float32 map
INPUT = 4 * 3 * 224**2


def _params() -> int:
    """Bias-free 7×7 stem on 5 channels + BN (2·64), one BasicBlock per stage (two 3×3 convs
    and two BNs, a 1×1 conv + BN projection where the shape changes), Linear(1024, 1000)."""
    total = 7 * 7 * 5 * 64 + 2 * 64
    cin = 64
    for c in (64, 128, 256, 512, 1024):
        total += cin * c * 9 + 2 * c + c * c * 9 + 2 * c
        if c != cin:
            total += cin * c + 2 * c
        cin = c
    return total + (1024 + 1) * 1000


def _conv_macs() -> int:
    stem = 7 * 7 * 5 * 64 * 112**2
    layer1 = 2 * 9 * 64 * 64 * 112**2
    later = sum(
        9 * cin * c * hw + 9 * c * c * hw + cin * c * hw
        for cin, c, hw in (
            (64, 128, 56**2),
            (128, 256, 28**2),
            (256, 512, 14**2),
            (512, 1024, 7**2),
        )
    )
    return stem + layer1 + later


@cache
def _torch_saved(batch: int) -> int:
    """Bytes autograd saves for a training step of exam_q7a written directly in torch (not
    through archcalc): every saved tensor's storage once, parameters excluded. BatchNorm's
    running statistics are saved references to module buffers; archcalc counts them too."""
    torch = pytest.importorskip("torch")
    from torch import nn

    class Coords(nn.Module):
        def forward(self, x):
            n, _, h, w = x.shape
            i = (torch.arange(h, dtype=x.dtype) / h).view(1, 1, h, 1).expand(n, 1, h, w)
            j = (torch.arange(w, dtype=x.dtype) / w).view(1, 1, 1, w).expand(n, 1, h, w)
            return torch.cat([x, i, j], 1)

    class Block(nn.Module):
        def __init__(self, cin, c, s):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, c, 3, s, 1, bias=False), nn.BatchNorm2d(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c)
            self.down = None
            if (cin, s) != (c, 1):
                self.down = nn.Sequential(nn.Conv2d(cin, c, 1, s, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    blocks, cin = [], 64
    for c, s in ((64, 1), (128, 2), (256, 2), (512, 2), (1024, 2)):
        blocks.append(Block(cin, c, s))
        cin = c
    net = nn.Sequential(
        Coords(), nn.Conv2d(5, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1024, 1000),
    ).train()  # fmt: skip
    assert sum(p.numel() for p in net.parameters()) == _params()
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(torch.randn(batch, 3, 224, 224))
    return sum(seen.values())


def test_q7_coords():
    assert ours("q7-coords") == [(3 + 2, 224, 224)]
    assert claim("q7-coords").verdict == "agrees"


def test_q7_stem_shape():
    assert ours("q7-stem-shape") == [(64, (224 + 2 * 3 - 7) // 2 + 1, 112)]
    assert "unpadded it is 109×109" in claim("q7-stem-shape").reason  # (224 − 7)//2 + 1
    assert claim("q7-stem-shape").verdict == "agrees"


def test_q7_stages():
    assert ours("q7-stages") == [tuple((64 * 2**i, 112 // 2**i) for i in range(5))]
    assert claim("q7-stages").verdict == "agrees"


def test_q7_gap():
    assert ours("q7-gap") == [(1024, 1, 1)]
    assert claim("q7-gap").verdict == "agrees"


def test_q7_stem_params():
    assert ours("q7-stem-params") == [7 * 7 * 5 * 64]
    assert "with a bias 15,744" in claim("q7-stem-params").reason  # + 64
    assert claim("q7-stem-params").verdict == "agrees"


def test_q7_backbone_params():
    backbone = _params() - (7 * 7 * 5 * 64 + 2 * 64) - (1024 + 1) * 1000
    # ResNet-50: 25,557,032 parameters, its fc (2048 + 1)·1000
    r50 = 25_557_032 - (2048 + 1) * 1000
    assert ours("q7-backbone-params") == [backbone, r50]
    assert held("q7-backbone-params") == [True, False]  # 19.58M is 20M; 23.5M is not
    assert claim("q7-backbone-params").verdict == "ambiguous"


def test_q7_fc_params():
    assert ours("q7-fc-params") == [(1024 + 1) * 1000]
    assert claim("q7-fc-params").verdict == "differs"


def test_q7_total_params():
    assert ours("q7-total-params") == [_params()] == [20_623_272]
    assert theirs("q7-total-params") == [20_100_000]
    assert "add up to ≈ 21.0M" in claim("q7-total-params").reason  # 15,680 + 20M + 1,024,000
    assert claim("q7-total-params").verdict == "differs"


def test_q7_input_memory():
    assert ours("q7-input-memory") == [224 * 224 * 5 * 4]  # 1,003,520 B = 1.0 MB
    assert claim("q7-input-memory").verdict == "agrees"


def test_q7_feature_maps():
    # coords; stem conv/bn/relu; layer1 conv, bn, relu, conv, bn, add, relu (7 maps); layers
    # 2-5 add the projection conv + bn (9 maps); the pooled 1024 and the 1000 scores
    every = 4 * (5 * 224**2 + 3 * STAGE[0] + 7 * STAGE[0] + 9 * sum(STAGE[1:]) + 1024 + 1000)
    convs = 4 * (STAGE[0] + 2 * STAGE[0] + 3 * sum(STAGE[1:]))
    assert ours("q7-feature-maps") == [every, convs] == [60_219_296, 18_665_472]
    assert "the network writes 10 of them" in claim("q7-feature-maps").reason
    assert claim("q7-feature-maps").verdict == "differs"


def test_q7_peak():
    # inference peak: the input plus three 64×112×112 maps at layer1's add (two in, one out)
    peak = INPUT + 3 * BIG
    assert ours("q7-peak")[0] == peak == 10_235_904
    assert ours("q7-peak")[1] == _torch_saved(1) + INPUT
    assert claim("q7-peak").verdict == "differs"


def test_q7_batch32():
    peak, train = ours("q7-batch32")
    assert peak == 32 * (INPUT + 3 * BIG)
    # saved bytes are affine in the batch (per-channel statistics do not grow): a·B + b
    one, two = _torch_saved(1), _torch_saved(2)
    assert train == 32 * (two - one) + (2 * one - two) + 32 * INPUT
    (reading, _) = claim("q7-batch32").readings
    assert reading.tolerance == 32 * 500_000  # 32 × (16 ± 0.5) MB
    assert claim("q7-batch32").verdict == "differs"


def test_q7_conv_flops():
    assert _conv_macs() == 3_998_826_496
    assert ours("q7-conv-flops") == [_conv_macs(), 2 * _conv_macs()]
    assert held("q7-conv-flops") == [True, False]
    assert claim("q7-conv-flops").verdict == "ambiguous"


def test_q7_total_flops():
    macs, flops = ours("q7-total-flops")
    assert macs == _conv_macs() + 1024 * 1000
    # 2 per MAC (a bias add is folded in), plus the non-MAC FLOPs: BatchNorm 2 per element,
    # ReLU 1, Add 1, the mean 1 per input element
    bn = 2 * (STAGE[0] + 2 * STAGE[0] + 3 * sum(STAGE[1:]))
    relu = STAGE[0] + 2 * STAGE[0] + 2 * sum(STAGE[1:])
    add = sum(STAGE)
    assert flops == 2 * macs + bn + relu + add + STAGE[4]
    assert held("q7-total-flops") == [True, False]
    assert claim("q7-total-flops").verdict == "ambiguous"


def test_q7_augmentation_cost():
    # the coordinates cost no FLOPs; the stem convolves 2 extra channels: 7·7·2·64·112²
    extra = 7 * 7 * 2 * 64 * 112**2
    assert ours("q7-augmentation-cost") == [(0, Fraction(extra, _conv_macs() + 1024 * 1000))]
    assert claim("q7-augmentation-cost").verdict == "agrees"


def test_q7_gap_cost():
    (share,) = ours("q7-gap-cost")
    flops = ours("q7-total-flops")[1]
    assert share == Fraction(1024 * 7 * 7, flops)  # one add per input element of the mean
    assert "50,176 FLOPs" in claim("q7-gap-cost").archcalc_value
    assert share < Fraction(1, 1000)
    assert claim("q7-gap-cost").verdict == "agrees"


def test_q7_layer_rates():
    # η_l = 10^-3·0.1^(5−l): layer 4 gets 10^-4, layer 5 10^-3
    assert ours("q7-layer-rates") == [(Fraction(1, 10**4), Fraction(1, 10**3))]
    assert theirs("q7-layer-rates") == [(Fraction(1, 10**4), Fraction(1, 10**4))]
    assert claim("q7-layer-rates").verdict == "differs"


def test_q7_early_overhead():
    assert ours("q7-early-overhead") == [Fraction(5, 3) - 1]  # 5 channels for 3
    assert claim("q7-early-overhead").verdict == "agrees"


def test_q7_small_images():
    assert ours("q7-small-images") == []
    assert claim("q7-small-images").verdict == "ambiguous"
