"""Models as graphs of named layer nodes, and a builder to write them.

A :class:`Model` is a tuple of :class:`Node` in topological order (each node's inputs are
the model input ``"input"`` or earlier nodes), an output node, a default input shape of
any rank (``(C, H, W)`` for an image model, ``(L, C)`` for tokens, ``(F,)`` for a vector)
and, optionally, the node holding the last convolutional feature map (used
by the heads of :mod:`archcalc.engine.heads`).

>>> from archcalc import Builder, Conv2d, ReLU, Add
>>> b = Builder("tiny", input_shape=(8, 32, 32))
>>> x = b.add("conv1", Conv2d(8, 8, 3, padding=1))
>>> y = b.add("relu1", ReLU())
>>> z = b.add("sum", Add(), y, "input")
>>> m = b.build()
>>> [n.name for n in m.nodes]
['conv1', 'relu1', 'sum']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from .._errors import ArchcalcError, SpecError
from ..kinds import Layer

__all__ = ["Node", "Model", "Builder", "sequential", "INPUT", "VIA"]

#: the name of the model's input tensor
INPUT = "input"

T = TypeVar("T")


#: how a node's operation is called in torch (:attr:`Node.via`)
VIA = ("module", "function", "method")


@dataclass(frozen=True, slots=True)
class Node:
    """One layer of a model: its name, its spec and the names of its inputs.

    ``via`` says how torch calls the operation: ``"module"`` (an ``nn.Module``, the
    default), ``"function"`` (``F.relu(x)``, ``torch.cat``) or ``"method"`` (``x.mean()``,
    ``a + b``). Only the foreign counting conventions read it: hook-based tools (ptflops'
    module hooks, thop, torchinfo) do not see a function call
    (:mod:`archcalc.conventions`). It is not part of a node's equality: ``x + y`` and
    ``Add()`` are the same layer."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    via: str = field(default="module", compare=False)


