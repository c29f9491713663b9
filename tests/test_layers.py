"""The layers of ARCHITECTURE.md, held by a test: imports point one way, the domains never
import Streamlit, and no module imports another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A package may import only itself and the packages after it in its row.
MAY_IMPORT = {
    "core": {"core"},
    "feedback": {"feedback", "core"},
    "planning": {"planning", "feedback", "core"},
    "governance": {"governance", "planning", "feedback", "core"},
    "tools": {"tools", "governance", "planning", "feedback", "core"},
    "cli": {"cli", "tools", "governance", "planning", "feedback", "core"},
    "ui": {"ui", "tools", "governance", "planning", "feedback", "core"},
    "pages": {"ui", "tools", "governance", "planning", "feedback", "core"},
}
OURS = set(MAY_IMPORT)
# The command line may drive the app to time its pages (cli/page_times.py uses AppTest).
DOMAIN = ("core", "feedback", "planning", "governance", "tools")


def _modules() -> list[tuple[str, Path]]:
    return [
        (path.relative_to(ROOT).parts[0], path)
        for package in MAY_IMPORT
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names], node.lineno))
    return found


def test_imports_point_down_the_layers_only() -> None:
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for package, path in _modules()
        for module, _names, line in _imports(path)
        if module.split(".")[0] in OURS and module.split(".")[0] not in MAY_IMPORT[package]
    ]
    assert upward == []


def test_the_domains_never_import_streamlit() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for package, path in _modules()
        if package in DOMAIN
        for module, _names, line in _imports(path)
        if module.split(".")[0] == "streamlit"
    ]
    assert found == []


def test_no_module_imports_another_modules_private_names() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} takes {name} from {module}"
        for _package, path in _modules()
        for module, names, line in _imports(path)
        if module.split(".")[0] in OURS
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert found == []


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_every_layer_is_present(package: str) -> None:
    """A renamed folder would make the rules above pass by checking nothing."""
    assert any((ROOT / package).rglob("*.py"))
