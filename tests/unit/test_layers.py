"""The import layers of Rounds, checked on the source (every import, function-local ones too).

The order (lowest first; a module imports only from its own layer or lower ones) is the one
``rounds.runtime``'s docstring names:

1. foundation: ``rounds.errors``, ``rounds.settings``, ``rounds.textsafety``, ``rounds.i18n``
2. engines: ``rounds.rules``, ``rounds.forms``, ``rounds.definitions`` (pure: no database, no
   HTTP, no runtime)
3. ``rounds.db``, ``rounds.web`` (the HTTP toolkit: it knows no slice), and
   ``rounds.ops.metrics``
4. ``rounds.runtime``: the shared modules (``models``, ``sql``, ``access``, ``imports``), then
   the slices in :data:`SLICES` order. Any slice may import any ``*.models`` module (one
   database schema, foreign keys cross slices); a models module imports only other models
   and the shared modules; everything else in a slice imports only its own slice and the
   slices before it.
5. composition: ``rounds.jobs``, ``rounds.demo``, ``rounds.cli``, ``rounds.app``,
   the rest of ``rounds.ops``, ``rounds.migrate``, ``rounds.migrations`` (may import anything)

No two modules import each other, directly or through others, and no two slices do.

The checker reads files, it imports nothing, so a synthetic package in ``tmp_path`` tests
the checker itself (a planted back-edge must be caught).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PLATFORM = Path(__file__).resolve().parents[2] / "platform"

FOUNDATION = ("rounds.errors", "rounds.settings", "rounds.textsafety", "rounds.i18n",
              "rounds.pointer", "rounds.cache", "rounds.logs")
ENGINES = ("rounds.rules", "rounds.forms", "rounds.definitions", "rounds.draws")
# rounds.ops: its metrics are toolkit (the slices count submissions and live streams with
# them); the readiness checks, rounds doctor and the plugin that serves both are composition.
# rounds.extensions finds and registers the extensions (into the engines' registries); the
# slices and the app read what it found.
TOOLKIT = ("rounds.db", "rounds.web", "rounds.ops.metrics", "rounds.extensions")
SHARED_RUNTIME = ("rounds.runtime.models", "rounds.runtime.sql", "rounds.runtime.access",
                  "rounds.runtime.imports", "rounds.runtime.audit")
# The slices of rounds.runtime, lowest first: each may use the ones before it. Notifications
# come before issues: an issue's every step notifies someone (issues -> notifications), and
# an inbox knows nothing of what its notifications are about.
# Campaigns come after fieldwork: the leader's campaign pages are drawn in the field pages'
# chrome, and fieldwork reaches campaigns only through hooks (my day's stops, the scope).
SLICES = ("definitions", "orgs", "people", "sites", "storage", "visits", "forms",
          "submissions", "notifications", "issues", "store", "okr", "fieldwork", "campaigns",
          "surveys", "portals", "dashboards", "admin")
COMPOSITION = ("rounds.jobs", "rounds.demo", "rounds.cli", "rounds.app", "rounds.ops",
               "rounds.slices", "rounds.migrate", "rounds.migrations")
# Where the slices' tasks are registered: rounds.jobs is composition (it imports the
# slices' jobs modules by name), but its Celery app and maintenance registry are what a
# slice's jobs.py registers with, the way handlers are wired by the app.
JOB_REGISTRY = ("rounds.jobs.celery_app", "rounds.jobs.maintenance")
LAYERS = ("foundation", "engine", "toolkit", "runtime", "composition")

# Known violations, each with why, only while it is being fixed (today: none).
# (importer, imported): an import of ``imported`` or of a module under it is let through.
ALLOWED: list[tuple[str, str]] = [
    # Nothing: a known exception goes here, with why, only while it is being fixed.
]


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    local: bool  # inside a function (run later, but a dependency all the same)

    def __str__(self) -> str:
        where = "function-local import" if self.local else "import"
        return f"{self.importer} (line {self.line}, {where}) -> {self.imported}"


# -- reading the imports -----------------------------------------------------------------------

def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, package: str = "rounds") -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}


def _resolve(name: str, known: set[str]) -> str | None:
    """The module an import names: the longest known module that is ``name`` or contains it."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str], package: str) -> None:
        self.module, self.is_package, self.known, self.package = (
            module, is_package, known, package)
        self.depth = 0
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.stmt) -> None:
        if target != self.package and not target.startswith(self.package + "."):
            return
        resolved = _resolve(target, self.known)
        if resolved is not None and resolved != self.module:
            imp = Import(self.module, resolved, node.lineno, self.depth > 0)
            if imp not in self.found:  # ``from m import a, b`` is one import of m
                self.found.append(imp)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base.pop()
            base = base[:len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        for alias in node.names:
            # ``from package import module`` imports that module.
            sub = f"{target}.{alias.name}"
            self._add(sub if sub in self.known else target, node)


def imports(root: Path, package: str = "rounds") -> list[Import]:
    """Every import of a module of ``package`` by one of its modules."""
    found = modules(root, package)
    known = set(found)
    out: list[Import] = []
    for name, path in found.items():
        collector = _Collector(name, path.name == "__init__.py", known, package)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out.extend(collector.found)
    return out


# -- where a module sits -----------------------------------------------------------------------

def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer(module: str) -> int:
    if module == "rounds" or _under(module, FOUNDATION):
        return LAYERS.index("foundation")
    if _under(module, ENGINES):
        return LAYERS.index("engine")
    if _under(module, TOOLKIT):
        return LAYERS.index("toolkit")
    if _under(module, ("rounds.runtime",)):
        return LAYERS.index("runtime")
    if _under(module, COMPOSITION):
        return LAYERS.index("composition")
    raise AssertionError(f"{module} is in no layer: add it to the layers in {__file__}")


def slice_of(module: str) -> str | None:
    """The slice of a runtime module (``people`` for ``rounds.runtime.people.auth``)."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["rounds", "runtime"] and parts[2] in SLICES:
        return parts[2]
    return None


def is_models(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "models" and slice_of(module) is not None


# -- the rules ---------------------------------------------------------------------------------

def allowed(imp: Import) -> bool:
    return any(imp.importer == a and _under(imp.imported, (b,)) for a, b in ALLOWED)


def layer_problem(imp: Import) -> str | None:
    a, b = imp.importer, imp.imported
    la, lb = layer(a), layer(b)
    if la == LAYERS.index("runtime") and _under(b, JOB_REGISTRY) and a.endswith(".jobs"):
        return None
    if lb > la:
        if la == LAYERS.index("engine"):
            return ("an engine (rounds.rules/forms/definitions) may not import the runtime, "
                    "the web toolkit, the database or the app")
        if _under(a, ("rounds.web",)):
            return "rounds.web is the HTTP toolkit shared by the slices: it knows no slice"
        return f"a {LAYERS[la]} module may not import the {LAYERS[lb]} layer above it"
    if la == lb == LAYERS.index("engine"):
        ea = next(i for i, e in enumerate(ENGINES) if _under(a, (e,)))
        eb = next(i for i, e in enumerate(ENGINES) if _under(b, (e,)))
        if eb > ea:
            return f"the engines depend one way ({' -> '.join(ENGINES)})"
        return None
    if la != lb or la != LAYERS.index("runtime"):
        return None
    sa, sb = slice_of(a), slice_of(b)
    if sb is None:
        return None  # the shared runtime modules: any runtime module may use them
    if is_models(a):
        if not is_models(b):
            return ("a models module imports only other models and the shared runtime "
                    "modules (models, sql, access, imports)")
        return None
    if is_models(b):
        return None  # one database schema: every slice may use every table
    if sa is None:
        return (f"the shared runtime modules are below every slice: import only the "
                f"slices' models (not {b})")
    if SLICES.index(sb) > SLICES.index(sa):
        return (f"the {sa} slice may not import the {sb} slice, later in the order "
                f"({' -> '.join(SLICES)})")
    return None


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
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
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def cycle_problems(found: list[Import]) -> Iterator[str]:
    """Modules that import each other (through others too), and slices that do.

    Between slices, an import of a models module does not count: the schema is one."""
    by_module: dict[str, set[str]] = defaultdict(set)
    by_slice: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in found:
        by_module[imp.importer].add(imp.imported)
        why[(imp.importer, imp.imported)].append(imp)
        sa, sb = slice_of(imp.importer), slice_of(imp.imported)
        if sa and sb and sa != sb and not is_models(imp.imported):
            by_slice[sa].add(sb)
            why[(sa, sb)].append(imp)
    for component in _cycles(by_module):
        inside = [str(i) for a in component for b in sorted(by_module[a])
                  if b in component for i in why[(a, b)]]
        yield "import cycle between modules " + ", ".join(component) + ":\n    " + \
            "\n    ".join(inside)
    for component in _cycles(by_slice):
        inside = [str(i) for a in component for b in sorted(by_slice[a])
                  if b in component for i in why[(a, b)]]
        yield "import cycle between slices " + ", ".join(component) + ":\n    " + \
            "\n    ".join(inside)


def problems(found: list[Import]) -> list[str]:
    checked = [i for i in found if not allowed(i)]
    out = []
    for imp in checked:
        why = layer_problem(imp)
        if why is not None:
            out.append(f"{imp}: {why}")
    out.extend(cycle_problems(checked))
    return out


# -- the tests ---------------------------------------------------------------------------------

def test_rounds_keeps_its_layers() -> None:
    found = problems(imports(PLATFORM))
    assert not found, "imports against the layer order (see rounds.runtime's docstring):\n" \
        + "\n".join(found)


def test_the_core_imports_no_extension() -> None:
    """Extensions are found by entry point (rounds.extensions), never imported by name: an
    import of an extension's package (``rounds_*``) anywhere in the core is refused."""
    out = []
    for name, path in modules(PLATFORM).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level \
                else []
            out += [f"{name}:{node.lineno} imports {t}" for t in targets
                    if t.startswith("rounds_")]
    assert not out, "\n".join(out)


def test_every_module_has_a_layer() -> None:
    for name in modules(PLATFORM):
        layer(name)


def test_allowed_list_names_real_imports() -> None:
    """An entry of ALLOWED that matches nothing any more is stale: remove it."""
    found = imports(PLATFORM)
    for a, b in ALLOWED:
        assert any(i.importer == a and _under(i.imported, (b,)) for i in found), (a, b)


def test_the_runtime_docstring_names_the_order() -> None:
    doc = ast.get_docstring(ast.parse(
        (PLATFORM / "rounds" / "runtime" / "__init__.py").read_text(encoding="utf-8")))
    assert doc is not None and " -> ".join(SLICES) in " ".join(doc.split())


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in list(root.rglob("*")):
        if path.is_dir() and not (path / "__init__.py").exists():
            (path / "__init__.py").write_text("", encoding="utf-8")
    return root


_CLEAN = {
    "rounds/errors.py": "",
    "rounds/rules/compiler.py": "from rounds.errors import *\n",
    "rounds/forms/compiled.py": "from rounds.rules import compiler\n",
    "rounds/web/params.py": "from rounds.errors import *\n",
    "rounds/runtime/access.py": "from rounds.runtime.sites.models import Site\n",
    "rounds/runtime/people/models.py": "from rounds.runtime.sites import models\n",
    "rounds/runtime/people/service.py": "from rounds.runtime.access import Principal\n",
    "rounds/runtime/sites/models.py": "",
    "rounds/runtime/sites/service.py": "from rounds.runtime.people import service\n",
    "rounds/app.py": "import rounds.runtime.sites.service\nimport rounds.web.params\n",
}


def test_checker_passes_a_clean_package(tmp_path: Path) -> None:
    root = _plant(tmp_path, _CLEAN)
    assert problems(imports(root)) == []


def test_checker_catches_a_planted_back_edge(tmp_path: Path) -> None:
    # people is before sites in the order; a function-local import counts too.
    root = _plant(tmp_path, {**_CLEAN, "rounds/runtime/people/service.py": (
        "from rounds.runtime.access import Principal\n\n\n"
        "def f():\n    from rounds.runtime.sites.service import g\n")})
    found = problems(imports(root))
    assert any(p.startswith("rounds.runtime.people.service (line 5, function-local import)"
                            " -> rounds.runtime.sites.service: the people slice may not "
                            "import the sites slice") for p in found), found
    assert any("import cycle between slices people, sites" in p for p in found), found


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("rounds/rules/compiler.py", "from rounds.runtime.people import service\n",
     "rounds.rules.compiler (line 1, import) -> rounds.runtime.people.service: an engine"),
    ("rounds/rules/compiler.py", "from .. import app\n",
     "rounds.rules.compiler (line 1, import) -> rounds.app: an engine"),
    ("rounds/rules/compiler.py", "from rounds.forms import compiled\n",
     "rounds.rules.compiler (line 1, import) -> rounds.forms.compiled: the engines depend"),
    ("rounds/web/params.py", "import rounds.runtime.access\n",
     "rounds.web.params (line 1, import) -> rounds.runtime.access: rounds.web is the HTTP"),
    ("rounds/runtime/sites/models.py", "from rounds.runtime.people.service import x\n",
     "rounds.runtime.sites.models (line 1, import) -> rounds.runtime.people.service: a models"),
    ("rounds/runtime/access.py", "from rounds.runtime.people import service\n",
     "rounds.runtime.access (line 1, import) -> rounds.runtime.people.service: the shared"),
    ("rounds/runtime/sites/models.py", "import rounds.runtime.people.models\n",
     "import cycle between modules rounds.runtime.people.models, rounds.runtime.sites.models"),
])
def test_checker_names_the_offending_import(tmp_path: Path, name: str, text: str,
                                            expected: str) -> None:
    root = _plant(tmp_path, {**_CLEAN, name: text})
    found = problems(imports(root))
    assert any(p.startswith(expected) for p in found), found