@dataclass(frozen=True)
class Model:
    """A network: nodes in topological order, the output node, the default input shape."""

    name: str
    nodes: tuple[Node, ...]
    input_shape: tuple[Any, ...]
    output: str
    features: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        seen = {INPUT}
        for i, n in enumerate(self.nodes):
            if not isinstance(n, Node):
                raise SpecError(
                    layer_index=i,
                    value=n,
                    reason="is not a Node(name, layer, inputs)",
                    wrong_type=True,
                )
            if not isinstance(n.layer, Layer):
                raise SpecError(
                    layer_index=i,
                    layer_name=n.name,
                    field="layer",
                    value=n.layer,
                    reason="is not a layer spec (an instance of a kind in archcalc.kinds)",
                    wrong_type=True,
                )
            ctx: dict[str, Any] = {"layer_index": i, "layer_name": n.name, "kind": n.layer.kind}
            if n.via != "module" and n.via not in VIA:
                raise SpecError(**ctx, field="via", value=n.via, valid=list(VIA))
            if n.name in seen:
                raise SpecError(
                    **ctx, field="name", value=n.name, reason="is used twice; names must be unique"
                )
            for src in n.inputs:
                if src not in seen:
                    raise SpecError(
                        **ctx,
                        field="inputs",
                        value=list(n.inputs),
                        reason=f"input '{src}' is not the model input or an earlier layer",
                    )
            arity = n.layer.arity
            if arity is None and len(n.inputs) < n.layer.min_inputs:
                raise SpecError(
                    **ctx,
                    field="inputs",
                    value=list(n.inputs),
                    reason=f"needs {n.layer.min_inputs} or more inputs",
                )
            if arity is not None and len(n.inputs) != arity:
                raise SpecError(
                    **ctx,
                    field="inputs",
                    value=list(n.inputs),
                    reason=f"needs exactly {arity} input(s)",
                )
            seen.add(n.name)
        if not self.nodes:
            raise SpecError(f"model '{self.name}' has no layers")
        if self.output == INPUT:
            raise SpecError(
                f"model '{self.name}': output = 'input' selects no layer; "
                f"name a layer (default: the last one)"
            )
        if self.output not in seen:
            raise SpecError(f"model '{self.name}': output '{self.output}' is not a layer name")
        if self.features is not None and self.features not in seen:
            raise SpecError(f"model '{self.name}': features '{self.features}' is not a layer name")

    @property
    def index(self) -> dict[str, int]:
        """Position of each node by name (the input is -1)."""
        d = {n.name: i for i, n in enumerate(self.nodes)}
        d[INPUT] = -1
        return d

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise SpecError(f"model '{self.name}' has no layer '{name}'")

    def ancestors(self, name: str) -> set[str]:
        """Names of the nodes that ``name`` depends on, itself included."""
        by_name = {n.name: n for n in self.nodes}
        out: set[str] = set()
        stack = [name]
        while stack:
            cur = stack.pop()
            if cur in out or cur == INPUT:
                continue
            out.add(cur)
            stack.extend(by_name[cur].inputs)
        return out

    def live_nodes(self) -> tuple[Node, ...]:
        """Nodes the output depends on, in order (dead branches are dropped)."""
        return self._live

    @cached_property
    def _live(self) -> tuple[Node, ...]:
        return self._structure[0]

    def live_slots(self) -> tuple[tuple[int, ...], ...]:
        """For each live node, the positions of its inputs among the input and the live
        nodes: 0 is the model input, ``k`` the live node ``k - 1`` (a walk indexes lists by
        them instead of looking names up)."""
        return self._structure[1]

    @cached_property
    def _structure(self) -> tuple[tuple[Node, ...], tuple[tuple[int, ...], ...]]:
        """The live nodes and their inputs' slots, found by position: the nodes the output
        depends on, marked from the output back (names are looked up only for an input
        that is not the node before: a chain's nodes name the very same string object)."""
        nodes = self.nodes
        pos: dict[str, int] = {}  # name -> position + 1, built at the first need

        def slot(name: str) -> int:
            if not pos:
                pos[INPUT] = 0
                pos.update(zip([n.name for n in nodes], range(1, len(nodes) + 1)))
            return pos[name]

        prev, srcs = INPUT, []
        for k, n in enumerate(nodes, 1):
            ins = n.inputs
            srcs.append((k - 1,) if len(ins) == 1 and ins[0] is prev else tuple(map(slot, ins)))
            prev = n.name
        out = len(nodes) if self.output == prev else slot(self.output)
        live = bytearray(out + 1)
        live[out] = 1
        for k in range(out, 0, -1):
            if live[k]:
                for s in srcs[k - 1]:
                    live[s] = 1
        if out == len(nodes) and live.find(0, 1) < 0:
            return nodes, tuple(srcs)  # every node is live
        new = [0] * (out + 1)  # position -> slot among the live
        order = [k for k in range(1, out + 1) if live[k]]
        for j, k in enumerate(order, 1):
            new[k] = j
        return (
            tuple(nodes[k - 1] for k in order),
            tuple(tuple([new[s] for s in srcs[k - 1]]) for k in order),
        )

    def trunk(self) -> list[str]:
        """Nodes every path from the input to the output passes through, in order."""
        nodes = self.live_nodes()
        pos = {n.name: i for i, n in enumerate(nodes)}
        pos[INPUT] = -1
        # node i is on the trunk iff no edge u -> v jumps over it (pos u < i < pos v)
        reach = {-1: -1, **{i: i for i in range(len(nodes))}}
        for i, n in enumerate(nodes):
            for src in n.inputs:
                reach[pos[src]] = max(reach[pos[src]], i)
        furthest = reach[-1]
        trunk = []
        for i, n in enumerate(nodes):
            if furthest <= i:
                trunk.append(n.name)
            furthest = max(furthest, reach[i])
        return trunk

    def with_nodes(self, nodes: Sequence[Node], output: str | None = None, **kw: Any) -> Model:
        """A copy with other nodes (and output)."""
        return Model(
            name=kw.get("name", self.name),
            nodes=tuple(nodes),
            input_shape=kw.get("input_shape", self.input_shape),
            output=output if output is not None else nodes[-1].name,
            features=kw.get("features", self.features),
            description=kw.get("description", self.description),
        )


