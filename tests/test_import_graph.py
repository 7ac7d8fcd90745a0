"""The one-way house (issue #16): the apps import along the chain curation ← places ← pages ← contacts.

A later app may import an earlier one, never the reverse; no import hides inside a function to dodge a
cycle (an app's AppConfig.ready() in apps.py is where it wires itself to earlier apps); and the modules
import each other without a cycle (the engine's modules too: curation.services gets the worker wake-up
handed in by CurationConfig.ready() instead of importing curation.tasks, which runs the engine). Earlier
apps reach later ones through extension points (curation.extension) and admin links (curation.admin_links)
that the later apps provide.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHAIN = ("curation", "places", "pages", "contacts")  # each may import itself and the ones before it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path):
    """(imported module, line, inside a function?) for every import of a chain app in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def in_function(node) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return True
        return False

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import module` imports a module when pkg/module.py exists
            names = [f"{base}.{alias.name}" if (REPO / base.replace(".", "/") / f"{alias.name}.py").exists()
                     or (REPO / base.replace(".", "/") / alias.name / "__init__.py").exists() else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in CHAIN:
                yield name, node.lineno, in_function(node)


def sources():
    for app in CHAIN:
        yield from sorted((REPO / app).rglob("*.py"))


def test_no_app_imports_a_later_one():
    wrong = []
    for path in sources():
        app = path.relative_to(REPO).parts[0]
        for name, line, _ in project_imports(path):
            if CHAIN.index(name.split(".")[0]) > CHAIN.index(app):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert wrong == [], "an earlier app imports a later one:\n" + "\n".join(wrong)


def test_no_import_hides_in_a_function():
    hidden = [f"{path.relative_to(REPO)}:{line} imports {name} inside a function"
              for path in sources() if path.name != "apps.py"
              for name, line, inside in project_imports(path) if inside]
    assert hidden == [], "\n".join(hidden)


def test_the_modules_import_each_other_without_a_cycle():
    graph: dict[str, set[str]] = {}
    for path in sources():
        if path.name == "apps.py":
            continue
        graph.setdefault(module_name(path), set()).update(
            name for name, _line, _inside in project_imports(path) if name != module_name(path))
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "open":
                cycles.append(" → ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_the_checker_sees_what_it_must(tmp_path, monkeypatch):
    """The walk finds a reverse import hidden in a function and a relative import."""
    app = tmp_path / "places"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "a.py").write_text("def f():\n    from contacts.models import Contact\n")
    (app / "b.py").write_text("from . import c\nfrom .c import thing\n")
    (app / "c.py").write_text("thing = 1\n")
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    found = {(name, inside) for path in sorted(app.glob("*.py")) for name, _line, inside in project_imports(path)}
    assert found == {("contacts.models", True), ("places.c", False)}
