"""The package's shape: no import cycles between modules, no stage that imports the command line or the web app,
and a light ``import keyframeface``.

The import graph is built from the source (AST), module-level imports only: imports inside functions are the
project's way to load heavy or optional parts late, and ``if __name__ == "__main__":`` blocks are scripts.
A package's ``__init__`` counts as the package's module; ``from pkg import mod`` depends on ``pkg.mod``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "keyframeface"


def _module_name(path: Path) -> str:
    parts = ["keyframeface", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "__name__" in test or "TYPE_CHECKING" in test:
                    continue  # a script's entry, or imports for the type checker only
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the keyframeface modules it imports at module level."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in _top_level_imports(tree):
            if isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # ``from pkg import mod`` depends on pkg.mod; ``from mod import name`` on mod
                candidates = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in files else stem for a in node.names]
            for candidate in candidates:
                # the longest prefix that is a module of the package (``from . import rig`` -> keyframeface.rig)
                parts = candidate.split(".")
                for end in range(len(parts), 0, -1):
                    mod = ".".join(parts[:end])
                    if mod in files:
                        if mod != name:
                            targets.add(mod)
                        break
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return found


def _is_package_of(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    assert cycles(graph) == []


def test_stages_never_import_the_cli_or_the_web_app() -> None:
    graph = import_graph()
    offenders = [
        f"{m} -> {t}"
        for m, targets in sorted(graph.items())
        if not (_is_package_of(m, "keyframeface.cli") or _is_package_of(m, "keyframeface.web"))
        and m != "keyframeface.__main__"  # ``python -m keyframeface`` is the command line's entry
        for t in sorted(targets)
        if _is_package_of(t, "keyframeface.cli") or _is_package_of(t, "keyframeface.web")
    ]
    assert offenders == []


def test_import_keyframeface_stays_light() -> None:
    code = (
        "import sys, keyframeface\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'transformers', 'PIL', 'imageio', 'fastapi', 'llama_cpp', 'onnxruntime', 'scipy'})\n"
        "assert not heavy, heavy\n"
        "assert callable(keyframeface.render) and callable(keyframeface.run) and callable(keyframeface.annotate)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_graph_sees_relative_and_absolute_imports() -> None:
    graph = import_graph()
    assert "keyframeface.rig" in graph["keyframeface.script"]
    assert "keyframeface.script" in graph["keyframeface.pipeline"]
    assert "keyframeface.head.model" in graph["keyframeface.head.ict"]
