"""User models in files: YAML, TOML or JSON.

A spec file has a ``name``, an ``input`` shape (``[C, H, W]`` for an image model; any rank), a list of ``layers`` and optionally
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

Reading is bounded and strict (docs/specfiles.md lists the limits): a file larger than
:data:`MAX_SPEC_BYTES` (environment ``ARCHCALC_MAX_SPEC_BYTES``) is refused before it is read;
YAML aliases may add at most :data:`MAX_ALIAS_NODES` nodes (``ARCHCALC_MAX_ALIAS_NODES``)
however they nest, so a "billion laughs" file fails in milliseconds; a key given twice in one
mapping is an error in YAML and JSON (TOML forbids it itself); every condition of the file
(missing, a directory, a FIFO, unreadable, not UTF-8, too large) is a one-line
:class:`~archcalc.FileFormatError` naming the path and the reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from .._errors import ArchcalcError, FileFormatError, UnknownModelError
from ..engine.graph import INPUT, VIA, Model, Node
from ..kinds import Layer, layer_from_dict

__all__ = [
    "MAX_SPEC_BYTES",
    "MAX_ALIAS_NODES",
    "load_spec",
    "read_spec_data",
    "model_from_dict",
    "model_to_dict",
]

#: the largest spec file read, in bytes (environment variable ARCHCALC_MAX_SPEC_BYTES)
MAX_SPEC_BYTES = 256 * 2**20
#: how many nodes YAML aliases may add, all aliases together (ARCHCALC_MAX_ALIAS_NODES)
MAX_ALIAS_NODES = 100_000

_FORMATS = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".json": "JSON"}


def _limit(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise FileFormatError(
            argument=name, value=raw, reason="must be a positive integer (an environment variable)"
        )
    return value


def _fail(path: Path, reason: str) -> FileFormatError:
    return FileFormatError(path=str(path), reason=reason)


def _read_text(path: Path, max_bytes: int) -> str:
    """The file's text, after checking what the path is (never opening a FIFO or device)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UnknownModelError(
            f"model = '{path}': no such file, and not a zoo name; `archcalc models` lists the zoo"
        ) from None
    except OSError as e:
        raise _fail(path, f"cannot be read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(path, "is a directory, not a spec file")
    if not stat.S_ISREG(st.st_mode):
        what = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise _fail(path, f"is {what}; a spec file must be a regular file")
    if st.st_size > max_bytes:
        raise _fail(
            path,
            f"is {st.st_size:,} bytes; spec files are limited to {max_bytes:,} bytes "
            f"(set ARCHCALC_MAX_SPEC_BYTES to raise the limit)",
        )
    try:
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise _fail(path, f"cannot be read: {e.strerror or e}") from None
    if len(raw) > max_bytes:
        raise _fail(path, f"is larger than the limit of {max_bytes:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(
            path, f"is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start:,})"
        ) from None


def read_spec_data(path: str | Path, max_bytes: int | None = None) -> Any:
    """The plain data of a spec file (``.yaml``/``.yml``/``.toml``/``.json``; other names are
    read as YAML), checked for the file conditions and limits above."""
    p = Path(path)
    limit = (
        max_bytes if max_bytes is not None else _limit("ARCHCALC_MAX_SPEC_BYTES", MAX_SPEC_BYTES)
    )
    text = _read_text(p, limit)
    fmt = _FORMATS.get(p.suffix.lower(), "YAML")
    try:
        if fmt == "TOML":
            import tomllib

            return tomllib.loads(text)
        if fmt == "JSON":
            import json

            return json.loads(text, object_pairs_hook=_json_object)
        from ._yaml import load_yaml

        return load_yaml(text, _limit("ARCHCALC_MAX_ALIAS_NODES", MAX_ALIAS_NODES))
    # the content's errors name the file as its models do (by file name); the conditions of
    # the file itself above give the whole path
    except ArchcalcError as e:
        raise _fail(Path(p.name), f"not valid {fmt}: {e}") from None
    except RecursionError:
        raise _fail(Path(p.name), f"not valid {fmt}: nested too deeply") from None
    except Exception as e:  # parser errors of three libraries; report them uniformly
        msg = str(e).strip().splitlines()
        raise _fail(
            Path(p.name), f"not valid {fmt}: {' '.join(x.strip() for x in msg[:3])}"
        ) from None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise FileFormatError(field=dup, reason="is given twice in one object; keys must be unique")
    return d


def load_spec(path: str | Path, max_bytes: int | None = None) -> Model:
    """Read a model from a ``.yaml``/``.yml``/``.toml``/``.json`` file."""
    p = Path(path)
    data = read_spec_data(p, max_bytes)
    try:
        return model_from_dict(data, default_name=p.stem)
    except ArchcalcError as e:
        raise e.with_context(path=p.name) if e.text is None else e.with_context(p.name) from None


def model_from_dict(data: Any, default_name: str = "model") -> Model:
    """Build a :class:`Model` from the plain data of a spec file."""
    if not isinstance(data, dict):
        raise FileFormatError("the file must be a mapping with a 'layers' list")
    known = {"name", "input", "layers", "output", "features", "description"}
    extra = set(data) - known
    if extra:
        raise FileFormatError(
            f"unknown top-level key(s) {', '.join(sorted(map(str, extra)))}; "
            f"valid: {', '.join(sorted(known))}"
        )
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise FileFormatError("'layers' must be a non-empty list of layer mappings")
    shape = data.get("input", [3, 224, 224])
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise FileFormatError(
            field="input",
            value=shape,
            reason="must be a list of positive integers ([C, H, W] for an image model)",
        )
    for key in ("name", "output", "features", "description"):
        if key in data and not isinstance(data[key], str):
            raise FileFormatError(field=key, value=data[key], reason="must be a string")
    nodes = []
    prev = INPUT
    made: dict[Any, Layer] = {}  # identical layer mappings share one (immutable) spec
    for i, d in enumerate(layers):
        name = d.get("name", str(i)) if isinstance(d, dict) else str(i)
        try:
            if not isinstance(d, dict):
                raise FileFormatError(f"must be a mapping with a 'kind', got {d!r}")
            if not isinstance(name, str):
                raise FileFormatError(field="name", value=name, reason="must be a string")
            layer = _layer(d, made)
            inputs = d.get("inputs")
            if inputs is None and "inputs" not in d:
                inputs = (prev,)
            else:
                if isinstance(inputs, str):
                    inputs = [inputs]
                if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
                    raise FileFormatError(f"inputs = {inputs!r}: must be a list of layer names")
                inputs = tuple(inputs)
            via = d.get("via", "module")  # how torch calls it (Node.via)
            if via != "module" and via not in VIA:
                raise FileFormatError(field="via", value=via, valid=list(VIA))
        except ArchcalcError as e:
            raise e.with_context(layer_index=i, layer_name=str(name)) from None
        nodes.append(Node(name, layer, inputs, via))
        prev = name
    return Model(
        name=data.get("name", default_name),
        nodes=tuple(nodes),
        input_shape=tuple(shape),
        output=data.get("output", prev),
        features=data.get("features"),
        description=data.get("description", ""),
    )


def _layer(d: dict[str, Any], made: dict[Any, Layer]) -> Layer:
    if "name" in d or "inputs" in d or "via" in d:
        fields = {k: v for k, v in d.items() if k not in ("name", "inputs", "via")}
    else:
        fields = d  # read only
    key = repr(fields)  # repr tells 1, 1.0 and True apart (equal as keys)
    layer = made.get(key)
    if layer is None:
        layer = made[key] = layer_from_dict(fields)
    return layer


def model_to_dict(model: Model) -> dict[str, Any]:
    """The inverse of :func:`model_from_dict` (plain data, ready for YAML or JSON)."""
    return {
        "name": model.name,
        "input": list(model.input_shape),
        "output": model.output,
        **({"features": model.features} if model.features else {}),
        "layers": [
            {
                "name": n.name,
                **n.layer.to_dict(),
                "inputs": list(n.inputs),
                **({"via": n.via} if n.via != "module" else {}),
            }
            for n in model.nodes
        ],
    }
