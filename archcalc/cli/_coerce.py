"""Start-up: Typer coerces every parameter through a pydantic TypeAdapter, and importing
pydantic costs more than the rest of a command. archcalc's options are only str, int, bool,
choices (enums) and lists of str, which need no pydantic: this module converts those the way
Typer/Click do (same messages) and hands anything else to Typer's own coercion."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["install"]

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _simple(annotation: Any) -> bool:
    if annotation in (str, int, bool):
        return True
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return True
    origin = getattr(annotation, "__origin__", None)
    return origin is list and getattr(annotation, "__args__", ()) == (str,)


def install() -> None:
    """Route the simple annotations around pydantic (idempotent; a no-op on a Typer whose
    internals differ)."""
    try:
        import typer.core as core
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam

        from .._errors import echo
    except ImportError:  # pragma: no cover - another Typer version
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_archcalc", False):
        return

    @dataclass(frozen=True)
    class SimpleRuntimeParam(RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            ann = self.annotation
            if getattr(ann, "__origin__", None) is list:
                return [str(v) for v in value]
            return self._one(ann, value, param, ctx)

        def _one(self, ann: Any, value: Any, param: Any, ctx: Any) -> Any:
            if isinstance(value, ann):
                out = value
            elif ann is str:
                out = str(value)
            elif ann is bool:
                text = str(value).strip().lower()
                if text not in _TRUE | _FALSE:
                    raise BadParameter(
                        f"{echo(value)} is not a valid boolean.", ctx=ctx, param=param
                    )
                out = text in _TRUE
            elif ann is int:
                try:
                    out = int(str(value).strip()) if str(value).strip().isascii() else None
                except ValueError:
                    out = None
                if out is None:
                    raise BadParameter(
                        f"{echo(value)} is not a valid integer.", ctx=ctx, param=param
                    )
            else:  # an enum of choices
                for member in ann:
                    if member.value == value:
                        return member
                choices = ", ".join(repr(m.value) for m in ann)
                raise BadParameter(f"{echo(value)} is not one of {choices}.", ctx=ctx, param=param)
            info = self.parameter_info
            lo, hi = getattr(info, "min", None), getattr(info, "max", None)
            if ann is int and (lo is not None and out < lo or hi is not None and out > hi):
                bound = f"x>={lo}" if hi is None else f"{lo}<=x<={hi}"
                raise BadParameter(f"{out} is not in the range {bound}.", ctx=ctx, param=param)
            return out

    def build(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        if (
            descriptor.file_annotation is None
            and _simple(descriptor.annotation)
            and getattr(info, "parser", None) is None
            and getattr(info, "click_type", None) is None
        ):
            return SimpleRuntimeParam(
                annotation=descriptor.annotation, parameter_info=descriptor.parameter_info
            )
        return original(descriptor)

    build._archcalc = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
