"""Imports point down: codes/ knows no Django and nothing of ours; orders/ and accounts/ know nothing of packing/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fulfilment"


def _imports(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path.name, node.module))
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("codes", ("django", "fulfilment")),
    ("orders", ("fulfilment.packing",)),
    ("accounts", ("fulfilment.packing", "fulfilment.orders")),
])
def test_a_layer_imports_nothing_above_it(folder, forbidden):
    bad = [(name, module) for name, module in _imports(folder) if module.startswith(forbidden)]
    assert bad == []
