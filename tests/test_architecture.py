"""The package reads as a one-way pipeline: a stage imports only the layers below it (issue 10).

Every top-level module or package of ``capplan`` has a rank; an import (at module level or inside a
function) may only go to a strictly lower rank. A new package must be given its place here and in
``docs/architecture.md``.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "capplan"

FOUNDATION = {"__init__", "units", "schema", "errors", "config", "timing", "runs"}
RANK = {
    **{name: 0 for name in FOUNDATION},
    "inputs": 1, "demo": 1,
    "capability": 2, "forecast": 2,
    "staffing": 3,
    "optimize": 4,
    "report": 5,
    "simulate": 6, "capacity": 6,
    "judge": 6.5,
    "evaluate": 7, "scenarios": 7,
    "pipeline": 8,
    "cli": 9,
    "__main__": 10,
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "capplan":
                found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def _top(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


MODULES = sorted(SRC.rglob("*.py"))


def test_every_top_level_part_has_a_rank():
    unranked = sorted({_top(p) for p in MODULES} - set(RANK))
    assert not unranked, f"give {unranked} a rank in tests/test_architecture.py and a place in docs/architecture.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_only(path):
    own = _top(path)
    upward = sorted(t for t in _imports(path) - {own} if RANK.get(t, 99) >= RANK[own] and not (RANK[own] == 0 and RANK.get(t) == 0))
    assert not upward, f"{path.relative_to(SRC)} ({own}, rank {RANK[own]}) imports {upward}, which are not below it"
