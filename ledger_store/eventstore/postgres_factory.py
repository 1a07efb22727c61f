"""The library's PostgreSQL factory, with every libpq parameter of the URL on every connection.

The library's `PostgresDatastore` takes host, port, database, user, password and timeout as
separate values and builds its pool's connection keywords from them alone; `sslmode`,
`sslrootcert`, `application_name`, `target_session_attrs` and the rest of libpq's parameters
would be dropped. This factory adds them (carried in the environment as one encoded value) to
the pool's keywords before the pool first connects; the event loop's pool copies the same
keywords (`ChainedPostgresRecorder.async_pool`), and LISTEN connections use
`Settings.postgres_conninfo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

from ledger_store.eventstore.liveness import cap_reconnect_backoff

LIBPQ_EXTRA_ENV = "EPORT_LIBPQ_PARAMETERS"
"""The environment variable carrying the URL's extra libpq parameters (JSON) to the factory."""


def encode_parameters(parameters: Mapping[str, Any]) -> str:
    """libpq parameters as one environment value."""
    return orjson.dumps({k: str(v) for k, v in parameters.items()}).decode()


class EportPostgresFactory(PostgresFactory):
    """`PostgresFactory` whose pool connects with the URL's libpq parameters too."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        extra: dict[str, str] = orjson.loads(self.env.get(LIBPQ_EXTRA_ENV) or "{}")
        pool_kwargs = self.datastore.pool.kwargs
        assert isinstance(pool_kwargs, dict), "the library builds its pool's keywords as a dict"
        pool_kwargs.update(extra)
        cap_reconnect_backoff()
