"""The torch bridge: the only package of archcalc that imports torch.

``import archcalc`` never loads it; install the extra (``pip install 'archcalc[torch]'``).

* :mod:`.build` — :func:`to_torch` (a runnable module for any model), :func:`measure`, the
  receptive-field probe;
* :mod:`.importer` — :func:`from_torch` / :func:`import_torch` (any ``nn.Module``);
* :mod:`.check` — ``archcalc check``: every figure against torch, fvcore and autograd;
* :mod:`.factory` — ``path/to/file.py:factory`` models;
* :mod:`.groups` — optimizer parameter groups for frozen layers and learning-rate schedules.
"""

from __future__ import annotations

from .build import ArchcalcModule as ArchcalcModule
from .build import measure as measure
from .build import probe_module as probe_module
from .build import rf_by_gradient as rf_by_gradient
from .build import saved_tensors as saved_tensors
from .build import to_torch as to_torch
from .build import torch_layer as torch_layer
from .groups import param_groups as param_groups
from .importer import from_torch as from_torch
from .importer import import_torch as import_torch
