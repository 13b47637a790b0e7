"""Question 7: the comprehensive network (``exam_q7a`` in the zoo) and its limitations."""

from __future__ import annotations

from fractions import Fraction

from archcalc import Conv2d, Summary, summary

from ._claim import Claim, Reading, chain, convolutions, empirical, giga, mb, mega, n, pct, rate
from .figures import layer_rates, stage_names

__all__ = ["claims"]


#: half a unit of the last digit the exam shows (bytes, parameters, FLOPs)
MB_1 = Fraction(50_000)  # "1.0 MB"
MB_0 = Fraction(500_000)  # "≈ 15 MB", "≈ 16 MB"
M_0 = Fraction(500_000)  # "≈ 20M"
M_1 = Fraction(50_000)  # "≈ 20.1M"
G_0 = Fraction(500_000_000)  # "≈ 4G"
#: "negligible": under 5% of the network's cost; "significant": over 10%
NEGLIGIBLE, SIGNIFICANT = Fraction(1, 20), Fraction(1, 10)


def claims() -> list[Claim]:
    s = summary("exam_q7a")
    return [
        *_architecture(s),
        *_parameters(s),
        *_memory(s),
        *_compute(s),
        _rates(s),
        *_limits(s),
    ]


def _shape(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}×{shape[2]}×{shape[0]}"


def _architecture(s: Summary) -> list[Claim]:
    coords = tuple(s.layer("coords").output_shape)
    stem = tuple(s.layer("conv1").output_shape)
    unpadded = chain("stem", [Conv2d(5, 64, 7, stride=2)], (5, 224, 224)).output_shape
    ends = [s.layer(f"{st}.0.relu_1").output_shape for st in stage_names(s.model)]
    pool = tuple(s.layer("avgpool").output_shape)
    return [
        Claim(
            question=7,
            part="a",
            key="q7-coords",
            claim="Coordinate augmentation: 224 × 224 × 5 (RGB + x, y)",
            exam_value="224×224×5",
            archcalc_value=_shape(coords),
            readings=(Reading(name="C, H, W", exam=(5, 224, 224), archcalc=coords),),
            reason="",
            how="summary('exam_q7a').layer('coords').output_shape",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-stem-shape",
            claim="Position-sensitive conv 7×7, stride 2, 64 channels: 112 × 112 × 64",
            exam_value="112×112×64",
            archcalc_value=_shape(stem),
            readings=(Reading(name="C, H, W", exam=(64, 112, 112), archcalc=stem),),
            reason=f"with padding 3 (left open; unpadded it is {unpadded[1]}×{unpadded[2]})",
            how="summary('exam_q7a').layer('conv1')",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-stages",
            claim="Channels 64 → 128 → 256 → 512 → 1024 at 112 → 56 → 28 → 14 → 7",
            exam_value="64@112, 128@56, 256@28, 512@14, 1024@7",
            archcalc_value=", ".join(f"{c}@{h}" for c, h, _ in ends),
            readings=(
                Reading(
                    name="(channels, size) of each stage",
                    exam=((64, 112), (128, 56), (256, 28), (512, 14), (1024, 7)),
                    archcalc=tuple((c, h) for c, h, _ in ends),
                ),
            ),
            reason="one BasicBlock per stage, the stride in stages 2-5",
            how="summary('exam_q7a'): output of each stage",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-gap",
            claim="GAP: 7 × 7 × 1024 → 1 × 1 × 1024",
            exam_value="1×1×1024",
            archcalc_value=_shape(pool),
            readings=(Reading(name="C, H, W", exam=(1024, 1, 1), archcalc=pool),),
            reason="",
            how="summary('exam_q7a').layer('avgpool')",
        ),
    ]


def _parameters(s: Summary) -> list[Claim]:
    stem_p = s.layer("conv1").params
    with_bias = Conv2d(5, 64, 7, stride=2, padding=3).params(((5, 224, 224),))
    stages = stage_names(s.model)
    backbone = sum(r.params for r in s.layers if r.name.split(".")[0] in stages)
    r50 = summary("resnet50")
    r50_backbone = r50.params - r50.layer("fc").params
    fc = s.layer("fc").params
    own = 15_680 + 20_000_000 + 1_024_000
    return [
        Claim(
            question=7,
            part="a",
            key="q7-stem-params",
            claim="Position-sensitive conv: 7² × 5 × 64 = 15,680 parameters",
            exam_value=15_680,
            archcalc_value=stem_p,
            readings=(Reading(name="parameters", exam=15_680, archcalc=stem_p),),
            reason=f"a bias-free conv before BatchNorm, as in ResNet; with a bias {n(with_bias)}",
            how="summary('exam_q7a').layer('conv1').params",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-backbone-params",
            claim="Standard conv blocks: ≈ 20M parameters (ResNet-50 baseline)",
            exam_value="≈ 20M",
            archcalc_value=f"{n(backbone)} (exam_q7a); {n(r50_backbone)} (ResNet-50 without fc)",
            readings=(
                Reading(
                    name="exam_q7a's blocks", exam=20_000_000, archcalc=backbone, tolerance=M_0
                ),
                Reading(
                    name="ResNet-50's blocks", exam=20_000_000, archcalc=r50_backbone, tolerance=M_0
                ),
            ),
            reason="the exam names no block layout: with one BasicBlock per stage ≈ 20M holds; "
            f"ResNet-50's own backbone is ≈ {mega(r50_backbone)}",
            how="summary('exam_q7a'): params of layer1..layer5; summary('resnet50') minus its fc",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-fc-params",
            claim="Classification layer: 1024 × C parameters (C = 1000)",
            exam_value=1_024_000,
            archcalc_value=fc,
            readings=(Reading(name="parameters", exam=1_024_000, archcalc=fc),),
            reason="leaves out the 1,000 biases",
            how="summary('exam_q7a').layer('fc').params",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-total-params",
            claim="Total: ≈ 20.1M parameters (for C = 1000)",
            exam_value="≈ 20.1M",
            archcalc_value=s.params,
            readings=(
                Reading(
                    name="to the digit shown", exam=20_100_000, archcalc=s.params, tolerance=M_1
                ),
            ),
            reason=f"≈ {mega(s.params)}; the answer's own terms 15,680 + 20M + 1,024,000 add up "
            f"to ≈ {mega(own)}, not 20.1M",
            how="summary('exam_q7a').params",
        ),
    ]


