"""The quality bars every change keeps, on every package: `ruff check`, `ruff format --check`
and `mypy --strict` (pydantic plugin) clean, and dependencies pointing one way."""

from __future__ import annotations

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
