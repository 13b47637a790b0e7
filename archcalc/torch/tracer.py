"""Run a torch module once on meta tensors and record what it calls.

The module's parameters and buffers are swapped for meta tensors of the same shapes
(``torch.func.functional_call``: nothing is copied), factories default to the meta device,
and the forward pass runs as Python normally does, so control flow on shapes just runs;
meta tensors carry shapes and dtypes but no data, so nothing is computed and nothing is
allocated, at any input size. A ``TorchFunctionMode`` records every torch function and
tensor method called outside the modules archcalc maps as a whole (the leaves), with the
innermost module whose ``forward`` made the call and the user's source line; each module's
``forward`` is wrapped to record leaf calls and to catch a ``forward`` that reads tensor
values (``if x.sum() > 0``), which a meta tensor cannot answer.
"""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

__all__ = ["Event", "MetaRun", "RunError", "DataDependent", "op_name"]

_TORCH_DIR = torch.__file__.rsplit("/", 1)[0] + "/"
_HERE = __file__.rsplit("/", 1)[0] + "/"

_SETITEM = torch.Tensor.__setitem__

#: tensor methods that read values: a meta tensor has none
_READS_VALUES = {
    getattr(torch._C.TensorBase, n)
    for n in ("__bool__", "item", "tolist", "__int__", "__float__", "__index__", "numpy")
    if hasattr(torch._C.TensorBase, n)
}


@dataclass(eq=False)
class Event:
    """One call: a leaf module's ``forward`` (``called_as="module"``), a torch function or
    tensor method (``"function"``/``"method"``), or a module whose ``forward`` could not run
    on meta tensors (``"failed"``, with ``reason``; its output stands in as its input)."""

    called_as: str
    op: str
    name: str
    func: Any = None
    module: nn.Module | None = None
    path: str = ""
    owner: str = ""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    out: Any = None
    frame: tuple[str, int] | None = None
    reason: str = ""
    #: how a message names the call: ``operator.add`` for ``a + b``, else ``op``
    display: str = ""

    def __post_init__(self) -> None:
        self.display = self.display or self.op


class DataDependent(Exception):
    """The forward pass read a tensor's values (a meta tensor has none)."""

    def __init__(self, what: str, frame: tuple[str, int] | None) -> None:
        super().__init__(what)
        self.what, self.frame = what, frame


class RunError(Exception):
    """A torch call failed during the meta run; ``op``, ``path``/``owner`` and ``frame``
    say where."""

    def __init__(
        self, error: BaseException, op: str, path: str, owner: str, frame: Any, name: str
    ) -> None:
        super().__init__(str(error))
        self.error, self.op, self.path, self.owner, self.frame = error, op, path, owner, frame
        self.name = name


def _user_frame_obj() -> Any:
    f: Any = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if f.f_code is _RUN_CODE:
            return None
        if not fn.startswith(_TORCH_DIR) and not fn.startswith(_HERE):
            return f
        f = f.f_back
    return None


def _operator_frame_obj() -> Any:
    """The innermost frame outside torch, archcalc.torch's own modules included: the one
    whose bytecode may run an operator (``out + t`` in archcalc's built ``Add``, which
    :func:`_user_frame_obj` skips)."""
    f: Any = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_TORCH_DIR):
        if f.f_code is _RUN_CODE:
            return None
        f = f.f_back
    return f


def user_frame() -> tuple[str, int] | None:
    """(file, line) of the innermost caller outside torch and archcalc.torch (within the run)."""
    f = _user_frame_obj()
    return (f.f_code.co_filename, f.f_lineno) if f is not None else None


_NB_OPS: list[tuple[str, str]] = getattr(dis, "_nb_ops", [])


def _nb_name(arg: int) -> str:
    name = _NB_OPS[arg][0][3:].lower() if arg < len(_NB_OPS) else "op"
    inplace = name.startswith("inplace_")
    name = name.removeprefix("inplace_")
    name = _NB_SHORT.get(name, name)
    return ("i" if inplace else "") + name


_NB_SHORT = {
    "multiply": "mul",
    "subtract": "sub",
    "true_divide": "truediv",
    "floor_divide": "floordiv",
    "matrix_multiply": "matmul",
    "remainder": "mod",
    "power": "pow",
    "add": "add",
}
_BINARY_OP = dis.opmap.get("BINARY_OP")
_BINARY_SUBSCR = dis.opmap.get("BINARY_SUBSCR")


