"""Attention on a batch of sequences folded into axis 0, ``(k, L, E)`` per sample
(MobileViT's patches): the channels are the last axis, whatever L is. Hand-derived.
Not in mutmut's selection (setup.cfg): the fold is newer than the mutated commit."""

from __future__ import annotations

import pytest

from archcalc import ShapeError
from archcalc.kinds import MultiheadAttention, TimmAttention


@pytest.mark.parametrize("kind", [MultiheadAttention, TimmAttention])
def test_folded_sequences_carry_their_channels_last(kind: type) -> None:
    a = kind(6, 3)
    x = ((4, 5, 6),)  # k = 4 sequences of L = 5 tokens of E = 6 channels
    assert a.out_shape(x) == (4, 5, 6)
    # each of the 4 sequences: projections 4·L·E² = 4·5·36, QKᵀ and AV 2·L²·E = 2·25·6
    assert a.macs(x, x[0]) == 4 * (4 * 5 * 36 + 2 * 25 * 6)
    with pytest.raises(ShapeError, match="but the tokens have 7 channels"):
        a.out_shape(((4, 5, 7),))