def _memory(s: Summary) -> list[Claim]:
    aug = s.layer("coords").activation_bytes
    every = s.memory.activations_bytes
    big = [r.activation_bytes for r in s.layers if tuple(r.output_shape) == (64, 112, 112)]
    conv_only = sum(r.activation_bytes for r in convolutions(s))
    peak = s.memory.peak_inference_bytes
    train = s.memory.saved_for_backward_bytes + s.memory.input_bytes
    b32 = summary("exam_q7a", batch=32)
    peak32 = b32.memory.peak_inference_bytes
    train32 = b32.memory.saved_for_backward_bytes + b32.memory.input_bytes
    mb512 = 32 * MB_0  # 32 × (16 ± 0.5) MB
    return [
        Claim(
            question=7,
            part="a",
            key="q7-input-memory",
            claim="Input + coordinates: 224² × 5 × 4 = 1.0 MB",
            exam_value="1.0 MB",
            archcalc_value=aug,
            readings=(
                Reading(
                    name="bytes, to the digit shown", exam=1_000_000, archcalc=aug, tolerance=MB_1
                ),
            ),
            reason=f"{mb(aug, 2)} (10^6 bytes) for the 5-channel tensor; the 3-channel input "
            f"itself adds {n(s.memory.input_bytes)} B",
            how="summary('exam_q7a').layer('coords').activation_bytes (float32)",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-feature-maps",
            claim="Feature maps: Σ_l H_l × W_l × C_l × 4 ≈ 15 MB",
            exam_value="≈ 15 MB",
            archcalc_value=f"{mb(every)} (every output); {mb(conv_only)} (conv outputs only)",
            readings=(
                Reading(name="every output", exam=15_000_000, archcalc=every, tolerance=MB_0),
                Reading(
                    name="conv outputs only", exam=15_000_000, archcalc=conv_only, tolerance=MB_0
                ),
            ),
            reason=f"a 64-channel 112×112 map alone is {mb(big[0])}, and the network writes "
            f"{len(big)} of them",
            how="summary('exam_q7a'): activations_bytes; the sum over its Conv2d rows",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-peak",
            claim="Peak memory ≈ 16 MB per image",
            exam_value="≈ 16 MB",
            archcalc_value=f"{mb(peak)} (inference peak); {mb(train)} (kept for backward + input)",
            readings=(
                Reading(name="inference peak", exam=16_000_000, archcalc=peak, tolerance=MB_0),
                Reading(
                    name="kept for backward + input",
                    exam=16_000_000,
                    archcalc=train,
                    tolerance=MB_0,
                ),
            ),
            reason="the answer adds input and feature maps (1 + 15); inference frees tensors, "
            "training keeps far more",
            how="summary('exam_q7a'): peak_inference_bytes; saved_for_backward + input bytes",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-batch32",
            claim="Batch size 32: ≈ 512 MB activation memory",
            exam_value="≈ 512 MB",
            archcalc_value=f"{mb(peak32, 0)} (inference peak); {mb(train32, 0)} (training)",
            readings=(
                Reading(
                    name="inference peak, 32 × (16 ± 0.5) MB",
                    exam=512_000_000,
                    archcalc=peak32,
                    tolerance=mb512,
                ),
                Reading(
                    name="training, 32 × (16 ± 0.5) MB",
                    exam=512_000_000,
                    archcalc=train32,
                    tolerance=mb512,
                ),
            ),
            reason="32 × 16 MB is right arithmetic on a wrong per-image figure",
            how="summary('exam_q7a', batch=32): the same two figures",
        ),
    ]


