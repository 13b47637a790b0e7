"""Training memory on the command line: ``memory --train`` and ``fit``.

``memory MODEL --train [--optimizer] [--amp] [--foreach] [--freeze]``: the peak of one
training step and its breakdown (:func:`archcalc.engine.training.training_step`); JSON adds
``memory.training`` to the memory view. ``fit MODEL --memory 24GiB``: the largest batch whose
peak fits (or, with ``--solve input``, the largest square input at ``--batch``).

:func:`register` adds ``fit`` and wraps the ``memory`` command with the training options, so
that ``app.py`` only calls it.
"""

import functools
import inspect
from typing import Annotated, Any

import typer

__all__ = ["register", "training_options"]

OptimizerOpt = Annotated[
    str, typer.Option("--optimizer", help="Optimizer: sgd, momentum, adam or adamw.")
]
AmpOpt = Annotated[
    str | None, typer.Option("--amp", help="Mixed precision: bf16 or fp16 (autocast).")
]
ForeachOpt = Annotated[
    bool,
    typer.Option("--foreach", help="torch's foreach optimizer (CUDA's default; CPU: for-loop)."),
]
FreezeOpt = Annotated[
    str, typer.Option("--freeze", help="Frozen layers: a count of weighted layers or a name.")
]
PlotOpt = Annotated[
    str | None,
    typer.Option(
        "--plot",
        help="With --train: also write an SVG of live memory across the step, peak marked "
        "(needs the plots extra: matplotlib).",
    ),
]


_PHASE_COLOURS = {"forward": "C1", "loss": "C2", "backward": "C4", "step": "C5"}


