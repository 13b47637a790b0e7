"""The memory timeline of one training step, walked analytically over the graph.

One step of ``optimizer.zero_grad(set_to_none=True); loss = cross_entropy(model(x), y);
loss.backward(); optimizer.step()`` — the steady-state second step (the optimizer's state
exists) — as torch runs it on one device (docs/conventions.md, "Training memory"):

* **always live**: parameters, buffers, the input and the integer target; the optimizer's
  state (``momentum``: one buffer per parameter; ``adam``/``adamw``: two, plus a float32
  ``step`` scalar per parameter tensor; ``sgd``: none).
* **zero_grad** frees last step's gradients.
* **forward**: each layer allocates its output (a view or an in-place activation allocates
  nothing) and what its op creates for backward (batch-norm statistics, max-pool indices,
  dropout noise); a tensor is freed when its last consumer has run and no backward node keeps
  it. The peak is sampled after every op, when its inputs and outputs are live together.
* **loss**: ``log_softmax`` (kept for backward), the loss and its ``total_weight`` scalars;
  the logits are freed after the loss (``loss = criterion(model(x), y)``).
* **backward**: nodes run in autograd's order (of the ready nodes, the one created last in
  forward first); each allocates its input gradients and its parameter gradients (kept as
  ``.grad``), then frees its output gradient and its saved tensors. Two gradients of one
  tensor are summed in place when either is exclusively held, otherwise into a new tensor.
* **optimizer.step()**: the for-loop implementation (torch's default on CPU) makes no
  temporaries for sgd/momentum; Adam's ``denom = (exp_avg_sq.sqrt() / c).add_(eps)`` holds
  two parameter-sized temporaries while the previous parameter's ``denom`` is alive. The
  foreach implementation (CUDA's default) allocates ``sqrt`` of every state tensor at once.

>>> from archcalc.kinds import Conv2d, ReLU, Flatten, Linear
>>> from archcalc.engine.graph import sequential
>>> m = sequential("t", [Conv2d(1, 2, 3), ReLU(), Flatten(), Linear(8, 3)], input_shape=(1, 4, 4))
>>> r = training_step(m, batch=2, optimizer="sgd")
>>> r.weights_bytes  # conv 2·1·3·3 + 2, linear 8·3 + 3 float32 parameters
188
>>> # peak in the ReLU's backward: weights, the linear's gradient (27 floats), the input
>>> # (2·16 floats) and target (2 int64), the conv/ReLU output kept for backward (2·8 floats),
>>> # the ReLU's incoming and outgoing gradients (2·8 floats each), the loss and the ones
>>> # that start backward (one float each)
>>> r.peak_bytes == 188 + 27 * 4 + 2 * 16 * 4 + 2 * 8 + 3 * (2 * 8 * 4) + 4 + 4
True
>>> r.peak_phase, r.peak_layer
('backward', '1')
>>> r.peak_bytes == r.weights_bytes + r.gradients_bytes + r.optimizer_state_bytes + r.other_bytes
True
"""

from __future__ import annotations

import dataclasses
import heapq
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .._errors import OptionError, UnsupportedError
from .._math import is_symbolic, prod
from ..kinds import Extra
from .graph import INPUT, Model, Node
from .memory import itemsize
from .shapes import infer_shapes

__all__ = [
    "OPTIMIZERS",
    "AMP",
    "TrainingReport",
    "training_step",
    "torchvision_inplace",
    "FitResult",
    "fit_batch",
    "fit_input",
    "parse_bytes",
]

#: optimizer -> (state tensors per parameter, float32 step scalar per parameter tensor)
OPTIMIZERS = {"sgd": (0, False), "momentum": (1, False), "adam": (2, True), "adamw": (2, True)}
#: mixed-precision modes: autocast's lower-precision dtype
AMP = {"bf16": "bfloat16", "fp16": "float16"}


