"""Resolving a model argument: a :class:`Model`, a zoo name, a spec file or a Python factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import UnknownModelError
from ..engine.graph import Model

__all__ = ["load_model"]


def load_model(model: Model | str, input: Any = None) -> Model:
    """A :class:`Model`, a zoo name, the path of a spec file (``.yaml``/``.yml``/``.toml``/
    ``.json``), or a Python factory ``path/to/file.py:factory`` returning an ``nn.Module``
    (traced with torch at ``input``; needs the torch extra)."""
    if isinstance(model, Model):
        return model
    if isinstance(model, str) and ".py:" in model:
        from ..torch.factory import load_python_factory

        return load_python_factory(model, input)
    if not isinstance(model, str):
        raise UnknownModelError(f"model = {model!r}: give a zoo name, a spec file or a Model")
    from .. import zoo

    if model in zoo.names():
        return zoo.get(model)
    path = Path(model)
    if path.suffix.lower() in (".yaml", ".yml", ".toml", ".json") or path.exists():
        from .specfile import load_spec

        return load_spec(path)
    raise UnknownModelError(zoo.unknown_message(model))
