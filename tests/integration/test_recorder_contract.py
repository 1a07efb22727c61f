"""The eventsourcing library's own recorder contract, run against both chained recorders.

`eventsourcing.tests.persistence` is the test suite every recorder of the library passes (the
library subclasses it once per backend). We subclass it the same way for `ChainedSQLiteRecorder`
(on a real SQLite file) and `ChainedPostgresRecorder` (in a fresh PostgreSQL schema per test),
built exactly as the application builds them: from `Settings.library_env()` through the library's
infrastructure factory, under the application's name, their tables made by the migrations.

Where our design deliberately departs from an assumption of a library test, that one test is
overridden with a skip whose reason names the decision; nothing else is skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)
from eventsourcing.tests import persistence as contract  # module import: pytest must not
from eventsourcing.utils import Environment  # collect the abstract test cases themselves

from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.sqlite_recorder import ChainedSQLiteRecorder
from ledger_store.eventstore.store import EventStore
from ledger_store.migrations.runner import migrate
from tests.conftest import postgres_url_for

ChainedRecorder = ChainedSQLiteRecorder | ChainedPostgresRecorder


class _Backend:
    """Builds the recorder the application would build, on a database of this test's own."""

    settings: Settings
    factories: list[InfrastructureFactory[Any]]

    def chained_recorder(self) -> ChainedRecorder:
        """A chained recorder, its tables created, from the application's configuration."""
        factory = InfrastructureFactory.construct(
            Environment(EventStore.name, self.settings.library_env())
        )
        self.factories.append(factory)
        recorder = factory.application_recorder()
        assert isinstance(recorder, ChainedRecorder)
        migrate(recorder)
        return recorder

    def _close_factories(self) -> None:
        for factory in self.factories:
            factory.close()


class _OnSQLite(_Backend):
    @pytest.fixture(autouse=True)
    def _fresh_sqlite_file(self, tmp_path: Path) -> Iterator[None]:
        self.settings = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}")
        self.factories = []
        yield
        self._close_factories()


class _OnPostgres(_Backend):
    @pytest.fixture(autouse=True)
    def _fresh_postgres_schema(self, postgres_schema: str) -> Iterator[None]:
        # Ten writers and two readers run at once in the concurrency tests: 6 connections and
        # an overflow of 6, the 12 the library's own PostgreSQL suite resizes its pool to.
        self.settings = Settings(
            database_url=postgres_url_for(postgres_schema), postgres_pool_size=6
        )
        self.factories = []
        yield
        self._close_factories()  # before the schema is dropped


class _AggregateView(AggregateRecorder):
    """An application recorder seen through the aggregate-recorder contract alone.

    `AggregateRecorderTestCase` asserts that `insert_events` answers None, which is what the
    library's aggregate recorders do; application recorders (the library's too) answer the
    notification ids instead, and `ApplicationRecorderTestCase` checks those. This view checks
    that an id came back for every event, then answers None; every other call goes through.
    """

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        ids = self.recorder.insert_events(stored_events, **kwargs)
        assert ids is not None
        assert len(ids) == len(stored_events), (ids, stored_events)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        return self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)


class _AggregateContract(contract.AggregateRecorderTestCase):
    __test__ = False  # only the backend subclasses below run
    chained_recorder: Any

    def create_recorder(self) -> AggregateRecorder:
        return _AggregateView(self.chained_recorder())


class _ApplicationContract(contract.ApplicationRecorderTestCase[ApplicationRecorder]):
    """The library's application-recorder tests, and what they leave out."""

    __test__ = False
    chained_recorder: Any

    def create_recorder(self) -> ApplicationRecorder:
        recorder: ApplicationRecorder = self.chained_recorder()
        return recorder

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        """The library's test, then its reader threads joined: it only tells them to stop, and
        one still reading when the fixture closes the connections crashed the interpreter
        (SIGSEGV in sqlite3) at the start of the next test."""
        before = set(threading.enumerate())
        super().test_concurrent_no_conflicts(initial_position)
        readers = [t for t in set(threading.enumerate()) - before if "read_continuously" in t.name]
        for thread in readers:  # Python names a thread after its target: "Thread-3 (read_…)"
            thread.join(timeout=30)
            assert not thread.is_alive(), f"{thread.name} still reading"

    def test_insert_events_answers_the_ids_of_the_notifications(self) -> None:
        """Not in the library's suite: after a failed append, the ids `insert_events` answers
        are still the ids `select_notifications` and `max_notification_id` report."""
        recorder = self.create_recorder()
        stream = uuid4()
        first = StoredEvent(stream, 1, "topic1", b"state1")
        assert recorder.insert_events([first]) == [1]
        with pytest.raises(IntegrityError):
            recorder.insert_events([StoredEvent(uuid4(), 1, "topic2", b"state2"), first])
        second = StoredEvent(stream, 2, "topic3", b"state3")

        ids = recorder.insert_events([second])

        assert ids == [2]
        notifications = recorder.select_notifications(start=None, limit=10)
        assert [(n.id, n.originator_version) for n in notifications] == [(1, 1), (2, 2)]
        assert recorder.max_notification_id() == 2
        assert [n.id for n in recorder.select_notifications(start=2, limit=10)] == [2]


class _NonInterleaving(contract.NonInterleavingNotificationIDsBaseCase):
    __test__ = False
    chained_recorder: Any

    def create_recorder(self) -> ApplicationRecorder:
        recorder: ApplicationRecorder = self.chained_recorder()
        return recorder


# -- SQLite ------------------------------------------------------------------------------------


class TestSQLiteAggregateContract(_OnSQLite, _AggregateContract):
    """ChainedSQLiteRecorder keeps the library's aggregate-recorder contract."""

    __test__ = True


class TestSQLiteApplicationContract(_OnSQLite, _ApplicationContract):
    """ChainedSQLiteRecorder keeps the library's application-recorder contract."""

    __test__ = True


class TestSQLiteNonInterleaving(_OnSQLite, _NonInterleaving):
    """Two concurrent SQLite appends get notification ids that do not interleave."""

    __test__ = True


# -- PostgreSQL --------------------------------------------------------------------------------


class TestPostgresAggregateContract(_OnPostgres, _AggregateContract):
    """ChainedPostgresRecorder keeps the library's aggregate-recorder contract."""

    __test__ = True


class TestPostgresApplicationContract(_OnPostgres, _ApplicationContract):
    """ChainedPostgresRecorder keeps the library's application-recorder contract."""

    __test__ = True

    def test_insert_subscribe(self) -> None:
        """The library runs this optional test for its PostgreSQL recorder: LISTEN/NOTIFY."""
        self.optional_test_insert_subscribe()


class TestPostgresNonInterleaving(_OnPostgres, _NonInterleaving):
    """Two concurrent PostgreSQL appends get notification ids that do not interleave."""

    __test__ = True
