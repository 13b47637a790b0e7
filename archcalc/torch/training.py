"""Measure the peak of live tensors during a training step on CPU, with torch's profiler.

The profiler (``profile_memory=True``) reports every allocation and free of c10's CPU
allocator, unperturbed (a ``TorchDispatchMode`` tracker would hold Python references that
stop autograd from summing gradients in place). The live total is sampled at the end of every
top-level aten op (one with no aten op above it): its inputs and outputs are live together,
and what an op allocates and frees inside itself (oneDNN reorders and scratch — kernel
workspaces) is not counted. Parameters, buffers, input and target exist before profiling
starts and are never freed; their bytes are the baseline.

The step measured is the second: ``zero_grad(set_to_none=True)``, forward, cross-entropy
against integer targets, ``backward()``, ``optimizer.step()`` — the first creates the
optimizer's state.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
>>> r = measure_training(net, (3, 2, 2), batch=2, optimizer="sgd")
>>> r.peak_bytes >= r.baseline_bytes == (12 * 5 + 5) * 4 + 2 * 12 * 4 + 2 * 8
True
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile

from .._errors import OptionError

__all__ = ["MeasuredStep", "make_optimizer", "measure_training", "measure_archcalc"]


@dataclass(frozen=True)
class MeasuredStep:
    """The measured peak of live tensor bytes in the second training step, and where."""

    peak_bytes: int
    baseline_bytes: int
    phase: str
    layer: str | None
    op: str
    #: (live bytes, phase, layer, op) after each top-level op of the step (``trace=True``)
    timeline: tuple[tuple[int, str, str | None, str], ...] = ()


def make_optimizer(kind: str, params: Any, foreach: bool = False) -> torch.optim.Optimizer:
    """torch's optimizer for archcalc's ``kind`` (``sgd``, ``momentum``, ``adam``, ``adamw``)."""
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.01, foreach=foreach)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=foreach)
    if kind == "adam":
        return torch.optim.Adam(params, lr=1e-3, foreach=foreach)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=1e-3, foreach=foreach)
    raise OptionError(f"--optimizer = {kind!r}: unknown; valid: sgd, momentum, adam, adamw")


def _storage_bytes(ts: Sequence[torch.Tensor]) -> int:
    seen = {}
    for t in ts:
        st = t.untyped_storage()
        seen[st.data_ptr()] = st.nbytes()
    return sum(seen.values())


_AMP = {"bf16": torch.bfloat16, "fp16": torch.float16}


def measure_training(
    net: torch.nn.Module,
    input_shape: Sequence[int],
    batch: int = 1,
    *,
    optimizer: str = "momentum",
    amp: str | None = None,
    foreach: bool = False,
    seed: int = 0,
    trace: bool = False,
) -> MeasuredStep:
    """Train ``net`` two steps on CPU; the peak of live tensors during the second.

    Targets are integer classes (one per sample, or per position for a map output).
    ``amp``: ``bf16`` or ``fp16`` autocast around forward and loss (CPU autocast).
    """
    if amp is not None and amp not in _AMP:
        raise OptionError(f"--amp = {amp!r}: unknown; valid: {', '.join(_AMP)}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((batch, *input_shape), generator=g)
    with torch.no_grad():
        out_shape = net.eval()(x[:1]).shape
    net.train()
    for p in net.parameters():
        p.grad = None
    # the allocator reports frees of blocks it saw in an earlier profiling session: free
    # the garbage of earlier runs now, so that no free during this one predates its baseline
    gc.collect()
    y = torch.randint(0, out_shape[1], (batch, *out_shape[2:]), generator=g)
    opt = make_optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], foreach)
    base = _storage_bytes([*net.parameters(), *net.buffers(), x, y])
    names = {m: n for n, m in net.named_modules()}
    handles = []

    def pre(mod: Any, args: Any) -> None:
        mod._archcalc_rf = torch.ops.profiler._record_function_enter_new("## " + names[mod])

    def post(mod: Any, args: Any, out: Any) -> None:
        torch.ops.profiler._record_function_exit._RecordFunction(mod._archcalc_rf)

    for m in net.modules():
        if names[m]:
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]

    def step(k: int) -> None:
        ctx: Any = torch.autocast("cpu", dtype=_AMP[amp]) if amp else _Null()
        with torch.profiler.record_function(f"@@step{k}"):
            with torch.profiler.record_function("@@zero_grad"):
                opt.zero_grad(set_to_none=True)
            with ctx:
                with torch.profiler.record_function("@@forward"):
                    out = net(x)
                with torch.profiler.record_function("@@loss"):
                    loss = F.cross_entropy(out, y)
                del out
            with torch.profiler.record_function("@@backward"):
                loss.backward()
            del loss
            with torch.profiler.record_function("@@step"):
                opt.step()

    try:
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step(1)
            step(2)
    finally:
        for h in handles:
            h.remove()
    return _replay(prof, base, trace)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _replay(prof: Any, base: int, trace: bool) -> MeasuredStep:
    tree = prof.profiler.kineto_results.experimental_event_tree()
    allocs: list[tuple[int, int]] = []
    samples: list[tuple[int, tuple[tuple[str, ...], str]]] = []
    seq_module: dict[int, str] = {}

    def walk(e: Any, ctx: tuple[str, ...], in_aten: bool) -> None:
        if e.tag == _EventType.Allocation:
            allocs.append((e.start_time_ns, e.extra_fields.alloc_size))
            return
        name = e.name
        is_aten = name.startswith("aten::")
        if name.startswith(("@@", "## ", "autograd::engine::evaluate_function: ")):
            ctx = (*ctx, name)
        sn = e.extra_fields.sequence_number if e.tag == _EventType.TorchOp else -1
        if is_aten and sn >= 0:
            mods = [c[3:] for c in ctx if c.startswith("## ")]
            if mods:
                seq_module.setdefault(sn, mods[-1])
        if not is_aten and sn >= 0 and ctx and ctx[-1].startswith("autograd::engine"):
            ctx = (*ctx, f"#seq {sn}")
        if e.tag == _EventType.TorchOp and is_aten and not in_aten:
            samples.append((e.end_time_ns, (ctx, name)))
        for c in e.children:
            walk(c, ctx, in_aten or is_aten)

    for r in tree:
        walk(r, (), False)
    events = sorted(
        [(t, 0, d, None) for t, d in allocs] + [(t, 1, 0, w) for t, w in samples],
        key=lambda e: (e[0], e[1]),
    )
    cur, peak, where = base, -1, None
    timeline = []

    def label(w: tuple[tuple[str, ...], str]) -> tuple[str, str | None]:
        ctx = w[0]
        phase = [c[2:] for c in ctx if c.startswith("@@") and not c.startswith("@@step2")]
        mods = [c[3:] for c in ctx if c.startswith("## ")]
        seqs = [int(c[5:]) for c in ctx if c.startswith("#seq ")]
        if seqs and seqs[-1] in seq_module:
            mods.append(seq_module[seqs[-1]])
        return (phase[-1] if phase else "?"), (mods[-1] if mods else None)

    for _, kind, d, w in events:
        if kind == 0:
            cur += d
            continue
        assert w is not None
        if "@@step2" not in w[0]:
            if peak >= 0:
                break
            continue
        if trace:
            timeline.append((cur, *label(w), w[1]))
        if cur > peak:
            peak, where = cur, w
    assert where is not None
    phase, layer = label(where)
    return MeasuredStep(peak, base, phase, layer, where[1], tuple(timeline))


def measure_archcalc(
    model: Any,
    input_shape: Any = None,
    batch: int = 1,
    *,
    optimizer: str = "momentum",
    amp: str | None = None,
    foreach: bool = False,
    seed: int = 0,
) -> MeasuredStep:
    """:func:`measure_training` on archcalc's ``to_torch`` build of ``model``."""
    from ..engine.shapes import resolve_input
    from ..load.resolve import load_model
    from .build import to_torch

    m = load_model(model)
    shape = resolve_input(m, input_shape)
    torch.manual_seed(seed)
    return measure_training(
        to_torch(m, seed=seed), shape, batch, optimizer=optimizer, amp=amp, foreach=foreach
    )


