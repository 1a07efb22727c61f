"""The deployment kit, checked without a container engine: the compose file's services run
commands the CLI has with settings the program knows; the image is non-root, has a health check
and installs from the lock file with hashes; the lock file pins every dependency acceptably."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from api.cli.main import COMMAND_MODULES, build_parser
from api.http.settings import ApiSettings
from ledger_store.eventstore.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KNOWN = {f"EPORT_{name.upper()}" for name in Settings.model_fields} | {
    f"EPORT_API_{name.upper()}" for name in ApiSettings.model_fields
}


def _commands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(getattr(action, "choices", {}))


def test_every_eport_variable_in_the_kit_and_docs_is_a_real_setting() -> None:
    texts = [p.read_text() for p in DEPLOY.rglob("*") if p.is_file()]
    texts += [(ROOT / "docs" / "operations.md").read_text(), (ROOT / "README.md").read_text()]
    named = {m for text in texts for m in re.findall(r"\bEPORT_[A-Z_]+[A-Z]\b", text)}
    named -= {"EPORT_TEST_POSTGRES_URL", "EPORT_DB_PASSWORD", "EPORT_RELIABILITY_FIGURES"}
    assert named <= KNOWN, sorted(named - KNOWN)


def test_compose_services_run_commands_the_cli_has() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "api", "worker", "nginx"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    commands = _commands()
    assert len(commands) >= len(COMMAND_MODULES)
    for name in ("migrate", "api", "worker"):
        assert services[name]["command"][0] in commands, name
        env = services[name]["environment"]
        assert "EPORT_SIGNING_KEY_PATH" in env
        assert env["EPORT_DATABASE_URL"].startswith("postgresql://")


def test_the_image_is_non_root_with_a_health_check_and_installs_from_the_lock() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*?/healthz", text, re.M)
    assert "--require-hashes -r requirements.lock" in text
    assert "pip install --no-deps ." in text
    for unit in ("eport-ledger@.service", "eport-ledger-worker.service"):
        service = (DEPLOY / "systemd" / unit).read_text()
        assert re.search(r"^User=(?!root)\w+", service, re.M), unit
        assert "RestartPreventExitStatus=2 3 5 6" in service, unit


def test_the_lock_file_pins_every_dependency_with_hashes_in_the_accepted_ranges() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", lock, re.M))
    pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.strip())
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: compile it again"
        assert Version(pinned[name]) in requirement.specifier, (name, pinned[name], spec)


def test_every_data_file_of_the_packages_is_installed_with_them() -> None:
    """The image installs with `pip install --no-deps .`, which copies besides the modules only
    the package data pyproject.toml declares: every other file of a package must match it."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = {
        ROOT.joinpath(*package.split(".")): patterns
        for package, patterns in setuptools["package-data"].items()
    }
    undeclared = []
    for top in setuptools["packages"]["find"]["include"]:
        for path in ROOT.joinpath(top.rstrip("*")).rglob("*"):
            if path.is_dir() or path.suffix in {".py", ".pyc"}:
                continue
            if not any(
                path.is_relative_to(where)
                and any(fnmatch(path.relative_to(where).as_posix(), p) for p in patterns)
                for where, patterns in declared.items()
            ):
                undeclared.append(str(path.relative_to(ROOT)))
    assert not undeclared, f"add them to [tool.setuptools.package-data]: {undeclared}"