@dataclass(frozen=True)
class TrainingReport:
    """Memory of one training step (the second: the optimizer state exists).

    ``peak_bytes = weights_bytes + gradients_bytes + optimizer_state_bytes + other_bytes``,
    where gradients are the parameter gradients live at the peak and ``other_bytes`` is the
    rest of what is live then: the input and target, activations, of which
    ``saved_activations_bytes`` are kept for backward, activation gradients, temporaries.
    """

    optimizer: str
    batch: Any
    dtype: str
    amp: str | None
    foreach: bool
    peak_bytes: Any
    peak_phase: str
    peak_layer: str
    weights_bytes: Any
    gradients_bytes: Any
    optimizer_state_bytes: Any
    saved_activations_bytes: Any
    other_bytes: Any
    #: every parameter gradient (what is live after backward)
    all_gradients_bytes: Any
    #: what autograd keeps for backward, all of it (at the end of forward)
    all_saved_bytes: Any
    #: (live bytes, phase, layer) after each op of the step, in order
    timeline: tuple[tuple[Any, str, str], ...] = field(repr=False, default=())
    #: symbolic batch: the peak is the max of these (each linear in the batch)
    candidates: tuple[Any, ...] = field(repr=False, default=())
    #: bytes live after each op of the timeline, by what they are
    kinds: tuple[dict[str, Any], ...] = field(repr=False, default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "peak_bytes": self.peak_bytes,
            "peak_phase": self.peak_phase,
            "peak_layer": self.peak_layer,
            "weights_bytes": self.weights_bytes,
            "gradients_bytes": self.gradients_bytes,
            "optimizer_state_bytes": self.optimizer_state_bytes,
            "saved_activations_bytes": self.saved_activations_bytes,
            "other_bytes": self.other_bytes,
            "optimizer": self.optimizer,
            "amp": self.amp,
            "foreach": self.foreach,
        }


def torchvision_inplace(
    model: Model, shapes: dict[str, tuple[Any, ...]] | None = None
) -> frozenset[str]:
    """Nodes torchvision runs in place: activations whose kind is ``inplace_free`` (not on the
    model input), and a two-input residual ``Add`` whose first operand feeds only it and is
    kept by no backward node (``out += identity``). ``shapes``: :func:`infer_shapes`'s."""
    shapes = infer_shapes(model) if shapes is None else shapes
    nodes = model.live_nodes()
    uses: dict[str, int] = {}
    for n in nodes:
        for s in n.inputs:
            uses[s] = uses.get(s, 0) + 1
    out = set()
    by_name = {n.name: n for n in nodes}
    for n in nodes:
        src = n.inputs[0]
        if src == INPUT:
            continue
        if n.layer.inplace_free:
            out.add(n.name)
        elif n.layer.grad_shared and len(n.inputs) == 2 and uses[src] == 1:
            p = by_name[src]
            kept = p.layer.saved(tuple(shapes[s] for s in p.inputs), shapes[p.name], 1)
            if not p.layer.is_view(True) and "out" not in kept:
                out.add(n.name)
    return frozenset(out)


def _param_tensors(layer: Any, ins: tuple[Any, ...]) -> list[Any]:
    """Element counts of a layer's parameter tensors, in torch's registration order."""
    total = layer.params(ins)
    if not is_symbolic(total) and total == 0:
        return []
    if getattr(layer, "bias", False) is True:
        weight = dataclasses.replace(layer, bias=False).params(ins)
        return [weight, total - weight]
    width = getattr(layer, "num_features", None) or getattr(layer, "num_channels", None)
    if width is not None and total == 2 * width:
        return [width, width]  # a norm's weight and bias
    return [total]


