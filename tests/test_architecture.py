"""The import graph of the apps (issue 9): one-way, no cycles, no app importing the project.

Read from the source with ``ast`` (function-level imports included), so a lazy import cannot
hide a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("common", "access", "orders", "reviews", "metrics", "notifications", "demo")
# Which apps each app may import: data flows one way
# (common ← access; common ← orders ← reviews ← metrics ← notifications; demo on top). The API
# keys (access) plug in through the settings' authentication and throttle classes: no app
# imports them; the scope table they are checked against is common's.
ALLOWED = {
    "common": set(),
    "access": {"common"},
    "orders": {"common"},
    "reviews": {"common", "orders"},
    "metrics": {"common", "orders", "reviews"},
    "notifications": {"common", "orders", "reviews", "metrics"},
    "demo": {"common", "access", "orders", "reviews", "metrics", "notifications"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (
        module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    )
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{alias.name}" for alias in node.names]
                found.add(target)
                found.update(names)
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def source_files() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in source_files()}
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in imports_of(path):
            if target in modules and target != name:
                edges[name].add(target)
    return edges


def test_no_app_imports_the_project_package():
    offenders = {
        module_name(path): sorted(t for t in imports_of(path) if t.split(".")[0] == "gradecraft")
        for path in source_files()
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_apps_depend_on_each_other_one_way():
    wrong = set()
    for path in source_files():
        app = module_name(path).split(".")[0]
        for target in imports_of(path):
            other = target.split(".")[0]
            if other in APPS and other != app and other not in ALLOWED[app]:
                wrong.add((module_name(path), target))
    assert wrong == set()


def test_no_module_import_cycle():
    edges = graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []
