"""The process-wide pieces a run works with: sources registry, polite HTTP client, database engine."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Engine

from flows.database import current_engine
from flows.errors import ChisoError
from flows.state import DbFetchState, DbPoliteness
from scrapers.check import SourceCheck, check_sources
from scrapers.crawl import make_client
from scrapers.http import HttpClient
from scrapers.registry import Registry, Source, UnknownSourceError, load_registry

RECENT_DAYS = 3


@dataclass
class Pipeline:
    """What every task of a run shares; tasks receive ids and URLs, never these objects."""

    registry: Registry
    client: HttpClient
    engine: Engine

    def select(self, codes: Sequence[str] | None) -> list[Source]:
        """The sources with these codes (all when empty); an unknown code is a clear error."""
        return select_sources(self.registry, codes)


def select_sources(registry: Registry, codes: Sequence[str] | None) -> list[Source]:
    """The registry's sources with these codes (all when empty); an unknown code is a one-line ChisoError."""
    try:
        return registry.select(codes)
    except UnknownSourceError as exc:
        raise ChisoError(str(exc)) from None


_current: Pipeline | None = None


def host_map_from_env() -> dict[str, str]:
    """CHISO_HOST_MAP="vov.vn=127.0.0.1:8000,..." sends real hosts to a local web (tests, demo, benchmarks)."""
    raw = os.environ.get("CHISO_HOST_MAP", "").strip()
    pairs = [item.split("=", 1) for item in raw.split(",") if item.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ChisoError(f"CHISO_HOST_MAP must be host=address pairs separated by commas, not {raw!r}")
    return {host.strip(): address.strip() for host, address in pairs}


def check_selected(registry: Registry, codes: Sequence[str] | None, *, articles: int) -> list[SourceCheck]:
    """`chiso sources check` on these sources (all when empty), through a polite client of the registry."""
    chosen = select_sources(registry, codes)
    with make_client(registry, host_map=host_map_from_env()) as client:
        return check_sources(chosen, client, articles=articles)


def build_pipeline(
    *, registry: Registry | None = None, host_map: dict[str, str] | None = None, engine: Engine | None = None
) -> Pipeline:
    """A pipeline from explicit parts or from the environment (CHISO_SOURCES, CHISO_DATABASE_URL...)."""
    registry = registry or load_registry()
    engine = engine or current_engine()
    client = make_client(
        registry,
        host_map=host_map if host_map is not None else host_map_from_env(),
        politeness=DbPoliteness(engine),
        cache=DbFetchState(engine),
    )
    return Pipeline(registry=registry, client=client, engine=engine)


def pipeline() -> Pipeline:
    """The pipeline of this process, built from the environment on first use."""
    global _current
    if _current is None:
        _current = build_pipeline()
    return _current


@contextmanager
def using(p: Pipeline) -> Iterator[Pipeline]:
    """Run flows in this process with this pipeline (the demo's local web, tests)."""
    global _current
    previous, _current = _current, p
    try:
        yield p
    finally:
        _current = previous
        p.client.close()


def day_range(
    since: date | None, until: date | None, *, default_days: int = RECENT_DAYS
) -> tuple[datetime, datetime]:
    """[since 00:00, until 24:00) in UTC; defaults to the last few days up to now."""
    end_day = until or datetime.now(UTC).date()
    start_day = since or end_day - timedelta(days=default_days)
    if start_day > end_day:
        raise ChisoError(f"since ({start_day}) is after until ({end_day})")
    return (
        datetime.combine(start_day, time.min, tzinfo=UTC),
        datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=UTC),
    )
