"""The layering the README promises, checked on the source: what api/ may import of the core
and of workers/, that the core imports no web or queue library, and that registry/ and workers/ have no import cycle
(imports inside functions count; `if TYPE_CHECKING:` blocks do not, they never run)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the HTTP adapter may use of the core: use cases, views, errors, settings, the container
# type, the actor and its levels, and plain records (records_events holds the events, hooks,
# deliveries and usage records, split from records for length; records_accounts the sessions,
# passkeys and identities the account pages list; records_drafts the drafts). Never meta stores,
# git, storage or search. registry.drafts is the co-editing engine the WebSocket drives (rooms,
# the y-websocket messages, limits): web-free, it stands to the socket as a use case to a route.
API_ALLOWED = ("registry.services", "registry.views", "registry.views_experiments", "registry.errors", "registry.settings",
               "registry.container", "registry.access", "registry.meta.records", "registry.meta.records_events",
               "registry.meta.records_accounts", "registry.meta.records_drafts", "registry.meta.records_experiments",
               "registry.drafts",
               # the process's own wiring, as settings are: its log lines and its traces
               "registry.logs", "registry.telemetry")
# What the HTTP adapter may use of the workers: `bootstrap` (it wires each process: container,
# dispatcher and pipeline, the `System` that `serve` holds, drains and closes), the pipeline's
# types, and the RQ worker loop the `registry worker` command runs. Never the jobs themselves,
# nor the dispatchers' insides.
API_WORKERS_ALLOWED = ("workers.bootstrap", "workers.pipeline", "workers.worker")
CORE_FORBIDDEN = ("fastapi", "starlette", "uvicorn", "rq", "redis", "a2wsgi", "prometheus_client")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports at run time, wherever the import stands."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)  # `from pkg import module`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


def _sources(*folders: str) -> dict[str, Path]:
    return {_module_name(p): p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))}


def _within(name: str, allowed: tuple[str, ...]) -> bool:
    """`name` is one of the `allowed` modules or inside one (`registry.meta.records_events` is not
    inside `registry.meta.records`: matched by whole dotted parts, never by string prefix)."""
    return any(name == a or name.startswith(a + ".") for a in allowed)


def _disallowed(package: str, allowed: tuple[str, ...]) -> list[str]:
    """What api/ imports of `package` beyond `allowed` (the bare package itself is no use of it)."""
    return sorted(f"{name} imports {imported}" for name, path in _sources("api").items()
                  for imported in _imports(path)
                  if _within(imported, (package,)) and imported != package and not _within(imported, allowed))


def test_api_imports_only_use_cases_views_errors_and_settings():
    bad = _disallowed("registry", API_ALLOWED)
    assert not bad, "\n".join(bad)


def test_api_imports_only_the_pipeline_and_the_worker_loop_of_workers():
    bad = _disallowed("workers", API_WORKERS_ALLOWED)
    assert not bad, "\n".join(bad)


def test_allowed_modules_match_by_whole_parts():
    assert _within("registry.meta.records", API_ALLOWED)
    assert _within("registry.meta.records.Run", API_ALLOWED)
    assert not _within("registry.meta.recordsx", ("registry.meta.records",))
    assert not _within("registry.meta.records_events", ("registry.meta.records",))
    assert not _within("workers.pipelines", API_WORKERS_ALLOWED)


def test_core_imports_no_web_or_queue_library():
    bad = [f"{name} imports {imported}" for name, path in _sources("registry").items()
           for imported in _imports(path) if imported.split(".")[0] in CORE_FORBIDDEN]
    assert not bad, "\n".join(sorted(bad))


def _cycles(modules: dict[str, Path]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imported in _imports(path):
            # `from pkg import name` names either a module or an attribute: keep real modules.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                edges.add(imported)
        graph[name] = edges
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return cycles


def test_no_import_cycles_in_registry_and_workers():
    cycles = _cycles(_sources("registry", "workers"))
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path, monkeypatch):
    """The check above can fail: a function-level import is an edge like any other."""
    pkg = tmp_path / "pkgx"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import thing\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert "pkgx.a" in _imports(pkg / "b.py")
    assert "pkgx.b" in _imports(pkg / "a.py")
    assert _cycles(_sources("pkgx")) == [["pkgx.a", "pkgx.b", "pkgx.a"]]
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import thing\n")
    assert _cycles(_sources("pkgx")) == []
