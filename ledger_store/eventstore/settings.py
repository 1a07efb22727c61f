"""Settings from the environment (EPORT_*), and how they become the library's configuration."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.utils import get_topic
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder
from ledger_store.eventstore.sqlite_recorder import ChainedSQLiteRecorder

DEFAULT_DATABASE_URL = "sqlite:///./eport-ledger.db"


class Settings(BaseSettings):
    """Everything configurable; the defaults run the embedded SQLite ledger."""

    model_config = SettingsConfigDict(env_prefix="EPORT_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (default) or postgresql://user@host:port/db?schema=S",
    )
    region: str = Field(default="hainan", description="region whose department codes apply")
    signing_key_path: Path | None = Field(
        default=None, description="Ed25519 key for checkpoints; default beside the SQLite file"
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
    checkpoint_every_events: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)

    @property
    def is_postgres(self) -> bool:
        """Whether the ledger lives in PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def sqlite_path(self) -> str:
        """The SQLite file named by the URL."""
        parsed = urlparse(self.database_url)
        if parsed.scheme != "sqlite":
            raise ValueError(f"not a sqlite URL: {self.database_url!r}")
        path = unquote(self.database_url[len("sqlite://") :])
        # sqlite:///relative.db → "/relative.db"; sqlite:////abs.db → "//abs.db"
        return path[1:] if path.startswith("/") else path

    def key_path(self) -> Path:
        """Where the checkpoint signing key lives."""
        if self.signing_key_path is not None:
            return self.signing_key_path
        if self.is_postgres:
            return Path("./eport-ledger.key")
        return Path(self.sqlite_path()).with_suffix(".key")

    def master_key_path(self) -> Path | None:
        """Where the master keys live: as configured, or beside the SQLite file (None: unset)."""
        if self.master_key_file is not None:
            return self.master_key_file
        if self.is_postgres:
            return None
        return Path(self.sqlite_path()).with_suffix(".master-keys.json")

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for this database."""
        if not self.is_postgres:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.sqlite_path(),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
            }
        parsed = urlparse(self.database_url)
        query = parse_qs(parsed.query)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(self.postgres_connect_timeout),
            "POSTGRES_PRE_PING": "y" if self.postgres_pre_ping else "n",
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
        }
