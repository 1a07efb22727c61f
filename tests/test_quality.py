"""The quality bars every change keeps, on every package: `ruff check`, `ruff format --check`
and `mypy --strict` (pydantic plugin) clean, imports that point one way and form no cycle."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterable, Iterator
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


def imported_modules(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """Every module an import in a module of ``package`` names, with its line: imports in
    functions and TYPE_CHECKING blocks too; ``from a import b`` names ``a.b`` if a is a package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            if (ROOT / base.replace(".", "/")).is_dir():  # a package: name each module taken
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, base


def offending_imports(
    paths: list[Path], allowed: tuple[str, ...], *, stdlib: bool, package: str | None = None
) -> list[str]:
    """Imports of modules outside ``allowed`` (and the standard library, if ``stdlib``)."""
    offenders = []
    for path in paths:
        inside = package or ".".join(path.relative_to(ROOT).parts[:-1])
        for line, module in imported_modules(path, inside):
            top = module.split(".")[0]
            if stdlib and top in sys.stdlib_module_names:
                continue
            if not any(module == a or module.startswith(a + ".") for a in allowed):
                offenders.append(f"{path.name}:{line}: {module}")
    return offenders


PURE = ("ledger_store.proofs", "cryptography", "orjson")
"""What ledger_store/proofs (and the offline checker) may import besides the standard library."""


def test_the_proofs_package_imports_only_the_standard_library_cryptography_and_orjson() -> None:
    """No domain, event store, transparency tables, pydantic, eventsourcing or psycopg: proofs
    are checked with nothing but hashes, signatures and JSON."""
    modules = sorted((ROOT / "ledger_store" / "proofs").rglob("*.py"))
    assert len(modules) >= 6
    assert not offending_imports(modules, PURE, stdlib=True)


def test_the_offline_checker_needs_only_the_proofs_package() -> None:
    """`verify-export` and `verify-proof` run without a database or the ledger's application."""
    assert not offending_imports([ROOT / "replay" / "offline.py"], PURE, stdlib=True)


def test_the_merkle_verifier_can_be_copied_out_alone() -> None:
    """merkle_verify.py promises auditors a file that needs only hashlib and typing."""
    path = ROOT / "ledger_store" / "proofs" / "merkle_verify.py"
    assert not offending_imports([path], ("__future__", "hashlib", "typing"), stdlib=False)


def test_the_import_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checks above would catch a banned import wherever and however it is written."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from __future__ import annotations\n"
        "import typing\n"
        "import pydantic.fields\n"
        "from ledger_store import eventstore\n"
        "from ledger_store.proofs import chain\n"
        "from . import merkle\n"
        "from ..transparency import tree_store\n"
        "if typing.TYPE_CHECKING:\n"
        "    from domain.base import Actor\n"
        "def late() -> None:\n"
        "    import psycopg\n",
        encoding="utf-8",
    )
    offenders = offending_imports([probe], PURE, stdlib=True, package="ledger_store.proofs")
    assert [o.split(": ")[1] for o in offenders] == [
        "pydantic.fields",
        "ledger_store.eventstore",
        "ledger_store.transparency.tree_store",
        "domain.base",
        "psycopg",
    ]


def _project_classes() -> Iterator[type]:
    """Every class defined in a project module (imported, so aliases and re-exports resolve)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = importlib.import_module(_module_name(path))
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__ == module.__name__:
                    yield value


def _in_project(cls: type) -> bool:
    return cls.__module__.split(".")[0] in PACKAGES


def mixed_in(classes: Iterable[type]) -> list[str]:
    """The classes with two or more bases of the project's own."""
    offenders = []
    for cls in classes:
        own = [base for base in cls.__bases__ if _in_project(base)]
        if len(own) >= 2:
            names = ", ".join(f"{base.__module__}.{base.__qualname__}" for base in own)
            offenders.append(f"{cls.__module__}.{cls.__qualname__}({names})")
    return offenders


def test_no_class_inherits_from_two_project_classes() -> None:
    """Behaviour is composed, not mixed in: a class has at most one base of the project's own
    (bases from other libraries, such as `str, Enum` or pydantic's `BaseModel`, do not count)."""
    classes = list(_project_classes())
    assert len(classes) > 200  # the walk found the project
    assert not mixed_in(classes), "\n".join(mixed_in(classes))


def test_the_inheritance_check_sees_a_mixin() -> None:
    """Two project bases are caught; one project base beside a library's is not."""
    from domain.base import DomainError
    from ledger_store.eventstore.failures import OperatorError

    class MixedError(DomainError, OperatorError):
        pass

    class SingleError(OperatorError, ValueError):
        pass

    MixedError.__module__ = SingleError.__module__ = "domain.probe"
    assert mixed_in([MixedError, SingleError, DomainError]) == [
        "domain.probe.test_the_inheritance_check_sees_a_mixin.<locals>.MixedError("
        "domain.base.DomainError, ledger_store.eventstore.failures.OperatorError)"
    ]
