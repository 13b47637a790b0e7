"""Fine-tuning cost (exam Q5): trainable parameters, training memory and learning rates by
hand, and the saved tensors against torch's autograd where torch is there."""

from __future__ import annotations

from collections import OrderedDict
from fractions import Fraction

import pytest

import archcalc
from archcalc import BatchNorm2d, Builder, Conv2d, Flatten, GlobalAvgPool, Linear, OptionError, ReLU
from archcalc.design import finetune, layer_rates, resolve_freeze

# ================================================================ fine-tuning (Q5)


def _tiny(bn: bool = True) -> archcalc.Model:
    b = Builder("tiny", (3, 8, 8))
    b.add("c1", Conv2d(3, 4, 3, padding=1))
    if bn:
        b.add("bn", BatchNorm2d(4))
    b.add("r1", ReLU())
    b.add("c2", Conv2d(4, 8, 3, stride=2, padding=1))
    b.add("r2", ReLU())
    b.add("gap", GlobalAvgPool())
    b.add("fl", Flatten())
    b.add("fc", Linear(8, 10))
    return b.build()


# params: c1 3·4·9 + 4 = 112, bn 2·4 = 8, c2 4·8·9 + 8 = 296, fc 8·10 + 10 = 90
P_C1, P_BN, P_C2, P_FC = 112, 8, 296, 90
# elements per sample: input 3·8·8, c1/bn/r1 outputs 4·8·8, r2 8·4·4, gap 8
E_IN, E_MAP, E_R2, E_GAP = 192, 256, 128, 8


def test_finetune_tiny_by_hand():
    full = finetune(_tiny(), 0, batch=2)
    assert full.layers == 3  # c1 (+ its bn), c2, fc
    assert full.params == full.trainable_params == P_C1 + P_BN + P_C2 + P_FC
    # saved (batch 2, float32): c1 keeps the input, bn its input (c1's output) plus running
    # mean/var (2·4, model dtype) and batch mean/invstd (2·4, float32), r1 its output (c2's
    # input too), r2 its output, fc the pooled vector
    saved_full = (E_IN + E_MAP + E_MAP + E_R2 + E_GAP) * 2 * 4 + 8 * 4 + 8 * 4
    assert full.frozen.activations == full.full.activations == saved_full

    one = finetune(_tiny(), 1, batch=2, optimizer="adam")
    trainable = P_C2 + P_FC
    assert one.trainable_params == trainable and one.first_trainable == "c2"
    # c1, bn, r1 run without a graph; c2 keeps r1's output, r2 its output, fc the vector
    saved = (E_MAP + E_R2 + E_GAP) * 2 * 4
    assert one.frozen.activations == saved
    weights = (P_C1 + P_BN + P_C2 + P_FC) * 4
    assert one.frozen.to_dict() == {
        "weights": weights,
        "gradients": trainable * 4,
        "optimizer": 2 * trainable * 4,  # adam: two moments
        "activations": saved,
        "total": weights + 3 * trainable * 4 + saved,
    }
    assert one.full.total == weights + 3 * weights + saved_full
    assert one.saving == one.full.total - one.frozen.total

    last = finetune(_tiny(), -1, batch=2, optimizer="sgd")
    assert last.freeze == 2 and last.trainable_params == P_FC
    assert last.frozen.optimizer == P_FC * 4  # sgd momentum: one buffer
    assert last.frozen.activations == E_GAP * 2 * 4


def test_finetune_saved_equals_torch_saved_tensors():
    """Bytes of the tensors autograd packs (parameters excluded) in one training forward."""
    torch = pytest.importorskip("torch")
    from archcalc.torch.groups import param_groups

    for freeze in (0, 1, 2):
        net = torch.nn.Sequential(
            OrderedDict(
                c1=torch.nn.Conv2d(3, 4, 3, padding=1),
                bn=torch.nn.BatchNorm2d(4),
                r1=torch.nn.ReLU(),
                c2=torch.nn.Conv2d(4, 8, 3, stride=2, padding=1),
                r2=torch.nn.ReLU(),
                gap=torch.nn.AdaptiveAvgPool2d(1),
                fl=torch.nn.Flatten(),
                fc=torch.nn.Linear(8, 10),
            )
        ).train()
        param_groups(net, 0.1, 0.5, freeze)
        params = {p.untyped_storage().data_ptr() for p in net.parameters()}
        kept: dict[int, int] = {}

        def pack(t, kept=kept, params=params):
            s = t.untyped_storage()
            if s.data_ptr() not in params:
                kept[s.data_ptr()] = s.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            net(torch.randn(2, 3, 8, 8))
        assert finetune(_tiny(), freeze, batch=2).frozen.activations == sum(kept.values())


