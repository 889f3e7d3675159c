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


def test_the_import_graph_keeps_its_layers() -> None:
    """The import-linter contracts in pyproject.toml (apps, training, the job engine, the
    loop): higher layers import lower ones, never the reverse."""
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_of_the_product_imports_itself_in_a_circle() -> None:
    """No strongly connected component in the module graph (imports inside functions count):
    a circle of any length, in any app, fails with its members listed."""
    import grimp

    graph = grimp.build_graph(*PRODUCT_APPS, "tinyworld", cache_dir=None)
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if ".migrations" in imported:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    assert circles == []
