"""Flow fixtures: the local web, a test registry with short delays, a migrated database, recorded events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows import events
from flows.database import upgrade_and_seed
from flows.pipeline import Pipeline, build_pipeline, using
from models.db import dispose_engines, get_engine
from scrapers.registry import Registry, load_registry, sources_path
from tests.localweb import LocalWeb

TEST_DELAY_SECONDS = 0.05


@pytest.fixture(scope="session")
def web() -> Iterator[LocalWeb]:
    """The sample web on a free loopback port for the whole session."""
    with LocalWeb() as server:
        yield server


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The shipped registry with short delays, allowed to reach the loopback local web."""
    return replace(load_registry().with_delay(TEST_DELAY_SECONDS), allow_private_hosts=True)


@pytest.fixture(scope="session")
def sources_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sources file with short delays and private hosts allowed, for subprocesses."""
    raw = yaml.safe_load(sources_path().read_text(encoding="utf-8"))
    raw["allow_private_hosts"] = True
    for source in raw["sources"]:
        source["delay_seconds"] = TEST_DELAY_SECONDS
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def flow_db(sqlite_url: str) -> str:
    """A migrated SQLite database with reference data."""
    upgrade_and_seed(sqlite_url)
    return sqlite_url


@pytest.fixture
def pipeline(flow_db: str, web: LocalWeb, registry: Registry) -> Iterator[Pipeline]:
    """Flows in this process read the local web and write the test database."""
    web.clear_faults()
    with using(build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(flow_db))) as p:
        yield p
    dispose_engines()


@pytest.fixture
def recorded_events() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Events flows emit, recorded instead of sent."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    previous = events.set_emitter(lambda event, resource, payload: seen.append((event, resource, payload)))
    yield seen
    events.set_emitter(previous)