def check_row(model: Any, input_shape: Any, batch: int, limit: int | None = None) -> dict[str, Any]:
    """``archcalc check``'s training-peak row: the analytic peak of one ``momentum`` step
    (archcalc's build: every activation out of place) against the measured one. Returns the
    fields of a ``CheckRow``; not checked (``ok`` None) above ``limit`` bytes or when torch
    cannot train the model at this size (batch norm of one value per channel)."""
    from ..engine.training import training_step
    from ..load.resolve import load_model

    m = load_model(model)
    pred = training_step(m, input_shape, batch, optimizer="momentum", inplace=())
    row = {
        "check": "training peak bytes",
        "layer": f"{pred.peak_phase} {pred.peak_layer}",
        "archcalc": pred.peak_bytes,
        "torch": None,
        "ok": None,
        "note": "second step, SGD with momentum, live tensors (torch's profiler)",
    }
    if limit is not None and pred.peak_bytes > limit:
        return {**row, "note": f"not measured: the step needs {pred.peak_bytes} bytes"}
    try:
        meas = measure_archcalc(m, input_shape, batch, optimizer="momentum")
    except ValueError as e:  # torch refuses to train it at this size
        return {**row, "note": f"not measured: {e}"}
    return {**row, "torch": meas.peak_bytes, "ok": meas.peak_bytes == pred.peak_bytes}
