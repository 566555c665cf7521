"""Faulty runs converge: a backfill over a local web that fails ~10 % of requests (also one SIGKILLed half-way),
then the same backfill with no faults, leaves the database of one clean run, row by row."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import Engine

import flows.orchestration
from bench.common import generated_registry, plain_tasks
from flows import events
from flows.backfill import backfill
from flows.database import upgrade_and_seed
from flows.ingest import FETCH_WORKERS
from flows.pipeline import Pipeline, using
from flows.state import DbFetchState, DbPoliteness
from models.db import dispose_engines, get_engine
from scrapers.crawl import make_client
from scrapers.registry import Registry
from tests.localweb import LocalWeb
from tests.localweb.generated import ARTICLE_PREFIX, VN_TZ
from tests.localweb.random_faults import FAULT_CLASSES, FactsSite, Injected, RandomFaults, expected_words

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HOSTS = ("faulty-a.example", "faulty-b.example", "faulty-c.example", "faulty-d.example")
ARTICLES = 200  # per host
SEED = 3  # its exhausted faults cover every class on articles and hit two sitemaps (not robots.txt)
SINCE, UNTIL = date(2024, 1, 1), date(2024, 12, 31)
DELAY = 0.0  # the registry's smallest delay: the client still sends one request at a time per host
# The shipped 30 s read timeout and 2 s backoff base would make every injected timeout cost minutes; the
# slow faults (SLOW_SECONDS) still outlast this timeout.
SLOW_SECONDS = 1.5
MAX_ATTEMPTS = 4  # the client's default, named so the injector can tell which faults outlasted the retries
CLIENT_OPTIONS: dict[str, Any] = {
    "read_timeout": 1.0,
    "backoff_base": 0.1,
    "backoff_max": 1.0,
    "max_attempts": MAX_ATTEMPTS,
}
DATA_TABLES = ("document", "raw_page", "ranking_mention", "indicator_value")
# Columns that legitimately differ between two runs of the same work: surrogate ids, the run that last wrote a
# row, and when it was fetched, extracted, created or updated. Foreign keys become natural keys instead.
NOT_COMPARED = frozenset({"id", "run_id", "fetched_at", "extracted_at", "created_at", "updated_at"})


# --- the faulty local web ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[LocalWeb]:
    """4 generated hosts x 200 articles, each article stating a rank and two figures of a province."""
    with LocalWeb() as server:
        for host in HOSTS:
            server.generated[host] = FactsSite(
                host,
                ARTICLES,
                # noon local time on the first day and a day before the end: every article in the UTC window
                start=datetime(2024, 1, 1, 12, tzinfo=VN_TZ),
                end=datetime(2024, 12, 30, tzinfo=VN_TZ),
            )
        yield server


@pytest.fixture(scope="module")
def registry() -> Registry:
    return generated_registry(HOSTS, delay=DELAY)


@pytest.fixture(scope="module", autouse=True)
def no_events() -> Iterator[None]:
    """Flows run without Prefect here; an event would boot a temporary Prefect server."""
    previous = events.set_emitter(lambda _event, _resource, _payload: None)
    yield
    events.set_emitter(previous)


def run_backfill(url: str, *, registry: Registry, web: LocalWeb) -> None:
    """The backfill flow's own code over the window, its tasks as plain functions, in this process."""
    engine = get_engine(url)
    # Wired as flows.pipeline.build_pipeline wires it (politeness and the discovery cache in the database),
    # with the tuned client options.
    client = make_client(
        registry,
        host_map=web.host_map(),
        politeness=DbPoliteness(engine),
        cache=DbFetchState(engine),
        **CLIENT_OPTIONS,
    )
    with (
        using(Pipeline(registry=registry, client=client, engine=engine)),
        plain_tasks(),
        pytest.MonkeyPatch.context() as patch,
    ):
        # as many fetches at once as the flow's Prefect task runner allows
        patch.setattr(flows.orchestration, "MAX_WORKERS", FETCH_WORKERS)
        backfill.fn(since=SINCE, until=UNTIL)
    dispose_engines()


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every data row as a sorted tuple of its compared columns, document_id as the document's url and
    entity_id as the entity's (name, country)."""
    with engine.connect() as connection:
        urls = dict(connection.execute(text("SELECT id, url FROM document")).tuples().all())
        entities = {
            row.id: (row.name, row.country)
            for row in connection.execute(text("SELECT id, name, country FROM entity"))
        }
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in DATA_TABLES:
            result = connection.execute(text(f"SELECT * FROM {table}"))
            names = list(result.keys())
            rows = []
            for row in result:
                values: list[Any] = []
                for name, value in zip(names, row, strict=True):
                    if name in NOT_COMPARED:
                        continue
                    if name == "document_id":
                        value = urls[value]
                    elif name == "entity_id":
                        value = entities[value]
                    values.append((name, value))
                rows.append(tuple(values))
            out[table] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, web: LocalWeb, registry: Registry) -> Any:
    """One fault-free backfill into a fresh database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'chiso.db'}"
    upgrade_and_seed(url)
    web.injector = None
    run_backfill(url, registry=registry, web=web)
    rows = dump(get_engine(url))
    dispose_engines()
    # not vacuous: every article stored, with its rank and figures (raw_page also keeps the robots.txt and
    # sitemap bodies read for conditional requests; only the articles' are counted here)
    counts = {table: len(rows[table]) for table in DATA_TABLES}
    counts["raw_page"] = sum(1 for row in rows["raw_page"] if ARTICLE_PREFIX in dict(row)["url"])
    assert counts == {
        "document": len(HOSTS) * ARTICLES,
        "raw_page": len(HOSTS) * ARTICLES,
        "ranking_mention": len(HOSTS) * ARTICLES,
        "indicator_value": 2 * len(HOSTS) * ARTICLES,
    }
    return rows


# --- one faulty backfill, then a clean one ----------------------------------------------------------


@dataclass
class FaultyThenClean:
    """What a faulty backfill left (fetch_state failures, run errors, the injector) and the final rows."""

    injector: RandomFaults
    failures: dict[str, str]  # fetch_state url -> last_reason, for rows with failures after the faulty run
    errors: list[str]  # the faulty run's error lines
    web_log: list[Any]
    rows: dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def faulty_then_clean(
    tmp_path_factory: pytest.TempPathFactory, web: LocalWeb, registry: Registry
) -> Iterator[FaultyThenClean]:
    url = f"sqlite:///{tmp_path_factory.mktemp('faulty') / 'chiso.db'}"
    upgrade_and_seed(url)
    injector = RandomFaults(SEED, slow_seconds=SLOW_SECONDS)
    web.log.clear()
    web.injector = injector
    try:
        run_backfill(url, registry=registry, web=web)
    finally:
        web.injector = None
    web_log = web.log.snapshot()
    with get_engine(url).connect() as connection:
        failures = dict(
            connection.execute(text("SELECT url, last_reason FROM fetch_state WHERE failures > 0"))
            .tuples()
            .all()
        )
        errors = json.loads(connection.execute(text("SELECT errors FROM run")).scalar_one() or "[]")
    run_backfill(url, registry=registry, web=web)
    yield FaultyThenClean(
        injector=injector, failures=failures, errors=errors, web_log=web_log, rows=dump(get_engine(url))
    )
    dispose_engines()


def test_faulty_backfill_then_clean_backfill_equals_one_clean_run(
    faulty_then_clean: FaultyThenClean, reference: dict[str, list[tuple[Any, ...]]]
) -> None:
    for table in DATA_TABLES:
        assert faulty_then_clean.rows[table] == reference[table], table


def test_faults_hit_about_a_tenth_of_requests_and_every_class(faulty_then_clean: FaultyThenClean) -> None:
    injected = faulty_then_clean.injector.log
    requests = sum(faulty_then_clean.injector.requested().values())
    assert 0.06 <= len(injected) / requests <= 0.14
    assert {f.cls for f in injected} == set(FAULT_CLASSES)


def _is_article(fault: Injected) -> bool:
    return fault.target.startswith(ARTICLE_PREFIX)


def test_every_fault_that_outlasted_the_retries_is_in_fetch_state_with_its_class(
    faulty_then_clean: FaultyThenClean,
) -> None:
    requested = faulty_then_clean.injector.requested()
    # the URLs whose last fetch of the faulty run failed: all of its attempts met a fault
    final = {
        f.url: f
        for f in faulty_then_clean.injector.exhausted(MAX_ATTEMPTS)
        if f.attempt == requested[f.url] - 1
    }
    # the seed makes faults of every class outlast the retries on articles; its two failed sitemap shards
    # are read again by the next month's chunk, so their rows are clean again (their failures are run errors)
    assert {f.cls for f in final.values() if _is_article(f)} == set(FAULT_CLASSES)
    assert set(faulty_then_clean.failures) == set(final), "fetch_state failures are the exhausted faults"
    for url, fault in final.items():
        reason = faulty_then_clean.failures[url]
        others = {w for f in FAULT_CLASSES if f != fault.cls for w in _class_words(f)}
        assert all(w in reason for w in expected_words(fault)), (fault, reason)
        assert not any(w in reason for w in others - set(expected_words(fault))), (fault, reason)


def _class_words(cls: str) -> tuple[str, ...]:
    return {"status": ("HTTP 5",), "retry_after": ("HTTP 429",)}.get(cls, (cls,))


def test_every_sitemap_fault_that_outlasted_the_retries_is_a_run_error_with_its_class(
    faulty_then_clean: FaultyThenClean,
) -> None:
    final = [f for f in faulty_then_clean.injector.exhausted(MAX_ATTEMPTS) if not _is_article(f)]
    assert final, "the seed leaves no sitemap fault that outlasted the retries"
    for fault in final:
        lines = [e for e in faulty_then_clean.errors if fault.url in e]
        assert lines and all(w in lines[0] for w in expected_words(fault)), (fault, lines)


def test_every_retry_after_was_waited_before_the_host_was_asked_again(
    faulty_then_clean: FaultyThenClean,
) -> None:
    log = sorted(faulty_then_clean.web_log, key=lambda r: r.t)
    seconds = faulty_then_clean.injector.retry_after_seconds
    throttled = [i for i, r in enumerate(log) if r.fault == "retry_after"]
    assert throttled
    for i in throttled:
        later = next((r for r in log[i + 1 :] if r.host == log[i].host), None)
        # the next request reached the server at least Retry-After after the 429's request did
        assert later is None or later.t - log[i].t >= seconds, (log[i].target, later and later.target)


# --- a faulty backfill killed at a random point, then a clean one ---------------------------------


def write_sources(path: Path, registry: Registry) -> Path:
    """The registry as a sources file for `chiso` in a subprocess."""
    raw = {
        "allow_private_hosts": True,
        "sources": [
            {
                "code": s.code,
                "name": s.name,
                "lang": s.lang,
                "base_url": s.base_url,
                "feeds": [link.url for link in s.feeds],
                "sitemaps": [link.url for link in s.sitemaps],
                "delay_seconds": s.delay_seconds,
            }
            for s in registry.sources
        ],
    }
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def count_documents(url: str) -> int:
    with get_engine(url).connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM document")).scalar_one())


def test_backfill_killed_at_a_random_point_then_clean_backfill_equals_one_clean_run(
    tmp_path: Path, web: LocalWeb, registry: Registry, reference: dict[str, list[tuple[Any, ...]]]
) -> None:
    kill_after = random.Random(SEED).randint(80, 480)  # documents stored before the SIGKILL
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    upgrade_and_seed(url)
    env = {
        **os.environ,
        "CHISO_DATABASE_URL": url,
        "CHISO_SOURCES": str(write_sources(tmp_path / "sources.yaml", registry)),
        "CHISO_HOST_MAP": ",".join(f"{h}={a}" for h, a in web.host_map().items()),
        "CHISO_ALLOW_PRIVATE_HOSTS": "1",
        "CHISO_TEST_HTTP_OPTIONS": json.dumps(CLIENT_OPTIONS),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(REPO),
    }
    env.pop("PREFECT_API_URL", None)
    web.injector = RandomFaults(SEED, slow_seconds=SLOW_SECONDS)
    # a file, not a pipe: a full pipe would stall the backfill before it reaches the kill point
    with (tmp_path / "stderr.txt").open("w+", encoding="utf-8") as stderr_file:
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.flows.tuned_chiso",
                    *("backfill", "--since", str(SINCE)),
                    *("--until", str(UNTIL)),
                ],
                env=env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=stderr_file,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + 300
                while count_documents(url) < kill_after:
                    assert process.poll() is None, (
                        "ended before the kill: " + (tmp_path / "stderr.txt").read_text()[-2000:]
                    )
                    assert time.monotonic() < deadline, "the backfill stored too little in 300 s"
                    time.sleep(0.05)
            finally:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=60)
        finally:
            web.injector = None
        stderr_file.seek(0)
        stderr = stderr_file.read()
    dispose_engines()
    assert process.returncode == -signal.SIGKILL, stderr[-2000:]
    assert kill_after <= count_documents(url) < len(HOSTS) * ARTICLES, "not killed half-way"

    run_backfill(url, registry=registry, web=web)
    rows = dump(get_engine(url))
    dispose_engines()
    for table in DATA_TABLES:
        assert rows[table] == reference[table], table
