"""The one error family of archcalc.

Every error a user can provoke is an :class:`ArchcalcError`; the CLI maps it to a one-line
message and exit code 2, never a traceback.

An error keeps its context as attributes (the layer's index, name and kind, the field or
Python argument, the value, the valid values, a file path) and composes its message from them,
so that callers can read the parts and the CLI can name its own flags instead of the Python
arguments:

>>> e = OptionError(argument="dtype", value="f32", valid=("float32", "float16"))
>>> str(e)
"dtype = 'f32': must be one of float32, float16"
>>> e.argument, e.value
('dtype', 'f32')
>>> e.message(names={"dtype": "--dtype"})
"--dtype = 'f32': must be one of float32, float16"
>>> str(SpecError(field="kernel_size", value=0, reason="must be positive").with_context(
...     layer_index=3, layer_name="conv1", kind="Conv2d"))
"layer 3 'conv1' (Conv2d): kernel_size = 0: must be positive"
>>> str(ArchcalcError("a plain message"))  # the old form keeps working
'a plain message'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ArchcalcError",
    "SpecError",
    "ShapeError",
    "UnknownModelError",
    "FileFormatError",
    "OptionError",
    "UnsupportedError",
    "MissingDependencyError",
    "echo",
    "MAX_ECHO",
]

#: the longest echo of a user's value in a message; longer values are cut and their length stated
MAX_ECHO = 80

_UNSET: Any = object()


def echo(value: Any, limit: int = MAX_ECHO) -> str:
    """``repr(value)``, cut to ``limit`` characters with its full length stated.

    >>> echo("ab" * 500)[-30:]
    'bababababa… (1,002 characters)'
    """
    try:
        text = repr(value)
    except ValueError:  # an int past Python's int->str digit limit
        return f"<an integer of about {value.bit_length() * 0.30103:,.0f} digits>"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


class ArchcalcError(Exception):
    """Base class of every error archcalc raises on purpose.

    ``ArchcalcError("message")`` keeps working; the keyword arguments hold the context:

    - ``argument``: the Python argument name (``"dtype"``); the CLI shows its flag instead;
    - ``field``: a spec field (``"kernel_size"``) when the value comes from a layer spec;
    - ``value``: the offending value (echoed capped to :data:`MAX_ECHO` characters);
    - ``valid``: the valid values (an iterable, shown as a list) or a phrase;
    - ``reason``: what is wrong, in words (default "must be one of ..." when ``valid`` is given);
    - ``layer_index``, ``layer_name``, ``kind``: where in a model (see :meth:`with_context`);
    - ``path``: a file the error is about;
    - ``wrong_type``: the value has the wrong type (a list for a dtype, a string for a bool):
      the error is then also a :class:`TypeError`, as Python's convention expects. A value
      that is not a string where ``valid`` lists strings is a wrong type too.
    """

    exit_code = 2

    def __new__(cls, *args: Any, wrong_type: bool = False, **kw: Any) -> ArchcalcError:
        valid, value = kw.get("valid"), kw.get("value", _UNSET)
        if (
            not wrong_type
            and value is not _UNSET
            and not isinstance(value, str)
            and _is_list(valid)
            and valid
            and all(isinstance(v, str) for v in valid)
        ):
            wrong_type = True
        if wrong_type and not issubclass(cls, TypeError):
            cls = _TYPE_VARIANTS.get(cls, cls)
        return super().__new__(cls, *args)

    def __init__(
        self,
        message: str | None = None,
        *,
        argument: str | None = None,
        field: str | None = None,
        value: Any = _UNSET,
        valid: Any = None,
        reason: str | None = None,
        layer_index: int | None = None,
        layer_name: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        wrong_type: bool = False,
    ) -> None:
        self.text = message
        self.argument = argument
        self.field = field
        self.value = None if value is _UNSET else value
        self.has_value = value is not _UNSET
        self.valid = tuple(valid) if _is_list(valid) else valid
        self.reason = reason
        self.layer_index = layer_index
        self.layer_name = layer_name
        self.kind = kind
        self.path = path
        super().__init__(self.message())

    def message(self, names: Mapping[str, str] | None = None) -> str:
        """The message, with argument names translated through ``names`` (Python → CLI flag)."""
        where = self._where()
        body = self.text if self.text is not None else self._body(names or {})
        if names:  # `name` in a message's text or reason: another argument, named the same way
            body = re.sub(r"`(\w+)`", lambda m: names.get(m.group(1), m.group(0)), body)
        return f"{where}: {body}" if where else body

    def _where(self) -> str:
        parts = []
        if self.path is not None and self.text is None:
            parts.append(str(self.path))
        if self.layer_index is not None or self.layer_name is not None:
            layer = "layer"
            if self.layer_index is not None:
                layer += f" {self.layer_index}"
            if self.layer_name is not None:
                layer += f" '{self.layer_name}'"
            if self.kind is not None:
                layer += f" ({self.kind})"
            parts.append(layer)
        return ": ".join(parts)

    def _body(self, names: Mapping[str, str]) -> str:
        subject = (
            names.get(self.argument, self.argument) if self.argument is not None else self.field
        )
        reason = self.reason
        if reason is None and self.valid is not None:
            reason = "must be one of " + _valid(self.valid)
        elif reason is not None and self.valid is not None and _is_list(self.valid):
            reason = f"{reason}; valid: {_valid(self.valid)}"
        reason = reason or "invalid"
        if subject is None:
            return reason
        if self.has_value:
            return f"{subject} = {echo(self.value)}: {reason}"
        return f"{subject}: {reason}"

    def __str__(self) -> str:
        return self.message()

    def with_context(
        self,
        context: str | None = None,
        *,
        layer_index: int | None = None,
        layer_name: str | None = None,
        kind: str | None = None,
        path: str | None = None,
    ) -> ArchcalcError:
        """A copy of this error with its place added (attributes kept).

        ``with_context("text")`` (the old form) prefixes the message with ``text``.
        """
        err = copy.copy(self)
        if context is not None:
            err.text = f"{context}: {self.message()}"
            err.layer_index = err.layer_name = err.kind = None
            err.path = None
        if layer_index is not None:
            err.layer_index = layer_index
        if layer_name is not None:
            err.layer_name = layer_name
        if kind is not None:
            err.kind = kind
        if path is not None:
            err.path = path
        err.args = (err.message(),)
        return err


def _is_list(v: Any) -> bool:
    return isinstance(v, Iterable) and not isinstance(v, (str, bytes, Mapping))


def _valid(valid: Any) -> str:
    if _is_list(valid):
        return ", ".join(str(v) for v in valid)
    return str(valid)


class SpecError(ArchcalcError, ValueError):
    """A layer spec has a field whose value is invalid."""


class ShapeError(ArchcalcError, ValueError):
    """A layer cannot run on the shape that reaches it."""


class UnknownModelError(ArchcalcError, KeyError):
    """A model name is neither in the zoo nor a readable spec file."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return self.message()