def operator_of(frame: Any) -> str | None:
    """``operator.add`` when the user's line executes ``a + b`` (not ``a.add(b)``)."""
    if frame is None:
        return None
    try:
        code = frame.f_code.co_code
        i = frame.f_lasti
        if code[i] == _BINARY_OP:
            return f"operator.{_nb_name(code[i + 1])}"
        if code[i] == _BINARY_SUBSCR:
            return "operator.getitem"
    except (IndexError, AttributeError):  # pragma: no cover - another interpreter
        return None
    return None


def op_name(func: Any) -> tuple[str, str]:
    """(public name, "function" | "method") of what a torch function mode sees."""
    name = getattr(func, "__name__", None) or str(func)
    owner = getattr(func, "__objclass__", None)
    if owner is not None and issubclass(owner, torch._C.TensorBase):
        return f"Tensor.{name}", "method"
    if name == "__get__" and hasattr(func, "__self__"):  # a tensor attribute: x.T, x.real
        return f"Tensor.{getattr(func.__self__, '__name__', '?')}", "method"
    mod = getattr(func, "__module__", None) or ""
    if mod.startswith("torch._C._nn") or mod == "torch.nn.functional":
        mod = "torch.nn.functional"
    elif mod in ("torch._C._VariableFunctions", "torch.functional", "torch._tensor") or not mod:
        mod = "torch"
    elif mod.startswith("torch._C._"):
        mod = "torch." + mod[len("torch._C._") :]
    if mod.startswith("torch.") and mod.split(".")[1] in ("fft", "linalg", "special"):
        mod = ".".join(mod.split(".")[:2])
        prefix = mod.split(".")[1] + "_"
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return f"{mod}.{name}", "function"


def short_name(op: str) -> str:
    """The base of a call's name, as torch.fx names nodes: ``torch.nn.functional.relu`` →
    ``relu``, ``Tensor.add_`` → ``add``, ``torch.fft.fftshift`` → ``fft_fftshift``."""
    for prefix in ("torch.nn.functional.", "Tensor.", "torch.", "operator."):
        if op.startswith(prefix):
            op = op[len(prefix) :]
            break
    return op.replace(".", "_").strip("_") or "call"


def snapshot(x: Any) -> Any:
    """``x`` with its lists and dicts copied (a forward may append to a list it passed)."""
    if isinstance(x, (list, tuple)):
        return type(x)(snapshot(v) for v in x) if type(x) in (list, tuple) else x
    if isinstance(x, dict):
        return {k: snapshot(v) for k, v in x.items()}
    return x


def _shape_keeping(x: Tensor) -> Tensor:
    """The output of a leaf that keeps its input's shape, without running it (torch's meta
    kernels of batch_norm, layer_norm and most activations are Python decompositions:
    milliseconds a call, most of a run's time)."""
    return torch.empty(x.shape, dtype=x.dtype, device=x.device)


