"""The quality bars of DESIGN.md hold on every package: ruff, ruff format, mypy --strict, imports
that point one way and form no cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["domain", "ledger_store", "projections", "api", "replay"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy", *PACKAGES),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_code_meets_the_quality_bar(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_dependencies_point_one_way() -> None:
    """domain imports no other package; ledger_store not projections/api/replay; and so on."""
    forbidden = {
        "domain": ("ledger_store", "projections", "api", "replay"),
        "ledger_store": ("projections", "api", "replay"),
        "projections": ("api", "replay"),
        "replay": ("api",),
    }
    offenders = []
    for package, banned in forbidden.items():
        for path in (ROOT / package).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                stripped = line.strip()
                if stripped.startswith(("import ", "from ")) and any(
                    stripped.split()[1] == b or stripped.split()[1].startswith(b + ".")
                    for b in banned
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert not offenders, "\n".join(offenders)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports, anywhere in it (function bodies
    and `if TYPE_CHECKING:` blocks too); importing `a.b.c` also imports `a` and `a.b`."""
    paths = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*here[: len(here) - node.level + 1], *filter(None, [base])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                imported |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        graph[name] = {module for module in imported if module in paths and module != name}
    return graph


def test_no_import_cycles() -> None:
    """No project module imports a module that (transitively) imports it."""
    graph = _import_graph()
    cycles = []
    for start in sorted(graph):
        seen: set[str] = set()
        stack = [(start, (start,))]
        while stack:
            module, path = stack.pop()
            for imported in sorted(graph[module]):
                if imported == start:
                    cycles.append(" -> ".join((*path, start)))
                elif imported not in seen:
                    seen.add(imported)
                    stack.append((imported, (*path, imported)))
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("aggregate", ["card_holder", "enterprise", "ukey"])
def test_aggregate_modules_point_one_way(aggregate: str) -> None:
    """An aggregate's events import neither its state nor its decisions; its state no decision."""
    graph = _import_graph()
    package = f"domain.{aggregate}"
    assert not graph[f"{package}.events"] & {f"{package}.state", f"{package}.decisions"}
    assert f"{package}.decisions" not in graph[f"{package}.state"]
