"""The layers import downwards only: ``parley.models`` (the bottom: pydantic shapes) imports nothing from
the layers above it (``domain``, ``dal``, ``api``, ``providers``), at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import parley.models

ABOVE_MODELS = ("parley.domain", "parley.dal", "parley.api", "parley.providers")
MODELS_DIR = Path(parley.models.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file; ``from parley import domain`` counts as ``parley.domain``."""
    package = "parley.models" if path.name == "__init__.py" else f"parley.models.{path.stem}"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + (path.name == "__init__.py")]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _upward(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in ABOVE_MODELS)


MODULES = sorted(MODELS_DIR.rglob("*.py"))


def test_the_models_package_is_found():
    assert len(MODULES) > 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(MODELS_DIR)))
def test_models_import_nothing_from_the_layers_above(path: Path):
    upward = [f"{path.name}:{line}: {module}" for line, module in _imports(path) if _upward(module)]
    assert not upward, "parley.models must not import " + ", ".join(upward)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from parley.domain.rendering import html_to_text", True),
        ("import parley.dal.table", True),
        ("from parley import api", True),
        ("def f():\n    from parley.providers import base", True),
        ("from ..domain import rendering", True),
        ("from parley.models.base import Model\nfrom parley import clock", False),
        ("from . import validators", False),
    ],
)
def test_the_check_sees_every_form_of_import(tmp_path: Path, source: str, bad: bool):
    path = tmp_path / "example.py"
    path.write_text(source)
    assert any(_upward(module) for _, module in _imports(path)) is bad
