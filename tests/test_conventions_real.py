"""Foreign conventions on REAL torchvision models, against the tools run on the same module.

:func:`archcalc.torch.from_torch` imports torchvision's alexnet, resnet50, mobilenet_v2 and
densenet121 (weights=None, eval mode); every tool then runs on that very module, and
``archcalc.conventions.total`` of the import must equal what the tool prints. The expected
values are the tools' own output, never archcalc's.

torchvision's ``forward`` calls some layers as functions (mobilenet_v2 and densenet121:
``F.adaptive_avg_pool2d``, ``F.relu``, ``torch.flatten``, ``torch.cat``) and some as
operators (``x + self.conv(x)``). ptflops counts those through its patched functionals
only, thop and torchinfo not at all (they hook modules); the importer records the call on
the node (``Node.via``) and the conventions read it. The zoo mirrors of mobilenet_v2 and
densenet121 mark the same nodes, so they equal the tools on the real modules too.

A batch of 2 exercises ptflops' division of its module hooks by the batch; 64×64 is valid
for all four models (alexnet's adaptive pool then upsamples 1×1 to 6×6).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import pytest

import archcalc
from archcalc import zoo
from archcalc.conventions import total
from archcalc.engine.shapes import infer_shapes

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
at = pytest.importorskip("archcalc.torch")

with warnings.catch_warnings():  # thop imports distutils; the tools are not under test here
    warnings.simplefilter("ignore")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    flop_counter = pytest.importorskip("torch.utils.flop_counter")
    ptflops = pytest.importorskip("ptflops")
    thop = pytest.importorskip("thop")
    torchinfo = pytest.importorskip("torchinfo")

pytestmark = pytest.mark.xdist_group("conventions_real")  # one worker builds each model once

MODELS = ["alexnet", "resnet50", "mobilenet_v2", "densenet121"]
TOOLS = ["fvcore", "flopcounter", "ptflops", "thop", "torchinfo"]
SHAPE = (3, 64, 64)
BATCH = 2


def _run_tools(net: Any, x: Any) -> dict[str, Any]:
    """Each tool's printed total on ``net`` for the batch ``x``."""
    out: dict[str, Any] = {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        a = fvcore_nn.FlopCountAnalysis(net, (x,))
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        out["fvcore"] = a.total()
        with flop_counter.FlopCounterMode(display=False) as fc:
            net(x)
        out["flopcounter"] = fc.get_total_flops()
        with contextlib.redirect_stdout(io.StringIO()):
            flops, _ = ptflops.get_model_complexity_info(
                net,
                tuple(x.shape[1:]),
                as_strings=False,
                print_per_layer_stat=False,
                input_constructor=lambda res: x,
                backend="pytorch",
            )
        out["ptflops"] = flops
        out["thop"] = thop.profile(net, (x,), verbose=False)[0]
        out["torchinfo"] = torchinfo.summary(net, input_data=x, verbose=0).total_mult_adds
    return out


@pytest.fixture(scope="module")
def real() -> Any:
    """Per model: the torchvision module, archcalc's import of it, and the tools' totals
    (each model is built and measured once, at its first use)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops; one thread avoids oversubscribing CI cores

    class Lazy(dict):
        def __missing__(self, name: str) -> dict[str, Any]:
            net = getattr(torchvision.models, name)(weights=None).eval()
            x = torch.randn((BATCH, *SHAPE), generator=torch.Generator().manual_seed(0))
            self[name] = {
                "net": net,
                "model": at.from_torch(net, SHAPE),
                "tools": _run_tools(net, x),
            }
            return self[name]

    yield Lazy()
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", MODELS)
def test_params_equal_numel(real, name):
    r = real[name]
    assert archcalc.summary(r["model"]).params == sum(p.numel() for p in r["net"].parameters())


@pytest.mark.parametrize("convention", TOOLS)
@pytest.mark.parametrize("name", MODELS)
def test_import_equals_tool(real, name, convention):
    r = real[name]
    m = r["model"]
    assert total(m, infer_shapes(m), BATCH, convention) == r["tools"][convention]


@pytest.mark.parametrize("convention", TOOLS)
@pytest.mark.parametrize("name", ["mobilenet_v2", "densenet121"])
def test_zoo_mirror_equals_tool_on_real_module(real, name, convention):
    # the mirrors mark torchvision's function calls (via="function"), as the import does
    m = zoo.get(name)
    assert total(m, infer_shapes(m, SHAPE), BATCH, convention) == real[name]["tools"][convention]


def test_function_calls_are_recorded():
    net = torchvision.models.densenet121(weights=None)
    via = {n.name: n.via for n in at.from_torch(net, SHAPE).nodes}
    assert via["relu"] == via["adaptive_avg_pool2d"] == via["flatten"] == "function"
    assert via["features.denseblock1.denselayer2.cat"] == "function"
    assert via["features.norm5"] == via["classifier"] == "module"
    mirror = {n.name: n.via for n in zoo.get("densenet121").nodes}
    assert {k: mirror[k] for k in via} == via


def test_via_in_a_spec_file_and_what_it_changes():
    # a ReLU on (8, 4, 4), batch 2: ptflops' module hook counts 8·4·4 = 128 per sample
    # (divided by the batch) and its patched F.relu 2·128 (not divided); a call of F.relu
    # is seen by the patch only. thop and torchinfo see modules only; fvcore counts aten ops.
    from archcalc import AdaptiveAvgPool2d, Builder, Conv2d, ReLU
    from archcalc.load.specfile import model_from_dict, model_to_dict

    def model(via: str):
        b = Builder("v", (3, 4, 4))
        b.add("conv", Conv2d(3, 8, 3, padding=1))
        b.add("relu", ReLU(), via=via)
        b.add("pool", AdaptiveAvgPool2d(1), via=via)
        return b.build()

    as_module, as_function = model("module"), model("function")
    data = model_to_dict(as_function)
    assert [layer.get("via") for layer in data["layers"]] == [None, "function", "function"]
    assert "via" not in str(model_to_dict(as_module))  # the default is not written
    assert [n.via for n in model_from_dict(data).nodes] == ["module", "function", "function"]

    def counts(m, convention):
        c = archcalc.conventions.count(m, infer_shapes(m), 2, convention)
        return c["relu"], c["pool"]

    relu_hook, relu_patch = 8 * 4 * 4, 2 * 8 * 4 * 4
    assert counts(as_module, "ptflops")[0] == relu_hook + relu_patch
    assert counts(as_function, "ptflops")[0] == relu_patch
    assert counts(as_function, "thop") == counts(as_function, "torchinfo") == (0, 0)
    assert counts(as_module, "thop")[1] > 0  # thop's adaptive pool hook
    for convention in ("fvcore", "flopcounter", "torchvision"):
        assert counts(as_function, convention) == counts(as_module, convention)
