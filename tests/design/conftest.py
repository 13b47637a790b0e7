"""The design commands on a bare Typer app, each run timed (issue 15: bounded work)."""

from __future__ import annotations

import time

import pytest
import typer
from typer.testing import CliRunner

from archcalc.cli.design import register

#: seconds any one request may take here (the issue's bound is 20 s on 2 cores)
BOUND = 10


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _main() -> None:
        """test app"""

    register(app)
    runner = CliRunner()

    def run(*args: str):
        t0 = time.perf_counter()
        r = runner.invoke(app, list(args))
        assert time.perf_counter() - t0 < BOUND, args
        return r

    return run
