"""The house is one-way: pages/admin/api → state/components → services → infra/models, with the
tasks beside the pages (above the services, below nothing). Every import counts, including one
inside a function: a lazy import is still a dependency, only a later-failing one."""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from academy_app.settings import PROJECT_ROOT

# What each layer may import: its own and those below. Only the composition root may import the
# tasks, and nothing may import the composition root.
MAY_IMPORT = {
    "base": {"base"},
    "services": {"base", "services"},
    "state": {"base", "services", "state"},
    "entry": {"base", "services", "state", "entry"},
    "tasks": {"base", "services", "tasks"},
    "root": {"base", "services", "state", "entry", "tasks", "root"},
}
# A module's layer is that of its longest listed prefix; a new module outside these has none yet.
LAYERS = {
    "academy_app.models": "base",
    "academy_app.db": "base",
    "academy_app.settings": "base",
    "academy_app.text": "base",
    "academy_app.infra": "base",
    "academy_app.services": "services",
    "academy_app.state": "state",
    "academy_app.components": "state",
    "academy_app.pages": "entry",
    "academy_app.admin": "entry",
    "academy_app.api": "entry",
    "academy_app.demo": "entry",
    "academy_app.verify_credential": "entry",
    "tasks": "tasks",
    "academy_app.academy_app": "root",
}
PACKAGES = ("academy_app", "tasks")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PACKAGES for path in sorted((PROJECT_ROOT / package).rglob("*.py"))}


def layer_of(module: str) -> str | None:
    if module == "academy_app":
        return "base"  # the package itself, empty
    prefixes = [prefix for prefix in LAYERS if module == prefix or module.startswith(f"{prefix}.")]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def imports_of(path: Path, modules: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of one of our modules in the file, at any depth. `from a
    import b` names the module `a.b` when there is one, else `a`; a relative import counts too."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = imported_from(node, path)
            names = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names}
        else:
            continue
        yield from ((node.lineno, name) for name in sorted(names) if name.split(".")[0] in PACKAGES)


def imported_from(node: ast.ImportFrom, path: Path) -> str:
    """The module a `from … import` reads, a relative one made absolute."""
    if not node.level:
        return node.module
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    package = package[:len(package) - node.level + 1]
    return ".".join([*package, node.module] if node.module else package)


def test_every_module_has_a_layer():
    assert [module for module in our_modules() if layer_of(module) is None] == []


def test_no_layer_imports_one_above_it():
    modules = our_modules()
    upward = [f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target} "
              f"({layer_of(module)} may import only {sorted(MAY_IMPORT[layer_of(module)])}, "
              f"not {layer_of(target)})"
              for module, path in modules.items() if layer_of(module)  # else the test above fails
              for line, target in imports_of(path, modules)
              if layer_of(target) not in MAY_IMPORT[layer_of(module)]]
    assert not upward, "\n".join(upward)


def test_no_two_modules_need_each_other():
    """Within a layer too: two modules that import each other are one module in two files, or one of
    them holds something that belongs in a third. A submodule importing its own package does not
    count: that is how a package works."""
    modules = our_modules()
    needs = {module: {target for _, target in imports_of(path, modules)
                      if target != module and not module.startswith(f"{target}.")}
             for module, path in modules.items()}
    try:
        graphlib.TopologicalSorter(needs).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"modules import each other: {' → '.join(cycle.args[1])}")
