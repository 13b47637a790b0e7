"""Figures arranged for people: readable units, block subtotals by module path, a size block,
a tree, and comparisons. Plain data only; :mod:`archcalc.display` and the CLI render it.

>>> import archcalc
>>> from archcalc.report import group_layers, readable
>>> s = archcalc.summary("resnet50")
>>> " ".join(g.name for g in group_layers(s, 1))
'conv1 bn1 relu maxpool layer1 layer2 layer3 layer4 avgpool flatten fc'
>>> sum(g.params for g in group_layers(s, 1)) == s.params
True
>>> readable(25_557_032), readable(102_760_448, "B"), readable(102_760_448, "B", "iec")
('25.56 M', '102.76 MB', '98.00 MiB')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import OptionError
from ._math import is_symbolic, jsonable

__all__ = [
    "UNITS",
    "readable",
    "with_units",
    "GroupRow",
    "group_layers",
    "TreeNode",
    "layer_tree",
    "size_block",
    "convention_label",
    "Comparison",
    "compare",
]

#: how figures are written beside the exact integers: none, powers of 1000, powers of 1024 (bytes)
UNITS = ("exact", "si", "iec")

_SI = ("", " k", " M", " G", " T", " P", " E")
_IEC = ("", " Ki", " Mi", " Gi", " Ti", " Pi", " Ei")


def readable(x: Any, unit: str = "", units: str = "si") -> str:
    """``x`` with a prefix (``25.56 M``, ``4.09 GMACs``, ``98.00 MiB``); ``iec`` prefixes only
    byte counts (``unit == "B"``), counts stay in powers of 1000. Symbols are returned as text.
    """
    if units not in UNITS:
        raise OptionError(argument="units", value=units, valid=UNITS)
    if not isinstance(x, int) or isinstance(x, bool):
        return str(x)
    if units == "exact":
        return f"{x:,}{' ' + unit if unit else ''}"
    base, names = (1024, _IEC) if units == "iec" and unit == "B" else (1000, _SI)
    i = 0
    while abs(x) >= base ** (i + 1) and i < len(names) - 1:
        i += 1
    q, r = divmod(abs(x), base**i)  # integers: a float overflows past 10^308
    sign = "-" if x < 0 else ""
    if q < 10**15:
        v = q + r / base**i
        num = f"{v:.0f}" if i == 0 else f"{v:.2f}"
    else:  # past the largest prefix by more than 10^15: d.dd e N (no int->str of q)
        e = int(q.bit_length() * 0.30102999566398)
        e += (q >= 10 ** (e + 1)) - (q < 10**e)
        num = f"{q // 10 ** (e - 2) / 100:.2f}e{e}"
    prefix = names[i]
    if not unit:
        return f"{sign}{num}{prefix}"
    return f"{sign}{num}{prefix or ' '}{unit}"


def with_units(x: Any, unit: str = "", units: str = "si") -> str:
    """The exact integer and, unless ``units == "exact"``, its readable form in parentheses."""
    exact = f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else str(x)
    if units == "exact" or not isinstance(x, int) or abs(x) < 1000:
        return exact + (f" {unit}" if unit and units != "exact" and isinstance(x, int) else "")
    return f"{exact} ({readable(x, unit, units)})"


def _add(a: Any, b: Any) -> Any:
    return b if a is None else a + b


def _share(part: Any, total: Any) -> float | None:
    if is_symbolic(part) or is_symbolic(total) or not isinstance(total, int) or total == 0:
        return None
    return float(part) / total


@dataclass(frozen=True)
class GroupRow:
    """The layers under one module path (``layer1``; ``layer1.0`` at depth 2), summed.

    ``output_shape`` and ``rf`` are those of the group's last layer; ``*_share`` the fraction
    of the model's total (``None`` for symbolic figures).
    """

    index: int
    name: str
    depth: int
    kind: str
    layers: int
    output_shape: tuple[Any, ...]
    params: Any
    buffers: Any
    macs: Any
    flops: Any
    activation_elements: Any
    activation_bytes: Any
    rf: Any
    params_share: float | None
    macs_share: float | None
    flops_share: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, the fields of a layer in ``Summary.to_dict()`` plus the group's own."""
        rf = self.rf
        glob = rf is not None and rf.is_global
        return jsonable(  # type: ignore[no-any-return]
            {
                "index": self.index,
                "name": self.name,
                "kind": self.kind,
                "layers": self.layers,
                "output_shape": list(self.output_shape),
                "params": self.params,
                "buffers": self.buffers,
                "macs": self.macs,
                "flops": self.flops,
                "activations": self.activation_elements,
                "activation_bytes": self.activation_bytes,
                "params_share": self.params_share,
                "macs_share": self.macs_share,
                "flops_share": self.flops_share,
                "receptive_field": {
                    "size": None if rf is None or glob else list(rf.size),
                    "stride": None if rf is None or glob else list(rf.stride),
                    "offset": None if rf is None or glob else list(rf.offset),
                    "global": glob,
                },
            }
        )


