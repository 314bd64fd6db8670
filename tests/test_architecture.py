"""The package's shape, checked statically: small modules, short signatures, no import cycles, few private reads.

These are the numbers of the core redesign (docs/architecture.md): no module
over 700 lines; no function with more than 8 parameters except an estimator's
``__init__`` (scikit-learn puts every hyperparameter there); at most 3 reads of
another object's private names in the package; no import cycle between the
package's modules, counting imports inside functions.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "skfastgrnn"
MAX_LINES = 700
MAX_PARAMETERS = 8
MAX_PRIVATE_READS = 3


def _modules():
    """Dotted module name (relative to the package) -> (path, AST)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = (path, ast.parse(path.read_text(), filename=str(path)))
    return out


MODULES = _modules()


def _resolve(module, node):
    """Package modules an ``ImportFrom`` node of ``module`` imports (relative imports only)."""
    if node.level == 0:
        return set()
    is_package = MODULES[module][0].name == "__init__.py"
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    prefix = ".".join(base + ([node.module] if node.module else []))
    targets = set()
    for alias in node.names:  # ``from . import x``: x may be a submodule
        name = ".".join(filter(None, [prefix, alias.name]))
        if name in MODULES:
            targets.add(name)
    # names imported from the module itself (``from ._x import f``, ``from . import __version__``)
    if prefix in MODULES and len(targets) < len(node.names):
        targets.add(prefix)
    return targets


def _import_graph():
    graph = {}
    for module, (_, tree) in MODULES.items():
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                deps |= _resolve(module, node)
        deps.discard(module)
        # a submodule importing its own package's facade is how packages work, not a cycle
        graph[module] = {d for d in deps if not (d and module.startswith(d + "."))}
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return stack[stack.index(dep) :] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(c or "skfastgrnn" for c in cycle)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_700_lines(module):
    path = MODULES[module][0]
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.name}: {n} lines"


def _is_estimator_init(node, parents):
    cls = parents.get(node)
    return (
        node.name == "__init__"
        and isinstance(cls, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "BaseEstimator" for b in cls.bases)
    )


def test_no_function_with_more_than_8_parameters():
    too_long = []
    for module, (_, tree) in MODULES.items():
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
            names = [n for n in names if n not in ("self", "cls")]
            if len(names) > MAX_PARAMETERS and not _is_estimator_init(node, parents):
                too_long.append(f"{module or 'skfastgrnn'}.{node.name} ({len(names)})")
    assert not too_long, too_long


def _private_reads():
    """``obj._name`` where obj is not self/cls/super() and _name is private (not dunder)."""
    reads = []
    for module, (_, tree) in MODULES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            name = node.attr
            if not name.startswith("_") or name.startswith("__"):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                continue
            reads.append(f"{module or 'skfastgrnn'}:{node.lineno} .{name}")
    return reads


def test_at_most_3_reads_of_another_objects_private_names():
    reads = _private_reads()
    assert len(reads) <= MAX_PRIVATE_READS, reads


def test_numba_is_imported_by_the_compiled_kernel_only():
    """numba is an optional extra: one module imports it, and only when a fit asks for it (skfastgrnn._kernel)."""
    importers = set()
    for module, (_, tree) in MODULES.items():
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(n.split(".")[0] == "numba" for n in names):
                importers.add(module)
    assert importers == {"_kernel_numba"}
    code = "import sys, skfastgrnn; print('numba' in sys.modules, 'skfastgrnn._kernel_numba' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["False", "False"]
