"""archcalc: an exact analytic calculator of CNN cost and receptive fields.

>>> import archcalc
>>> archcalc.summary("alexnet").params
61100840

Public surface: :func:`summary`, the layer specs, :class:`Builder`/:func:`sequential`/
:class:`Model`, the zoo, the spec-file loader and the error family. torch is never imported
here (see :mod:`archcalc.torch`), sympy only for symbolic work.
"""

from __future__ import annotations

from . import report as report
from . import zoo as zoo
from ._errors import (
    ArchcalcError,
    FileFormatError,
    MissingDependencyError,
    OptionError,
    ShapeError,
    SpecError,
    UnknownModelError,
    UnsupportedError,
)
from .engine.graph import Builder, Model, Node, sequential
from .engine.heads import apply_head
from .engine.shapes import symbol
from .engine.training import FitResult, TrainingReport, fit_batch, fit_input, training_step
from .kinds import (
    GELU,
    GLOBAL,
    LAYER_KINDS,
    AdaptiveAvgPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    ChannelShuffle,
    ClassToken,
    Concat,
    Conv2d,
    ConvTranspose2d,
    CoordAugment,
    Dropout,
    Extra,
    Flatten,
    GlobalAvgPool,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Identity,
    Layer,
    LayerNorm,
    LayerNorm2d,
    LayerScale,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Mul,
    MultiheadAttention,
    Pad,
    PositionEmbedding,
    ReLU,
    ReLU6,
    Scale,
    SelectToken,
    Sigmoid,
    SiLU,
    Slice,
    StochasticDepth,
    Sub,
    Tanh,
    TimmAttention,
    Tokens,
    Upsample,
)
from .load.resolve import load_model
from .summary import Summary, summary

__version__ = "0.2.0"

__all__ = [
    "summary",
    "Summary",
    "load_model",
    "apply_head",
    "symbol",
    "training_step",
    "fit_batch",
    "fit_input",
    "TrainingReport",
    "FitResult",
    "Builder",
    "Model",
    "Node",
    "sequential",
    "zoo",
    "report",
    "ArchcalcError",
    "FileFormatError",
    "MissingDependencyError",
    "OptionError",
    "ShapeError",
    "SpecError",
    "UnknownModelError",
    "UnsupportedError",
    "Layer",
    "LAYER_KINDS",
    "GLOBAL",
    "Extra",
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
]