def where(i: int, node: Node) -> str:
    """How errors name a layer: its index, name and kind."""
    return f"layer {i} '{node.name}' ({node.layer.kind})"


def locate(e: ArchcalcError, i: int, node: Node) -> ArchcalcError:
    """``e`` with the layer it happened in (index, name, kind), unless it already names one."""
    if e.layer_index is not None or e.layer_name is not None:
        return e
    return e.with_context(layer_index=i, layer_name=node.name, kind=node.layer.kind)


def each_node(model: Model, fn: Callable[[int, Node], T]) -> list[T]:
    """Apply ``fn`` to every live node, re-raising archcalc errors with the layer named."""
    out = []
    for i, node in enumerate(model.live_nodes()):
        try:
            out.append(fn(i, node))
        except ArchcalcError as e:
            raise locate(e, i, node) from None
    return out


class Builder:
    """Write a model node by node.

    ``add(name, layer, *inputs)`` appends a node whose inputs default to the last node added
    (or the model input) and returns its name, so branches read like code:

    >>> from archcalc import Builder, Conv2d, Concat
    >>> b = Builder("branches", input_shape=(4, 16, 16))
    >>> a = b.add("a", Conv2d(4, 2, 1), "input")
    >>> c = b.add("c", Conv2d(4, 3, 3, padding=1), "input")
    >>> b.add("cat", Concat(), a, c)
    'cat'
    """

    def __init__(
        self, name: str, input_shape: Sequence[Any] = (3, 224, 224), description: str = ""
    ) -> None:
        self.name = name
        self.input_shape = tuple(input_shape)
        self.description = description
        self.nodes: list[Node] = []
        self.last = INPUT

    def add(self, name: str, layer: Layer, *inputs: str, via: str = "module") -> str:
        """Append ``layer`` as ``name`` fed by ``inputs`` (default: the last node);
        ``via``: how torch calls it (:attr:`Node.via`)."""
        self.nodes.append(Node(name, layer, tuple(inputs) if inputs else (self.last,), via))
        self.last = name
        return name

    def seq(
        self, prefix: str, layers: Iterable[tuple[str, Layer] | Layer], x: str | None = None
    ) -> str:
        """Append a chain; ``(name, layer)`` pairs get ``prefix.name``, bare layers
        ``prefix.<position>`` (as ``nn.Sequential`` names them). Returns the last name."""
        if x is not None:
            self.last = x
        for i, item in enumerate(layers):
            sub, layer = item if isinstance(item, tuple) else (str(i), item)
            self.add(f"{prefix}.{sub}" if prefix else sub, layer)
        return self.last

    def build(self, output: str | None = None, features: str | None = None) -> Model:
        """The finished :class:`Model` (output defaults to the last node)."""
        return Model(
            self.name,
            tuple(self.nodes),
            self.input_shape,
            output if output is not None else self.last,
            features,
            self.description,
        )


def sequential(
    name: str,
    layers: Iterable[tuple[str, Layer] | Layer],
    input_shape: Sequence[Any] = (3, 224, 224),
    features: str | None = None,
) -> Model:
    """A chain model; bare layers are named by position, like ``nn.Sequential``.

    >>> from archcalc import sequential, Conv2d, ReLU
    >>> sequential("two", [Conv2d(3, 8, 3), ReLU()], input_shape=(3, 8, 8)).nodes[1].name
    '1'
    """
    b = Builder(name, input_shape)
    b.seq("", layers)
    return b.build(features=features)
