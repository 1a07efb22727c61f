"""docs/architecture.md names only what exists, and its package table is the import graph.

Every path it names (`ledger_store/application/ledger.py`, `api/http/routes/*`, a bare
`mapping.py`), every dotted module (`ledger_store.proofs`, `domain.catalog`) and every code name
in backticks (`Ledger.execute_async`, `created_from`) must be in the code; and each arrow of the
package table must be an import the code has, with no import the table lacks.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from tests.test_quality import PACKAGES, ROOT, _import_graph

DOC = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"(?<![\w/.-])((?:" + "|".join(PACKAGES) + r"|docs|tests)/[\w/.*<>-]*)")
BARE_FILE = re.compile(r"(?<![\w/.-])(\w+\.py)\b")
BACKTICKED = re.compile(r"`([^`\n]+)`")
CODE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
NOT_OURS = {
    "aggregate7": "the eventsourcing library's example the aggregates are shaped after",
    "Eport": "the event store's fixed application name (a string)",
    "model_dump": "pydantic",
    "POSTGRES_ENABLE_DB_FUNCTIONS": "an eventsourcing setting",
    "Application": "the eventsourcing library's application class",
    "Annotated": "typing",
    "ETag": "an HTTP header",
}


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _defined_names() -> set[str]:
    """Every name the project defines: classes, functions, parameters, assigned names and
    attributes, and class fields."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(node.name)
                elif isinstance(node, ast.arg):
                    names.add(node.arg)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
    return names


def test_every_path_the_architecture_names_exists() -> None:
    doc = _doc()
    missing = []
    for path in sorted(set(PATH.findall(doc))):
        path = path.rstrip(".")
        if "<" in path:
            continue  # a pattern, such as `<events table>_append`
        if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()):
            missing.append(path)
    sources = {p.name for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    missing += [name for name in sorted(set(BARE_FILE.findall(doc))) if name not in sources]
    assert not missing, missing


def test_every_module_the_architecture_names_exists() -> None:
    missing = []
    for text in sorted(set(BACKTICKED.findall(_doc()))):
        if not CODE_NAME.fullmatch(text) or text.split(".")[0] not in PACKAGES:
            continue
        parts = text.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                value: object = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attribute in parts[cut:]:
                    value = getattr(value, attribute)
            except AttributeError:
                missing.append(text)
            break
        else:
            missing.append(text)
    assert not missing, missing


def test_every_code_name_the_architecture_names_exists() -> None:
    """A backticked CamelCase, snake_case or dotted name (calls' arguments aside) is defined in
    the project, unless it is listed as another library's."""
    defined = _defined_names()
    missing = []
    for text in sorted(set(BACKTICKED.findall(_doc()))):
        name = re.sub(r"\(.*\)$", "", text)
        if not CODE_NAME.fullmatch(name) or name.split(".")[0] in PACKAGES or name.endswith(".py"):
            continue
        if "." not in name and "_" not in name and name.islower():
            continue  # a plain word (`cryptography`, `api`)
        for part in name.split("."):
            if part not in defined and part not in NOT_OURS:
                missing.append(f"{text} ({part})")
    assert not missing, missing


def test_the_package_table_is_the_import_graph() -> None:
    """`a/ … ──▶ b/ c/`: a imports b and c (some module of each), and no other package."""
    drawn: dict[str, set[str]] = {}
    for line in _doc().splitlines():
        match = re.match(r"(\w+)/ .*?(?:──▶(.*))?$", line)
        if match and match.group(1) in PACKAGES:
            drawn[match.group(1)] = {t.strip("/") for t in (match.group(2) or "").split()}
    assert set(drawn) == set(PACKAGES), drawn
    imported: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for module, targets in _import_graph().items():
        imported[module.split(".")[0]] |= {t.split(".")[0] for t in targets}
    actual = {package: found - {package} for package, found in imported.items()}
    assert drawn == actual


def test_the_walk_of_a_pin_attempt_names_one_existing_module_per_step() -> None:
    """The PIN attempt's path: numbered steps, each naming a module that exists."""
    doc = _doc()
    walk = doc[doc.index("## One PIN attempt") :]
    steps = re.findall(r"^\s*(\d+)\. \*\*[^*]+\*\* — `([^`]+\.py)`", walk, flags=re.MULTILINE)
    assert [int(number) for number, _ in steps] == list(range(1, len(steps) + 1))
    assert len(steps) >= 10
    assert all((ROOT / path).is_file() for _, path in steps), steps
    assert Path(steps[0][1]).as_posix() == "api/http/routes/keys.py"
