"""archcalc: an exact analytic calculator of CNN cost and receptive fields.

>>> import archcalc
>>> archcalc.summary("alexnet").params
61100840

Public surface: :func:`summary`, the layer specs, :class:`Builder`/:func:`sequential`/
:class:`Model`, the zoo, the spec-file loader and the error family. torch is never imported
here (see :mod:`archcalc.torch`), sympy only for symbolic work.
"""

from __future__ import annotations

from . import zoo as zoo
from ._errors import (
    ArchcalcError as ArchcalcError,
)
from ._errors import (
    FileFormatError as FileFormatError,
)
from ._errors import (
    OptionError as OptionError,
)
from ._errors import (
    ShapeError as ShapeError,
)
from ._errors import (
    SpecError as SpecError,
)
from ._errors import (
    UnknownModelError as UnknownModelError,
)
from ._errors import (
    UnsupportedError as UnsupportedError,
)
from .engine.graph import Builder as Builder
from .engine.graph import Model as Model
from .engine.graph import Node as Node
from .engine.graph import sequential as sequential
from .engine.heads import apply_head as apply_head
from .engine.shapes import symbol as symbol
from .kinds import (
    GELU as GELU,
)
from .kinds import (
    GLOBAL as GLOBAL,
)
from .kinds import (
    LAYER_KINDS as LAYER_KINDS,
)
from .kinds import (
    AdaptiveAvgPool2d as AdaptiveAvgPool2d,
)
from .kinds import (
    Add as Add,
)
from .kinds import (
    AvgPool2d as AvgPool2d,
)
from .kinds import (
    BatchNorm2d as BatchNorm2d,
)
from .kinds import (
    Concat as Concat,
)
from .kinds import (
    Conv2d as Conv2d,
)
from .kinds import (
    ConvTranspose2d as ConvTranspose2d,
)
from .kinds import (
    CoordAugment as CoordAugment,
)
from .kinds import (
    Dropout as Dropout,
)
from .kinds import (
    Flatten as Flatten,
)
from .kinds import (
    GlobalAvgPool as GlobalAvgPool,
)
from .kinds import (
    Hardsigmoid as Hardsigmoid,
)
from .kinds import (
    Hardswish as Hardswish,
)
from .kinds import (
    Identity as Identity,
)
from .kinds import (
    Layer as Layer,
)
from .kinds import (
    LayerNorm2d as LayerNorm2d,
)
from .kinds import (
    LayerScale as LayerScale,
)
from .kinds import (
    LeakyReLU as LeakyReLU,
)
from .kinds import (
    Linear as Linear,
)
from .kinds import (
    MaxPool2d as MaxPool2d,
)
from .kinds import (
    Mul as Mul,
)
from .kinds import (
    ReLU as ReLU,
)
from .kinds import (
    ReLU6 as ReLU6,
)
from .kinds import (
    Sigmoid as Sigmoid,
)
from .kinds import (
    SiLU as SiLU,
)
from .kinds import (
    StochasticDepth as StochasticDepth,
)
from .kinds import (
    Tanh as Tanh,
)
from .kinds import (
    Upsample as Upsample,
)
from .summary import Summary as Summary
from .summary import load_model as load_model
from .summary import summary as summary

__version__ = "0.1.0"
