"""Resolving a model argument: a :class:`Model`, a zoo name, a spec file or a Python factory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import OptionError, UnknownModelError
from ..engine.graph import Model

__all__ = ["load_model", "resolve_model", "Resolved"]


@dataclass(frozen=True)
class Resolved:
    """A resolved model argument: the model, and what a partial import of a
    ``file.py:factory`` left out (:class:`archcalc.torch.importer.Gap` records: ``op``,
    ``where`` — module path, call and source line —, ``reason``, ``action``); empty for
    every other model."""

    model: Model
    gaps: tuple[Any, ...] = ()


def resolve_model(model: Model | str, input: Any = None, *, partial: bool = False) -> Resolved:
    """Like :func:`load_model`, with the gaps of a ``partial`` import (``partial`` matters
    for ``file.py:factory`` only: a torch operation archcalc cannot map becomes a listed gap,
    an ``Identity`` placeholder or the end of the model, instead of an error)."""
    if isinstance(model, str) and ".py:" in model:
        from ..torch.factory import import_python_factory

        return Resolved(*import_python_factory(model, input, partial=partial))
    return Resolved(load_model(model, input))


def load_model(model: Model | str, input: Any = None, *, partial: bool = False) -> Model:
    """A :class:`Model`, a zoo name, the path of a spec file (``.yaml``/``.yml``/``.toml``/
    ``.json``), or a Python factory ``path/to/file.py:factory`` returning an ``nn.Module``
    (traced with torch at ``input``; needs the torch extra; ``partial``: see
    :func:`resolve_model`)."""
    if isinstance(model, Model):
        return model
    if isinstance(model, str) and ".py:" in model:
        from ..torch.factory import load_python_factory

        return load_python_factory(model, input, partial=partial)
    if not isinstance(model, str):
        raise OptionError(
            argument="model",
            value=model,
            reason="give a zoo name, a spec file, path/to/file.py:factory or a Model",
            wrong_type=True,
        )
    from .. import zoo

    if model in zoo.names():
        return zoo.get(model)
    path = Path(model)
    if path.suffix.lower() in (".yaml", ".yml", ".toml", ".json") or path.exists():
        from .specfile import load_spec

        return load_spec(path)
    raise UnknownModelError(zoo.unknown_message(model))
