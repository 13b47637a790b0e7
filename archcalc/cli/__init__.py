"""The command line: the only part of archcalc that prints."""

from __future__ import annotations

from .app import app as app
from .app import main as main
