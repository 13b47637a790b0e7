"""Classifier heads: the model's own (``fc``), global average pooling (``gap``, exam Q2)
and the fully convolutional equivalent (``conv``, exam Q3).

* ``gap`` keeps everything up to the last convolutional feature map ``(C, h, w)`` and puts
  ``AdaptiveAvgPool2d(1)``, ``Flatten`` and one ``Linear(C, classes)`` after it:
  ``(C + 1)·classes`` head parameters instead of the FC head's.
* ``conv`` turns the layers after the feature map into convolutions with the same weights
  (at the model's training input size): a ``Flatten`` + ``Linear(C·h·w, n)`` becomes
  ``Conv2d(C, n, (h, w))``, later ``Linear`` layers ``1×1`` convolutions, a global average
  pool an ``AvgPool2d((h, w), stride=1)``, and an adaptive pool that is the identity at the
  training size is dropped. On an input larger than the training size the output is a
  ``(H'−H+1)×(W'−W+1)`` map (in feature-map units) of predictions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import OptionError, UnsupportedError
from ..kinds import AdaptiveAvgPool2d, AvgPool2d, Flatten, Layer, Linear
from .graph import INPUT, Model, Node
from .shapes import infer_shapes

__all__ = ["HEADS", "apply_head", "features_node", "last_spatial_node", "set_classes"]

HEADS = ("fc", "gap", "conv")


def features_node(model: Model) -> str:
    """The last convolutional feature map for the heads: ``model.features`` if the model
    names it, else :func:`last_spatial_node`."""
    if model.features is not None:
        return model.features
    return last_spatial_node(model)


def last_spatial_node(model: Model) -> str:
    """The input of the first global pooling or flatten on the trunk (every path passes
    it), or the output when there is none (a fully convolutional model)."""
    if not any(n.layer.is_global_pool() or n.layer.flattens for n in model.live_nodes()):
        return model.output  # none anywhere: no need for the trunk
    by_name = {n.name: n for n in model.nodes}
    for name in model.trunk():
        layer = by_name[name].layer
        if layer.is_global_pool() or layer.flattens:
            return by_name[name].inputs[0]
    return model.output


def set_classes(model: Model, classes: int | None) -> Model:
    """The model with its last weighted layer producing ``classes`` outputs."""
    if classes is None:
        return model
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise OptionError(
            argument="classes", value=classes, reason="must be a positive integer", wrong_type=True
        )
    if classes < 1:
        raise OptionError(argument="classes", value=classes, reason="must be a positive integer")
    nodes = list(model.nodes)
    for i in range(len(nodes) - 1, -1, -1):
        layer = nodes[i].layer
        if layer.classifier:
            resized = layer.with_outputs(classes)
            if resized is None:
                break
            nodes[i] = replace(nodes[i], layer=resized)
            return model.with_nodes(nodes, model.output)
    raise OptionError(f"classes: model '{model.name}' has no final linear or conv layer to resize")


def apply_head(model: Model, head: str = "fc", classes: int | None = None) -> Model:
    """``model`` with the chosen head (``fc``, ``gap`` or ``conv``) and number of classes."""
    if head not in HEADS:
        raise OptionError(argument="head", value=head, valid=HEADS)
    if head == "fc":
        return set_classes(model, classes)
    if head == "gap":
        return _gap(model, classes)
    return set_classes(_conv(model), classes)


def _gap(model: Model, classes: int | None) -> Model:
    feat = features_node(model)
    shapes = infer_shapes(model)
    fshape = shapes[feat]
    if len(fshape) != 3:
        raise UnsupportedError(
            f"head='gap': model '{model.name}' has no convolutional feature map before its head"
        )
    if classes is None and len(shapes[model.output]) != 1:
        raise OptionError(
            f"head='gap': model '{model.name}' has no classifier to take the number of classes "
            f"from; give classes=N"
        )
    n_out = classes if classes is not None else _num_outputs(shapes[model.output])
    keep = model.ancestors(feat)
    nodes = [n for n in model.nodes if n.name in keep]
    nodes += [
        Node("gap.pool", AdaptiveAvgPool2d(1), (feat,)),
        Node("gap.flatten", Flatten(), ("gap.pool",)),
        Node("gap.fc", Linear(fshape[0], n_out), ("gap.flatten",)),
    ]
    if classes is not None:
        set_classes(model, classes)  # validates the value
    return model.with_nodes(nodes, "gap.fc", name=f"{model.name}", features=feat)


def _num_outputs(shape: tuple[Any, ...]) -> Any:
    return shape[0]


def _conv(model: Model) -> Model:
    feat = features_node(model)
    shapes = infer_shapes(model)
    if len(shapes[feat]) != 3:
        raise UnsupportedError(f"head='conv': model '{model.name}' has no feature map")
    live = model.live_nodes()
    names = [n.name for n in live]
    start = names.index(feat) + 1 if feat != INPUT else 0
    head, prev = [], feat
    for node in live[start:]:
        if node.inputs != (prev,):
            raise UnsupportedError(
                f"head='conv': layer '{node.name}' after the feature map is not a simple chain"
            )
        head.append(node)
        prev = node.name
    c, h, w = shapes[feat]
    flat: tuple[Any, Any, Any] | None = None
    spatial = (h, w)
    out_nodes = [n for n in live if n.name not in {x.name for x in head}]
    for node in head:
        layer = node.layer
        new: Layer | None = layer
        if layer.is_global_pool():
            new = AvgPool2d(spatial, stride=1)
            spatial = (1, 1)
        elif layer.head_role == "resize_pool":
            if not layer.identity_at(spatial):
                raise UnsupportedError(
                    f"head='conv': '{node.name}' {layer} is not the identity at the training "
                    f"size {spatial}; no fixed-kernel equivalent"
                )
            new = None
        elif layer.flattens:
            flat = (shapes[node.inputs[0]][0], *spatial)
            new = None
        elif layer.head_role == "dense":
            new = layer.as_conv(flat)
            if flat is not None:
                flat, spatial = None, (1, 1)
        elif layer.head_role == "keep":
            # per-position layers work unchanged on a map
            new = layer
        else:
            raise UnsupportedError(
                f"head='conv': cannot convert '{node.name}' ({layer.kind}) to a convolution"
            )
        if new is None:
            # dropped: rewire the next layer to this node's input
            head_inputs = {node.name: node.inputs[0]}
            _rewire(head, head_inputs)
            continue
        # a layer kept as it is keeps how torch calls it; a converted one is archcalc's module
        out_nodes.append(
            Node(node.name, new, node.inputs, via=node.via if new is layer else "module")
        )
    # a trailing Flatten (SqueezeNet's head is already convolutional) is dropped: the output
    # stays a map of predictions
    return model.with_nodes(out_nodes, out_nodes[-1].name, features=feat)


def _rewire(nodes: list[Node], mapping: dict[str, str]) -> None:
    for i, n in enumerate(nodes):
        if any(s in mapping for s in n.inputs):
            nodes[i] = replace(n, inputs=tuple(mapping.get(s, s) for s in n.inputs))