def _prefix(name: str, depth: int) -> str:
    return ".".join(name.split(".")[:depth])


def group_layers(s: Any, depth: int) -> tuple[GroupRow, ...]:
    """The layers of summary ``s`` grouped by the first ``depth`` parts of their dotted names,
    in the order each group first appears, with subtotals and shares of the total.

    A group of one layer keeps that layer's kind; a group of several is a ``block``.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise OptionError(argument="depth", value=depth, reason="must be a positive integer")
    order: list[str] = []
    members: dict[str, list[Any]] = {}
    for r in s.layers:
        key = _prefix(r.name, depth)
        if key not in members:
            members[key] = []
            order.append(key)
        members[key].append(r)
    rows = []
    for i, key in enumerate(order):
        rs = members[key]
        tot: dict[str, Any] = {}
        for f in ("params", "buffers", "macs", "flops", "activation_elements", "activation_bytes"):
            acc: Any = None
            for r in rs:
                acc = _add(acc, getattr(r, f))
            tot[f] = acc
        last = rs[-1]
        single = len(rs) == 1 and rs[0].name == key
        rows.append(
            GroupRow(
                index=i,
                name=key,
                depth=depth,
                kind=rs[0].kind if single else "block",
                layers=len(rs),
                output_shape=last.output_shape,
                rf=last.rf,
                params_share=_share(tot["params"], s.params),
                macs_share=_share(tot["macs"], s.macs),
                flops_share=_share(tot["flops"], s.flops),
                **tot,
            )
        )
    return tuple(rows)


@dataclass
class TreeNode:
    """One module path and its subtotal; ``children`` in the order they first appear."""

    name: str
    kind: str
    params: Any = 0
    macs: Any = 0
    flops: Any = 0
    activation_bytes: Any = 0
    layers: int = 0
    children: list[TreeNode] = field(default_factory=list)


def layer_tree(s: Any, depth: int | None = None) -> TreeNode:
    """The model as a tree of dotted module paths, each node with the subtotal beneath it
    (``depth`` cuts the tree; the leaves below are summed into their ancestor)."""
    root = TreeNode(s.model.name, "model")
    index: dict[tuple[str, ...], TreeNode] = {(): root}
    for r in s.layers:
        parts = r.name.split(".")
        if depth is not None:
            parts = parts[:depth]
        node = root
        for k in range(len(parts)):
            path = tuple(parts[: k + 1])
            child = index.get(path)
            if child is None:
                leaf = k == len(r.name.split(".")) - 1
                child = TreeNode(parts[k], r.kind if leaf else "block")
                node.children.append(child)
                index[path] = child
            node = child
        for n in [index[tuple(parts[:k])] for k in range(len(parts) + 1)]:
            n.params += r.params
            n.macs += r.macs
            n.flops += r.flops
            n.activation_bytes += r.activation_bytes
            n.layers += 1
    return root


def size_block(s: Any) -> list[tuple[str, Any]]:
    """Sizes in bytes like torchinfo's block: input, weights, activations, peak, saved for
    backward, and the estimated total of a training step (input + weights + saved)."""
    m = s.memory
    return [
        ("input bytes", m.input_bytes),
        (f"weights bytes ({s.dtype})", s.weights_bytes),
        ("activation bytes (every layer's output)", m.activations_bytes),
        ("peak inference bytes", m.peak_inference_bytes),
        ("saved for backward bytes", m.saved_for_backward_bytes),
        (
            "estimated total bytes (training step: input + weights + saved)",
            m.input_bytes + s.weights_bytes + m.saved_for_backward_bytes,
        ),
    ]


#: short enough that "FLOPs (<label>): <figure> (<readable>)" fits 80 columns for any model;
#: docs/conventions.md says in full what each tool counts
_CONVENTION_RULES = {
    "archcalc": "archcalc: 2·MACs + elementwise",
    "fvcore": "fvcore: 1 multiply-add = 1 flop",
    "flopcounter": "torch FlopCounterMode: 2·MACs",
    "torchvision": "torchvision: MACs, no bias",
    "ptflops": "ptflops: MACs + bias + elementwise",
    "thop": "thop: MACs + BN + elementwise",
    "torchinfo": "torchinfo: mult-adds of weights",
}


def convention_label(convention: str) -> str:
    """What a FLOP figure under ``convention`` counts, naming the convention first."""
    return _CONVENTION_RULES.get(convention, convention)


#: the figures a comparison shows, with their unit
COMPARED: tuple[tuple[str, str], ...] = (
    ("params", ""),
    ("buffers", ""),
    ("macs", "MACs"),
    ("flops", "FLOPs"),
    ("weights_bytes", "B"),
    ("activations_bytes", "B"),
    ("peak_inference_bytes", "B"),
    ("saved_for_backward_bytes", "B"),
)


@dataclass(frozen=True)
class Comparison:
    """Several summaries side by side; ``ratios[i][figure]`` is variant i over the first."""

    labels: tuple[str, ...]
    summaries: tuple[Any, ...]
    figures: tuple[dict[str, Any], ...]
    ratios: tuple[dict[str, float | None], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: one entry per variant with its name, settings, integer figures and
        ratios to the first."""
        out = []
        for label, s, fig, rat in zip(self.labels, self.summaries, self.figures, self.ratios):
            d = s.to_dict()
            entry = {
                "label": label,
                "model": d["model"],
                "input": d["input"],
                "batch": d["batch"],
                "dtype": d["dtype"],
                "head": d["head"],
                "convention": d["convention"],
                **jsonable(fig),
                "receptive_field": {
                    k: d["receptive_field"].get(k) for k in ("size", "stride", "layer")
                },
                "ratios": rat,
            }
            out.append(entry)
        return {"variants": out}


def _figures(s: Any) -> dict[str, Any]:
    m = s.memory
    return {
        "params": s.params,
        "buffers": s.buffers,
        "macs": s.macs,
        "flops": s.flops,
        "weights_bytes": s.weights_bytes,
        "activations_bytes": m.activations_bytes,
        "peak_inference_bytes": m.peak_inference_bytes,
        "saved_for_backward_bytes": m.saved_for_backward_bytes,
    }


def compare(summaries: Sequence[Any], labels: Sequence[str] | None = None) -> Comparison:
    """Compare summaries (of several models, or one model under several settings)."""
    if not summaries:
        raise OptionError(argument="summaries", reason="give at least one summary")
    if labels is None:
        labels = [s.model.name for s in summaries]
    figs = [_figures(s) for s in summaries]
    first = figs[0]
    ratios = [
        {k: _ratio(f[k], first[k]) for k in f}  # type: ignore[misc]
        for f in figs
    ]
    return Comparison(tuple(labels), tuple(summaries), tuple(figs), tuple(ratios))


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int) or not isinstance(b, int) or b == 0:
        return None
    return round(a / b, 4)
