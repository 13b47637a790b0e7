"""The committed docs/ pages are what `archcalc docs` writes (CI fails when they are stale)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcalc.cli import app
from archcalc.cli.docsgen import generate

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = {k: v for k, v in generate(app).items() if isinstance(v, str)}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_generated_page_is_current(page):
    committed = DOCS / page
    assert committed.exists(), f"docs/{page} is missing: run `archcalc docs`"
    assert committed.read_text(encoding="utf-8") == PAGES[page], (
        f"docs/{page} is stale: run `archcalc docs`"
    )


def test_no_orphan_model_pages():
    pages = {p.name for p in (DOCS / "models").glob("*.md")}
    assert pages == {Path(p).name for p in PAGES if p.startswith("models/")}
