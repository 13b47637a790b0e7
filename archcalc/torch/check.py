"""``archcalc check``: every figure against torch, fvcore and autograd, layer by layer.

:func:`check` builds the model in torch (:func:`archcalc.torch.to_torch`), runs it and
compares with archcalc's figures:

* output shapes and parameter counts of every layer;
* FLOPs per layer against fvcore's ``FlopCountAnalysis`` (archcalc's ``fvcore`` convention)
  and the activation count against ``ActivationCountAnalysis`` (outputs of conv/linear);
* the receptive field of the last spatial map by gradient support (interior units, the next
  unit's shift by the effective stride, and the clipped corner units);
* the bytes autograd keeps for backward in one training step;
* the inference peak: a replay of the pass with real tensors (distinct storages live after
  each layer, tensors dropped after their last use) and, with a GPU, CUDA's max allocated.

These comparisons run real tensors. Before any is allocated, :func:`preflight` estimates the
bytes from archcalc's own figures and refuses a check above :func:`max_bytes` (2 GiB unless
``ARCHCALC_CHECK_MAX_BYTES`` says otherwise; see docs/limits.md).

Imports torch (and fvcore); only ``archcalc check`` and the tests use it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

from .._errors import OptionError, UnsupportedError
from ..summary import Summary, load_model, summary

__all__ = ["CheckRow", "CheckReport", "check", "preflight", "max_bytes", "MAX_BYTES"]

#: the most bytes ``check`` lets torch allocate (archcalc's estimate, see :func:`preflight`)
MAX_BYTES = 2 * 2**30
#: the environment variable that changes :data:`MAX_BYTES`
MAX_BYTES_ENV = "ARCHCALC_CHECK_MAX_BYTES"


@dataclass(frozen=True)
class CheckRow:
    """One comparison: what, where, archcalc's value, torch's, agreement, a note."""

    check: str
    layer: str
    archcalc: Any
    torch: Any
    ok: bool | None  # None: not checked (the note says why)
    note: str = ""


@dataclass(frozen=True)
class CheckReport:
    model: str
    input_shape: tuple[Any, ...]
    batch: int
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def mismatches(self) -> list[CheckRow]:
        return [r for r in self.rows if r.ok is False]

    def to_dict(self) -> dict[str, Any]:
        from ..summary import jsonable

        return jsonable(
            {
                "model": self.model,
                "input": list(self.input_shape),
                "batch": self.batch,
                "mismatches": len(self.mismatches),
                "rows": [r.__dict__ for r in self.rows],
            }
        )


def _per_layer(
    rows: list[CheckRow], check: str, ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    bad = [k for k in ours if ours[k] != theirs.get(k)]
    for k in bad:
        rows.append(CheckRow(check, k, ours[k], theirs.get(k), False))
    rows.append(
        CheckRow(
            check,
            f"all {len(ours)} layers",
            f"{len(ours) - len(bad)} agree",
            f"{len(bad)} differ",
            not bad,
        )
    )


def check(
    model: Any, input: Any = None, batch: int = 1, *, rf: bool = True, fvcore: bool = True
) -> CheckReport:
    """Compare archcalc with torch for ``model`` at ``input`` and ``batch``."""
    import torch

    from .build import measure, to_torch
    from .training import check_row

    m = load_model(model, input)
    s = summary(m, input=input, batch=batch)
    if any(not isinstance(d, int) for d in s.input_shape):
        raise UnsupportedError("check needs a numeric --input")
    preflight(s, input, rf=rf)
    report = CheckReport(m.name, s.input_shape, batch)
    rows = report.rows
    meas = measure(m, s.input_shape, batch)
    _per_layer(
        rows,
        "shape",
        {r.name: tuple(r.output_shape) for r in s.layers},
        {k: tuple(v) for k, v in meas["shapes"].items()},
    )
    _per_layer(rows, "params", {r.name: r.params for r in s.layers}, meas["params"])
    rows.append(
        CheckRow(
            "params",
            "total",
            s.params,
            sum(meas["params"].values()),
            s.params == sum(meas["params"].values()),
        )
    )
    rows.append(
        CheckRow(
            "saved for backward bytes",
            "total",
            s.memory.saved_for_backward_bytes,
            meas["saved_bytes"],
            s.memory.saved_for_backward_bytes == meas["saved_bytes"],
        )
    )
    net = to_torch(m).eval()
    x = torch.randn(batch, *s.input_shape)
    peak = _replay_peak(net, x)
    rows.append(
        CheckRow(
            "peak inference bytes",
            "replay",
            s.memory.peak_inference_bytes,
            peak,
            s.memory.peak_inference_bytes == peak,
            "distinct storages live after each layer",
        )
    )
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        rows.append(_cuda_peak(net, x, s))
    else:
        rows.append(
            CheckRow(
                "peak inference bytes",
                "CUDA max allocated",
                s.memory.peak_inference_bytes,
                None,
                None,
                "no GPU here",
            )
        )
    if fvcore:
        rows.extend(_fvcore_rows(m, s, net, x))
    del net, x  # the training step and the probe below build their own networks
    rows.append(CheckRow(**check_row(m, s.input_shape, batch, max_bytes())))  # issue 13
    if rf:
        rows.extend(_rf_rows(m, s))
    return report


def max_bytes() -> int:
    """The allocation limit of ``check``: ``$ARCHCALC_CHECK_MAX_BYTES`` (bytes, or a size such
    as ``8GiB``), else :data:`MAX_BYTES`."""
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw is None:
        return MAX_BYTES
    from ..engine.training import parse_bytes

    try:
        if len(raw) > 40:  # 10^40 bytes is past any machine; longer text is not a size
            raise OptionError(argument=MAX_BYTES_ENV, value=raw)
        return parse_bytes(raw, MAX_BYTES_ENV)
    except OptionError:
        raise OptionError(
            argument=MAX_BYTES_ENV,
            value=raw,
            reason="must be a positive integer of bytes or a size such as 8GiB "
            "(an environment variable)",
        ) from None


def preflight(s: Summary, input: Any = None, *, rf: bool = True) -> int:
    """The bytes ``check`` would have torch allocate for ``s``, from archcalc's own figures;
    raises :class:`OptionError` (naming the input, the batch and the limit) above
    :func:`max_bytes`, before anything is allocated.

    The estimate is the training-mode pass that measures shapes, parameters and the bytes saved
    for backward (it keeps every output): weights + input + every layer's output + saved for
    backward. It bounds the inference replay too (weights + peak). With ``rf`` the
    receptive-field probe runs the same pass in float64: twice that.

    >>> from archcalc import summary
    >>> s = summary("alexnet", input=(3, 64, 64))
    >>> preflight(s, rf=False) == (
    ...     s.weights_bytes + s.memory.input_bytes + s.memory.activations_bytes
    ...     + s.memory.saved_for_backward_bytes)
    True
    """
    mem = s.memory
    one_pass = s.weights_bytes + mem.input_bytes + mem.activations_bytes
    need = (one_pass + mem.saved_for_backward_bytes) * (2 if rf else 1)
    limit = max_bytes()
    if need > limit:
        shape = "x".join(str(d) for d in s.input_shape)
        at_batch = f" at `batch` = {s.batch}" if s.batch != 1 else ""
        probe = ", twice for the float64 receptive-field probe" if rf else ""
        raise OptionError(
            argument="input",
            value=input if isinstance(input, str) else shape,
            reason=f"check would allocate about {need:,} bytes{at_batch} (weights + input + "
            f"outputs + saved for backward{probe}), over the limit of {limit:,} bytes "
            f"(set {MAX_BYTES_ENV} to change it)",
        )
    return int(need)


def _replay_peak(net: Any, x: Any) -> int:
    import torch

    env = {"input": x}
    peak = 0
    with torch.no_grad():
        for node, mod, drop in net._plan:
            env[node.name] = mod(*[env[n] for n in node.inputs])
            live = {
                t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in env.values()
            }
            peak = max(peak, sum(live.values()))
            for n in drop:
                if n != "input":
                    env.pop(n, None)
    return peak


def _cuda_peak(net: Any, x: Any, s: Summary) -> CheckRow:  # pragma: no cover - needs a GPU
    import torch

    net = net.cuda()
    xc = x.cuda()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        net(xc)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base + xc.numel() * xc.element_size()
    ours = s.memory.peak_inference_bytes
    return CheckRow(
        "peak inference bytes",
        "CUDA max allocated",
        ours,
        peak,
        None,
        f"allocator rounding and kernel workspace: {peak / ours:.3f}x",
    )


def _fvcore_rows(m: Any, s: Summary, net: Any, x: Any) -> list[CheckRow]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fvcore's import uses deprecated torch.jit APIs
            from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis
    except ImportError:
        return [CheckRow("fvcore", "-", None, None, None, "fvcore is not installed")]
    from ..conventions import count
    from ..engine.shapes import infer_shapes

    rows: list[CheckRow] = []
    shapes = infer_shapes(m, s.input_shape)
    ours = count(m, shapes, s.batch, "fvcore")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fl = FlopCountAnalysis(net, x)
        fl.unsupported_ops_warnings(False)
        fl.uncalled_modules_warnings(False)
        by_module = fl.by_module()
        total = fl.total()
        act = ActivationCountAnalysis(net, x)
        act.unsupported_ops_warnings(False)
        act.uncalled_modules_warnings(False)
        act_total = act.total()
    names = net.module_names
    leaf = {
        n: names[n]
        for n in ours
        if not any(o != n and names[o].startswith(names[n] + ".") for o in ours)
    }
    _per_layer(
        rows,
        "fvcore flops",
        {n: ours[n] for n in leaf},
        {n: by_module.get(leaf[n], 0) for n in leaf},
    )
    rows.append(
        CheckRow("fvcore flops", "total", sum(ours.values()), total, sum(ours.values()) == total)
    )
    weighted = sum(
        r.activation_elements
        for r, n in zip(s.layers, m.live_nodes(), strict=True)
        if n.layer.weighted
    )
    rows.append(
        CheckRow(
            "fvcore activations",
            "total",
            weighted,
            act_total,
            weighted == act_total,
            "outputs of conv/linear layers",
        )
    )
    return rows


def _rf_rows(m: Any, s: Summary) -> list[CheckRow]:
    from fractions import Fraction

    from .build import probe_module, rf_by_gradient

    rf, name = s.rf, s.rf_layer
    what = f"receptive field at {name}"
    if rf is None or rf.is_global:
        return [CheckRow(what, str(name), None, None, None, "no spatial receptive field")]
    if rf.global_context:
        return [
            CheckRow(
                what,
                str(name),
                None,
                None,
                None,
                "squeeze-excitation gates: every unit sees the whole image",
            )
        ]
    if not rf.aligned or any(
        isinstance(v, Fraction) and v.denominator != 1 for v in (*rf.stride, *rf.size)
    ):
        return [CheckRow(what, str(name), None, None, None, "misaligned or fractional stride")]
    from ..engine.receptive import clipped_boxes
    from ..engine.shapes import infer_shapes

    h_in, w_in = s.input_shape[1:]
    out = s.layer(str(name)).output_shape if name != "input" else s.input_shape
    ho, wo = out[1], out[2]
    boxes = clipped_boxes(m, infer_shapes(m, s.input_shape))[str(name)]
    # only the field's layer and its ancestors: a classifier after it is never run
    net = probe_module(m if name == "input" else m.with_nodes(m.nodes, output=str(name)))
    units = {
        (ho // 2, wo // 2),
        (ho // 2, min(wo - 1, wo // 2 + 1)),
        (min(ho - 1, ho // 2 + 1), wo // 2),
        (0, 0),
        (ho - 1, wo - 1),
    }
    rows = []
    for i, j in sorted(units):
        top = rf.offset[0] + i * rf.stride[0]
        left = rf.offset[1] + j * rf.stride[1]
        formula = (top, left, top + rf.size[0] - 1, left + rf.size[1] - 1)
        exact = (int(boxes[0][i]), int(boxes[2][j]), int(boxes[1][i]), int(boxes[3][j]))
        theirs = rf_by_gradient(m, s.input_shape, (i, j), node=name, net=net)
        inside = formula[0] >= 0 and formula[1] >= 0 and formula[2] < h_in and formula[3] < w_in
        if inside:
            rows.append(
                CheckRow(
                    what,
                    f"unit ({i}, {j})",
                    formula,
                    theirs,
                    formula == theirs,
                    "offset + unit·stride, size (an interior unit)",
                )
            )
        rows.append(
            CheckRow(
                what,
                f"unit ({i}, {j}) clipped",
                exact,
                theirs,
                exact == theirs,
                "box (top, left, bottom, right) clipped to the pixels read",
            )
        )
    return rows