def plot_training(r: Any, title: str) -> bytes:
    """An SVG of the bytes live after each op of the step (:attr:`TrainingReport.timeline`),
    the phases shaded and the peak marked."""
    import io

    try:
        import matplotlib
    except ImportError:
        from .._errors import MissingDependencyError

        raise MissingDependencyError(
            package="matplotlib", extra="plots", needed_for="--plot"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "archcalc"
    live = [int(t[0]) / 2**20 for t in r.timeline]
    phases = [t[1] for t in r.timeline]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(range(len(live)), live, color="C0", lw=1)
    start = 0
    for i in range(1, len(phases) + 1):
        if i == len(phases) or phases[i] != phases[start]:
            ax.axvspan(
                start, i - 1, alpha=0.08, color=_PHASE_COLOURS.get(phases[start], "C7"), lw=0
            )
            ax.text((start + i - 1) / 2, max(live) * 1.02, phases[start], ha="center", fontsize=8)
            start = i
    at = max(range(len(live)), key=live.__getitem__)
    ax.plot([at], [live[at]], "o", color="C3")
    ax.annotate(
        f"peak {int(r.peak_bytes):,} B\n{r.peak_phase}, {r.peak_layer}",
        (at, live[at]),
        textcoords="offset points",
        xytext=(10, -25),
        fontsize=8,
    )
    ax.set_xlabel("op of the training step")
    ax.set_ylabel("live MiB")
    ax.set_ylim(0, max(live) * 1.12)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _trainable(model: Any, freeze: str) -> Any:
    """``--freeze`` as a predicate on nodes (None: everything trains)."""
    if freeze in ("", "0"):
        return None
    from ..engine.groups import layer_groups, resolve_freeze
    from ..engine.shapes import infer_shapes

    nodes = model.live_nodes()
    shapes = infer_shapes(model)
    has = [bool(n.layer.params(tuple(shapes[s] for s in n.inputs))) for n in nodes]
    weighted = [n.layer.weighted for n in nodes]
    groups = layer_groups(has, weighted)
    value: int | str = int(freeze) if freeze.lstrip("-").isdigit() else freeze
    frozen = resolve_freeze(value, [n.name for n in nodes], weighted, model.name)
    group = {n.name: g for n, g in zip(nodes, groups)}
    return lambda n: group[n.name] > frozen


def training_options(
    model: Any,
    input: str | None,
    batch: str,
    dtype: str,
    head: str,
    classes: int | None,
    optimizer: str,
    amp: str | None,
    foreach: bool,
    freeze: str,
) -> tuple[Any, Any, dict[str, Any]]:
    """The summary, the model and the keyword arguments of ``training_step``."""
    from ..summary import summary

    s = summary(model, input=input, batch=batch, dtype=dtype, head=head, classes=classes)
    m = s.model
    kw = dict(
        optimizer=optimizer,
        amp=amp,
        dtype=dtype,
        foreach=foreach,
        trainable=_trainable(m, freeze),
    )
    return s, m, kw


def _show_training(
    s: Any, m: Any, kw: dict[str, Any], fmt: str, units: str, plot: str | None = None
) -> Any:
    import json

    from ..engine.training import training_step
    from ..summary import jsonable
    from .render import render_rows

    r = training_step(m, s.input_shape, s.batch, **kw)
    if plot is not None:
        from pathlib import Path

        amp = f", amp {r.amp}" if r.amp else ""
        svg = plot_training(
            r, f"{s.model.name}: training step ({r.optimizer}{amp}), batch {s.batch}"
        )
        try:
            Path(plot).write_bytes(svg)
        except OSError as e:
            from .._errors import FileFormatError

            raise FileFormatError(path=plot, reason=f"cannot write: {e.strerror or e}") from None
    t = r.as_dict()
    if fmt == "json":
        d = s.to_dict()
        d.setdefault("memory", {})["training"] = jsonable(t)
        return json.dumps(jsonable(d), indent=2)
    rows = [
        ["weights (parameters and buffers)", r.weights_bytes],
        ["gradients live at the peak", r.gradients_bytes],
        ["optimizer state", r.optimizer_state_bytes],
        ["everything else live at the peak", r.other_bytes],
        ["  of which saved for backward", r.saved_activations_bytes],
        ["peak", r.peak_bytes],
    ]
    amp = f", amp {r.amp}" if r.amp else ""
    title = (
        f"{s.model.name}: training step ({r.optimizer}{amp}), batch {s.batch} — peak in "
        f"{r.peak_phase} at {r.peak_layer}"
    )
    return render_rows(["what", "bytes"], rows, fmt, title=title, units=units)


def register(app: typer.Typer) -> None:
    """Add ``fit`` to ``app`` and the training options to its ``memory`` command."""
    from .common import check_format as _check_format
    from .common import emit as _emit
    from .common import handles_errors as _handles_errors
    from .common import resolve as _resolve
    from .options import (
        BatchOpt,
        ClassesOpt,
        DtypeOpt,
        FormatOpt,
        HeadOpt,
        InputOpt,
        ModelArg,
        PartialOpt,
    )

    _wrap_memory(app, _emit, _handles_errors)

    @app.command("fit")
    @_handles_errors
    def fit_cmd(
        model: ModelArg,
        memory: Annotated[
            str, typer.Option("--memory", "-m", help="Budget: 24GiB, 16GB, 512MiB, bytes.")
        ],
        input: InputOpt = None,
        batch: BatchOpt = "1",
        solve: Annotated[
            str, typer.Option("--solve", help="What to solve for: batch or input (square).")
        ] = "batch",
        optimizer: OptimizerOpt = "momentum",
        amp: AmpOpt = None,
        foreach: ForeachOpt = False,
        freeze: FreezeOpt = "0",
        dtype: DtypeOpt = "float32",
        head: HeadOpt = "fc",
        classes: ClassesOpt = None,
        format: FormatOpt = "table",
        partial: PartialOpt = False,
    ) -> None:
        """The largest batch (or square input) whose training-step peak fits --memory."""
        import json

        from .._errors import OptionError
        from ..engine.training import fit_batch, fit_input
        from ..summary import jsonable
        from .render import render_rows

        _check_format(format)
        if solve not in ("batch", "input"):
            raise OptionError(argument="solve", value=solve, valid=("batch", "input"))
        resolved, _ = _resolve(model, input, partial)
        s, m, kw = training_options(
            resolved, input, batch, str(dtype), str(head), classes, optimizer, amp, foreach, freeze
        )
        if solve == "batch":
            f = fit_batch(m, memory, s.input_shape, **kw)
        else:
            if not isinstance(s.batch, int):
                raise OptionError(argument="batch", value=batch, reason="must be a number")
            f = fit_input(m, memory, s.batch, **kw)
        d = {"model": m.name, "solve": solve, "optimizer": optimizer, "amp": amp, **f.as_dict()}
        if str(format) == "json":
            _emit(json.dumps(jsonable(d), indent=2))
            return
        rows = [[k, v if not isinstance(v, list) else "x".join(map(str, v))] for k, v in d.items()]
        _emit(render_rows(["", "value"], rows, str(format), title=f"{m.name}: fit"))


def _wrap_memory(app: typer.Typer, emit: Any, handles_errors: Any) -> None:
    """Give ``memory`` the options --train, --optimizer, --amp, --foreach and --freeze."""
    info = next(c for c in app.registered_commands if c.name == "memory")
    original = info.callback
    assert original is not None
    sig = inspect.signature(original, eval_str=True)
    extra = [
        inspect.Parameter(
            "train",
            inspect.Parameter.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[
                bool, typer.Option("--train", help="The peak of one training step instead.")
            ],
        ),
        inspect.Parameter(
            "optimizer", inspect.Parameter.KEYWORD_ONLY, default="momentum", annotation=OptimizerOpt
        ),
        inspect.Parameter("amp", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=AmpOpt),
        inspect.Parameter(
            "foreach", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=ForeachOpt
        ),
        inspect.Parameter(
            "freeze", inspect.Parameter.KEYWORD_ONLY, default="0", annotation=FreezeOpt
        ),
        inspect.Parameter("plot", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=PlotOpt),
    ]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()]

    @functools.wraps(original)
    def memory(**kw: Any) -> Any:
        train = kw.pop("train")
        opts = {k: kw.pop(k) for k in ("optimizer", "amp", "foreach", "freeze", "plot")}
        if not train:
            if opts["plot"] is not None:
                raise typer.BadParameter("--plot draws the training step: add --train")
            return original(**kw)
        return _train(**kw, **opts)

    @handles_errors
    def _train(**kw: Any) -> None:
        from .._errors import OptionError
        from .common import resolve

        if kw.get("saved"):
            raise OptionError(
                "--saved lists the tensors of 'saved for backward bytes' (every layer trains, "
                "no autocast); --train models one whole step: use one or the other"
            )

        model, _ = resolve(kw["model"], kw.get("input"), bool(kw.get("partial", False)))
        s, m, tkw = training_options(
            model,
            kw.get("input"),
            kw.get("batch", "1"),
            str(kw.get("dtype", "float32")),
            str(kw.get("head", "fc")),
            kw.get("classes"),
            kw["optimizer"],
            kw["amp"],
            kw["foreach"],
            kw["freeze"],
        )
        fmt, units = str(kw.get("format", "table")), str(kw.get("units", "si"))
        emit(_show_training(s, m, tkw, fmt, units, kw["plot"]))

    memory.__signature__ = sig.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    memory.__annotations__ = {}
    del memory.__wrapped__  # type: ignore[attr-defined]
    info.callback = memory
