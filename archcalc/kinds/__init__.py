"""The registry of layer kinds: every kind is one frozen dataclass in one module of this package.

A kind's class holds everything about it (see :class:`~archcalc.kinds._base.Layer`); the engine,
the conventions, the torch bridge, the spec files and the docs read :data:`LAYER_KINDS`.

>>> LAYER_KINDS["Conv2d"].__module__
'archcalc.kinds.conv'
"""

from __future__ import annotations

from ._base import GLOBAL, LAYER_KINDS, NO_INPUT, Extra, Layer, layer_from_dict, register
from .activation import (
    GELU,
    Hardsigmoid,
    Hardswish,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Tanh,
)
from .arith import Scale, Shift, Sub
from .attention import MultiheadAttention, TimmAttention
from .channels import ChannelShuffle, Slice
from .conv import Conv1d, Conv2d, Conv2dSame, ConvTranspose2d, StdConv2d
from .coord import CoordAugment
from .fused import Addcmul
from .linear import Linear, LinearBiasInput
from .merge import Add, Concat, Mul
from .norm import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LayerNorm2d,
    RMSNorm,
    RMSNorm2d,
)
from .pad import Pad
from .pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    BlurPool2d,
    GlobalAvgPool,
    MaxPool1d,
    MaxPool2d,
)
from .regularize import Dropout, LayerScale, StochasticDepth
from .resample import Resize, Upsample
from .reshape import Flatten
from .tensor import (
    Assign,
    Cat,
    Constant,
    Expand,
    Index,
    Narrow,
    PadAxes,
    Param,
    Permute,
    PerRow,
    Repeat,
    Reshape,
    Roll,
    Select,
    Shared,
    Stack,
)
from .tensor_math import (
    Clamp,
    Div,
    Einsum,
    MaskedScaledDotProductAttention,
    Matmul,
    Normalize,
    Pow,
    Reduce,
    ScaledDotProductAttention,
    Softmax,
    Unary,
)
from .tokens import ClassToken, PositionEmbedding, SelectToken, Tokens
from .unfold import Fold, Unfold
from .window import (
    PartitionAttention,
    PatchMerging,
    PatchMergingV2,
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
    TimmSwinBlock,
    TimmSwinV2Block,
    TimmSwinV2CrBlock,
    Windows,
)

__all__ = [
    "Layer",
    "LAYER_KINDS",
    "GLOBAL",
    "NO_INPUT",
    "Extra",
    "register",
    "layer_from_dict",
    "Slice",
    "ChannelShuffle",
    "Pad",
    "Sub",
    "Scale",
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "BatchNorm2d",
    "LayerNorm2d",
    "GroupNorm",
    "Identity",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "SiLU",
    "GELU",
    "Sigmoid",
    "Hardswish",
    "Hardsigmoid",
    "Tanh",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "GlobalAvgPool",
    "Flatten",
    "Dropout",
    "StochasticDepth",
    "LayerScale",
    "Upsample",
    "CoordAugment",
    "Add",
    "Concat",
    "Mul",
    "Tokens",
    "ClassToken",
    "PositionEmbedding",
    "SelectToken",
    "MultiheadAttention",
    "TimmAttention",
    "LayerNorm",
    "Conv1d",
    "BatchNorm1d",
    "AdaptiveMaxPool2d",
    "StdConv2d",
    "RMSNorm",
    "RMSNorm2d",
    "Unfold",
    "Fold",
    "Resize",
    "BlurPool2d",
    "AvgPool1d",
    "MaxPool1d",
    "Addcmul",
    "Conv2dSame",
    "ShiftedWindowAttention",
    "ShiftedWindowAttentionV2",
    "PatchMerging",
    "PatchMergingV2",
    "Windows",
    "PartitionAttention",
    "TimmSwinBlock",
    "TimmSwinV2Block",
    "TimmSwinV2CrBlock",
    "Matmul",
    "Einsum",
    "Softmax",
    "Reduce",
    "Normalize",
    "ScaledDotProductAttention",
    "MaskedScaledDotProductAttention",
    "Div",
    "Pow",
    "Shift",
    "Unary",
    "Clamp",
    "LinearBiasInput",
    "Permute",
    "Reshape",
    "Narrow",
    "Select",
    "Index",
    "Cat",
    "Stack",
    "Roll",
    "Param",
    "Constant",
    "Expand",
    "Repeat",
    "PadAxes",
    "Assign",
    "PerRow",
    "Shared",
]
