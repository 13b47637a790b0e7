"""Question 3: fully convolutional networks against sliding windows."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, cast

from archcalc import Summary, summary

from ._claim import Claim, Reading, dec, empirical, n, times
from .figures import window_count

__all__ = ["claims"]


#: the example of 3(b): window h = w = 224, stride s = 32, image H = W = 512
WINDOW, STRIDE, IMAGE = 224, 32, 512

#: "≈" in 3(b): within 10% (declared for the memory ratio and the cost orders)
APPROX = Fraction(1, 10)


def claims() -> list[Claim]:
    return [*_equivalence(), *_cost(), *_memory()]


def _equivalence() -> list[Claim]:
    fc = summary("alexnet")
    conv224 = summary("alexnet", head="conv")
    conv512 = summary("alexnet", head="conv", input=IMAGE)
    lin, cv = fc.layer("classifier.1"), conv224.layer("classifier.1")
    kernel = cast(Any, conv224.model.node("classifier.1").layer).kernel_size
    shape224 = conv224.output_shape
    f224 = conv224.layer("features.12").output_shape
    f512 = conv512.layer("features.12").output_shape
    o512 = conv512.output_shape
    return [
        Claim(
            question=3,
            part="a",
            key="fc-as-conv",
            claim="A Linear layer on an H0×W0×C0 map equals a conv with an H0×W0 kernel",
            exam_value="same output, same weights",
            archcalc_value=f"Conv2d {kernel[0]}×{kernel[1]}: "
            f"{n(cv.params)} params, {n(cv.macs)} MACs",
            readings=(
                Reading(
                    name="params and MACs of AlexNet's FC1",
                    exam=(lin.params, lin.macs),
                    archcalc=(cv.params, cv.macs),
                ),
            ),
            reason="AlexNet's FC1 as a 6×6 convolution: the same parameters and MACs "
            "(outputs equal in torch: tests)",
            how="summary('alexnet', head='conv').layer('classifier.1') vs the Linear of --head fc",
        ),
        Claim(
            question=3,
            part="a",
            key="fcn-output-same-size",
            claim="When H′ = H and W′ = W the output is 1×1",
            exam_value="1×1",
            archcalc_value=f"{shape224[1]}×{shape224[2]}",
            readings=(Reading(name="H, W", exam=(1, 1), archcalc=tuple(shape224[1:])),),
            reason="the convolutionalised AlexNet at its training size",
            how="summary('alexnet', head='conv') at 224×224: output shape",
        ),
        Claim(
            question=3,
            part="a",
            key="fcn-output-map",
            claim="Input H′×W′ → a (H′ − H + 1)×(W′ − W + 1) map of predictions",
            exam_value="(H′ − H + 1)×(W′ − W + 1)",
            archcalc_value=f"{o512[1]}×{o512[2]} at 512×512",
            readings=(
                Reading(
                    name="H, H′ the feature-map sizes",
                    exam=(f512[1] - f224[1] + 1, f512[2] - f224[2] + 1),
                    archcalc=tuple(o512[1:]),
                ),
                Reading(
                    name="H, H′ the input sizes",
                    exam=(IMAGE - WINDOW + 1, IMAGE - WINDOW + 1),
                    archcalc=tuple(o512[1:]),
                ),
            ),
            reason=f"true with H, H′ the feature-map sizes ({f512[1]} − {f224[1]} + 1 = "
            f"{o512[1]}); with the 224- and 512-pixel inputs it would give "
            f"{IMAGE - WINDOW + 1}×{IMAGE - WINDOW + 1}",
            how="summary('alexnet', head='conv', input=512): features and output shapes",
        ),
    ]


def _features_macs(s: Summary) -> int:
    return sum(r.macs for r in s.layers if r.name.startswith("features."))


def _cost() -> list[Claim]:
    fc = summary("alexnet")
    conv512 = summary("alexnet", head="conv", input=IMAGE)
    big = summary("alexnet", head="conv", input=2 * WINDOW)
    side = window_count(IMAGE, WINDOW, STRIDE)
    windows = side * side
    speed = Fraction(windows * fc.macs, conv512.macs)
    exam_windows = ((IMAGE - WINDOW) // STRIDE) ** 2  # the exam's 9 × 9
    own = Fraction(exam_windows * WINDOW * WINDOW, IMAGE * IMAGE)  # its two cost formulas
    per_pixel = Fraction(_features_macs(big), _features_macs(fc))
    return [
        Claim(
            question=3,
            part="b",
            key="sliding-window-count",
            claim="Windows: (512 − 224)/32 × (512 − 224)/32 = 9 × 9 = 81 forward passes",
            exam_value=81,
            archcalc_value=windows,
            readings=(Reading(name="windows", exam=81, archcalc=windows),),
            reason=f"off by one: window starts 0, 32, …, 288 are ⌊(512 − 224)/32⌋ + 1 = {side} "
            f"per axis — the same {side}×{side} grid as the FCN's predictions",
            how="MaxPool2d(224, stride=32) on 512×512: output positions",
        ),
        Claim(
            question=3,
            part="b",
            key="window-cost-order",
            claim="Each window requires a full forward pass: O(C·h·w) operations",
            exam_value="O(C·h·w)",
            archcalc_value=f"{n(fc.macs)} MACs for AlexNet at h = w = 224 (C·h·w = "
            f"{n(3 * WINDOW * WINDOW)}); its conv MACs grow {times(per_pixel)} when h, w double",
            readings=(
                Reading(
                    name="as a count, C = 3 input channels: MACs of one AlexNet pass",
                    exam=3 * WINDOW * WINDOW,
                    archcalc=fc.macs,
                    tolerance=APPROX,
                    relative=True,
                ),
                Reading(
                    name="as an order in h·w at a fixed network: conv MACs at 448² / 224²",
                    exam=Fraction(4),
                    archcalc=per_pixel,
                    tolerance=APPROX,
                    relative=True,
                ),
            ),
            reason="a pass costs what the network's layers cost, about "
            f"{n(fc.macs // (3 * WINDOW * WINDOW))} times C·h·w for AlexNet; only the growth "
            "with the window's pixels is O(h·w) (for the convolutions)",
            how="summary('alexnet').macs; the features' MACs of --head conv at 448 vs 224",
        ),
        Claim(
            question=3,
            part="b",
            key="fcn-cost-formulas",
            claim="Costs O((H − h)(W − w)/s²·C·h·w) for the windows vs O(C·H·W) for one FCN "
            "pass, a theoretical speedup of 81×",
            exam_value="81×",
            archcalc_value=f"its own formulas give 81·224²/512² = {times(own, 1)}",
            readings=(Reading(name="the answer's two cost formulas", exam=81, archcalc=own),),
            reason="the answer's formulas divide the 81 windows by the image-size ratio 512²/224²; "
            "the 81× ignores its own FCN cost C·H·W (archcalc's MACs: next claim)",
            how="the exam's formulas at h = w = 224, s = 32, H = W = 512, exactly",
        ),
        Claim(
            question=3,
            part="b",
            key="fcn-speedup",
            claim="Theoretical speedup 81× (81 window passes vs 1 FCN pass)",
            exam_value="81×",
            archcalc_value=times(speed),
            readings=(
                Reading(name="MACs of the windows / MACs of one pass", exam=81, archcalc=speed),
            ),
            reason=f"{windows} windows × {n(fc.macs)} MACs against {n(conv512.macs)} for one "
            f"pass at 512×512, which costs {times(Fraction(conv512.macs, fc.macs), 1)} one window",
            how="AlexNet: summary at 224 (fc head) × windows vs summary(head='conv', input=512)",
        ),
        empirical(
            question=3,
            part="b",
            key="fcn-practical-speedup",
            claim="Practical speedup 40-60×",
            exam="40-60×",
            note=f"a wall-clock figure; in MACs the FCN pass is only {times(speed)} cheaper "
            "(for AlexNet)",
        ),
    ]


def _memory() -> list[Claim]:
    fc = summary("alexnet")
    conv512 = summary("alexnet", head="conv", input=IMAGE)
    side = window_count(IMAGE, WINDOW, STRIDE)
    windows = side * side
    act = windows * fc.memory.activations_bytes
    exam_ratio = Fraction(81 * WINDOW * WINDOW, IMAGE * IMAGE)
    right_ratio = Fraction(windows * WINDOW * WINDOW, IMAGE * IMAGE)
    ratio = Fraction(act, conv512.memory.activations_bytes)
    growth = Fraction(conv512.memory.activations_bytes, fc.memory.activations_bytes)
    return [
        Claim(
            question=3,
            part="b",
            key="sliding-window-memory",
            claim="Sliding window stores 81 × activation_memory",
            exam_value="81 × activation memory",
            archcalc_value=f"{windows} × {n(fc.memory.activations_bytes)} B = {n(act)} B",
            readings=(
                Reading(
                    name="bytes, all windows batched",
                    exam=81 * fc.memory.activations_bytes,
                    archcalc=act,
                ),
            ),
            reason=f"{windows} windows, not 81 (if all are batched; one at a time needs "
            f"{n(fc.memory.peak_inference_bytes)} B at the peak)",
            how="summary('alexnet'): activations bytes × window count",
        ),
        Claim(
            question=3,
            part="b",
            key="sliding-window-memory-ratio",
            claim="Memory ratio ≈ number of windows / image-size ratio",
            exam_value=f"81/(512²/224²) ≈ {dec(exam_ratio, 1)}",
            archcalc_value=dec(ratio, 1),
            readings=(
                Reading(
                    name="the exam's figure (its 81 windows), ≈ within 10%",
                    exam=exam_ratio,
                    archcalc=ratio,
                    tolerance=APPROX,
                    relative=True,
                ),
                Reading(
                    name=f"the formula with the true {windows} windows, ≈ within 10%",
                    exam=right_ratio,
                    archcalc=ratio,
                    tolerance=APPROX,
                    relative=True,
                ),
            ),
            reason=f"the answer's {dec(exam_ratio, 1)} is within 10% of the measured ratio (its "
            f"81 is counted above); with the right {windows} windows the formula gives "
            f"{dec(right_ratio, 1)}, because the FCN's activations grow {times(growth)} from "
            f"224² to 512², not {times(Fraction(IMAGE * IMAGE, WINDOW * WINDOW))}",
            how="AlexNet: windows × activations at 224 / activations of --head conv at 512",
        ),
    ]
