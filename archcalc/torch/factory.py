"""``path/to/file.py:factory`` as a MODEL argument: build an ``nn.Module`` from a Python file
and import it with :func:`archcalc.torch.importer.from_torch`.

The file is imported by path (its folder is put on ``sys.path`` while it runs, so it can
import its neighbours), ``factory`` is called with no arguments and must return an
``nn.Module`` (or an archcalc :class:`~archcalc.engine.graph.Model`, taken as it is). The module
is traced at ``input_shape`` when that is numeric (``"3x64x64"``, ``(3, 64, 64)``,
``"64x64"``, ``64``); otherwise — ``None`` or a symbolic size such as ``"3xHxW"`` — at the
module's ``input_shape`` attribute, else the file's ``INPUT_SHAPE``, else ``(3, 224, 224)``.
A symbolic analysis then runs on the imported layers, which hold no input size (except
what the module fixes itself: a ``Linear`` after a flatten, an interpolation to a size).

With ``partial=True`` an operation archcalc cannot map becomes a gap instead of an error
(:func:`archcalc.torch.importer.import_torch`): :func:`import_python_factory` returns the model
and the gaps (:class:`~archcalc.torch.importer.Gap`: the operation, where it is called, why,
and what stands in for it).

Results are cached per file, modification time, factory, shape and ``partial``. torch is
imported only when such a MODEL is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._errors import ArchcalcError, FileFormatError, OptionError, UnknownModelError
from ..engine.graph import Model

__all__ = ["load_python_factory", "import_python_factory", "is_python_factory", "DEFAULT_INPUT"]

#: where a factory is traced when neither the call, the module nor the file gives a size
DEFAULT_INPUT = (3, 224, 224)


def is_python_factory(spec: object) -> bool:
    """Whether a MODEL argument names a Python factory (``file.py:factory``)."""
    return isinstance(spec, str) and ".py:" in spec


def _split(spec: str) -> tuple[Path, str]:
    path, sep, factory = spec.rpartition(":")
    if not sep or not path.endswith(".py") or not factory.isidentifier():
        raise OptionError(
            f"model = {spec!r}: write path/to/file.py:factory, a Python file and the name of "
            f"a function in it that returns an nn.Module"
        )
    return Path(path), factory


def _numeric(input_shape: Any, default: tuple[int, ...]) -> tuple[int, ...] | None:
    """``input_shape`` as ints (``HxW`` takes the default's channels), or None if it has a
    symbolic size or is None."""
    if input_shape is None:
        return None
    if isinstance(input_shape, str):
        parts: list[Any] = re.split(r"[xX×]", input_shape.strip())
    elif isinstance(input_shape, int):
        parts = [input_shape]
    else:
        parts = list(input_shape)
    vals: list[int] = []
    for p in parts:
        if isinstance(p, str) and p.strip().isdigit():
            p = int(p.strip())
        if isinstance(p, bool) or not isinstance(p, int):
            return None
        vals.append(p)
    if len(vals) == 1:
        vals = [vals[0], vals[0]]
    if len(vals) == 2 and len(default) == 3:
        vals = [default[0], *vals]
    return tuple(vals)


def _import_file(path: Path) -> Any:
    key = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    mod_name = f"_archcalc_factory_{path.stem}_{key}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise FileFormatError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    folder = str(path.parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except ArchcalcError:
        raise
    except BaseException as e:
        sys.modules.pop(mod_name, None)
        raise FileFormatError(f"{path}: importing it failed: {type(e).__name__}: {e}") from None
    finally:
        with contextlib.suppress(ValueError):  # the file may have removed it itself
            sys.path.remove(folder)
    return module


@lru_cache(maxsize=32)
def _load(
    path: Path, mtime: int, factory: str, input_shape: Any, partial: bool
) -> tuple[Model, tuple[Any, ...]]:
    module = _import_file(path)
    fn = getattr(module, factory, None)
    if fn is None or not callable(fn):
        names = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        raise UnknownModelError(
            f"{path}: has no function '{factory}'"
            + (f"; callables in it: {', '.join(names)}" if names else "")
        )
    try:
        built = fn()
    except ArchcalcError:
        raise
    except Exception as e:
        raise FileFormatError(f"{path}:{factory}() failed: {type(e).__name__}: {e}") from None
    if isinstance(built, Model):
        return built, ()
    import torch.nn as nn

    if not isinstance(built, nn.Module):
        raise FileFormatError(
            f"{path}:{factory}() returned {type(built).__name__}, not an nn.Module"
        )
    default = getattr(built, "input_shape", None) or getattr(module, "INPUT_SHAPE", None)
    default_shape = _numeric(default, DEFAULT_INPUT) if default is not None else None
    if default is not None and default_shape is None:
        raise OptionError(f"{path}: input_shape {default!r} must be integers, e.g. (3, 224, 224)")
    base = default_shape or DEFAULT_INPUT
    trace_at = _numeric(input_shape, base) or base
    from .importer import import_torch

    got = import_torch(built, trace_at, name=f"{path.stem}:{factory}", partial=partial)
    return got.model, got.gaps


def import_python_factory(
    spec: str, input_shape: Any = None, *, partial: bool = False
) -> tuple[Model, tuple[Any, ...]]:
    """The archcalc model of ``path/to/file.py:factory`` traced at ``input_shape`` (see the
    module docstring for the defaults), and the operations a ``partial`` import left out
    (:class:`~archcalc.torch.importer.Gap`; none without ``partial``). Errors are
    :class:`~archcalc.ArchcalcError`: a missing file or function, a file or factory that
    raises, a result that is not an ``nn.Module``, an operation archcalc cannot map (unless
    ``partial``)."""
    path, factory = _split(spec)
    if not path.is_file():
        raise UnknownModelError(f"model = {spec!r}: no such file {str(path)!r}")
    resolved = path.resolve()
    key = tuple(input_shape) if isinstance(input_shape, list) else input_shape
    return _load(resolved, resolved.stat().st_mtime_ns, factory, key, bool(partial))


def load_python_factory(spec: str, input_shape: Any = None, *, partial: bool = False) -> Model:
    """The model of :func:`import_python_factory` (a partial import's gaps are listed in
    its ``description``)."""
    return import_python_factory(spec, input_shape, partial=partial)[0]
