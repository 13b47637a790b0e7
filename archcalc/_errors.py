"""The one error family of archcalc.

Every error a user can provoke is an :class:`ArchcalcError`; the CLI maps it to a one-line
message and exit code 2, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "ArchcalcError",
    "SpecError",
    "ShapeError",
    "UnknownModelError",
    "FileFormatError",
    "OptionError",
    "UnsupportedError",
]


class ArchcalcError(Exception):
    """Base class of every error archcalc raises on purpose."""

    exit_code = 2

    def with_context(self, context: str) -> ArchcalcError:
        """Return a copy of this error whose message starts with ``context``."""
        err = type(self)(f"{context}: {self}")
        return err


class SpecError(ArchcalcError, ValueError):
    """A layer spec has a field whose value is invalid."""


class ShapeError(ArchcalcError, ValueError):
    """A layer cannot run on the shape that reaches it."""


class UnknownModelError(ArchcalcError, KeyError):
    """A model name is neither in the zoo nor a readable spec file."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


class FileFormatError(ArchcalcError, ValueError):
    """A spec file is malformed."""


class OptionError(ArchcalcError, ValueError):
    """A command-line or API option has a bad value."""


class UnsupportedError(ArchcalcError, NotImplementedError):
    """A case archcalc does not model; raised instead of counting it as zero."""
