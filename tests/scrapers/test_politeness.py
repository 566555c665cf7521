"""Politeness stores: a recorded time never moves back, and a host's turn is exclusive across clients."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flows.database import upgrade_and_seed
from flows.state import DbPoliteness
from models.db import dispose_engines, get_engine
from scrapers.politeness import MemoryPoliteness, PolitenessStore
from tests.pgcluster import PostgresCluster

T0 = 1_700_000_000.0
_counter = itertools.count()


def _database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database URL on the backend."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'chiso.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"politeness{next(_counter)}")
    upgrade_and_seed(url)
    return url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], PolitenessStore]]:
    """A factory of stores sharing one state: the in-process store, or host_state on each backend."""
    if request.param == "memory":
        shared = MemoryPoliteness()
        yield lambda: shared
        return
    url = _database(request.param, request, tmp_path)
    yield lambda: DbPoliteness(get_engine(url))
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], PolitenessStore]]:
    """A factory of database stores on one database, each a separate client as another process would be."""
    url = _database(request.param, request, tmp_path)
    yield lambda: DbPoliteness(get_engine(url))
    dispose_engines()


@pytest.mark.parametrize(
    ("times", "stored"),
    [
        ([T0 + 3.0], T0 + 3.0),
        ([T0 + 3.0, T0 + 5.0], T0 + 5.0),
        # a later back-off written by another client stays
        ([T0 + 10.0, T0 + 3.0], T0 + 10.0),
    ],
    ids=["first", "later", "earlier"],
)
def test_recorded_next_allowed_time_only_moves_forward(
    new_store: Callable[[], PolitenessStore], times: list[float], stored: float
) -> None:
    store = new_store()
    for at in times:
        store.record("vov.vn", next_allowed=at, crawl_delay=None)
    assert (store.next_allowed("vov.vn"), store.next_allowed("vovworld.vn")) == (stored, None)


def test_turns_on_one_host_never_overlap_across_clients(new_db_store: Callable[[], PolitenessStore]) -> None:
    clients, turns = 4, 5
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(store: PolitenessStore) -> None:
        barrier.wait()
        for _ in range(turns):
            with store.exclusive("vov.vn"):
                entered = time.monotonic()
                time.sleep(0.02)
                left = time.monotonic()
            with lock:
                intervals.append((entered, left))

    threads = [threading.Thread(target=client, args=(new_db_store(),)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    intervals.sort()
    overlaps = [(a, b) for a, b in itertools.pairwise(intervals) if b[0] < a[1]]
    assert (len(intervals), overlaps) == (clients * turns, [])