def test_finetune_learning_rates():
    r = finetune(_tiny(), 1, lr0="0.1", alpha="0.5")
    # η_l = 0.1·0.5^(3−l): l=1 frozen, l=2 0.05, l=3 0.1
    assert [(x.name, x.members, x.trainable, x.lr) for x in r.table] == [
        ("c1", ("c1", "bn"), False, None),
        ("c2", ("c2",), True, Fraction(1, 20)),
        ("fc", ("fc",), True, Fraction(1, 10)),
    ]
    assert r.rows()[1] == [2, "c2", P_C2, "yes", "0.05"]
    assert [float(x) for x in layer_rates(4, 0.01, 0.1)] == [1e-5, 1e-4, 1e-3, 1e-2]


def test_finetune_alexnet_freeze_features():
    r = finetune("alexnet", "features")  # the five convolutions
    assert (r.freeze, r.first_trainable) == (5, "classifier.1")
    assert r.trainable_params == (9216 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    s = archcalc.summary("alexnet")
    assert r.full.activations == s.memory.saved_for_backward_bytes


@pytest.mark.parametrize(
    ("freeze", "match"),
    [
        (3, r"freeze = 3: model 'tiny' has 3 layers with weights; valid: 0..2, -3..-1"),
        (-4, r"freeze = -4"),
        ("nope", r"freeze = 'nope': model 'tiny' has no layer or module 'nope'; valid: 0..2 "),
        ("fc", r"freeze = 'fc': freezes all 3 layers with weights"),
    ],
)
def test_finetune_freeze_errors(freeze, match):
    with pytest.raises(OptionError, match=match):
        finetune(_tiny(), freeze)


def test_finetune_option_errors():
    with pytest.raises(OptionError, match="optimizer = 'rmsprop'"):
        finetune(_tiny(), optimizer="rmsprop")
    with pytest.raises(OptionError, match=r"alpha = '1.5': must be in \(0, 1\]"):
        finetune(_tiny(), alpha="1.5")
    with pytest.raises(OptionError, match="lr0 = '0'"):
        finetune(_tiny(), lr0="0")


def test_resolve_freeze_by_name_and_prefix():
    names = ["c1", "bn", "r1", "c2", "r2", "fc"]
    w = [True, False, False, True, False, True]
    assert resolve_freeze("bn", names, w) == 1
    assert resolve_freeze("r2", names, w) == 2
    assert resolve_freeze("-2", names, w) == 1
    assert resolve_freeze("block", ["block.0", "block.1", "fc"], [True, True, True]) == 2


def test_param_groups_on_a_torch_sequential():
    torch = pytest.importorskip("torch")
    from archcalc.torch.groups import param_groups

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 8, 3),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 10),
    )
    groups = param_groups(net, 0.1, 0.5, freeze=1)
    # layers: conv 0 (+ bn 1), conv 3, linear 7; η = 0.1·0.5^(3−l)
    assert [(g["layer"], g["name"], g["lr"]) for g in groups] == [(2, "3", 0.05), (3, "7", 0.1)]
    assert [len(g["params"]) for g in groups] == [2, 2]  # weight and bias each
    frozen = [net[0].weight, net[0].bias, net[1].weight, net[1].bias]
    assert all(not p.requires_grad for p in frozen)
    assert all(p.requires_grad for g in groups for p in g["params"])
    opt = torch.optim.SGD(groups, lr=1.0, momentum=0.9)
    net(torch.randn(2, 3, 12, 12)).sum().backward()
    opt.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.1]
    with pytest.raises(OptionError, match="freeze = 3"):
        param_groups(net, 0.1, 0.5, freeze=3)
    with pytest.raises(OptionError, match="no convolution or linear"):
        param_groups(torch.nn.ReLU(), 0.1, 0.5)


def test_finetune_shows_the_exact_training_peak_beside_the_sum():
    """The table's last row is the peak of a training step (the engine's timeline, exact
    against torch's profiler in tests/test_training_torch.py), not the sum of the parts."""
    from archcalc.engine.training import training_step

    r = finetune(_tiny(), 1, batch=2)
    label, frozen, full, saving = r.memory_rows()[-1]
    assert label == "training-step peak"
    assert full == training_step(_tiny(), batch=2, optimizer="momentum").peak_bytes
    assert frozen == r.frozen.peak and saving == full - frozen
    assert r.memory_rows()[-2][0] == "total"  # the sum stays, named as such
