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
from .graph import Builder as Builder
from .graph import Model as Model
from .graph import Node as Node
from .graph import sequential as sequential
from .heads import apply_head as apply_head
from .layers import (
    GELU as GELU,
)
from .layers import (
    GLOBAL as GLOBAL,
)
from .layers import (
    LAYER_KINDS as LAYER_KINDS,
)
from .layers import (
    AdaptiveAvgPool2d as AdaptiveAvgPool2d,
)
from .layers import (
    Add as Add,
)
from .layers import (
    AvgPool2d as AvgPool2d,
)
from .layers import (
    BatchNorm2d as BatchNorm2d,
)
from .layers import (
    Concat as Concat,
)
from .layers import (
    Conv2d as Conv2d,
)
from .layers import (
    ConvTranspose2d as ConvTranspose2d,
)
from .layers import (
    CoordAugment as CoordAugment,
)
from .layers import (
    Dropout as Dropout,
)
from .layers import (
    Flatten as Flatten,
)
from .layers import (
    GlobalAvgPool as GlobalAvgPool,
)
from .layers import (
    Hardsigmoid as Hardsigmoid,
)
from .layers import (
    Hardswish as Hardswish,
)
from .layers import (
    Identity as Identity,
)
from .layers import (
    Layer as Layer,
)
from .layers import (
    LayerNorm2d as LayerNorm2d,
)
from .layers import (
    LayerScale as LayerScale,
)
from .layers import (
    LeakyReLU as LeakyReLU,
)
from .layers import (
    Linear as Linear,
)
from .layers import (
    MaxPool2d as MaxPool2d,
)
from .layers import (
    Mul as Mul,
)
from .layers import (
    ReLU as ReLU,
)
from .layers import (
    ReLU6 as ReLU6,
)
from .layers import (
    Sigmoid as Sigmoid,
)
from .layers import (
    SiLU as SiLU,
)
from .layers import (
    StochasticDepth as StochasticDepth,
)
from .layers import (
    Tanh as Tanh,
)
from .layers import (
    Upsample as Upsample,
)
from .shapes import symbol as symbol
from .summary import Summary as Summary
from .summary import load_model as load_model
from .summary import summary as summary

__version__ = "0.1.0"
