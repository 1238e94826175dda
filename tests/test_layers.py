"""The layers of engine/ as the tree shows them: each imports only the layers below it, and
no module imports itself back through others (README, "How it is built")."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What each package may import, besides itself: lower layers never import upper ones.
ALLOWED = {
    "dsl": {"dsl"},
    "engine.core": {"dsl", "engine.core"},
    "engine.analyst": {"dsl", "engine.core", "engine.analyst"},
    "engine.io": {"dsl", "engine.core", "engine.io"},
    "engine.lsp": {"dsl", "engine.core", "engine.analyst", "engine.lsp"},  # the language server
    "engine.cluster": {"dsl", "engine.core", "engine.io", "engine.cluster"},
    "engine.cli": {"dsl", "engine.core", "engine.analyst", "engine.io", "engine.lsp", "engine.cluster", "engine.cli"},
    "engine": {"dsl", "engine.core"},  # engine/__init__.py: the public API
    "engine.spark": {"engine.cluster"},  # the names an embedder imports for Spark and Dask
    "engine.dask": {"engine.cluster"},
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    return max((p for p in ALLOWED if module == p or module.startswith(p + ".")), key=len)


def _imports(path: Path) -> set[tuple[str, str | None]]:
    """(module, name imported from it) for each project import in `path`, at module level
    or inside functions; the name is None for a plain `import`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, None) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {(node.module, alias.name) for alias in node.names}
    return {pair for pair in found if pair[0].split(".")[0] in ("dsl", "engine")}


IMPORTS = {_module(p): _imports(p) for folder in ("dsl", "engine") for p in sorted((ROOT / folder).rglob("*.py"))}
MODULES = set(IMPORTS)


def _edges(module: str) -> set[str]:
    """The modules `module` depends on: `from package import submodule` is an edge to the
    submodule alone, as it is all that statement needs."""
    found = set()
    for source, name in IMPORTS[module]:
        target = f"{source}.{name}" if name and f"{source}.{name}" in MODULES else source
        if target in MODULES and target != module:
            found.add(target)
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_those_below(module):
    allowed = ALLOWED[_package(module)]
    wrong = sorted(name for name in _edges(module) if _package(name) not in allowed)
    assert wrong == [], f"{module} imports a higher layer: {wrong}"


def test_no_import_cycles():
    state: dict = {}

    def visit(module, stack):
        state[module] = "open"
        for name in sorted(_edges(module)):
            if state.get(name) == "open":
                cycle = stack[stack.index(name):] + [name]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if name not in state:
                visit(name, stack + [name])
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
