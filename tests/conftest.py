"""Shared fixtures: databases (SQLite and a real PostgreSQL cluster started for the session)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from models.db import dispose_engines
from tests.pgcluster import PostgresCluster

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session, stopped at the end."""
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        dispose_engines()
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chiso.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"t{next(_counter)}")
    yield url
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh SQLite database URL."""
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'chiso.db'}"
    dispose_engines()
