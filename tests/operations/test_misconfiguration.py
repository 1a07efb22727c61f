"""Every mistake an operator can make ends in ONE line naming the cause, a documented exit code,
and no traceback (the real console script, in a subprocess, with nothing but the environment)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import POSTGRES_URL
from tests.operations.conftest import Run, eport, url_for_database
from tests.reliability.processes import free_port

PG = POSTGRES_URL


@dataclass(frozen=True)
class Mistake:
    """A command, the environment that is wrong, the exit code and what the line must name."""

    args: tuple[str, ...]
    env: dict[str, str]
    code: int
    names: tuple[str, ...]
    postgres: bool = False


def _mistakes(tmp: Path) -> dict[str, Mistake]:
    missing_dir = tmp / "no-such-dir" / "ledger.db"
    unused = free_port()
    return {
        "unreachable server": Mistake(
            ("serve",),
            {
                "EPORT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{unused}/test?schema=e",
                "EPORT_SIGNING_KEY_PATH": str(tmp / "signing.key"),
            },
            4,
            (f"127.0.0.1:{unused}", "Connection refused"),
        ),
        "missing database": Mistake(
            ("demo",),
            {"EPORT_DATABASE_URL": url_for_database("eport_no_such_db", schema="e")},
            4,
            ('database "eport_no_such_db" does not exist', "CREATE DATABASE"),
            postgres=True,
        ),
        "TLS required by a server without it": Mistake(
            ("verify",),
            {"EPORT_DATABASE_URL": url_for_database("test", schema="e", sslmode="require")},
            4,
            ("SSL",),
            postgres=True,
        ),
        "bad URL scheme": Mistake(
            ("serve",),
            {"EPORT_DATABASE_URL": "mysql://root@127.0.0.1/eport"},
            3,
            ("EPORT_DATABASE_URL=mysql://root@127.0.0.1/eport", "unsupported URL scheme"),
        ),
        "unknown libpq parameter": Mistake(
            ("serve",),
            {"EPORT_DATABASE_URL": f"{PG}?schema=e&sslmod=require"},
            3,
            ("EPORT_DATABASE_URL", 'invalid connection option "sslmod"'),
        ),
        "password never echoed": Mistake(
            ("serve",),
            {"EPORT_DATABASE_URL": "postgresql://eport:s3cret@127.0.0.1:5432/db?schema=bad-name"},
            3,
            ("EPORT_DATABASE_URL=postgresql://eport:***@127.0.0.1:5432/db", "schema 'bad-name'"),
        ),
        "missing SQLite directory": Mistake(
            ("serve",),
            {"EPORT_DATABASE_URL": f"sqlite:///{missing_dir}"},
            3,
            (str(missing_dir.parent), "does not exist"),
        ),
        "pool size not a number": Mistake(
            ("serve",),
            {"EPORT_POSTGRES_POOL_SIZE": "abc"},
            3,
            ("EPORT_POSTGRES_POOL_SIZE=abc",),
        ),
        "connect timeout out of range": Mistake(
            ("worker",),
            {"EPORT_POSTGRES_CONNECT_TIMEOUT": "0"},
            3,
            ("EPORT_POSTGRES_CONNECT_TIMEOUT=0",),
        ),
        "unknown region": Mistake(
            ("demo",), {"EPORT_REGION": "atlantis"}, 3, ("EPORT_REGION=atlantis", "hainan")
        ),
        "bad log level": Mistake(
            ("serve",), {"EPORT_API_LOG_LEVEL": "LOUD"}, 3, ("EPORT_API_LOG_LEVEL=LOUD", "INFO")
        ),
        "a trusted proxy that is no address": Mistake(
            ("serve",),
            {"EPORT_API_TRUSTED_PROXIES": "10.0.0.1, nginx"},
            3,
            ("EPORT_API_TRUSTED_PROXIES=10.0.0.1, nginx",),
        ),
        "bad views mode": Mistake(
            ("serve",), {"EPORT_API_VIEWS": "sometimes"}, 3, ("EPORT_API_VIEWS=sometimes",)
        ),
        "no signing key path on PostgreSQL": Mistake(
            ("serve",),
            {"EPORT_DATABASE_URL": f"{PG}?schema=eport_misconfig_key"},
            6,
            ("EPORT_SIGNING_KEY_PATH is not set",),
            postgres=True,
        ),
        "verify on a mistyped SQLite path": Mistake(
            ("verify",),
            {"EPORT_DATABASE_URL": f"sqlite:///{tmp / 'mistyped.db'}"},
            5,
            ("no ledger at", "mistyped.db", "nothing was created"),
        ),
        "export where there is no ledger": Mistake(
            ("export", "--out", str(tmp / "out.jsonl")),
            {"EPORT_DATABASE_URL": f"{PG}?schema=eport_misconfig_none"},
            5,
            ("no ledger at", 'schema "eport_misconfig_none"', "nothing was created"),
            postgres=True,
        ),
    }


CASES = sorted(_mistakes(Path("/placeholder")))


def _one_line_naming(run: Run, mistake: Mistake) -> None:
    lines = run.stderr.strip().splitlines()
    assert run.code == mistake.code, (run.code, run.stderr)
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("eport-ledger: "), lines
    for name in mistake.names:
        assert name in lines[0], (name, lines[0])
    assert "Traceback" not in run.stderr + run.stdout
    assert "s3cret" not in run.stderr + run.stdout


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_is_one_line_naming_its_cause_with_its_exit_code(
    case: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    mistake = _mistakes(tmp_path)[case]
    if mistake.postgres:
        request.getfixturevalue("postgres_available")
    before = sorted(p.name for p in tmp_path.iterdir())
    run = eport(*mistake.args, cwd=tmp_path, **mistake.env)
    _one_line_naming(run, mistake)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a mistake created a file"


def test_debug_shows_the_traceback_of_the_same_mistake(tmp_path: Path) -> None:
    run = eport("--debug", "serve", cwd=tmp_path, EPORT_POSTGRES_POOL_SIZE="abc")
    assert run.code == 3
    assert "Traceback" in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("eport-ledger: EPORT_POSTGRES_POOL_SIZE")


def test_json_commands_fail_with_one_json_document_too(tmp_path: Path) -> None:
    run = eport("verify", "--json", cwd=tmp_path, EPORT_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert run.code == 5
    assert run.stdout.count("\n") == 1
    assert '"ok":false' in run.stdout
    assert '"exit_code":5' in run.stdout


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    from importlib import metadata

    run = eport("--version", cwd=tmp_path)
    assert run.code == 0
    assert run.stdout.strip() == f"eport-ledger {metadata.version('eport-ledger')}"


def test_no_read_only_command_creates_a_database_file(tmp_path: Path) -> None:
    target = tmp_path / "ledger.db"
    env = {"EPORT_DATABASE_URL": f"sqlite:///{target}"}
    commands: list[tuple[str, ...]] = [
        ("verify",),
        ("verify", "--json"),
        ("export", "--out", str(tmp_path / "e.jsonl")),
        ("proof", "inclusion", "--index", "1"),
        ("proof", "consistency", "--from", "1"),
        ("checkpoint", "--list"),
        ("replay",),
        ("migrate", "--status"),
    ]
    for args in commands:
        run = eport(*args, cwd=tmp_path, **env)
        assert run.code == 5, (args, run.stderr)
        assert "no ledger at" in run.stderr, (args, run.stderr)
    for args in (("verify-export", str(tmp_path / "none.jsonl")),
                 ("verify-proof", str(tmp_path / "none.json"))):  # fmt: skip
        run = eport(*args, cwd=tmp_path, **env)
        assert run.code == 2, (args, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "something was created"


def test_application_name_and_other_libpq_parameters_reach_the_connections(
    postgres_schema: str, tmp_path: Path
) -> None:
    marker = f"eport-ops-{postgres_schema[-8:]}"
    url = f"{POSTGRES_URL}?schema={postgres_schema}&application_name={marker}"
    seen: list[str] = []

    def names() -> list[str]:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT application_name FROM pg_stat_activity WHERE application_name = %s",
                (marker,),
            ).fetchall()
        return [row[0] for row in rows]

    from ledger_store.eventstore.settings import Settings
    from ledger_store.eventstore.store import EventStore

    store = EventStore(Settings(database_url=url, signing_key_path=tmp_path / "k"))
    try:
        store.position()
        seen = names()
    finally:
        store.close()
    assert seen, f"no connection of the pool showed application_name={marker}"
    check: Callable[[], list[str]] = names
    left = check()
    for _ in range(100):  # a backend leaves pg_stat_activity a moment after its client closed
        if not left:
            break
        time.sleep(0.05)
        left = check()
    assert left == []  # closed with the store