def _compute(s: Summary) -> list[Claim]:
    conv_macs = sum(r.macs for r in convolutions(s))
    rgb = chain("stem", [Conv2d(3, 64, 7, stride=2, padding=3, bias=False)], (3, 224, 224))
    extra = s.layer("conv1").macs - rgb.macs
    gap_flops = s.layer("avgpool").flops
    return [
        Claim(
            question=7,
            part="a",
            key="q7-conv-flops",
            claim="Convolutional layers: ≈ 4 × 10^9 FLOPs",
            exam_value="≈ 4G",
            archcalc_value=f"{n(conv_macs)} MACs = {giga(2 * conv_macs)} FLOPs",
            readings=(
                Reading(name="a FLOP is a MAC", exam=4 * 10**9, archcalc=conv_macs, tolerance=G_0),
                Reading(
                    name="2 FLOPs per MAC", exam=4 * 10**9, archcalc=2 * conv_macs, tolerance=G_0
                ),
            ),
            reason="right if a FLOP is a multiply-accumulate (torchvision's 'GFLOPS'); a multiply "
            "and an add are 2 FLOPs each",
            how="summary('exam_q7a'): MACs of the Conv2d rows",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-total-flops",
            claim="Total: ≈ 4 GFLOPs per forward pass",
            exam_value="≈ 4G",
            archcalc_value=f"{n(s.macs)} MACs; {n(s.flops)} FLOPs (archcalc)",
            readings=(
                Reading(name="MACs", exam=4 * 10**9, archcalc=s.macs, tolerance=G_0),
                Reading(name="archcalc's FLOPs", exam=4 * 10**9, archcalc=s.flops, tolerance=G_0),
            ),
            reason="4 G multiply-accumulates; archcalc's FLOPs also count BatchNorm, ReLU, adds",
            how="summary('exam_q7a'): macs and flops",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-augmentation-cost",
            claim="Position augmentation: O(HW), negligible",
            exam_value="negligible",
            archcalc_value=f"0 MACs to build; +{n(extra)} MACs in the stem = "
            f"{pct(Fraction(extra, s.macs))} of the network",
            readings=(
                Reading(
                    name="under 5% of the network: making the channels; the stem's extra MACs",
                    exam=NEGLIGIBLE,
                    archcalc=(Fraction(s.layer("coords").flops, s.flops), Fraction(extra, s.macs)),
                    bound="<",
                ),
            ),
            reason="making the channels is free, but the stem convolves 5 channels instead of 3",
            how="summary('exam_q7a'): coords FLOPs; conv1 MACs vs the same conv on 3 channels",
        ),
        Claim(
            question=7,
            part="a",
            key="q7-gap-cost",
            claim="GAP: O(HWC), negligible next to the convolutions",
            exam_value="negligible",
            archcalc_value=f"{n(gap_flops)} FLOPs = {pct(Fraction(gap_flops, s.flops), 4)}",
            readings=(
                Reading(
                    name="under 5% of the FLOPs",
                    exam=NEGLIGIBLE,
                    archcalc=Fraction(gap_flops, s.flops),
                    bound="<",
                ),
            ),
            reason="",
            how="summary('exam_q7a').layer('avgpool').flops",
        ),
    ]


def _rates(s: Summary) -> Claim:
    stages = stage_names(s.model)
    rates = layer_rates(len(stages), Fraction(1, 1000), Fraction(1, 10))
    return Claim(
        question=7,
        part="a",
        key="q7-layer-rates",
        claim="Fine-tune layers 4-5 at 10^-4, head at 10^-3; η_l = 10^-3 × 0.1^(5−l)",
        exam_value="layers 4-5: 10^-4",
        archcalc_value=", ".join(f"{st}: {rate(r)}" for st, r in zip(stages, rates)),
        readings=(
            Reading(
                name="layers 4 and 5 by the formula",
                exam=(Fraction(1, 10**4), Fraction(1, 10**4)),
                archcalc=(rates[3], rates[4]),
            ),
        ),
        reason=f"the formula gives layer 5 {rate(rates[4])}, the head's rate, not 10^-4, and the "
        "frozen layers 1-3 rates they never use",
        how="the stages of summary('exam_q7a'), rates by layer_rates(5, 10^-3, 0.1)",
    )


def _limits(s: Summary) -> list[Claim]:
    first = Fraction(s.layer("coords").activation_bytes, s.memory.input_bytes)
    return [
        Claim(
            question=7,
            part="b",
            key="q7-early-overhead",
            claim="(C + 2)/C: minimal for large C, significant for early layers",
            exam_value="significant at the input",
            archcalc_value=f"{first} at the RGB input",
            readings=(
                Reading(
                    name="memory overhead at the input, over 10%",
                    exam=SIGNIFICANT,
                    archcalc=first - 1,
                    bound=">",
                ),
            ),
            reason=f"+{pct(first - 1, 1)} memory at C = 3, against +0.78% at C = 256",
            how="summary('exam_q7a'): coords bytes / input bytes",
        ),
        empirical(
            question=7,
            part="b",
            key="q7-small-images",
            claim="For inputs < 64×64 position information gives little benefit",
            exam="< 64×64",
            note="it depends on the task",
        ),
    ]
