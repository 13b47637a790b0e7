"""Question 4: design principles — budget, depth against kernel size, early strides, patterns."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from archcalc import Conv2d, ReLU, Summary, summary

from ._claim import (
    Claim,
    Reading,
    chain,
    convolutions,
    empirical,
    formula,
    mega,
    n,
    pct,
    symbols,
    sympy,
    times,
)

__all__ = ["claims"]


#: the 8-layer schedule of 4(b): the sizes the exam lists after each layer
SCHEDULE_SIZES = (56, 28, 28, 14, 14, 7, 7, 7)


def claims() -> list[Claim]:
    return [
        *_budget(),
        *_kernels(),
        *_depth(),
        *_stride_memory(),
        *_peaks(),
        *_schedule(),
        *_patterns(),
        *_separable(),
        *_mobile(),
    ]


def _stack(n_layers: int, kernel: Any, width: Any = None) -> Summary:
    """``n_layers`` bias-free ``kernel``×``kernel`` convs of ``width`` channels ('same' size)."""
    C, H, W = symbols("C", "H", "W")
    width = C if width is None else width
    pad = "same" if not isinstance(kernel, int) else (kernel - 1) // 2
    return chain(
        f"{n_layers}x{kernel}",
        [Conv2d(width, width, kernel, padding=pad, bias=False) for _ in range(n_layers)],
        (width, H, W),
    )


def _budget() -> list[Claim]:
    sp = sympy()
    C, F, H, W = symbols("C", "F", "H", "W")
    d3 = _stack(3, F)
    per_pixel = sp.simplify(d3.macs / (H * W))
    return [
        Claim(
            question=4,
            part="a",
            key="budget-formula",
            claim="FLOPs budget B = D × W² × F² × H × W × C (W = width)",
            exam_value="D·W²·F²·H·W·C",
            archcalc_value=f"D·C²·F²·H·W (D = 3: {formula(d3.macs)})",
            readings=(
                Reading(
                    name="D = 3 layers of width C",
                    exam=3 * C**2 * F**2 * H * W * C,
                    archcalc=d3.macs,
                ),
            ),
            reason="one factor of channels too many: D layers of width C cost D·C²·F²·H·W MACs "
            "(the exam also writes W for both the width and the image width)",
            how="3 × Conv2d(C, C, F, 'same', bias=False) on C×H×W (symbols): MACs",
        ),
        Claim(
            question=4,
            part="a",
            key="budget-tradeoff",
            claim="Trade-off: D × W² × F² = constant (at a fixed H×W)",
            exam_value="D·W²·F²",
            archcalc_value=f"{formula(per_pixel)} per output pixel (D = 3)",
            readings=(
                Reading(name="MACs per pixel, D = 3", exam=3 * C**2 * F**2, archcalc=per_pixel),
            ),
            reason="MACs per pixel are D·C²·F², so at a fixed budget and image size depth, "
            "width² and kernel area trade one for one",
            how="the same model: MACs / (H·W)",
        ),
    ]


def _kernels() -> list[Claim]:
    sp = sympy()
    C, H, W = symbols("C", "H", "W")
    two3, one5 = _stack(2, 3), _stack(1, 5)
    biased = [
        chain("b", [Conv2d(C, C, k, padding=k // 2) for _ in range(layers)], (C, H, W)).params
        for layers, k in ((2, 3), (1, 5))
    ]
    assert two3.rf is not None and one5.rf is not None
    saving = sp.nsimplify(sp.simplify((one5.params - two3.params) / one5.params))
    saving_q = Fraction(int(saving.p), int(saving.q))
    deep = chain("deep", [Conv2d(8, 8, 3, padding=1), ReLU()] * 2, (8, 16, 16))
    wide = chain("wide", [Conv2d(8, 8, 5, padding=2), ReLU()], (8, 16, 16))
    # the non-linearities: the rows with neither parameters nor MACs
    relus = tuple(sum(r.params == 0 and r.macs == 0 for r in x.layers) for x in (deep, wide))
    return [
        Claim(
            question=4,
            part="a",
            key="two-3x3-params",
            claim="Two 3×3 layers: 2 × (9C²) = 18C² parameters",
            exam_value="18C²",
            archcalc_value=formula(two3.params),
            readings=(Reading(name="weights", exam=18 * C**2, archcalc=two3.params),),
            reason=f"weights only (with biases: {formula(sp.expand(biased[0]))})",
            how="2 × Conv2d(C, C, 3, padding=1, bias=False) (C a symbol): params",
        ),
        Claim(
            question=4,
            part="a",
            key="one-5x5-params",
            claim="One 5×5 layer: 25C² parameters",
            exam_value="25C²",
            archcalc_value=formula(one5.params),
            readings=(Reading(name="weights", exam=25 * C**2, archcalc=one5.params),),
            reason=f"weights only (with a bias: {formula(sp.expand(biased[1]))})",
            how="Conv2d(C, C, 5, padding=2, bias=False): params",
        ),
        Claim(
            question=4,
            part="a",
            key="two-3x3-saving",
            claim="Savings: (25C² − 18C²)/25C² = 28%",
            exam_value="28%",
            archcalc_value=pct(saving_q, 0),
            readings=(Reading(name="share saved", exam=Fraction(28, 100), archcalc=saving_q),),
            reason="7/25 exactly, for every C",
            how="the two models above: (params₅ − params₃)/params₅",
        ),
        Claim(
            question=4,
            part="a",
            key="two-3x3-rf",
            claim="Two 3×3 layers see the same field as one 5×5",
            exam_value="5 = 5",
            archcalc_value=f"{two3.rf.size[0]} = {one5.rf.size[0]}",
            readings=(
                Reading(
                    name="receptive fields",
                    exam=(5, 5),
                    archcalc=(two3.rf.size[0], one5.rf.size[0]),
                ),
            ),
            reason="with 2 ReLUs instead of 1",
            how="receptive field of both models",
        ),
        Claim(
            question=4,
            part="a",
            key="two-3x3-relus",
            claim="2 layers of 3×3: 2 ReLU activations; 1 layer of 5×5: 1",
            exam_value="2 vs 1",
            archcalc_value=f"{relus[0]} vs {relus[1]}",
            readings=(Reading(name="ReLUs", exam=(2, 1), archcalc=relus),),
            reason="one non-linearity per conv layer",
            how="conv-ReLU stacks: ReLU layers counted",
        ),
    ]


def _depth() -> list[Claim]:
    sp = sympy()
    C, F = symbols("C", "F")
    fields = [_stack(layers, F).rf for layers in (1, 2, 3)]
    sizes = tuple(rf.size[0] for rf in fields if rf is not None)
    three3, one7 = _stack(3, 3), _stack(1, 7)
    assert three3.rf is not None and one7.rf is not None
    d3 = _stack(3, F)
    L = symbols("L")[0]
    exponent = L * F**2 * C**2
    by_depth = sp.simplify(exponent.subs(L, 2 * L) / exponent)
    by_width = sp.simplify(exponent.subs(C, 2 * C) / exponent)
    return [
        Claim(
            question=4,
            part="a",
            key="rf-stack",
            claim="Receptive field of L layers of F×F: F, 2F − 1, 3F − 2, …, 1 + L(F − 1)",
            exam_value="F, 2F − 1, 3F − 2",
            archcalc_value=", ".join(formula(s) for s in sizes),
            readings=(Reading(name="L = 1, 2, 3", exam=(F, 2 * F - 1, 3 * F - 2), archcalc=sizes),),
            reason="each stride-1 layer adds F − 1 (every L: property test)",
            how="L × Conv2d(C, C, F, 'same') for L = 1, 2, 3 (F a symbol): receptive field",
        ),
        Claim(
            question=4,
            part="a",
            key="three-3x3-vs-7x7",
            claim="3 layers × 3×3 vs 1 layer × 7×7: the same receptive field",
            exam_value="7 = 7",
            archcalc_value=f"{three3.rf.size[0]} = {one7.rf.size[0]} ({formula(three3.params)} "
            f"vs {formula(one7.params)} params)",
            readings=(
                Reading(
                    name="receptive fields",
                    exam=(7, 7),
                    archcalc=(three3.rf.size[0], one7.rf.size[0]),
                ),
            ),
            reason="the deeper stack also has 27C² weights against 49C²",
            how="3 × Conv2d(C, C, 3, padding=1) vs Conv2d(C, C, 7, padding=3), bias-free",
        ),
        Claim(
            question=4,
            part="a",
            key="params-linear-in-depth",
            claim="Parameters per layer F²×C²; for L layers L × F² × C²",
            exam_value="L·F²·C²",
            archcalc_value=f"{formula(d3.params)} (L = 3)",
            readings=(Reading(name="L = 3", exam=3 * F**2 * C**2, archcalc=d3.params),),
            reason="weights only; linear in L",
            how="3 × Conv2d(C, C, F, bias=False): params",
        ),
        Claim(
            question=4,
            part="a",
            key="expressiveness-bound",
            claim="Each layer implements ≤ 2^(F²·C²) Boolean functions; L layers 2^(L·F²·C²)",
            exam_value="2^(L·F²·C²)",
            archcalc_value=f"2^(parameters) = 2^({formula(d3.params)}) for L = 3",
            readings=(
                Reading(
                    name="the exponent is the weight count (L = 3)",
                    exam=3 * F**2 * C**2,
                    archcalc=d3.params,
                ),
                Reading(
                    name="depth grows the bound faster than width: the exponent's growth when "
                    "L doubles over its growth when C doubles",
                    exam=Fraction(1),
                    archcalc=Fraction(int(by_depth), int(by_width)),
                    bound=">",
                ),
            ),
            reason="the exponent is just the weight count, so the bound grows as fast with "
            f"width (×{by_width} when C doubles) as with depth (×{by_depth} when L doubles): it "
            "does not single out depth",
            how="the parameter count of the same model; the exponent L·F²·C² doubled in L and in C",
        ),
    ]


def _stride_models() -> tuple[Summary, Summary]:
    s1 = chain("stride1", [Conv2d(3, 64, 3), Conv2d(64, 128, 3)], (3, 224, 224))
    s4 = chain("stride4", [Conv2d(3, 64, 3, stride=4), Conv2d(64, 128, 3)], (3, 224, 224))
    return s1, s4


def _stride_memory() -> list[Claim]:
    s1, s4 = _stride_models()
    inp = s1.memory.input_bytes // 4
    out = [
        Claim(
            question=4,
            part="b",
            key="input-elements",
            claim="Input: 224 × 224 × 3 = 150,528 elements",
            exam_value=150_528,
            archcalc_value=inp,
            readings=(Reading(name="elements", exam=150_528, archcalc=inp),),
            reason="",
            how="summary of either model below: input bytes / 4",
        )
    ]
    rows = (
        ("stride1-layer1", s1, 0, "Stride 1, layer 1: 222² × 64 = 3,154,176 elements", 3_154_176),
        ("stride1-layer2", s1, 1, "Stride 1, layer 2: 220² × 128 = 6,195,200 elements", 6_195_200),
        ("stride4-layer1", s4, 0, "Stride 4, layer 1: 56² × 64 = 201,216 elements", 201_216),
        ("stride4-layer2", s4, 1, "Stride 4, layer 2: 54² × 128 = 373,248 elements", 373_248),
    )
    for key, s, i, text, exam in rows:
        row = s.layers[i]
        got = row.activation_elements
        c, h, w = row.output_shape
        reason = f"{c}×{h}×{w}"
        if got != exam:
            reason = f"arithmetic slip: {h}² = {h * w:,} and {h * w:,} × {c} = {n(got)}"
        first = "Conv2d(3, 64, 3, stride=4)" if s is s4 else "Conv2d(3, 64, 3)"
        out.append(
            Claim(
                question=4,
                part="b",
                key=key,
                claim=text,
                exam_value=exam,
                archcalc_value=got,
                readings=(Reading(name="elements", exam=exam, archcalc=got),),
                reason=reason,
                how=f"{first} then Conv2d(64, 128, 3) on 3×224×224: output elements of layer "
                f"{i + 1}",
            )
        )
    rf4 = chain("l1", [Conv2d(3, 64, 3, stride=4)], (3, 224, 224)).rf
    assert rf4 is not None
    seen = Fraction(min(rf4.size[0], rf4.stride[0]), rf4.stride[0]) ** 2
    size4 = s4.layers[0].output_shape[1]
    out.append(
        Claim(
            question=4,
            part="b",
            key="stride4-size",
            claim="Stride 4, layer 1: ⌊(224 − 3)/4⌋ + 1 = 56",
            exam_value=56,
            archcalc_value=size4,
            readings=(Reading(name="output size", exam=56, archcalc=size4),),
            reason=f"but a 3×3 kernel at stride 4 never reads {1 - seen} of the pixels "
            f"(receptive field {rf4.size[0]}, stride {rf4.stride[0]})",
            how="Conv2d(3, 64, 3, stride=4) on 3×224×224: output size and receptive field",
        )
    )
    return out


def _peaks() -> list[Claim]:
    s1, s4 = _stride_models()
    out: list[Claim] = []
    peaks = []
    # (key, model, the exam's figure, half a unit of its last digit)
    for key, s, shown, exam, tol in (
        ("stride1-peak", s1, "6.2M", 6_200_000, 50_000),
        ("stride4-peak", s4, "0.37M", 370_000, 5_000),
    ):
        largest = max(r.activation_elements for r in s.layers)
        live = s.memory.peak_inference_bytes // 4
        peaks.append((largest, live))
        out.append(
            Claim(
                question=4,
                part="b",
                key=key,
                claim=f"Peak memory ~{shown} elements for activations "
                f"({'stride 1' if s is s1 else 'stride 4'})",
                exam_value=f"~{shown}",
                archcalc_value=f"largest tensor {n(largest)}; live peak {n(live)}",
                readings=(
                    Reading(
                        name="the largest single output",
                        exam=exam,
                        archcalc=largest,
                        tolerance=Fraction(tol),
                    ),
                    Reading(
                        name="the live peak of an inference pass",
                        exam=exam,
                        archcalc=live,
                        tolerance=Fraction(tol),
                    ),
                ),
                reason="right for the largest single output; the live peak of an inference pass "
                "counts every tensor held at once (layer 2's input and output, the input)",
                how="the same models: max output elements; peak_inference_bytes / 4",
            )
        )
    red_largest = Fraction(peaks[0][0] - peaks[1][0], peaks[0][0])
    red_live = Fraction(peaks[0][1] - peaks[1][1], peaks[0][1])
    out.append(
        Claim(
            question=4,
            part="b",
            key="stride4-reduction",
            claim="Memory reduction (6.2M − 0.37M)/6.2M = 94%",
            exam_value="94%",
            archcalc_value=f"{pct(red_largest)} (largest tensors), {pct(red_live)} (live peaks)",
            readings=(
                Reading(
                    name="largest tensors",
                    exam=Fraction(94, 100),
                    archcalc=red_largest,
                    tolerance=Fraction(5, 1000),
                ),
                Reading(
                    name="live peaks",
                    exam=Fraction(94, 100),
                    archcalc=red_live,
                    tolerance=Fraction(5, 1000),
                ),
            ),
            reason="94% if 'peak' is the largest tensor (the answer's reading); the live peaks "
            "give " + pct(red_live, 0),
            how="the peaks above",
        )
    )
    return out


def _schedule() -> list[Claim]:
    q4b = summary("exam_q4b")
    convs = convolutions(q4b)
    sizes = tuple(r.output_shape[1] for r in convs)
    firsts: dict[int, Any] = {}
    for r in convs:
        firsts.setdefault(r.output_shape[1], r)
    at = [firsts[s] for s in (56, 28, 14, 7)]
    elems = [r.activation_elements for r in at]
    ratios = {Fraction(b, a) for a, b in zip(elems, elems[1:])}
    geometric = len(ratios) == 1 and all(r < 1 for r in ratios)
    return [
        Claim(
            question=4,
            part="b",
            key="q4b-schedule",
            claim="8 layers, strides 4, 2, 1, 2, 1, 2, 1, 1: 224 → 56 → 28 → 28 → 14 → 14 → 7 "
            "→ 7 → 7",
            exam_value="56, 28, 28, 14, 14, 7, 7, 7",
            archcalc_value=", ".join(str(s) for s in sizes),
            readings=(Reading(name="sizes", exam=SCHEDULE_SIZES, archcalc=sizes),),
            reason="3×3 convs: layer 1 unpadded as in the exam's own calculation, then padding 1",
            how="summary('exam_q4b'): output size of conv1..conv8",
        ),
        Claim(
            question=4,
            part="b",
            key="q4b-memory-decay",
            claim="Memory usage decreases exponentially: 56² → 28² → 14² → 7²",
            exam_value="exponentially (56² → 28² → 14² → 7²)",
            archcalc_value=" → ".join(n(e) for e in elems),
            readings=(
                Reading(
                    name="positions per map",
                    exam=(56 * 56, 28 * 28, 14 * 14, 7 * 7),
                    archcalc=tuple(r.output_shape[1] * r.output_shape[2] for r in at),
                ),
                Reading(
                    name="memory falls by one constant ratio below 1", exam=True, archcalc=geometric
                ),
            ),
            reason="each map has 4× fewer positions and, with the channels doubled (as the exam "
            f"advises), memory falls by the constant ratio {min(ratios)} per halving: exponential",
            how="summary('exam_q4b'): output elements of the first layer at each size",
        ),
    ]


def _patterns() -> list[Claim]:
    r50 = summary("resnet50")
    steps: list[int] = []
    for r in r50.layers:
        if len(r.output_shape) == 3 and r.output_shape[1] > 1 and r.output_shape[1] not in steps:
            steps.append(r.output_shape[1])
    assert r50.rf is not None
    total = int(r50.rf.stride[0])
    stages = total.bit_length() - 1
    kept = Fraction(
        r50.layer("maxpool").output_shape[1] ** 2, r50.layer("conv1").output_shape[1] ** 2
    )
    r18 = summary("resnet18")
    st18 = [r18.layer(f"layer{i}.1.relu_1") for i in range(1, 5)]
    widths = tuple(r.output_shape[0] for r in st18)
    vgg = summary("vgg16")
    vw: list[int] = []
    for r in convolutions(vgg):
        if r.output_shape[0] not in vw:
            vw.append(r.output_shape[0])
    return [
        Claim(
            question=4,
            part="c",
            key="resnet-resolution",
            claim="Successful architectures go 224 → 112 → 56 → 28 → 14 → 7",
            exam_value="112, 56, 28, 14, 7",
            archcalc_value=", ".join(str(s) for s in steps) + " (ResNet-50)",
            readings=(
                Reading(name="ResNet-50's sizes", exam=(112, 56, 28, 14, 7), archcalc=tuple(steps)),
            ),
            reason="",
            how="summary('resnet50'): the distinct output sizes in order",
        ),
        Claim(
            question=4,
            part="c",
            key="reduction-stages",
            claim="L = log(S_f/S_0)/log(r): for 224 → 7, L = log(7/224)/log(0.5) = 5.0 stages",
            exam_value="5.0",
            archcalc_value=f"{stages} (total stride {total} = 2^{stages})",
            readings=(
                Reading(
                    name="halvings from 224 to 7 (ResNet-50's stride)",
                    exam=(5, 7),
                    archcalc=(stages, 224 // total),
                ),
            ),
            reason="7/224 = 1/32 = 0.5^5",
            how="summary('resnet50'): effective stride of the last feature map",
        ),
        Claim(
            question=4,
            part="c",
            key="halving-removes",
            claim="Each 2× reduction removes ~75% of spatial information",
            exam_value="75%",
            archcalc_value=pct(1 - kept, 0) + " of the positions",
            readings=(Reading(name="positions removed", exam=Fraction(3, 4), archcalc=1 - kept),),
            reason="a 2× smaller map has 1/4 of the positions",
            how="summary('resnet50'): positions after vs before the max-pool",
        ),
        Claim(
            question=4,
            part="c",
            key="resnet-widths",
            claim="ResNet: 64 → 128 → 256 → 512 (doubling with each spatial halving)",
            exam_value="64, 128, 256, 512",
            archcalc_value=", ".join(str(w) for w in widths),
            readings=(
                Reading(name="ResNet-18's stage widths", exam=(64, 128, 256, 512), archcalc=widths),
            ),
            reason="doubling is ×1/r, not the ×1/r² the answer's compensation principle asks: "
            "the stage outputs shrink " + " → ".join(n(r.activation_elements) for r in st18),
            how="summary('resnet18'): output of each stage",
        ),
        Claim(
            question=4,
            part="c",
            key="vgg-widths",
            claim="VGG: gradual increase 64 → 128 → 256 → 512",
            exam_value="64, 128, 256, 512",
            archcalc_value=", ".join(str(w) for w in vw),
            readings=(
                Reading(name="VGG-16's conv widths", exam=(64, 128, 256, 512), archcalc=tuple(vw)),
            ),
            reason="",
            how="summary('vgg16'): distinct conv widths",
        ),
    ]


def _separable_speedup(c: int) -> Fraction:
    a = chain("std", [Conv2d(c, c, 3, padding=1, bias=False)], (c, 14, 14))
    b = chain(
        "sep",
        [Conv2d(c, c, 3, padding=1, groups=c, bias=False), Conv2d(c, c, 1, bias=False)],
        (c, 14, 14),
    )
    return Fraction(a.macs, b.macs)


def _separable() -> list[Claim]:
    sp = sympy()
    H, W, Ci, Co, k = symbols("H", "W", "C_in", "C_out", "k")
    std = chain("standard", [Conv2d(Ci, Co, k, padding="same", bias=False)], (Ci, H, W))
    dws = chain(
        "separable",
        [
            Conv2d(Ci, Ci, k, padding="same", groups=Ci, bias=False),
            Conv2d(Ci, Co, 1, bias=False),
        ],
        (Ci, H, W),
    )
    ratio = sp.simplify(dws.macs / std.macs)
    ratios = {c: _separable_speedup(c) for c in (32, 64, 128, 256, 512, 1024)}
    first8 = next(c for c in range(1, 1025) if _separable_speedup(c) >= 8)
    wide = tuple(v for c, v in ratios.items() if c >= first8)
    return [
        Claim(
            question=4,
            part="c",
            key="separable-cost",
            claim="Standard H·W·C_in·C_out·k²; depthwise separable H·W·C_in·k² + H·W·C_in·C_out",
            exam_value="H·W·C_in·k² + H·W·C_in·C_out",
            archcalc_value=f"{formula(std.macs)}; {formula(dws.macs)}",
            readings=(
                Reading(
                    name="standard; separable",
                    exam=(H * W * Ci * Co * k**2, H * W * Ci * k**2 + H * W * Ci * Co),
                    archcalc=(std.macs, dws.macs),
                ),
            ),
            reason="MACs of a k×k depthwise conv then a 1×1 pointwise conv",
            how="Conv2d(C_in, C_out, k) vs Conv2d(C_in, C_in, k, groups=C_in) + Conv2d(C_in, "
            "C_out, 1), 'same' padding, all symbols: MACs",
        ),
        Claim(
            question=4,
            part="c",
            key="separable-ratio",
            claim="Reduction factor 1/C_out + 1/k²",
            exam_value="1/C_out + 1/k²",
            archcalc_value=formula(sp.together(ratio)),
            readings=(Reading(name="as written", exam=1 / Co + 1 / k**2, archcalc=ratio),),
            reason="",
            how="the two models above: MACs ratio",
        ),
        Claim(
            question=4,
            part="c",
            key="separable-typical",
            claim="Typically an 8-9× reduction",
            exam_value="8-9×",
            archcalc_value=", ".join(f"{times(v, 1)} (C = {c})" for c, v in ratios.items()),
            readings=(
                Reading(
                    name=f"k = 3, C ≥ {first8} (C = 128 … 1024)",
                    exam=(8, 9),
                    archcalc=wide,
                    bound="in",
                ),
            ),
            reason=f"for k = 3 and C_out ≥ {first8}; narrower layers save less, never 9×",
            how="3×3 standard vs separable conv at C_in = C_out = C on 14×14: MACs ratio",
        ),
    ]


def _mobile() -> list[Claim]:
    r50, vgg, mb2 = summary("resnet50"), summary("vgg16"), summary("mobilenet_v2")
    w16 = summary("resnet50", dtype="float16").weights_bytes
    w8 = summary("resnet50", dtype="int8").weights_bytes
    return [
        empirical(
            question=4,
            part="c",
            key="mobilenet-tradeoff",
            claim="MobileNet: 1% accuracy loss for a 10× speedup",
            exam="1% for 10×",
            note=f"in MACs MobileNet-v2 is {times(Fraction(r50.macs, mb2.macs), 1)} cheaper than "
            f"ResNet-50 and {times(Fraction(vgg.macs, mb2.macs), 1)} than VGG-16 — "
            "the factor depends on the baseline",
        ),
        empirical(
            question=4,
            part="c",
            key="pruning-quantization",
            claim="Pruning + quantization: an additional 2-4× speedup",
            exam="2-4×",
            note=f"quantizing float32 weights shrinks them "
            f"{times(Fraction(r50.weights_bytes, w16), 0)} (float16) to "
            f"{times(Fraction(r50.weights_bytes, w8), 0)} (int8); speed depends on hardware",
        ),
        empirical(
            question=4,
            part="c",
            key="pruning-accuracy-loss",
            claim="Pruning + quantization cost < 2% accuracy",
            exam="< 2%",
            note=f"it depends on the model, the pruning ratio and the bit width; archcalc counts "
            f"the {mega(r50.params)} parameters a pruning ratio would remove from, not accuracy",
        ),
    ]
