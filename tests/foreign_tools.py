"""The foreign counters' totals on one real module (test helper, shared by the kind tests).

``tool_totals(net, x)``: fvcore's ``FlopCountAnalysis(...).total()``, FlopCounterMode's
``get_total_flops()``, ptflops' ``get_model_complexity_info`` (pytorch backend), thop's
``profile`` and torchinfo's ``total_mult_adds``, each as the tool prints it.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any


def tool_totals(net: Any, x: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fvcore.nn as fv
        import ptflops
        import thop
        import torchinfo
        from torch.utils.flop_counter import FlopCounterMode

        a = fv.FlopCountAnalysis(net, (x,))
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        with FlopCounterMode(display=False) as fc:
            net(x)
        with contextlib.redirect_stdout(io.StringIO()):
            pt, _ = ptflops.get_model_complexity_info(
                net,
                tuple(x.shape[1:]),
                as_strings=False,
                print_per_layer_stat=False,
                input_constructor=lambda res: x,
                backend="pytorch",
            )
        return {
            "fvcore": a.total(),
            "flopcounter": fc.get_total_flops(),
            "ptflops": pt,
            "thop": thop.profile(net, (x,), verbose=False)[0],
            "torchinfo": torchinfo.summary(net, input_data=x, verbose=0).total_mult_adds,
        }
