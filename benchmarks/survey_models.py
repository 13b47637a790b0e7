"""Survey: import real models with ``archcalc.torch.from_torch`` and compare with torch and fvcore.

Every torchvision classification and segmentation model (``tv``) or one timm model per
architecture family (``timm``: the first model, alphabetically, of each timm module), built
with random weights. A model is tried at 3x64x64, then at its own input size. *Exact* means
archcalc's parameters equal ``sum(p.numel())`` and its FLOPs under the ``fvcore`` convention
equal ``fvcore.nn.FlopCountAnalysis(model, x).total()`` run here on the same module and input
(fvcore runs the model for real: only up to ``--fvcore-limit`` parameters; above it the
parameters alone are checked and the model is counted as such).

    python benchmarks/survey_models.py tv --out survey_tv.json
    python benchmarks/survey_models.py timm --out survey_timm.json
    python benchmarks/survey_models.py timm eva02_base_patch14_224 levit_128   # some models
    python benchmarks/survey_models.py --markdown survey_tv.json survey_timm.json

Not a test: it takes minutes to an hour on 2 cores. docs/import.md holds its last outcome.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

SMALL = (3, 64, 64)


def _fvcore_total(model: Any, shape: tuple[int, ...]) -> int:
    import torch
    from fvcore.nn import FlopCountAnalysis

    f = FlopCountAnalysis(model, (torch.randn(1, *shape),))
    f.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(f.total())


def _build(make: Callable[[], Any]) -> Any:
    import torch

    try:
        with torch.device("meta"):
            return make().eval()
    except Exception:  # an initialiser that reads values
        return make().eval()


def survey_one(
    name: str, make: Callable[[], Any], shapes: list[tuple[int, ...]], limit: float
) -> dict:
    import archcalc
    from archcalc.torch import from_torch

    rec: dict[str, Any] = {"model": name}
    model = _build(make)
    rec["numel"] = numel = sum(p.numel() for p in model.parameters())
    error = None
    for shape in shapes:
        try:
            t = time.perf_counter()
            s = archcalc.summary(from_torch(model, shape), convention="fvcore")
            rec.update(import_s=round(time.perf_counter() - t, 3), shape=list(shape))
            rec.update(params=s.params, flops=int(s.flops))
            error = None
            break
        except Exception as e:  # the survey records every failure
            error = f"{type(e).__name__}: {e}"
    if error is not None:
        rec["error"] = error[:600]
        return rec
    if numel <= limit:
        try:
            if any(p.is_meta for p in model.parameters()):
                # a real build: index buffers (relative positions) are set by the initialiser
                model = make().eval()
            rec["fvcore"] = _fvcore_total(model, tuple(rec["shape"]))
        except Exception as e:
            rec["fvcore_error"] = f"{type(e).__name__}: {e}"[:300]
    return rec


def verdict(r: dict) -> str:
    if "build_error" in r:
        return "build"
    if "error" in r:
        return "fail"
    if r["params"] != r["numel"]:
        return "params"
    if "fvcore" not in r:
        return "params-only"
    return "exact" if r["fvcore"] == r["flops"] else "flops"


def torchvision_models(names: list[str]) -> list[tuple[str, Callable[[], Any], list]]:
    from torchvision import models as M

    seg = set(M.list_models(module=M.segmentation))
    out = []
    for n in names or M.list_models(module=M) + sorted(seg):
        kw: dict[str, Any] = {"weights": None}
        if n in ("googlenet", "inception_v3"):
            kw.update(aux_logits=False, init_weights=False)
        if n in seg:
            kw["weights_backbone"] = None
        shapes = [(3, 299, 299)] if n == "inception_v3" else [SMALL, (3, 224, 224)]
        out.append((n, lambda n=n, kw=kw: M.get_model(n, **kw), shapes))
    return out


def timm_models(names: list[str]) -> list[tuple[str, Callable[[], Any], list]]:
    import timm

    if not names:
        seen: set[str] = set()
        for n in timm.list_models():
            module = timm.models._registry._model_to_module.get(n)
            if module not in seen:
                seen.add(module)
                names.append(n)
    out = []
    for n in names:
        try:
            size = tuple(timm.models.get_pretrained_cfg(n).input_size)
        except Exception:
            size = (3, 224, 224)
        out.append((n, lambda n=n: timm.create_model(n, pretrained=False), [SMALL, size]))
    return out


def _first_blocker(error: str) -> str:
    m = re.search(r"cannot map (\S+)", error)
    if m:
        return m.group(1)
    return error.split(":", 1)[0]


def markdown(paths: list[str]) -> str:
    lines = []
    for path in paths:
        with open(path) as f:
            res = json.load(f)
        by = defaultdict(list)
        for r in res:
            by[verdict(r)].append(r["model"])
        lines.append(
            f"**{path}**: {len(res)} models; {len(by['exact'])} exact against fvcore run on "
            f"them; {len(by['params-only'])} more with exact parameters (fvcore not run: over "
            f"its size limit); {len(by['flops'])} with exact parameters but other fvcore "
            f"FLOPs; {len(by['params'])} with other parameters; "
            f"{len(by['fail']) + len(by['build'])} fail."
        )
        lines.append("")
        for v in ("flops", "params"):
            if by[v]:
                lines.append(f"- {v} differ: {', '.join(by[v])}")
        fails = defaultdict(list)
        for r in res:
            if verdict(r) == "fail":
                fails[_first_blocker(r["error"])].append(r["model"])
        for op, ms in sorted(fails.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"- {len(ms)} × `{op}`: {', '.join(sorted(ms))}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("which", nargs="?", choices=("tv", "timm"))
    ap.add_argument("names", nargs="*")
    ap.add_argument("--out")
    ap.add_argument("--fvcore-limit", type=float, default=30e6)
    ap.add_argument("--markdown", nargs="+", metavar="JSON")
    a = ap.parse_args()
    if a.markdown:
        print(markdown(a.markdown))
        return
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    items = torchvision_models(a.names) if a.which == "tv" else timm_models(a.names)
    res = []
    for name, make, shapes in items:
        try:
            r = survey_one(name, make, shapes, a.fvcore_limit)
        except Exception as e:
            r = {"model": name, "build_error": f"{type(e).__name__}: {e}"[:300]}
        res.append(r)
        detail = r.get("error") or r.get("build_error") or r.get("fvcore_error", "")
        print(f"{name:40s} {verdict(r):12s} {detail[:300]}", flush=True)
        gc.collect()
        if a.out:
            with open(a.out, "w") as f:
                json.dump(res, f, indent=1)
    counts = defaultdict(int)
    for r in res:
        counts[verdict(r)] += 1
    print(dict(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
