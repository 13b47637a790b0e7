"""Question 5: transfer learning — layer-wise learning rates."""

from __future__ import annotations

from fractions import Fraction

from archcalc import summary

from ._claim import Claim, Reading, empirical, rate
from .figures import layer_rates, stage_names

__all__ = ["claims"]


#: Q7(a)'s rates, used by 5(a) as the example: η0 = 10^-3, α = 0.1
ETA0, ALPHA = Fraction(1, 1000), Fraction(1, 10)


def claims() -> list[Claim]:
    stages = stage_names(summary("exam_q7a").model)
    depth = len(stages)
    rates = layer_rates(depth, ETA0, ALPHA)
    closed = tuple(ETA0 * ALPHA ** (depth - lv) for lv in range(1, depth + 1))
    need = {layers: 2 / (layers - 1) for layers in range(3, 8)}
    alphas = ", ".join(f"L = {layers}: α = {10**-e:.3f}" for layers, e in need.items())
    three = layer_rates(3, ETA0, ALPHA)
    return [
        Claim(
            question=5,
            part="a",
            key="layerwise-lr",
            claim="η_l = η0·α^(L−l) with α < 1: the last layer gets η0, earlier layers less",
            exam_value="η_L = η0, η_l < η_(l+1)",
            archcalc_value=", ".join(f"{s}: {rate(r)}" for s, r in zip(stages, rates)),
            readings=(
                Reading(
                    name="the closed form against the recurrence",
                    exam=closed,
                    archcalc=tuple(rates),
                ),
            ),
            reason="each layer gets α times the rate of the layer after it (η0 = 10^-3, α = 0.1 "
            "over exam_q7a's stages)",
            how="the stages of summary('exam_q7a'), rates by the recurrence η_(l−1) = α·η_l",
        ),
        empirical(
            question=5,
            part="b",
            key="transferability-figures",
            claim="Early layers > 90% transferability, later layers < 50%",
            exam="> 90%; < 50%",
            note="the metric (CKA, linear probing) and the tasks are not fixed either",
        ),
        empirical(
            question=5,
            part="c",
            key="high-lr-disrupts",
            claim="Learning rates > 10^-2 cause an accuracy drop and slower convergence",
            exam="> 10^-2",
            note="it depends on the optimizer, the batch size and the pretrained model",
        ),
        Claim(
            question=5,
            part="c",
            key="lr-endpoints",
            claim="Start with η_1 = 10^-5 and η_L = 10^-3",
            exam_value="η_1 = 10^-5, η_L = 10^-3",
            archcalc_value=alphas,
            readings=(
                Reading(
                    name=f"Q7(a)'s {depth} stages at its α = 0.1",
                    exam=(Fraction(1, 10**5), Fraction(1, 10**3)),
                    archcalc=(rates[0], rates[-1]),
                ),
                Reading(
                    name="L = 3 layers at α = 0.1",
                    exam=(Fraction(1, 10**5), Fraction(1, 10**3)),
                    archcalc=(three[0], three[-1]),
                ),
            ),
            reason=f"consistent with η_l = η0·α^(L−l) iff α^(L−1) = 1/100 — the question leaves "
            f"L open; for Q7(a)'s {depth} stages α = {10 ** -(2 / (depth - 1)):.3f}, yet Q7(a) "
            f"itself uses α = 0.1, which gives η_1 = {rate(rates[0])}",
            how="the recurrence above; α = 10^(−2/(L−1))",
        ),
    ]
