"""The layout holds: no import cycles, torch only under archcalc/torch, printing only in the
CLI, no unit longer than 250 lines, and no dispatch on a layer kind outside its own module.

These are checks of the source text (ast) and of the import graph (grimp, which
import-linter uses; ``lint-imports`` in ``.ci/run`` checks the layer contracts).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import archcalc
from archcalc.kinds import LAYER_KINDS

ROOT = Path(archcalc.__file__).parent
SOURCES = sorted(ROOT.rglob("*.py"))


def _rel(p: Path) -> str:
    return p.relative_to(ROOT.parent).as_posix()


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), filename=str(p))) for p in SOURCES]


def test_no_import_cycles() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("archcalc")
    modules = sorted(graph.modules)
    cycles = []
    for m in modules:
        for imported in graph.find_modules_directly_imported_by(m):
            # a package's __init__ importing its own submodules is how re-exports work
            if imported.startswith(m + "."):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=m)
            if back is not None and not m.startswith(imported + "."):
                cycles.append(f"{m} -> {' -> '.join(back)}")
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_torch_imported_only_in_the_torch_package() -> None:
    bad = []
    for p, tree in _trees():
        if _rel(p).startswith("archcalc/torch/"):
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            bad += [
                f"{_rel(p)}:{node.lineno} imports {n}"
                for n in names
                if n.split(".")[0] in ("torch", "torchvision", "fvcore", "timm")
            ]
    assert not bad, "\n".join(bad)


def test_only_the_cli_prints() -> None:
    bad = []
    for p, tree in _trees():
        if _rel(p).startswith("archcalc/cli/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id == "print":
                    bad.append(f"{_rel(p)}:{node.lineno} calls print")
                if (
                    isinstance(f, ast.Attribute)
                    and f.attr == "write"
                    and isinstance(f.value, ast.Attribute)
                    and f.value.attr in ("stdout", "stderr")
                ):
                    bad.append(f"{_rel(p)}:{node.lineno} writes to sys.{f.value.attr}")
    assert not bad, "\n".join(bad)


def test_no_unit_longer_than_250_lines() -> None:
    bad = []
    for p, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > 250:
                    bad.append(f"{_rel(p)}:{node.lineno} {node.name} is {n} lines")
    assert not bad, "\n".join(bad)


def _kind_refs(expr: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(expr):
        if isinstance(n, ast.Name) and n.id in LAYER_KINDS:
            out.append(n.id)
        elif isinstance(n, ast.Attribute) and n.attr in LAYER_KINDS:
            out.append(n.attr)
    return out


def test_no_dispatch_on_a_kind_outside_its_module() -> None:
    """isinstance on a kind class, or a kind's name as a string (a comparison, a mapping key,
    a list of names): only in archcalc/kinds/. (Building a model from kinds — the zoo, the
    exam's networks — is not dispatch.)"""
    bad = []
    for p, tree in _trees():
        if _rel(p).startswith("archcalc/kinds/"):
            continue
        exported = {
            id(c)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for c in ast.walk(node.value)
        }
        for node in ast.walk(tree):
            if id(node) in exported:  # ``__all__`` names what a module exports
                continue
            where = f"{_rel(p)}:{getattr(node, 'lineno', '?')}"
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("isinstance", "issubclass")
                and len(node.args) == 2
            ):
                bad += [f"{where} isinstance(..., {k})" for k in _kind_refs(node.args[1])]
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in LAYER_KINDS
            ):
                bad.append(f"{where} the kind name {node.value!r} as a string")
    assert not bad, "\n".join(bad)