def has_tensor(x: Any) -> bool:
    if isinstance(x, Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(has_tensor(v) for v in x.values())
    return False


class _Mode(TorchFunctionMode):
    def __init__(self, run: MetaRun) -> None:
        super().__init__()
        self.run = run

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        r = self.run
        if func in _READS_VALUES:
            raise DataDependent(f"Tensor.{func.__name__}", user_frame())
        if r.leaf_depth:
            return func(*args, **kwargs)
        try:
            out = func(*args, **kwargs)
        except (DataDependent, RunError):
            raise
        except Exception as e:
            op, _ = op_name(func)
            path, owner = r.context()
            raise RunError(e, op, path, owner, user_frame(), r.call_name(op)) from e
        if out is None and func is _SETITEM and args and isinstance(args[0], Tensor):
            out = args[0]  # x[key] = value: recorded as a call whose result is x, changed
        if has_tensor(out):
            op, how = op_name(func)
            if op in ("Tensor.shape", "Tensor.device", "Tensor.dtype"):
                return out
            path, owner = r.context()
            f = _user_frame_obj()
            frame = (f.f_code.co_filename, f.f_lineno) if f is not None else None
            display = operator_of(_operator_frame_obj()) or op
            r.events.append(
                Event(
                    how,
                    op,
                    r.call_name(display),
                    func,
                    None,
                    path,
                    owner,
                    snapshot(args),
                    snapshot(kwargs),
                    out,
                    frame,
                    "",
                    display,
                )
            )
        return out


class MetaRun:
    """One forward pass of ``root`` on a meta tensor; ``leaf(m)`` says which modules are
    recorded as one call (their insides are not looked at), ``keeps_shape(m, x)`` which leaves
    need not run to know their output."""

    def __init__(
        self,
        root: nn.Module,
        leaf: Callable[[nn.Module], bool],
        partial: bool,
        keeps_shape: Callable[[nn.Module, Any], bool] = lambda m, x: False,
    ) -> None:
        self.root, self.leaf, self.partial = root, leaf, partial
        #: ``keeps_shape(m, x)``: leaf ``m`` called on tensor ``x`` returns ``x``'s shape
        self.keeps_shape = keeps_shape
        self.events: list[Event] = []
        self.stack: list[tuple[str, str]] = []
        self.leaf_depth = 0
        self.counts: dict[str, int] = {}
        self.paths: dict[int, str] = {}
        for path, m in root.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(m), path)
        #: id of each meta stand-in → (dotted name, is a parameter)
        self.params: dict[int, tuple[str, bool]] = {}
        self.originals: dict[int, Tensor] = {}

    def context(self) -> tuple[str, str]:
        return self.stack[-1] if self.stack else ("", "")

    def call_name(self, op: str) -> str:
        base = short_name(op)
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def run(self, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[Tensor, Any]:
        """Run on a meta batch of ``shape``; returns (the input, the output)."""
        state: dict[str, Tensor] = {}
        by_id: dict[int, Tensor] = {}
        for named, is_param in (
            (self.root.named_parameters(remove_duplicate=False), True),
            (self.root.named_buffers(remove_duplicate=False), False),
        ):
            for name, t in named:
                if t is None:
                    continue
                if id(t) not in by_id:
                    meta = torch.empty_like(t, device="meta")
                    by_id[id(t)] = meta
                    self.params[id(meta)] = (name, is_param)
                    self.originals[id(meta)] = t
                state[name] = by_id[id(t)]
        wrapped = [m for m in self.root.modules()]
        saved = {id(m): m.__dict__.get("forward") for m in wrapped}
        for m in wrapped:
            own = saved[id(m)]
            m.__dict__["forward"] = self._wrap(m, own or type(m).forward.__get__(m))
        x = torch.empty(shape, dtype=dtype, device="meta")
        try:
            with torch.device("meta"), _Mode(self):
                out = torch.func.functional_call(self.root, state, (x,), strict=False)
        finally:
            for m in wrapped:
                old = saved[id(m)]
                if old is None:
                    m.__dict__.pop("forward", None)
                else:
                    m.__dict__["forward"] = old
        return x, out

    def _wrap(self, m: nn.Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(m, forward, args, kwargs)

        return call

    def _call(
        self, m: nn.Module, forward: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> Any:
        if self.leaf_depth:
            return forward(*args, **kwargs)
        path = self.paths.get(id(m), "")
        cls = type(m)
        op = (
            f"nn.{cls.__name__}"
            if cls.__module__.startswith("torch.nn")
            else (f"{cls.__module__}.{cls.__qualname__}")
        )
        if m is not self.root and self.leaf(m):
            frame = user_frame()
            args, kwargs = snapshot(args), snapshot(kwargs)
            self.leaf_depth += 1
            try:
                if len(args) == 1 and not kwargs and self.keeps_shape(m, args[0]):
                    out = _shape_keeping(args[0])
                else:
                    out = forward(*args, **kwargs)
            except DataDependent as e:
                self.leaf_depth -= 1
                return self._failed(m, path, op, args, e)
            except RunError as e:
                self.leaf_depth -= 1
                raise RunError(e.error, op, path, cls.__name__, frame, path) from e.error
            except Exception as e:
                self.leaf_depth -= 1
                raise RunError(e, op, path, cls.__name__, frame, path) from e
            self.leaf_depth -= 1
            owner = self.context()
            self.events.append(
                Event("module", op, path, None, m, path, owner[1], args, kwargs, out, frame)
            )
            return out
        self.stack.append((path, cls.__name__))
        start = len(self.events)
        try:
            return forward(*args, **kwargs)
        except DataDependent as e:
            if m is self.root:
                raise
            del self.events[start:]  # what it did before failing stands in the failure
            return self._failed(m, path, op, args, e)
        finally:
            self.stack.pop()

    def _failed(self, m: nn.Module, path: str, op: str, args: Any, e: DataDependent) -> Any:
        where = f" at {e.frame[0]}:{e.frame[1]}" if e.frame else ""
        reason = (
            f"its forward reads tensor values ({e.what}, data-dependent control flow){where}, "
            f"which a meta tensor does not have"
        )
        x = next((a for a in args if isinstance(a, Tensor)), None)
        if x is None:
            raise e
        self.leaf_depth += 1
        try:
            out = x.clone()
        finally:
            self.leaf_depth -= 1
        self.events.append(
            Event(
                "failed", op, path, None, m, path, self.context()[1], args, {}, out, e.frame, reason
            )
        )
        return out


_RUN_CODE = MetaRun.run.__code__
