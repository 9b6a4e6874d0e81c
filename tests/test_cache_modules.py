"""The server plumbing split by job (memo cache, computation slots, static
files, cached answers, private-name adapter): each module imports alone, and
no module of app/ imports, at its top or inside a function, one that imports
it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUMBING = ("cache", "compute_slots", "static_files", "dash_internals", "pure_callbacks", "responses",
            "background", "security", "config")


@pytest.mark.parametrize("name", PLUMBING)
def test_each_module_imports_alone_in_a_fresh_interpreter(name):
    done = subprocess.run([sys.executable, "-c", f"import app.{name}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def app_imports(path: Path) -> set[str]:
    """The app modules `path` imports anywhere in it ("app.cache", ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("app.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                found |= {f"app.{alias.name}" for alias in node.names}
            elif node.module.startswith("app."):
                found.add(node.module)
    return found


def module_graph() -> dict[str, set[str]]:
    modules = {f"app.{path.stem}": path for path in (ROOT / "app").glob("*.py") if path.stem != "__init__"}
    return {name: app_imports(path) & modules.keys() for name, path in modules.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_no_module_of_app_imports_one_that_imports_it_back():
    graph = module_graph()
    assert {"app.cache", "app.responses", "app.static_files"} <= graph.keys()
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
