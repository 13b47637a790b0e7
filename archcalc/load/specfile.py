"""User models in files: YAML (read with ``yaml.safe_load``) or TOML (``tomllib``).

A spec file has a ``name``, an ``input`` ``[C, H, W]``, a list of ``layers`` and optionally
``output`` and ``features`` (layer names). Each layer is a mapping with a ``kind`` (a name
from :data:`archcalc.kinds.LAYER_KINDS`), its fields, an optional ``name`` (default: its
position, as ``nn.Sequential`` names layers) and optional ``inputs`` (default: the layer
before; ``input`` is the model input)::

    name: tiny-resnet
    input: [3, 32, 32]
    layers:
      - {name: conv1, kind: Conv2d, in_channels: 3, out_channels: 16, kernel_size: 3, padding: 1}
      - {name: relu1, kind: ReLU}
      - {name: conv2, kind: Conv2d, in_channels: 16, out_channels: 16, kernel_size: 3, padding: 1}
      - {name: add, kind: Add, inputs: [conv2, relu1]}
      - {name: pool, kind: GlobalAvgPool}
      - {name: flat, kind: Flatten}
      - {name: fc, kind: Linear, in_features: 16, out_features: 10}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import ArchcalcError, FileFormatError, UnknownModelError
from ..engine.graph import INPUT, Model, Node
from ..kinds import layer_from_dict

__all__ = ["load_spec", "model_from_dict", "model_to_dict"]


def load_spec(path: str | Path) -> Model:
    """Read a model from a ``.yaml``/``.yml``/``.toml``/``.json`` file."""
    p = Path(path)
    if not p.is_file():
        raise UnknownModelError(
            f"model = '{path}': no such file, and not a zoo name; `archcalc models` lists the zoo"
        )
    text = p.read_text(encoding="utf-8")
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix == ".json":
            import json

            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # parser errors of three libraries; report them uniformly
        msg = str(e).strip().splitlines()
        raise FileFormatError(
            f"{p.name}: not valid {suffix.lstrip('.').upper()}: "
            f"{' '.join(x.strip() for x in msg[:3])}"
        ) from None
    try:
        return model_from_dict(data, default_name=p.stem)
    except ArchcalcError as e:
        raise e.with_context(p.name) from None


def model_from_dict(data: Any, default_name: str = "model") -> Model:
    """Build a :class:`Model` from the plain data of a spec file."""
    if not isinstance(data, dict):
        raise FileFormatError("the file must be a mapping with a 'layers' list")
    known = {"name", "input", "layers", "output", "features", "description"}
    extra = set(data) - known
    if extra:
        raise FileFormatError(
            f"unknown top-level key(s) {', '.join(sorted(extra))}; valid: {', '.join(sorted(known))}"
        )
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise FileFormatError("'layers' must be a non-empty list of layer mappings")
    shape = data.get("input", [3, 224, 224])
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise FileFormatError(f"input = {shape!r}: must be [C, H, W], three positive integers")
    nodes = []
    prev = INPUT
    for i, d in enumerate(layers):
        name = d.get("name", str(i)) if isinstance(d, dict) else str(i)
        try:
            if not isinstance(d, dict):
                raise FileFormatError(f"must be a mapping with a 'kind', got {d!r}")
            layer = layer_from_dict(d)
            inputs = d.get("inputs", [prev])
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
                raise FileFormatError(f"inputs = {inputs!r}: must be a list of layer names")
        except ArchcalcError as e:
            raise e.with_context(f"layer {i} '{name}'") from None
        nodes.append(Node(str(name), layer, tuple(inputs)))
        prev = str(name)
    return Model(
        name=str(data.get("name", default_name)),
        nodes=tuple(nodes),
        input_shape=tuple(shape),
        output=str(data.get("output", prev)),
        features=data.get("features"),
        description=str(data.get("description", "")),
    )


def model_to_dict(model: Model) -> dict[str, Any]:
    """The inverse of :func:`model_from_dict` (plain data, ready for YAML or JSON)."""
    return {
        "name": model.name,
        "input": list(model.input_shape),
        "output": model.output,
        **({"features": model.features} if model.features else {}),
        "layers": [
            {"name": n.name, **n.layer.to_dict(), "inputs": list(n.inputs)} for n in model.nodes
        ],
    }