class _Sim:
    """Live storages with reference counts; samples of the live total."""

    def __init__(self) -> None:
        self.size: dict[int, Any] = {}
        self.refs: dict[int, int] = {}
        self.kind: dict[int, str] = {}
        self.live: Any = 0
        self.next = 0
        self.samples: list[tuple[Any, str, str, dict[str, Any]]] = []

    def new(self, nbytes: Any, kind: str, refs: int = 1) -> int:
        s = self.next
        self.next += 1
        self.size[s], self.refs[s], self.kind[s] = nbytes, refs, kind
        self.live = self.live + nbytes
        if refs == 0:
            self._free(s)
        return s

    def hold(self, s: int, n: int = 1) -> None:
        self.refs[s] += n

    def drop(self, s: int, n: int = 1) -> None:
        self.refs[s] -= n
        if self.refs[s] == 0:
            self._free(s)

    def _free(self, s: int) -> None:
        self.live = self.live - self.size.pop(s)
        del self.refs[s], self.kind[s]

    def by_kind(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s, k in self.kind.items():
            out[k] = out.get(k, 0) + self.size[s]
        return out

    def sample(self, phase: str, layer: str) -> None:
        self.samples.append((self.live, phase, layer, self.by_kind()))


def training_step(
    model: Model,
    input_shape: Sequence[Any] | str | None = None,
    batch: Any = 1,
    *,
    optimizer: str = "momentum",
    dtype: str = "float32",
    amp: str | None = None,
    trainable: Callable[[Node], bool] | None = None,
    inplace: Collection[str] | None = None,
    foreach: bool = False,
) -> TrainingReport:
    """The :class:`TrainingReport` of one training step of ``model``.

    ``inplace``: names of the nodes that run in place (default :func:`torchvision_inplace`;
    ``()`` for archcalc's ``to_torch`` build). ``trainable(node)``: whether a node's
    parameters train (default: all); frozen parameters get no gradient and no state.
    ``foreach``: model torch's foreach optimizer (CUDA's default) instead of the for-loop.
    ``batch`` may be a symbol (the peak is then a ``Max`` of lines in it); the input size
    must be numeric.
    """
    if optimizer not in OPTIMIZERS:
        raise OptionError(argument="optimizer", value=optimizer, valid=tuple(OPTIMIZERS))
    if amp is not None and amp not in AMP:
        raise OptionError(argument="amp", value=amp, valid=tuple(AMP))
    if amp is not None and dtype != "float32":
        raise OptionError(
            argument="amp", value=amp, reason=f"needs float32 parameters, not `dtype` {dtype!r}"
        )
    shapes = infer_shapes(model, input_shape)
    if any(is_symbolic(d) for d in shapes[INPUT]):
        raise UnsupportedError(
            argument="input",
            value="x".join(map(str, shapes[INPUT])),
            reason="the training peak needs numeric sizes (the batch may be a symbol; "
            "fit --solve input finds the largest size that fits)",
        )
    if is_symbolic(batch):
        return _symbolic_batch(
            batch,
            lambda b: training_step(
                model,
                shapes[INPUT],
                b,
                optimizer=optimizer,
                dtype=dtype,
                amp=amp,
                trainable=trainable,
                inplace=inplace,
                foreach=foreach,
            ),
        )
    place = torchvision_inplace(model, shapes) if inplace is None else frozenset(inplace)
    step = _Step(model, shapes, batch, optimizer, dtype, amp, trainable, place, foreach)
    return step.run()


class _Step:
    """One training step walked over the graph; each phase is a method (see the module)."""

    def __init__(
        self,
        model: Model,
        shapes: dict[str, tuple[Any, ...]],
        batch: int,
        optimizer: str,
        dtype: str,
        amp: str | None,
        trainable: Callable[[Node], bool] | None,
        place: frozenset[str],
        foreach: bool,
    ) -> None:
        self.model, self.shapes, self.batch = model, shapes, batch
        self.optimizer, self.dtype, self.amp, self.foreach = optimizer, dtype, amp, foreach
        self.place = place
        self.nodes = model.live_nodes()
        self.psize = itemsize(dtype)
        self.asize = itemsize(AMP[amp]) if amp else self.psize  # autocast ops' dtype
        self.sim = _Sim()
        self.ins_of = {n.name: tuple(shapes[s] for s in n.inputs) for n in self.nodes}
        self.ptensors = {n.name: _param_tensors(n.layer, self.ins_of[n.name]) for n in self.nodes}
        is_trainable = trainable or (lambda n: True)
        self.train = {n.name: bool(self.ptensors[n.name]) and is_trainable(n) for n in self.nodes}
        self.grad = {INPUT: False}  # whether each tensor requires grad
        self.store: dict[str, int] = {}  # the storage of each tensor
        self.size: dict[str, Any] = {}  # bytes of each tensor
        self.dsize = {INPUT: self.psize}  # bytes per element of each tensor
        self.saved_by: dict[str, list[int]] = {}
        self.cache: list[int] = []  # autocast's cached casts of trainable weights
        self.grads_made: Any = 0
        self.loss_value = -1  # storages made by the loss (see _cross_entropy)
        self.ones = -1

    def elems(self, name: str) -> Any:
        return self.batch * prod(self.shapes[name])

    def run(self) -> TrainingReport:
        self.always_live()
        self.forward()
        all_saved = self.sim.by_kind().get("saved", 0)
        self.backward(_cross_entropy(self))
        _optimizer_temporaries(self)
        return _report(self, all_saved)

    def always_live(self) -> None:
        """Parameters, buffers, the input, the targets and the optimizer's state."""
        sim, psize = self.sim, self.psize
        weights: Any = 0
        for n in self.nodes:
            weights = weights + sum(self.ptensors[n.name], 0) * psize
            nb = n.layer.buffers(self.ins_of[n.name])
            if is_symbolic(nb) or nb:
                # running statistics in the parameter dtype; BatchNorm's +1 is an int64 counter
                weights = weights + ((nb - 1) * psize + 8 if nb % 2 else nb * psize)
        self.weights = weights
        sim.new(weights, "weights")
        # the consumers of each tensor (the loss consumes the output; the caller the input)
        self.uses: dict[str, int] = {}
        for n in self.nodes:
            for s in n.inputs:
                self.uses[s] = self.uses.get(s, 0) + 1
        out = self.model.output
        self.uses[out] = self.uses.get(out, 0) + 1
        self.uses[INPUT] = self.uses.get(INPUT, 0) + 1
        # amp: the model input stays float32; autocast casts it per op
        self.store[INPUT] = sim.new(self.elems(INPUT) * psize, "input", self.uses[INPUT])
        out_shape = self.shapes[out]
        spatial = prod(out_shape[1:]) if len(out_shape) > 1 else 1
        sim.new(self.batch * spatial * 8, "input")  # int64 class targets
        n_state, step_scalar = OPTIMIZERS[self.optimizer]
        self.trained = [
            (n.name, t) for n in self.nodes if self.train[n.name] for t in self.ptensors[n.name]
        ]
        self.trained_bytes = sum((t for _, t in self.trained), 0) * psize
        self.state = n_state * self.trained_bytes + (4 * len(self.trained) if step_scalar else 0)
        sim.new(self.state, "optimizer")

    def forward(self) -> None:
        for n in self.nodes:
            self.forward_node(n)

    def forward_node(self, n: Node) -> None:
        sim, layer, store = self.sim, n.layer, self.store
        grad = self.grad
        grad[n.name] = self.train[n.name] or any(grad[s] for s in n.inputs)
        autocast = self.amp is not None and layer.weighted
        esize = self.asize if autocast else self.dsize[n.inputs[0]]
        self.dsize[n.name] = esize
        self.size[n.name] = self.elems(n.name) * esize
        src = {s: store[s] for s in n.inputs}  # what the op reads (autocast: casts)
        temps: list[int] = []
        kept: list[int] = []
        if autocast:
            # autocast casts its float32 inputs (per call) and weights (cached if trainable)
            for s in n.inputs:
                if self.dsize[s] != self.asize:
                    src[s] = sim.new(self.elems(s) * self.asize, "activation")
                    temps.append(src[s])
            for j, t in enumerate(self.ptensors[n.name]):
                c = sim.new(t * self.asize, "activation")
                temps.append(c)
                if self.train[n.name]:
                    sim.hold(c)
                    self.cache.append(c)
                if j == 0 and grad[n.name]:  # the op keeps its weight for the input's grad
                    sim.hold(c)
                    sim.kind[c] = "saved"
                    kept.append(c)
        consumers = self.uses.get(n.name, 0)
        if layer.is_view(True) or n.name in self.place:
            s_out = store[n.inputs[0]]
            sim.hold(s_out, consumers)
        else:
            s_out = sim.new(self.size[n.name], "activation", consumers)
        store[n.name] = s_out
        if grad[n.name]:
            for item in layer.saved(self.ins_of[n.name], self.shapes[n.name], self.batch):
                if isinstance(item, Extra):
                    if item.buffer:  # module buffers, counted in the weights
                        continue
                    per = (
                        esize
                        if item.itemsize is None
                        else max(4, self.psize)
                        if item.itemsize == "acc"
                        else item.itemsize
                    )
                    kept.append(sim.new(item.elements * per, "saved"))
                    continue
                if item != "out" and layer.operands_for_each_other:
                    k = int(item[2:])
                    if not any(grad[s] for j, s in enumerate(n.inputs) if j != k):
                        continue
                if n.name in self.place:
                    st = s_out  # an in-place op keeps its result
                else:
                    st = s_out if item == "out" else src[n.inputs[int(item[2:])]]
                if st not in kept:
                    sim.hold(st)
                    kept.append(st)
        for st in kept:
            if sim.kind[st] == "activation":
                sim.kind[st] = "saved"
        self.saved_by[n.name] = kept
        sim.sample("forward", n.name)
        for st in temps:
            sim.drop(st)
        for s in n.inputs:
            sim.drop(store[s])

    def backward(self, g_out: int) -> None:
        """autograd's engine: of the ready nodes, the one created last runs first."""
        sim, grad = self.sim, self.grad
        self.index = {n.name: i for i, n in enumerate(self.nodes)}
        # pending gradient contributions per tensor, and the buffer holding its gradient
        self.need: dict[str, int] = {}
        for n in self.nodes:
            if grad[n.name]:
                for s in n.inputs:
                    if grad.get(s, False):
                        self.need[s] = self.need.get(s, 0) + 1
        out = self.model.output
        self.need[out] = self.need.get(out, 0) + 1
        self.buf: dict[str, tuple[int, bool]] = {}  # tensor -> (its gradient, is a view)
        self.ready: list[int] = []
        self.deliver(out, g_out, False)
        while self.ready:
            self.backward_node(self.nodes[-heapq.heappop(self.ready)])
        sim.drop(self.ones)
        sim.drop(self.loss_value)
        for st, _ in self.buf.values():
            sim.drop(st)
        sim.sample("step", "start")

    def deliver(self, name: str, s: int, view: bool) -> None:
        """Add gradient ``s`` to ``name``'s input buffer (autograd's InputBuffer): in place
        when either gradient is exclusively held, else into a new tensor."""
        sim, buf = self.sim, self.buf
        if name in buf:
            old, oview = buf[name]
            if sim.refs[old] == 1 and not oview:
                sim.drop(s)
            elif sim.refs[s] == 1 and not view:
                sim.drop(old)
                buf[name] = (s, False)
            else:
                # the sum gets the tensor's size (a slice's storage is the whole concat's)
                new = sim.new(self.size[name], "grad")
                sim.sample("backward", name)
                sim.drop(old)
                sim.drop(s)
                buf[name] = (new, False)
        else:
            buf[name] = (s, view)
        self.need[name] -= 1
        if self.need[name] == 0 and name in self.index:
            heapq.heappush(self.ready, -self.index[name])

    def backward_node(self, n: Node) -> None:
        sim, layer, size = self.sim, n.layer, self.size
        g, gview = self.buf.pop(n.name)
        outs: list[tuple[str, int, bool]] = []
        broadcast: set[str] = set()
        targets = [s for s in n.inputs if self.grad.get(s, False)]
        if layer.is_view(True) or layer.grad_shared:
            for s in targets:
                sim.hold(g)
                outs.append((s, g, gview))
        elif layer.grad_views:
            for s in targets:
                sim.hold(g)
                outs.append((s, g, True))
        else:
            for s in targets:
                if layer.operands_for_each_other and self.elems(s) != self.elems(n.name):
                    # a broadcast operand's gradient is computed at the output's size, then
                    # summed to its own by autograd (validate_outputs) after the node ran
                    outs.append((s, sim.new(size[n.name], "grad"), False))
                    broadcast.add(s)
                else:
                    outs.append((s, sim.new(size[s], "grad"), False))
        low: list[tuple[int, Any]] = []
        if self.train[n.name] and self.amp is not None and layer.weighted:
            # gradients of the cast copies, cast to float32 by ToCopyBackward next
            low = [(sim.new(t * self.asize, "grad"), t) for t in self.ptensors[n.name]]
        elif self.train[n.name]:
            pg = sum(self.ptensors[n.name], 0) * self.psize
            sim.new(pg, "gradients")  # AccumulateGrad keeps it as .grad, no copy
            self.grads_made = self.grads_made + pg
        sim.sample("backward", n.name)
        for i, (name, st, _) in enumerate(outs):
            if name in broadcast:  # the node's output gradient is still held here
                outs[i] = (name, sim.new(size[name], "grad"), False)
                sim.sample("backward", n.name)
                sim.drop(st)
        sim.drop(g)
        for st in self.saved_by[n.name]:
            sim.drop(st)
        for name, st, view in outs:
            self.deliver(name, st, view)
        # the ToCopyBackward nodes of the weight casts run next (created just before the op)
        for st, t in low:
            sim.new(t * self.psize, "gradients")
            self.grads_made = self.grads_made + t * self.psize
            sim.sample("backward", n.name)
            sim.drop(st)


def _cross_entropy(step: _Step) -> int:
    """Cross-entropy against integer targets, and backward's first gradients; returns the
    storage of the logits' gradient. Autocast runs it in float32 (the float32 copy of the
    logits lives inside the op)."""
    sim, out = step.sim, step.model.output
    classes = step.elems(out)
    lsize = max(4, step.dsize[out])
    logp = sim.new(classes * lsize, "saved", 2)  # kept by log_softmax's and nll's backward
    step.loss_value = sim.new(4, "activation")
    total_weight = sim.new(4, "saved")
    sim.sample("loss", "cross_entropy")
    sim.drop(step.store[out])
    for c in step.cache:  # leaving autocast empties its cache
        sim.drop(c)
    step.ones = sim.new(4, "activation")  # backward starts from ones_like(loss)
    g_lp = sim.new(classes * lsize, "grad")
    sim.sample("backward", "cross_entropy")
    sim.drop(total_weight)
    sim.drop(logp)
    g_out = sim.new(classes * lsize, "grad")
    sim.sample("backward", "cross_entropy")
    sim.drop(g_lp)
    sim.drop(logp)
    if lsize != step.dsize[out]:  # the gradient cast back to the logits' dtype
        g32, g_out = g_out, sim.new(step.size[out], "grad")
        sim.sample("backward", "cross_entropy")
        sim.drop(g32)
    return g_out


def _optimizer_temporaries(step: _Step) -> None:
    """Temporaries of ``optimizer.step()``: none for sgd and momentum; Adam's ``denom``."""
    if step.optimizer not in ("adam", "adamw"):
        return
    sim, psize = step.sim, step.psize
    if step.foreach:
        tmp = sim.new(step.trained_bytes, "temporary")  # _foreach_sqrt of every state
        sim.sample("step", "foreach sqrt")
        sim.drop(tmp)
        return
    prev = None
    for name, t in step.trained:
        sq = sim.new(t * psize, "temporary")
        dv = sim.new(t * psize, "temporary")
        c = sim.new(8, "temporary")  # the float divisor, wrapped as a float64 scalar
        sim.sample("step", name)
        sim.drop(c)
        sim.drop(sq)
        if prev is not None:
            sim.drop(prev)  # the previous parameter's denom, until reassigned
        prev = dv
    if prev is not None:
        sim.drop(prev)


def _report(step: _Step, all_saved: Any) -> TrainingReport:
    """The peak of the walked step and its breakdown."""
    sim = step.sim
    at = max(range(len(sim.samples)), key=lambda i: sim.samples[i][0])
    live, phase, where, kinds = sim.samples[at]
    g_now = kinds.get("gradients", 0)
    return TrainingReport(
        optimizer=step.optimizer,
        batch=step.batch,
        dtype=step.dtype,
        amp=step.amp,
        foreach=step.foreach,
        peak_bytes=live,
        peak_phase=phase,
        peak_layer=where,
        weights_bytes=step.weights,
        gradients_bytes=g_now,
        optimizer_state_bytes=step.state,
        saved_activations_bytes=kinds.get("saved", 0),
        other_bytes=live - step.weights - g_now - step.state,
        all_gradients_bytes=step.grads_made,
        all_saved_bytes=all_saved,
        timeline=tuple((s[0], s[1], s[2]) for s in sim.samples),
        kinds=tuple(s[3] for s in sim.samples),
    )


def _symbolic_batch(b: Any, run: Callable[[int], TrainingReport]) -> TrainingReport:
    """The report for a symbolic batch ``b`` at a numeric input size: every live total is
    affine in the batch (activations scale with it, weights and state do not), so two runs
    give each sample's line ``a·b + c``; the peak is the max over the lines that are highest
    somewhere on b >= 1. Phase, layer and breakdown: the sample that is the peak for large b."""
    import sympy

    r1, r2 = run(1), run(2)
    lines = [(v2 - v1, 2 * v1 - v2) for (v1, *_), (v2, *_) in zip(r1.timeline, r2.timeline)]
    hull = _upper_envelope(lines)
    exprs = [a * b + c for a, c in hull]
    peak = exprs[0] if len(exprs) == 1 else sympy.Max(*exprs, evaluate=False)
    top = max(range(len(lines)), key=lambda i: lines[i])
    _, phase, layer = r1.timeline[top]

    def line(x1: Any, x2: Any) -> Any:
        return sympy.expand((x2 - x1) * b + 2 * x1 - x2)

    at1, at2 = _breakdown(r1, top), _breakdown(r2, top)
    return dataclasses.replace(
        r1,
        batch=b,
        peak_bytes=peak,
        peak_phase=phase,
        peak_layer=layer,
        gradients_bytes=line(at1["gradients"], at2["gradients"]),
        saved_activations_bytes=line(at1["saved"], at2["saved"]),
        other_bytes=line(at1["other"], at2["other"]),
        all_gradients_bytes=r1.all_gradients_bytes,
        all_saved_bytes=line(r1.all_saved_bytes, r2.all_saved_bytes),
        timeline=tuple(
            (sympy.expand(a * b + c), ph, ly) for (a, c), (_, ph, ly) in zip(lines, r1.timeline)
        ),
        candidates=tuple(exprs),
        kinds=(),
    )


def _breakdown(r: TrainingReport, i: int) -> dict[str, Any]:
    k = r.kinds[i]
    g = k.get("gradients", 0)
    return {
        "gradients": g,
        "saved": k.get("saved", 0),
        "other": r.timeline[i][0] - r.weights_bytes - g - r.optimizer_state_bytes,
    }


def _upper_envelope(lines: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The lines ``(a, c)`` of ``max(a·b + c)`` that are strictly highest somewhere on
    b >= 1 (b real), by slope."""
    best: dict[int, int] = {}
    for a, c in lines:
        best[a] = max(best.get(a, c), c)
    # start with the highest line at b = 1 and walk to steeper lines by their crossings
    cur = max(best.items(), key=lambda ac: (ac[0] + ac[1], ac[0]))
    hull = [cur]
    x = Fraction(1)
    while True:
        nxt: tuple[Fraction, tuple[int, int]] | None = None
        for a, c in best.items():
            if a <= cur[0]:
                continue
            cross = max(Fraction(cur[1] - c, a - cur[0]), x)  # where a·b + c overtakes cur
            if nxt is None or (cross, -a) < (nxt[0], -nxt[1][0]):
                nxt = (cross, (a, c))
        if nxt is None:
            return hull
        x, cur = nxt
        hull.append(cur)


# ---------------------------------------------------------------- the largest batch that fits

#: byte units: decimal (10^3n) and binary (2^10n), case-insensitive
UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
#: the longest budget text read (a 10,000-digit budget is exact; longer ones are refused)
MAX_BYTES_TEXT = 10_000
_BYTES = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*")


def parse_bytes(value: Any, argument: str = "memory") -> int:
    """Bytes in ``value``: an int, or text such as ``24GiB``, ``1.5 GB``, ``512MB``, ``1000``
    (units :data:`UNITS`; kB/MB/GB are 10³ⁿ, KiB/MiB/GiB 2¹⁰ⁿ); a fraction of a byte is
    dropped. Must be positive.

    >>> parse_bytes("24GiB"), parse_bytes("1.5 kB"), parse_bytes(4096)
    (25769803776, 1500, 4096)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        # digits only (no exponent), so any length up to MAX_BYTES_TEXT is cheap and exact
        m = (
            _BYTES.fullmatch(value)
            if isinstance(value, str) and len(value) <= MAX_BYTES_TEXT
            else None
        )
        if m is None or m.group(2).lower() not in UNITS and m.group(2) != "":
            raise OptionError(
                argument=argument,
                value=value,
                reason="must be a size such as 24GiB, 16GB, 512MiB or 1000000 (bytes)",
            )
        n = int(Fraction(m.group(1)) * UNITS[m.group(2).lower() or "b"])
    if n <= 0:
        raise OptionError(argument=argument, value=value, reason="must be a positive size")
    return n


@dataclass(frozen=True)
class FitResult:
    """The largest batch (or square input) whose training-step peak fits ``budget_bytes``."""

    batch: int
    input_shape: tuple[Any, ...]
    peak_bytes: int
    budget_bytes: int
    #: the peak one step further (batch + 1, or input + 1), which does not fit
    next_peak_bytes: int
    report: TrainingReport = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "input": list(self.input_shape),
            "peak_bytes": self.peak_bytes,
            "budget_bytes": self.budget_bytes,
            "next_peak_bytes": self.next_peak_bytes,
            "peak_phase": self.report.peak_phase,
            "peak_layer": self.report.peak_layer,
        }


def _too_small(memory: Any, budget: int, r: TrainingReport, what: str) -> OptionError:
    if budget < r.weights_bytes:
        return OptionError(
            argument="memory",
            value=memory,
            reason=f"is below the weights alone ({r.weights_bytes} bytes)",
        )
    return OptionError(
        argument="memory", value=memory, reason=f"{what} needs {r.peak_bytes} bytes at its peak"
    )


def fit_batch(
    model: Model, memory: Any, input_shape: Sequence[Any] | str | None = None, **kw: Any
) -> FitResult:
    """The largest batch whose :func:`training_step` peak fits ``memory`` (bytes or text,
    :func:`parse_bytes`). Exact: the peak is the max of lines in the batch
    (:func:`training_step` with a symbolic batch), solved line by line, then checked.

    >>> from archcalc.kinds import Conv2d, ReLU, Flatten, Linear
    >>> from archcalc.engine.graph import sequential
    >>> m = sequential("t", [Conv2d(1, 2, 3), ReLU(), Flatten(), Linear(8, 3)], input_shape=(1, 4, 4))
    >>> f = fit_batch(m, "1kB", optimizer="sgd")
    >>> f.batch, f.peak_bytes <= 1000 < f.next_peak_bytes
    (4, True)
    """
    budget = parse_bytes(memory)
    shape = infer_shapes(model, input_shape)[INPUT]

    def run(b: int) -> TrainingReport:
        return training_step(model, shape, b, **kw)

    r1, r2 = run(1), run(2)
    lines = [(v2 - v1, 2 * v1 - v2) for (v1, *_), (v2, *_) in zip(r1.timeline, r2.timeline)]
    if r1.peak_bytes > budget:
        raise _too_small(memory, budget, r1, "batch 1")
    best: int | None = None
    for a, c in lines:
        if a > 0:
            b = (budget - c) // a
            best = b if best is None else min(best, b)
    if best is None:  # nothing grows with the batch: cannot happen (the input does)
        raise OptionError(argument="memory", value=memory, reason="the peak does not grow")
    r, nxt = run(best), run(best + 1)
    assert r.peak_bytes <= budget < nxt.peak_bytes, (best, r.peak_bytes, nxt.peak_bytes)
    return FitResult(best, tuple(shape), r.peak_bytes, budget, nxt.peak_bytes, r)


def fit_input(
    model: Model,
    memory: Any,
    batch: int = 1,
    *,
    limit: int = 1 << 16,
    **kw: Any,
) -> FitResult:
    """The largest square input (H = W, the model's channels) whose training-step peak at
    ``batch`` fits ``memory``: a search over sizes the model accepts, assuming the peak
    grows with the size; the answer is checked against the next size."""
    from .._errors import ArchcalcError

    budget = parse_bytes(memory)
    c = model.input_shape[0]

    def run(h: int) -> TrainingReport | None:
        try:
            return training_step(model, (c, h, h), batch, **kw)
        except ArchcalcError as e:
            if isinstance(e, OptionError):
                raise
            return None  # too small for the model

    def fits(h: int) -> bool:
        r = run(h)
        return r is not None and r.peak_bytes <= budget

    # the smallest size the model accepts (accepted sizes are all sizes above it)
    lo, hi = 1, 1
    while run(hi) is None:
        lo, hi = hi, hi * 2
        if hi > limit:
            raise OptionError(argument="input", value=hi, reason="no input size the model takes")
    while lo < hi:
        mid = (lo + hi) // 2
        if run(mid) is None:
            lo = mid + 1
        else:
            hi = mid
    smallest = lo
    first = run(smallest)
    assert first is not None
    if first.peak_bytes > budget:
        raise _too_small(memory, budget, first, f"the smallest input {smallest}x{smallest}")
    lo, hi = smallest, smallest * 2
    while fits(hi):
        lo, hi = hi, hi * 2
        if hi > limit:
            raise OptionError(
                argument="memory", value=memory, reason=f"fits inputs beyond {limit}x{limit}"
            )
    while hi - lo > 1:  # lo fits, hi does not
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    r, nxt = run(lo), run(lo + 1)
    assert r is not None and nxt is not None
    return FitResult(batch, (c, lo, lo), r.peak_bytes, budget, nxt.peak_bytes, r)
