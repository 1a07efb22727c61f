"""Settings from the environment (EPORT_*), and how they become the library's configuration.

Every value is checked when the settings are read: a wrong one is a `ConfigurationError` whose
one line names the variable (`settings_error`), never a traceback. The PostgreSQL URL carries
any libpq parameter in its query string (`sslmode`, `sslrootcert`, `connect_timeout`,
`application_name`, `target_session_attrs`, …) besides our own `schema`; all of them reach every
connection the process opens (`connect_kwargs`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlparse

import psycopg
from eventsourcing.utils import get_topic
from psycopg.conninfo import make_conninfo
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.region import REGIONS
from ledger_store.eventstore.failures import ConfigurationError, SigningKeyError
from ledger_store.eventstore.postgres_factory import (
    LIBPQ_EXTRA_ENV,
    EportPostgresFactory,
    encode_parameters,
)
from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder
from ledger_store.eventstore.sqlite_recorder import ChainedSQLiteRecorder

DEFAULT_DATABASE_URL = "sqlite:///./eport-ledger.db"
POSTGRES_SCHEMES = ("postgresql", "postgres")
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
"""Schema names we accept: plain identifiers (they are quoted into SQL)."""
OUR_PARAMETERS = frozenset({"schema"})
"""Query parameters of the URL that are ours; every other one is passed to libpq."""


class Settings(BaseSettings):
    """Everything configurable; the defaults run the embedded SQLite ledger."""

    model_config = SettingsConfigDict(env_prefix="EPORT_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (default) or postgresql://user@host:port/db?schema=S&…",
    )
    region: str = Field(default="hainan", description="region whose department codes apply")
    signing_key_path: Path | None = Field(
        default=None,
        description="Ed25519 key for checkpoints; default beside the SQLite file, "
        "required on PostgreSQL",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="master keys wrapping personal-data keys (JSON, 0600); default beside the "
        "SQLite file; required with PostgreSQL (or EPORT_MASTER_KEYS)",
    )
    master_keys: SecretStr | None = Field(
        default=None, description="the master-key JSON itself, instead of a file"
    )
    postgres_pool_size: int = Field(default=5, ge=1, le=100)
    postgres_connect_timeout: int = Field(default=5, ge=1, le=120)
    postgres_pre_ping: bool = Field(
        default=False,
        description="ping each pooled connection before use (one more round trip per use)",
    )
    auto_migrate: bool = Field(
        default=True,
        description="commands that write bring the database schema up to date themselves",
    )
    checkpoint_every_events: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_url(cls, url: str) -> str:
        scheme = url.partition(":")[0].lower()
        if "://" not in url or scheme not in ("sqlite", *POSTGRES_SCHEMES):
            raise ValueError(
                f"unsupported URL scheme {scheme!r}: use sqlite:///PATH or "
                "postgresql://USER@HOST:PORT/DATABASE?schema=SCHEMA"
            )
        if scheme == "sqlite":
            if not _sqlite_path(url):
                raise ValueError("a sqlite URL needs a file path: sqlite:///PATH")
            return url
        parsed = urlparse(url)
        try:
            parsed.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ValueError("the port is not a number") from None
        query = _query(url)
        schema = query.get("schema", "public")
        if not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(
                f"schema {schema!r} is not a plain identifier (letters, digits, underscore)"
            )
        extra = {k: v for k, v in query.items() if k not in OUR_PARAMETERS}
        if not extra.get("connect_timeout", "1").isdigit():
            raise ValueError("connect_timeout in the query string is not a whole number of seconds")
        try:
            make_conninfo("", **extra)
        except psycopg.ProgrammingError as error:
            raise ValueError(f"{error} (the query string takes libpq parameters)") from None
        return url

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region not in REGIONS:
            raise ValueError(f"unknown region; known: {', '.join(sorted(REGIONS))}")
        return region

    @property
    def is_postgres(self) -> bool:
        """Whether the ledger lives in PostgreSQL."""
        return self.database_url.partition(":")[0].lower() in POSTGRES_SCHEMES

    def sqlite_path(self) -> str:
        """The SQLite file named by the URL."""
        if self.is_postgres:
            raise ValueError("not a sqlite URL")
        return _sqlite_path(self.database_url)

    @property
    def postgres_schema(self) -> str:
        """The PostgreSQL schema holding the ledger (`public` unless the URL says)."""
        return _query(self.database_url).get("schema", "public")

    def key_path(self) -> Path:
        """Where the checkpoint signing key lives.

        On SQLite it defaults to a file beside the database (`ledger.db` → `ledger.key`). On
        PostgreSQL there is no such place: the operator names it, or nothing is signed.
        """
        if self.signing_key_path is not None:
            return self.signing_key_path
        if self.is_postgres:
            raise SigningKeyError(
                "EPORT_SIGNING_KEY_PATH is not set: on PostgreSQL the checkpoint signing key's "
                "file must be named (it is never created in the working directory); see "
                "docs/operations.md, 'Signing key'"
            )
        return Path(self.sqlite_path()).with_suffix(".key")

    def master_key_path(self) -> Path | None:
        """Where the master keys live: as configured, or beside the SQLite file (None: unset)."""
        if self.master_key_file is not None:
            return self.master_key_file
        if self.is_postgres:
            return None
        return Path(self.sqlite_path()).with_suffix(".master-keys.json")

    # -- PostgreSQL connections ------------------------------------------------------------

    def connect_kwargs(self) -> dict[str, Any]:
        """psycopg.connect() keywords: the URL's host, port, database, user and password, the
        connect timeout (the URL's `connect_timeout` wins), and every libpq parameter of the
        URL's query string (`schema` is ours and stays out)."""
        parsed = urlparse(self.database_url)
        kwargs: dict[str, Any] = {
            "host": unquote(parsed.hostname or "") or "127.0.0.1",
            "port": parsed.port or 5432,
            "dbname": unquote(parsed.path.lstrip("/")) or "postgres",
            "user": unquote(parsed.username or "") or "postgres",
            "connect_timeout": self.postgres_connect_timeout,
        }
        if parsed.password:
            kwargs["password"] = unquote(parsed.password)
        kwargs.update(
            {k: v for k, v in _query(self.database_url).items() if k not in OUR_PARAMETERS}
        )
        return kwargs

    def postgres_conninfo(self) -> str:
        """`connect_kwargs` as one libpq connection string (for LISTEN connections, tools)."""
        return make_conninfo("", **{k: str(v) for k, v in self.connect_kwargs().items()})

    def where(self) -> str:
        """The database, as an operator recognises it, without any password."""
        if not self.is_postgres:
            return str(Path(self.sqlite_path()).resolve())
        kwargs = self.connect_kwargs()
        return (
            f'PostgreSQL {kwargs["host"]}:{kwargs["port"]}, database "{kwargs["dbname"]}", '
            f'schema "{self.postgres_schema}"'
        )

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for this database (the connection's libpq
        parameters, `connect_timeout` among them, under LIBPQ_EXTRA_ENV).

        Tables are never created by the library (`CREATE_TABLE=n`): the migrations do
        (`ledger_store/migrations`), under their lock, in order.
        """
        if not self.is_postgres:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.sqlite_path(),
                "SQLITE_LOCK_TIMEOUT": "30",
                "CREATE_TABLE": "n",
                "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
                "EPORT_CREATE_TABLE": "n",
            }
        kwargs = self.connect_kwargs()
        core = ("host", "port", "dbname", "user", "password")
        env = {
            "PERSISTENCE_MODULE": get_topic(EportPostgresFactory),
            "POSTGRES_DBNAME": str(kwargs["dbname"]),
            "POSTGRES_HOST": str(kwargs["host"]),
            "POSTGRES_PORT": str(kwargs["port"]),
            "POSTGRES_USER": str(kwargs["user"]),
            "POSTGRES_PASSWORD": str(kwargs.get("password", "")),
            "POSTGRES_SCHEMA": self.postgres_schema,
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(kwargs["connect_timeout"]),
            "POSTGRES_PRE_PING": "y" if self.postgres_pre_ping else "n",
            "CREATE_TABLE": "n",
            LIBPQ_EXTRA_ENV: encode_parameters({k: v for k, v in kwargs.items() if k not in core}),
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
        }
        # The library looks up `EPORT_<KEY>` (the application's name first) before `<KEY>`,
        # in a mapping that includes the process environment: say ours under both names.
        return {**env, **{f"EPORT_{key}": value for key, value in env.items()}}


def _sqlite_path(url: str) -> str:
    path = unquote(url[len("sqlite://") :])
    # sqlite:///relative.db → "/relative.db"; sqlite:////abs.db → "//abs.db"
    return path[1:] if path.startswith("/") else path


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlparse(url).query, keep_blank_values=True))


def redact(url: str) -> str:
    """A URL with its password replaced by `***` (for messages)."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    user = quote(unquote(parsed.username or ""), safe="")
    host = parsed.netloc.rpartition("@")[2]
    return parsed._replace(netloc=f"{user}:***@{host}").geturl()


def settings_error(error: ValidationError, settings: type[BaseSettings]) -> ConfigurationError:
    """A settings class's ValidationError as one line naming each variable and its value."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    parts = []
    for problem in error.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        variable = f"{prefix}{field}".upper()
        value = problem.get("input")
        shown = redact(value) if isinstance(value, str) else value
        reason = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(
            f"{variable}={shown}: {reason}" if shown is not None else f"{variable}: {reason}"
        )
    return ConfigurationError("; ".join(parts))


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a wrong value is a ConfigurationError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise settings_error(error, Settings) from None
