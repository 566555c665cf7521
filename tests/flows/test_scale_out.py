"""Scale-out: a Prefect server on PostgreSQL, two process workers on one pool, two backfills at once."""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from flows import deploy
from flows.database import upgrade_and_seed
from flows.pipeline import build_pipeline, using
from models.db import dispose_engines, get_engine, session_scope
from models.tables import Run
from scrapers.registry import load_registry
from tests.flows.test_deployments import CHECKOUT_PARTS, wait_for
from tests.localweb import LocalWeb, RequestRecord
from tests.pgcluster import PostgresCluster, PostgresUnavailable
from tests.prefectserver import REPO, PrefectServer, prefect_server

pytestmark = pytest.mark.slow

DELAY = 0.2  # seconds between two requests to one host, for every source here
GENERATED_HOSTS = ("scale-a.test", "scale-b.test")  # synthetic sites: many pages, no rankings
SAMPLE_SOURCES = ("baobinhduong", "nhandan")  # sample sites: a few pages with rankings and indicators
ARTICLES_PER_GENERATED_HOST = 40  # over 2023-01..2025-06, about 16 of them in 2023
# A worker sends only after the previous request to the host (from any worker) has ended and the delay
# has passed, so the server's stamps are causally ordered and no scheduling noise can shorten a gap. The
# clocks differ, though: workers wait on time.time(), the server stamps with time.monotonic(), and NTP
# may slew one against the other by up to 0.05 % (0.1 ms per 200 ms). 5 ms covers that with room.
CLOCK_TOLERANCE = 0.005
# Words of lock trouble in a worker's output (its flow runs' output included): PostgreSQL's deadlock and
# serialization failures, lock timeouts, SQLite's "database is locked".
LOCK_TROUBLE = re.compile(
    r"deadlock|could not serialize|lock ?timeout|lock not available|could not obtain lock|database is locked",
    re.IGNORECASE,
)
DATA_TABLES = ("document", "raw_page", "ranking_mention", "indicator_value")
# Ids differ between databases: rows are compared on natural keys (the document's URL, the entity's name
# and country), without the bookkeeping columns a run stamps.
_WITH_KEYS = (
    "SELECT t.*, d.url AS document_url, e.name AS entity_name, e.country AS entity_country "
    "FROM {table} t JOIN document d ON d.id = t.document_id JOIN entity e ON e.id = t.entity_id"
)
DUMP_SQL = {
    "document": "SELECT * FROM document",
    "raw_page": "SELECT * FROM raw_page",
    "ranking_mention": _WITH_KEYS.format(table="ranking_mention"),
    "indicator_value": _WITH_KEYS.format(table="indicator_value"),
}
BOOKKEEPING = {
    "id",
    "document_id",
    "entity_id",
    "run_id",
    "created_at",
    "updated_at",
    "fetched_at",
    "extracted_at",
}


@dataclass(frozen=True)
class Case:
    """Two backfill ranges run at once; their union is what one plain run does."""

    name: str
    ranges: tuple[tuple[date, date], tuple[date, date]]

    @property
    def union(self) -> tuple[date, date]:
        return min(r[0] for r in self.ranges), max(r[1] for r in self.ranges)


CASES = [
    Case("disjoint", ((date(2023, 1, 1), date(2023, 6, 30)), (date(2023, 7, 1), date(2023, 12, 31)))),
    Case("overlapping", ((date(2023, 1, 1), date(2023, 9, 30)), (date(2023, 4, 1), date(2023, 12, 31)))),
]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the data tables, ids replaced by natural keys, sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in DATA_TABLES:
            result = connection.execute(text(DUMP_SQL[table]))
            columns = list(result.keys())
            keep = [i for i, name in enumerate(columns) if name not in BOOKKEEPING]
            rows = [tuple((columns[i], row[i]) for i in keep) for row in result]
            out[table] = sorted(rows, key=repr)
    return out


