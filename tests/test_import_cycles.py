"""The `notifications` package has no import cycles, counting the imports written inside functions.

How the graph is built (read from the source with `ast`, nothing is imported):
- Nodes are modules (`notifications/x/y.py` is `notifications.x.y`, `notifications/x/__init__.py` is
  `notifications.x`), not packages: `events.registry` importing `intake.service` is an edge between those two
  modules only, not between `events` and `intake` as a whole.
- Every `import` and `from ... import` counts, wherever it is written (module level, functions, methods,
  try/except), relative ones resolved. `import a.b.c` is an edge to `a.b.c`; `from a.b import c` is an edge to
  `a.b.c` when that is a module, else to `a.b` (c is a name defined there).
- A package `__init__` is a module like any other: what it imports (re-exports included) are its edges, and
  `from notifications.security import seal_fields` is an edge to `notifications.security` and through it to
  what that `__init__` re-exports. The parent packages Python runs implicitly before a submodule are NOT
  edges (else every `__init__` importing its own submodules would look like a cycle with them).
- Imports under `if TYPE_CHECKING:` are left out: they never run, and annotations may name each other.
- Names loaded from strings (`importlib.import_module(path)`, Django settings) are not seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import notifications

PACKAGE = "notifications"
ROOT = Path(notifications.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under `node`, at any depth, except the body of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that module `name` (at `path`) imports."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in known else base)
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; the components with more than one module (a module never imports
    itself here), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components, key=lambda c: (-len(c), c))


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"    {source} -> {target}" for source in component for target in sorted(graph[source] & members)]
    return f"  {len(component)} modules: {', '.join(component)}\n  their imports of each other:\n" + "\n".join(edges)


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph()
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles in notifications/ (imports inside functions counted):\n" + "\n".join(
        describe(component, graph) for component in cycles)


# The checker itself, on graphs whose answer is known: it must be able to fail.

def test_tarjan_finds_a_cycle_and_leaves_a_chain_alone() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_tarjan_separates_two_cycles() -> None:
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}}
    assert strongly_connected(graph) == [["a", "b"], ["c", "d"]]


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from .pkg import thing\n"
        "if TYPE_CHECKING:\n"
        "    from notifications.hidden import Name\n"
        "else:\n"
        "    import notifications.shown\n"
        "def f():\n"
        "    from notifications.inner import name\n"
        "class C:\n"
        "    def m(self):\n"
        "        import notifications.method\n")
    known = {"notifications.sibling", "notifications.pkg", "notifications.hidden", "notifications.shown",
             "notifications.inner", "notifications.method", "notifications.mod"}
    assert imported_modules("notifications.mod", source, known) == {
        "notifications.sibling", "notifications.pkg", "notifications.shown", "notifications.inner",
        "notifications.method"}


def test_relative_imports_in_a_package_init_resolve_from_the_package(tmp_path: Path) -> None:
    source = tmp_path / "__init__.py"
    source.write_text("from .child import x\nfrom .. import top\n")
    known = {"notifications.pkg.child", "notifications.top", "notifications.pkg"}
    assert imported_modules("notifications.pkg", source, known) == {"notifications.pkg.child", "notifications.top"}


# Layers: what a lower package may not import (module prefixes; the acceptance 4).
FORBIDDEN = {
    "notifications.events": ("notifications.intake", "notifications.delivery", "notifications.rendering",
                             "notifications.api", "notifications.channels", "notifications.kafka"),
    "notifications.rendering": ("notifications.api", "notifications.intake", "notifications.delivery",
                                "notifications.testing"),
    "notifications.security": ("notifications.delivery", "notifications.intake", "notifications.api"),
    "notifications.errors": ("notifications.",),
}


def _within(module: str, prefix: str) -> bool:
    return module == prefix.rstrip(".") or module.startswith(prefix if prefix.endswith(".") else prefix + ".")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return [f"{source} -> {target}" for source, targets in sorted(graph.items()) for target in sorted(targets)
            for layer, banned in FORBIDDEN.items() if _within(source, layer)
            and any(_within(target, prefix) for prefix in banned)]


def test_lower_layers_do_not_import_higher_ones() -> None:
    assert layer_violations(import_graph()) == []


def test_layer_check_sees_a_violation() -> None:
    graph = {"notifications.events.registry": {"notifications.intake.service"}, "notifications.intake.service": set(),
             "notifications.errors": set(), "notifications.events": {"notifications.events.registry"}}
    assert layer_violations(graph) == ["notifications.events.registry -> notifications.intake.service"]
