"""Which code may import which (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_APPS = ("flywheel", "annotation", "training", "loop")


def imported_modules(path: Path) -> list[str]:
    """Every module an ``import`` or ``from … import`` in the file names, lazy imports inside
    functions included; relative imports resolved to absolute names."""
    package = ".".join(path.relative_to(ROOT).parent.parts)
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names += [module] + [f"{module}.{alias.name}" for alias in node.names]
    return names


def test_no_product_module_imports_the_tiny_world() -> None:
    """The tiny world is demo and test material (issue 15): the product names it only as a string
    (the loop's oracle choice, ``settings.FLYWHEEL_ORACLES``), never as an import."""
    offenders = []
    for app in PRODUCT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for name in imported_modules(path):
                if name == "tinyworld" or name.startswith("tinyworld."):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