def politeness_report(records: list[RequestRecord]) -> tuple[list[str], dict[str, tuple[int, float]]]:
    """Violations (two requests in flight, or starts closer than DELAY) and per host (requests, min gap)."""
    by_host: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        by_host[record.host].append(record)
    problems: list[str] = []
    summary: dict[str, tuple[int, float]] = {}
    for host, seen in sorted(by_host.items()):
        seen.sort(key=lambda r: r.t)
        gaps = []
        for before, after in itertools.pairwise(seen):
            assert before.done is not None, f"{host}{before.target} never finished"
            gap = after.t - before.t
            gaps.append(gap)
            if after.t < before.done:
                problems.append(f"{host}: {after.target} started while {before.target} was in flight")
            if gap < DELAY - CLOCK_TOLERANCE:
                problems.append(f"{host}: {after.target} {gap * 1000:.1f} ms after {before.target}")
        summary[host] = (len(seen), min(gaps) if gaps else float("inf"))
    return problems, summary


@dataclass
class Stack:
    """The PostgreSQL cluster, the Prefect server on it, the local web and the deployed checkout."""

    cluster: PostgresCluster
    server: PrefectServer
    web: LocalWeb
    checkout: Path
    sources: Path
    deploy_seconds: float = 0.0


@dataclass
class Outcome:
    """What one case left behind, for the tests to look at."""

    case: Case
    expected: dict[str, list[tuple[Any, ...]]]
    got: dict[str, list[tuple[Any, ...]]]
    requests: list[RequestRecord]
    flow_runs: list[Any]
    chiso_runs: list[Run]
    logs: dict[str, str]  # each worker's output (its flow runs' included) and the Prefect server's
    seconds: dict[str, float] = field(default_factory=dict)


def write_sources(path: Path) -> None:
    """The sample sources plus one source per generated host, all with DELAY."""
    raw = yaml.safe_load((REPO / "scrapers" / "sources.yaml").read_text(encoding="utf-8"))
    sources = [dict(s, delay_seconds=DELAY) for s in raw["sources"] if s["code"] in SAMPLE_SOURCES]
    for host in GENERATED_HOSTS:
        sources.append(
            {
                "code": host.split(".")[0].replace("-", "_"),
                "name": host,
                "lang": "vi",
                "base_url": f"https://{host}/",
                "feeds": [{"url": f"https://{host}/rss.xml"}],
                "sitemaps": [{"url": f"https://{host}/sitemap.xml"}],
                "listings": [],
                "delay_seconds": DELAY,
            }
        )
    raw["sources"] = sources
    raw["allow_private_hosts"] = True
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """PostgreSQL for Prefect and chiso, the server on it, the backfill deployment from prefect.yaml."""
    root = tmp_path_factory.mktemp("scale-out")
    checkout = root / "checkout"
    for part in CHECKOUT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            checkout.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / part)
    sources = root / "sources.yaml"
    write_sources(sources)
    try:
        cluster = PostgresCluster(database="chiso").start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        prefect_url = cluster.create_database("prefect").replace("+psycopg://", "+asyncpg://")
        with LocalWeb() as web, prefect_server(database_url=prefect_url) as server:
            for host in GENERATED_HOSTS:
                web.add_generated_site(host, ARTICLES_PER_GENERATED_HOST)
            server.run("work-pool", "create", deploy.WORK_POOL, "--type", "process")
            started = time.monotonic()
            # Only the backfill deployment: the others' schedules and triggers would add runs to the pool.
            server.run("deploy", "--name", "backfill", cwd=checkout, timeout=180)
            s = Stack(cluster, server, web, checkout, sources, time.monotonic() - started)
            try:
                yield s
            finally:
                server.stop()
                dispose_engines()
    finally:
        cluster.stop()


