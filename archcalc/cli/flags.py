"""The one place where the library's Python argument names become the CLI's flags, and where
an archcalc error becomes the CLI's one-line message."""

from __future__ import annotations

from .._errors import ArchcalcError

__all__ = ["FLAGS", "describe"]

#: Python argument name -> CLI flag (errors name the flag the user typed)
FLAGS: dict[str, str] = {
    "input": "--input",
    "batch": "--batch",
    "dtype": "--dtype",
    "head": "--head",
    "classes": "--classes",
    "convention": "--convention",
    "format": "--format",
    "units": "--units",
    "depth": "--depth",
    "freeze": "--freeze",
    "optimizer": "--optimizer",
    "amp": "--amp",
    "memory": "--memory",
    "solve": "--solve",
    "lr0": "--lr0",
    "alpha": "--alpha",
    "window": "--window",
    "stride": "--stride",
    "method": "--method",
    "steps": "--steps",
    "metric": "--metric",
    "budget": "--budget",
    "tolerance": "--tolerance",
    "family": "--family",
    "width": "--width",
    "kernel": "--kernel",
    "resolution": "--resolution",
    "depths": "--depth",
    "widths": "--width",
    "kernels": "--kernel",
    "resolutions": "--resolution",
    "rank": "--rank",
    "top": "--top",
    "layers": "--layers",
    "final": "--final",
    "channels": "--channels",
    "max_stride": "--max-stride",
    "in_channels": "--in-channels",
    "stem_stride": "--stem-stride",
    "highlight": "--highlight",
    "out_dir": "OUT_DIR",
}

#: the longest one-line message the CLI prints (the rest is cut, its length stated)
MAX_MESSAGE = 400


def describe(e: ArchcalcError) -> str:
    """``e`` as one line in the CLI's words (flags instead of Python argument names)."""
    text = " ".join(e.message(names=FLAGS).split())
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}… ({len(text):,} characters)"
    return text