class FileFormatError(ArchcalcError, ValueError):
    """A spec file is malformed."""


class OptionError(ArchcalcError, ValueError):
    """A command-line or API option has a bad value."""


class SpecTypeError(SpecError, TypeError):
    """A layer spec field (or a model's node) holds a value of the wrong type."""


class OptionTypeError(OptionError, TypeError):
    """An argument of the wrong type (a list for a dtype, a string for a count)."""


#: the TypeError variant of each error raised with ``wrong_type``
_TYPE_VARIANTS: dict[type, type] = {SpecError: SpecTypeError, OptionError: OptionTypeError}


class UnsupportedError(ArchcalcError, NotImplementedError):
    """A case archcalc does not model; raised instead of counting it as zero."""


class MissingDependencyError(ArchcalcError, ImportError):
    """An optional extra is not installed: the message says what to install.

    >>> str(MissingDependencyError(package="matplotlib", extra="plots", needed_for="--plots"))
    "--plots needs matplotlib: pip install 'archcalc[plots]'"
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        package: str = "",
        extra: str = "",
        needed_for: str = "this",
    ) -> None:
        self.package = package
        self.extra = extra
        self.needed_for = needed_for
        reason = message or f"{needed_for} needs {package}: pip install 'archcalc[{extra}]'"
        ArchcalcError.__init__(self, reason)
        ImportError.__init__(self, reason, name=package or None)
        self.args = (reason,)