def _read_flow_run(flow_run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def _online_workers(names: set[str]) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        workers = client.read_workers_for_work_pool(deploy.WORK_POOL)
    return names <= {w.name for w in workers if str(w.status.value).upper() == "ONLINE"}


def reference_run(stack: Stack, case: Case) -> dict[str, list[tuple[Any, ...]]]:
    """One plain backfill over the union of the ranges, in this process, into a fresh database."""
    from flows.backfill import backfill

    url = stack.cluster.create_database(f"reference_{case.name}")
    upgrade_and_seed(url)
    registry = load_registry(stack.sources)
    since, until = case.union
    with using(build_pipeline(registry=registry, host_map=stack.web.host_map(), engine=get_engine(url))):
        backfill(since=since, until=until, extract=True)
    return dump(get_engine(url))


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def outcome(request: pytest.FixtureRequest, stack: Stack) -> Outcome:
    """Both backfills of the case run at once by two workers on one pool, into chiso's PostgreSQL."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    case: Case = request.param
    seconds: dict[str, float] = {}
    started = time.monotonic()
    expected = reference_run(stack, case)
    seconds["one plain run"] = time.monotonic() - started

    url = stack.cluster.create_database(f"chiso_{case.name}")
    upgrade_and_seed(url)
    env = {
        "CHISO_HOME": str(stack.checkout),
        "CHISO_DATABASE_URL": url,
        "CHISO_SOURCES": str(stack.sources),
        "CHISO_HOST_MAP": ",".join(f"{h}={a}" for h, a in stack.web.host_map().items()),
        "CHISO_ALLOW_PRIVATE_HOSTS": "1",
    }
    names = [f"{case.name}-worker-{i}" for i in (1, 2)]
    # --limit 1: a worker holding one run leaves the other to the other worker, so the two runs overlap.
    workers = [
        stack.server.worker(deploy.WORK_POOL, cwd=stack.checkout.parent, extra_env=env, name=n, limit=1)
        for n in names
    ]
    wait_for("both workers to be online", lambda: _online_workers(set(names)), timeout=120)

    stack.web.log.clear()
    started = time.monotonic()
    submitted = []
    for since, until in case.ranges:
        run = run_deployment(
            "backfill/backfill",
            # No sources: all of CHISO_SOURCES (the deployment's form lists only the shipped codes).
            parameters={"since": str(since), "until": str(until), "extract": True},
            timeout=0,
        )
        assert isinstance(run, FlowRun)
        submitted.append(run)

    def all_final() -> list[Any] | None:
        runs = [_read_flow_run(r.id) for r in submitted]
        return runs if all(r.state is not None and r.state.is_final() for r in runs) else None

    flow_runs = wait_for("both backfill runs to finish", all_final, timeout=420, every=1.0)
    seconds["two runs at once"] = time.monotonic() - started
    requests = stack.web.log.snapshot()
    for worker in workers:
        stack.server.stop_child(worker)
    logs = {n: (stack.server.home / f"{n}.log").read_text(errors="replace") for n in names}
    logs["prefect server"] = stack.server.log_path.read_text(errors="replace")
    with session_scope(get_engine(url)) as session:
        chiso_runs = list(session.exec(select(Run).where(Run.kind == "backfill")))
    return Outcome(case, expected, dump(get_engine(url)), requests, flow_runs, chiso_runs, logs, seconds)


def test_two_workers_store_what_one_run_over_the_union_stores(outcome: Outcome) -> None:
    assert all(outcome.expected[t] for t in DATA_TABLES), {t: len(r) for t, r in outcome.expected.items()}
    assert outcome.got == outcome.expected
    print(
        f"\n[{outcome.case.name}] rows { ({t: len(r) for t, r in outcome.got.items()}) }; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in outcome.seconds.items())
    )


def test_no_host_sees_two_requests_in_flight_or_starts_closer_than_its_delay(outcome: Outcome) -> None:
    problems, summary = politeness_report(outcome.requests)
    print(
        f"\n[{outcome.case.name}] delay {DELAY * 1000:.0f} ms; per host (requests, min gap between starts): "
        + "; ".join(f"{h} {n}, {gap * 1000:.1f} ms" for h, (n, gap) in summary.items())
    )
    assert set(summary) == {*GENERATED_HOSTS, "baobinhduong.vn", "nhandan.vn"}
    assert problems == []


def test_both_runs_complete_without_lock_errors(outcome: Outcome) -> None:
    assert [r.state.type.value for r in outcome.flow_runs] == ["COMPLETED", "COMPLETED"]
    assert sorted((r.status, tuple(r.errors)) for r in outcome.chiso_runs) == [("completed", ())] * 2
    trouble = {name: LOCK_TROUBLE.findall(log) for name, log in outcome.logs.items()}
    assert trouble == {name: [] for name in outcome.logs}


def test_the_two_backfills_run_at_once_on_the_two_workers(outcome: Outcome) -> None:
    # Deterministic because each worker is capped at one run (--limit 1) and both were online before the
    # runs were created: the second run waits for the idle worker, which polls every second, while the
    # first takes far longer than that. Overlapping runs therefore ran on different workers.
    first, second = outcome.flow_runs
    assert max(first.start_time, second.start_time) < min(first.end_time, second.end_time)
