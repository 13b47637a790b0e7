"""Question 1: position-sensitive convolution, pooling invariances, the experiment's metrics."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from archcalc import Conv2d, CoordAugment, MaxPool2d, summary

from ._claim import Claim, Reading, chain, dec, formula, n, pct, symbols, sympy
from .counterexamples import (
    conv_equivariant,
    conv_shift_counterexample,
    exhaustive,
    maxpool_invariant,
    maxpool_shift_counterexample,
)

__all__ = ["claims"]


def claims() -> list[Claim]:
    return [*_augmentation(), *_overhead(), *_maxpool(), *_plus_constant(), _mae()]


def _augmentation() -> list[Claim]:
    sp = sympy()
    C, H, W, k, Co = symbols("C", "H", "W", "k", "C_out")
    aug = chain("coords", [CoordAugment()], (C, H, W))
    channels = aug.output_shape[0]
    size = 224
    top = Fraction(size - 1, size)
    q7 = summary("exam_q7a")
    assert q7.rf is not None
    stride = int(q7.rf.stride[0])
    factor = sp.simplify(aug.memory.activations_bytes / aug.memory.input_bytes)
    plain = chain("conv", [Conv2d(C, Co, k, padding="same")], (C, H, W))
    coord = chain("coordconv", [CoordAugment(), Conv2d(C + 2, Co, k, padding="same")], (C, H, W))
    flops = sp.simplify(coord.flops / plain.flops)
    return [
        Claim(
            question=1,
            part="a",
            key="coord-channels",
            claim="The augmented input X_aug(i, j) = [X(i, j), i/H, j/W] has C + 2 channels",
            exam_value="C + 2",
            archcalc_value=formula(channels),
            readings=(Reading(name="as written", exam=C + 2, archcalc=channels),),
            reason="two coordinate channels are appended to the C feature channels",
            how="sequential([CoordAugment()]) on a C×H×W input (C, H, W symbols): output channels",
        ),
        Claim(
            question=1,
            part="a",
            key="coord-range",
            claim="i/H and j/W are normalized coordinates in [0, 1]",
            exam_value="[0, 1]",
            archcalc_value=f"0 … {top} for H = {size} (0-based i)",
            readings=(
                Reading(name="every i/H lies in [0, 1]", exam=True, archcalc=0 <= top <= 1),
                Reading(
                    name="the coordinates span [0, 1]", exam=(0, 1), archcalc=(Fraction(0), top)
                ),
            ),
            reason="inside [0, 1] but never 1 with 0-based i (never 0 with 1-based i); "
            "CoordConv uses linspace(−1, 1), which reaches both ends. The range changes no count",
            how="i/H for i = 0 … H − 1 at the 224-pixel input of Q7(a)",
        ),
        Claim(
            question=1,
            part="a",
            key="conv-equivariance",
            claim="Convolution is translation equivariant: a shift by Δ shifts the output by Δ",
            exam_value="output shifts by Δ",
            archcalc_value=f"by Δ/s, and only when s divides Δ (s = {stride} for Q7(a)'s network)",
            readings=(
                Reading(name="a stride-1 layer", exam=True, archcalc=conv_equivariant(1, 1)),
                Reading(
                    name=f"Q7(a)'s network (stride {stride}), Δ = 1: output units moved",
                    exam=Fraction(1),
                    archcalc=Fraction(1, stride),
                ),
            ),
            reason="exact for stride-1 layers away from the borders; a network of effective "
            "stride s moves its output by Δ/s, so shifts that are not multiples of s change it",
            how="effective stride of summary('exam_q7a'); search over one-hot images for a "
            "stride-2 1×1 conv (torch property tests)",
            counterexample=str(conv_shift_counterexample(2, 1)),
        ),
        Claim(
            question=1,
            part="a",
            key="coord-memory-factor",
            claim="Memory grows by the factor (C + 2)/C = 1 + 2/C",
            exam_value="(C + 2)/C",
            archcalc_value=formula(factor),
            readings=(Reading(name="as written", exam=(C + 2) / C, archcalc=factor),),
            reason="the augmented tensor has C + 2 maps of H×W where the input has C",
            how="the same model: bytes of the CoordAugment output / bytes of the input",
        ),
        _memory_256(),
        Claim(
            question=1,
            part="a",
            key="coordconv-flops-factor",
            claim="A k×k convolution on the augmented input costs (C + 2)/C times the FLOPs",
            exam_value="(C + 2)/C",
            archcalc_value=formula(flops),
            readings=(Reading(name="as written", exam=(C + 2) / C, archcalc=flops),),
            reason=f"the conv costs {formula(sp.factor(coord.flops))} FLOPs against "
            f"{formula(sp.factor(plain.flops))}; making the coordinates costs no MACs",
            how="CoordAugment + Conv2d(C + 2, C_out, k, 'same') vs Conv2d(C, C_out, k, 'same'), "
            "all sizes symbols: total FLOPs",
        ),
    ]


def _memory_256() -> Claim:
    a256 = chain("coords", [CoordAugment()], (256, 56, 56))
    r256 = Fraction(a256.memory.activations_bytes, a256.memory.input_bytes)
    return Claim(
        question=1,
        part="a",
        key="coord-memory-256",
        claim="For C = 256: 1 + 2/256 = 1.0078 (0.78% increase)",
        exam_value="1.0078 (0.78%)",
        archcalc_value=f"{dec(r256, 4)} ({pct(r256 - 1)}) = {r256}",
        readings=(
            Reading(
                name="factor and increase, to the 4 decimals shown",
                exam=(Fraction("1.0078"), Fraction("0.0078")),
                archcalc=(r256, r256 - 1),
                tolerance=Fraction("0.00005"),
            ),
        ),
        reason="exactly 258/256 = 1.0078125",
        how="sequential([CoordAugment()]) on 256×56×56: output bytes / input bytes",
    )


def _overhead() -> list[Claim]:
    def overhead(c: int) -> Fraction:
        s = chain("coords", [CoordAugment()], (c, 8, 8))
        return Fraction(s.memory.activations_bytes, s.memory.input_bytes) - 1

    lo, hi = 1, 1024  # overhead falls with C: the first C below 1%
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if overhead(mid) < Fraction(1, 100) else (mid + 1, hi)
    q7 = summary("exam_q7a")
    rgb = chain("stem", [Conv2d(3, 64, 7, stride=2, padding=3, bias=False)], (3, 224, 224))
    stem = Fraction(q7.layer("conv1").macs, rgb.macs)
    return [
        Claim(
            question=1,
            part="a",
            key="coord-overhead-small",
            claim="The overhead is minimal (typically < 1%)",
            exam_value="< 1%",
            archcalc_value=f"< 1% only for C ≥ {lo}; +{pct(stem - 1, 1)} at an RGB input (C = 3)",
            readings=(
                Reading(
                    name="deep in a network (C = 256): memory overhead",
                    exam=Fraction(1, 100),
                    archcalc=overhead(256),
                    bound="<",
                ),
                Reading(
                    name="at the input, where Q7(a) puts it: the stem's extra MACs",
                    exam=Fraction(1, 100),
                    archcalc=stem - 1,
                    bound="<",
                ),
            ),
            reason=f"true deep in a network (C ≥ {lo}); false at the input, where Q7(a) puts "
            f"it: its 7×7 stem costs {n(q7.layer('conv1').macs)} MACs instead of {n(rgb.macs)}",
            how="CoordAugment on C×8×8 (bisection on C); exam_q7a's conv1 MACs vs the same conv "
            "on 3 channels",
        )
    ]


def _maxpool() -> list[Claim]:
    cx = maxpool_shift_counterexample(2, 2, 1)
    cx3 = maxpool_shift_counterexample(3, 2, 1)
    rf3 = chain("pool", [MaxPool2d(3, 2)], (1, 16, 16)).rf
    assert rf3 is not None
    r3 = int(rf3.size[0])
    keep = Fraction(r3 - 1, r3)
    shared = {}
    for r, s in ((2, 2), (3, 2)):
        rf = chain("pool", [MaxPool2d(r, s)], (1, 16, 16)).rf
        assert rf is not None
        size, step = int(rf.size[0]), int(rf.stride[0])
        shared[r] = Fraction(max(size - step, 0), size)
    return [
        Claim(
            question=1,
            part="b",
            key="maxpool-shift-below-stride",
            claim="Max pooling gives approximate translation invariance within the stride: for "
            "|δ| < s the window R_{i,j} still covers most of the same values",
            exam_value="approximately invariant for |δ| < s",
            archcalc_value="exactly invariant for no δ ≠ 0; unchanged wherever the maximum lies "
            "in the shared part",
            readings=(
                Reading(
                    name="exact: MaxPool(X′) = MaxPool(X) for every X (2×2, s = 2, δ = 1)",
                    exam=True,
                    archcalc=maxpool_invariant(2, 2, 1),
                ),
                Reading(
                    name="approximate: a unit keeps its value whenever the maximum lies where "
                    "both windows overlap (2×2 and 3×3, s = 2, δ = 1)",
                    exam=True,
                    archcalc=_kept_when_max_in_overlap(2, 1) and _kept_when_max_in_overlap(3, 1),
                ),
            ),
            reason="'approximate' holds as far as it goes: a shift moves every window, and a unit "
            "keeps its value when the maximum over both windows lies in their overlap; as an "
            "equality it holds for no δ ≠ 0 (the counterexample). The exact tolerances are the "
            "next two claims",
            how="search over 0/1 images, windows from archcalc's receptive field of MaxPool2d; "
            "exhaustive check of the overlap condition (torch re-check in tests)",
            counterexample=str(cx),
        ),
        Claim(
            question=1,
            part="b",
            key="maxpool-2x2-tolerance",
            claim="2×2 pooling, stride 2: perfect invariance for |δ| < 1",
            exam_value="|δ| < 1",
            archcalc_value="δ = 0 only",
            readings=(
                Reading(
                    name="integer shifts: |δ| < 1 is δ = 0",
                    exam=True,
                    archcalc=maxpool_invariant(2, 2, 0),
                ),
                Reading(
                    name="up to one pixel: δ = 1", exam=True, archcalc=maxpool_invariant(2, 2, 1)
                ),
            ),
            reason="for pixel shifts |δ| < 1 means δ = 0, where invariance is trivially true; "
            "read as 'up to one pixel', it is false: δ = 1 changes outputs",
            how="search over 0/1 images (as above)",
            counterexample=str(cx),
        ),
        Claim(
            question=1,
            part="b",
            key="maxpool-3x3-tolerance",
            claim="3×3 pooling, stride 2: partial invariance for |δ| < 2, perfect for |δ| < 1",
            exam_value="partial for |δ| < 2",
            archcalc_value=f"δ = 1 keeps {keep} of the rows and columns ({keep**2} of the window)",
            readings=(
                Reading(
                    name="integer shifts: part of the window kept at δ = 1, perfect at δ = 0",
                    exam=(True, True),
                    archcalc=(keep > 0, maxpool_invariant(3, 2, 0)),
                ),
                Reading(
                    name="perfect up to one pixel: δ = 1",
                    exam=True,
                    archcalc=maxpool_invariant(3, 2, 1),
                ),
            ),
            reason="'perfect for |δ| < 1' is only δ = 0; at δ = 1 a unit survives iff the "
            "maximum of both windows lies in the shared part — 'partial' is right, no δ ≠ 0 is safe",
            how="receptive field of MaxPool2d(3, 2) (size 3): (R − δ)/R; search over 0/1 images",
            counterexample=str(cx3),
        ),
        Claim(
            question=1,
            part="b",
            key="maxpool-overlap",
            claim="General case: tolerance decreases as (R − s)/R of the receptive field overlaps",
            exam_value="(R − s)/R",
            archcalc_value="adjacent windows share "
            + ", ".join(f"{shared[r]} for {r}×{r}/2" for r in (2, 3)),
            readings=(
                Reading(
                    name="the share adjacent windows overlap (2×2/2, 3×3/2)",
                    exam=(Fraction(2 - 2, 2), Fraction(3 - 2, 3)),
                    archcalc=(shared[2], shared[3]),
                ),
                Reading(
                    name="the share a shift δ = 1 keeps (3×3/2)",
                    exam=Fraction(3 - 2, 3),
                    archcalc=keep,
                ),
            ),
            reason="(R − s)/R is the share of a window its neighbour also covers; what a shift δ "
            "keeps is (R − |δ|)/R, and even that guarantees nothing for every input",
            how="receptive field (size R, stride s) of MaxPool2d(R, s): (size − stride)/size",
        ),
    ]


def _kept_when_max_in_overlap(r: int, shift: int) -> bool:
    """On every 0/1 image of ``(r + shift)²``: unit (0, 0) of an ``r``×``r`` max pool keeps its
    value under the shift whenever the maximum of both windows lies in their overlap."""
    size = r + shift
    cells = list(itertools.product(range(size), repeat=2))
    for bits in itertools.product((0, 1), repeat=size * size):
        x = dict(zip(cells, bits))
        before = max(x[i, j] for i in range(r) for j in range(r))
        after = max(x[i + shift, j + shift] for i in range(r) for j in range(r))
        overlap = max(x[i, j] for i in range(shift, r) for j in range(shift, r))
        if overlap == max(before, after) and before != after:
            return False
    return True


def _plus_constant() -> list[Claim]:
    same_eps = exhaustive(lambda w, e: max(v + e for v in w) == max(w) + e)
    avg_ok = exhaustive(lambda w, e: Fraction(sum(v + e for v in w), 4) == Fraction(sum(w), 4) + e)
    return [
        Claim(
            question=1,
            part="b",
            key="max-plus-constant",
            claim="max(a + ε, b + ε) = max(a, b) + ε only if the same element remains maximum",
            exam_value="only if the argmax stays",
            archcalc_value="always (adding one ε never moves the argmax)"
            if same_eps
            else "not always",
            readings=(
                Reading(
                    name="one ε for every element: the identity can fail",
                    exam=True,
                    archcalc=not same_eps,
                ),
                Reading(
                    name="noise ε_i per element: it fails exactly when the argmax moves",
                    exam=True,
                    archcalc=_per_element_noise(),
                ),
            ),
            reason="with one ε for all elements the identity always holds, so max pooling "
            "commutes with adding a constant exactly as average pooling does; only with noise "
            "ε_i per element is the condition real",
            how="exhaustive check on 2×2 windows of 0..2 and ε in −2..2 (torch property test); "
            "pairs of distinct values with per-element ε",
        ),
        Claim(
            question=1,
            part="b",
            key="avg-plus-constant",
            claim="Average pooling is linear: (1/R²)·Σ(X + ε) = (1/R²)·ΣX + ε",
            exam_value="(1/R²)·ΣX + ε",
            archcalc_value="(1/R²)·ΣX + ε" if avg_ok else "fails",
            readings=(Reading(name="every 2×2 window, every ε", exam=True, archcalc=avg_ok),),
            reason="the mean of a shifted window is the shifted mean",
            how="exhaustive check on 2×2 windows of 0..2 and ε in −2..2 (torch property test)",
        ),
    ]


def _per_element_noise() -> bool:
    """For pairs ``(a, b)`` of distinct values 0..3 and noise ``(ε_a, ε_b)`` in −2..2 keeping them
    distinct: ``max(a + ε_a, b + ε_b) = max(a, b) + ε_argmax`` exactly when the argmax stays."""
    for a, b, ea, eb in itertools.product(range(4), range(4), range(-2, 3), range(-2, 3)):
        if a == b or a + ea == b + eb:
            continue
        top = 0 if a > b else 1
        stays = (0 if a + ea > b + eb else 1) == top
        identity = max(a + ea, b + eb) == max(a, b) + (ea, eb)[top]
        if identity != stays:
            return False
    return True


def _mae() -> Claim:
    # one prediction off by (3, 4) pixels
    dx, dy = 3, 4
    l2 = Fraction(math.isqrt(dx * dx + dy * dy))
    assert l2 * l2 == dx * dx + dy * dy
    per_coordinate = Fraction(abs(dx) + abs(dy), 2)
    l1 = Fraction(abs(dx) + abs(dy))
    return Claim(
        question=1,
        part="c",
        key="mae-l2-norm",
        claim="Mean Absolute Error: MAE = (1/N)·Σ‖p̂_i − p_i‖₂",
        exam_value="(1/N)·Σ‖p̂ − p‖₂",
        archcalc_value=f"an error (3, 4): ‖·‖₂ = {l2}; MAE = {per_coordinate} per coordinate, "
        f"{l1} as the L1 norm",
        readings=(
            Reading(name="MAE per coordinate, error (3, 4)", exam=l2, archcalc=per_coordinate),
            Reading(name="MAE as the L1 norm, error (3, 4)", exam=l2, archcalc=l1),
        ),
        reason="the formula is the mean Euclidean (L2) error — a sound metric, but not the mean "
        "absolute error its name says, which takes absolute values (an L1 norm)",
        how="the formula and MAE evaluated on one error of (3, 4) pixels, exactly",
    )
