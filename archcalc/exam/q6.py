"""Question 6: saliency methods — their cost in passes, windows and memory."""

from __future__ import annotations

from fractions import Fraction

from archcalc import summary

from ._claim import Claim, Reading, empirical, n, times
from .figures import window_count

__all__ = ["claims"]


#: integration steps: 6(a) says 20-300, 6(c) m = 50-300
STEPS_A, STEPS_C = (20, 300), (50, 300)
#: the occlusion example of 6(c): H = W = 224, window w = 32, stride s = 8
SIZE, WINDOW, STRIDE = 224, 32, 8
#: the runtime table's figures are orders of magnitude: within 50%
ORDER = Fraction(1, 2)
#: the gradient and occlusion of 6(c) run in batches of this many (its "Batch Size")
BATCH = 32


def claims() -> list[Claim]:
    return [_ig_steps(), _resolution(), *_costs(), *_tables(), *_space()]


def _ig_steps() -> Claim:
    return Claim(
        question=6,
        part="a",
        key="ig-steps",
        claim="Integrated gradients require typically 20-300 steps",
        exam_value="20-300",
        archcalc_value="50-300 in 6(c)",
        readings=(Reading(name="against 6(c)'s m = 50-300", exam=STEPS_A, archcalc=STEPS_C),),
        reason="the two answers give different ranges for the same m (the cost is m gradients "
        "either way: 20-300× or 50-300×); 6(c) is audited with its own 50-300",
        how="the exam against itself: 6(a)'s range vs 6(c)'s",
    )


def _resolution() -> Claim:
    dense = window_count(SIZE, WINDOW, 1) ** 2
    tiled = window_count(SIZE, WINDOW, WINDOW) ** 2
    exam = Fraction(SIZE * SIZE, WINDOW * WINDOW)
    return Claim(
        question=6,
        part="b",
        key="occlusion-resolution",
        claim="Resolution(w) = Image Size / w²",
        exam_value=f"{exam} at 224², w = 32",
        archcalc_value=f"{tiled} windows at stride w; {n(dense)} at stride 1",
        readings=(
            Reading(name="non-overlapping windows (stride w)", exam=exam, archcalc=tiled),
            Reading(name="stride 1, the answer's 'maximum resolution'", exam=exam, archcalc=dense),
        ),
        reason="the number of windows, (H/w)², only when they tile the image; the map's "
        "resolution is set by the stride: ⌊(H − w)/s⌋ + 1 positions per axis",
        how="MaxPool2d(w, stride) on 224×224 for s = w and s = 1: output positions",
    )


def _costs() -> list[Claim]:
    f = summary("alexnet").macs
    grad = 2 * f  # one forward + one backward to the input (a transposed pass, same MACs)
    ig = tuple(Fraction(2 * m * f, grad) for m in STEPS_C)
    n224 = window_count(SIZE, WINDOW, STRIDE)
    exam_n = Fraction(SIZE - WINDOW, STRIDE) ** 2
    small = next(
        (h, w, s)
        for h in range(1, 5)
        for w in range(1, h + 1)
        for s in range(1, h + 1)
        if Fraction(h - w, s) ** 2 != window_count(h, w, s) ** 2
    )
    occ = (n224 * n224 + 1) * f
    return [
        Claim(
            question=6,
            part="c",
            key="gradient-cost",
            claim="Gradient saliency: O(Forward + Backward) = O(2 × Forward)",
            exam_value="2 × forward",
            archcalc_value=f"{n(grad)} MACs = 2 × forward (input gradients only); {n(3 * f)} = "
            "3 × with weight gradients",
            readings=(
                Reading(
                    name="input gradients only (weights frozen)", exam=2, archcalc=Fraction(grad, f)
                ),
                Reading(
                    name="with weight gradients, autograd's default",
                    exam=2,
                    archcalc=Fraction(3 * f, f),
                ),
            ),
            reason="a backward pass to the input mirrors every conv/linear (the forward's MACs); "
            "autograd also computes weight gradients unless the parameters are frozen",
            how="summary('alexnet').macs; backward = the transposed convs (FLOPs checked in torch)",
        ),
        Claim(
            question=6,
            part="c",
            key="ig-cost",
            claim="Integrated gradients: m = 50-300 steps, so 50-600× slower than simple gradients",
            exam_value="50-600×",
            archcalc_value=f"{times(ig[0], 0)}-{times(ig[1], 0)}",
            readings=(Reading(name="m = 50 and m = 300", exam=(50, 600), archcalc=ig),),
            reason="m forward and m backward passes cost m times one gradient: the upper end is "
            "300×, not 600×",
            how="AlexNet: m·(forward + backward) MACs / (forward + backward) MACs",
        ),
        Claim(
            question=6,
            part="c",
            key="occlusion-windows",
            claim="Occlusion windows: N = (H − w)/s × (W − w)/s",
            exam_value=f"{exam_n} at H = W = 224, w = 32, s = 8 (the formula evaluated)",
            archcalc_value=n224 * n224,
            readings=(
                Reading(name="H = W = 224, w = 32, s = 8", exam=exam_n, archcalc=n224 * n224),
            ),
            reason="off by one per axis: ⌊(H − w)/s⌋ + 1 positions (the window at 0 counts)",
            how="MaxPool2d(w, stride=s) on H×W: output positions",
            counterexample=f"H = W = {small[0]}, w = {small[1]}, s = {small[2]}: "
            f"{window_count(*small) ** 2} window, the formula gives "
            f"{Fraction(small[0] - small[1], small[2]) ** 2}",
        ),
        Claim(
            question=6,
            part="c",
            key="occlusion-cost",
            claim="Occlusion time: O(N_windows × Forward)",
            exam_value="N × forward",
            archcalc_value=f"(N + 1) × forward = {n(occ)} MACs for 224², w = 32, s = 8",
            readings=(
                Reading(
                    name="MACs, up to the lower-order term (within 1%)",
                    exam=n224 * n224 * f,
                    archcalc=occ,
                    tolerance=Fraction(1, 100),
                    relative=True,
                ),
            ),
            reason="plus one unoccluded pass for f(x); no backward pass",
            how="summary('alexnet').macs × (window count + 1)",
        ),
    ]


def _tables() -> list[Claim]:
    alex = summary("alexnet")
    f = alex.macs
    grad = 2 * f
    m100 = Fraction(2 * 100 * f, grad)
    settings = ((16, 4), (32, 8), (32, 16))
    occlusion = {ws: Fraction((window_count(SIZE, *ws) ** 2 + 1) * f, grad) for ws in settings}
    saved = alex.memory.saved_for_backward_bytes + alex.memory.input_bytes
    peak = alex.memory.peak_inference_bytes
    return [
        Claim(
            question=6,
            part="c",
            key="table-ig-runtime",
            claim="Runtime table: integrated gradients 100×",
            exam_value="100×",
            archcalc_value=times(m100, 0) + " at m = 100",
            readings=(Reading(name="m = 100 steps", exam=100, archcalc=m100),),
            reason="m× a gradient, so 100× means m = 100 steps",
            how="as for the IG cost above",
        ),
        Claim(
            question=6,
            part="c",
            key="table-occlusion-runtime",
            claim="Runtime table: occlusion 1000×",
            exam_value="1000×",
            archcalc_value="; ".join(
                f"w = {w}, s = {s}: {window_count(SIZE, w, s) ** 2} windows, {times(r, 0)}"
                for (w, s), r in occlusion.items()
            ),
            readings=tuple(
                Reading(
                    name=f"w = {w}, s = {s}, within 50%",
                    exam=1000,
                    archcalc=r,
                    tolerance=ORDER,
                    relative=True,
                )
                for (w, s), r in occlusion.items()
            ),
            reason="(N + 1)/2 gradients for N windows: 1000× needs about 2000 windows — the "
            "window and stride are left open",
            how="AlexNet at 224²: (windows + 1) × forward MACs / gradient MACs",
        ),
        Claim(
            question=6,
            part="c",
            key="table-memory",
            claim="Memory table: gradients, integrated gradients and occlusion all 1×",
            exam_value="1×, 1×, 1×",
            archcalc_value=f"gradient {n(saved)} B; occlusion one window at a time {n(peak)} B "
            f"({times(Fraction(peak, saved))})",
            readings=(
                Reading(
                    name="integrated gradients, one step at a time",
                    exam=1,
                    archcalc=Fraction(saved, saved),
                ),
                Reading(
                    name="occlusion, one window at a time", exam=1, archcalc=Fraction(peak, saved)
                ),
            ),
            reason="holds for IG one step at a time; occlusion needs no backward, so only the "
            "inference peak; batching the m steps or N windows multiplies either",
            how="summary('alexnet'): saved-for-backward + input bytes vs peak_inference_bytes",
        ),
        empirical(
            question=6,
            part="c",
            key="table-quality",
            claim="Quality: integrated gradients +15%, occlusion +25% over gradients",
            exam="+15%; +25%",
            note="neither the quality metric nor the data set is named",
        ),
    ]


def _space() -> list[Claim]:
    alex = summary("alexnet")
    weights = alex.weights_bytes
    saliency = alex.memory.saved_for_backward_bytes + alex.memory.input_bytes
    batched = summary("alexnet", batch=BATCH)
    occlusion = batched.weights_bytes + batched.memory.peak_inference_bytes
    return [
        Claim(
            question=6,
            part="c",
            key="gradient-space",
            claim="Gradient methods: space O(Model Parameters) for gradient storage",
            exam_value="O(parameters)",
            archcalc_value=f"{n(saliency)} B kept for the input gradient (activations + the "
            f"gradient itself); {n(weights)} B of weight gradients if the weights are not frozen",
            readings=(
                Reading(
                    name="input gradients only: what backward keeps, within 10%",
                    exam=weights,
                    archcalc=saliency,
                    tolerance=Fraction(1, 10),
                    relative=True,
                ),
                Reading(
                    name="autograd's default, weight gradients too, within 10%",
                    exam=weights,
                    archcalc=weights + saliency,
                    tolerance=Fraction(1, 10),
                    relative=True,
                ),
            ),
            reason="a saliency map needs the activations saved for backward and one input-sized "
            "gradient; parameter-sized storage appears only when autograd also computes weight "
            "gradients it does not need (AlexNet, float32)",
            how="summary('alexnet'): saved-for-backward + input bytes; weights_bytes",
        ),
        Claim(
            question=6,
            part="c",
            key="occlusion-space",
            claim="Occlusion: space O(Batch Size × Model Size)",
            exam_value="O(batch × model size)",
            archcalc_value=f"{n(occlusion)} B for {BATCH} windows at once: the weights once "
            f"({n(batched.weights_bytes)} B) + the inference peak",
            readings=(
                Reading(
                    name=f"{BATCH} windows in a batch, within 10%",
                    exam=BATCH * weights,
                    archcalc=occlusion,
                    tolerance=Fraction(1, 10),
                    relative=True,
                ),
            ),
            reason="a batch shares one copy of the weights; what grows with the batch is the "
            "activations: O(model size + batch × activations)",
            how=f"summary('alexnet', batch={BATCH}): weights_bytes + peak_inference_bytes",
        ),
    ]
