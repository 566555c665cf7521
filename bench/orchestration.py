"""Orchestration overhead: the ingest flow under Prefect against the same stage functions called plainly."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from bench.common import (
    Result,
    Row,
    fresh_sqlite,
    generated_registry,
    plain_tasks,
    quiet_events,
    quiet_logs,
    standalone,
    temp_dir,
)
from bench.crawl import _site_window

HOSTS = ("orch-a.example", "orch-b.example", "orch-c.example", "orch-d.example")
SINCE, UNTIL = date(2024, 1, 1), date(2024, 3, 31)
# An empty window: discovery only, to warm lazy imports and the flow's first-run registration on both sides.
WARM_SINCE, WARM_UNTIL = date(2020, 1, 1), date(2020, 1, 2)


def _ingest(flow: Any, url: str, web: Any, registry: Any) -> tuple[float, float, dict[str, int]]:
    """(wall time of the run, of an empty-window run: the fixed cost of one flow run, the run's totals)."""
    from flows.pipeline import build_pipeline, using
    from models.db import get_engine

    with using(build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(url))):
        flow(since=WARM_SINCE, until=WARM_UNTIL)
        t0 = time.perf_counter()
        flow(since=WARM_SINCE, until=WARM_UNTIL)
        empty_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        totals = flow(since=SINCE, until=UNTIL, extract=True)
        return time.perf_counter() - t0, empty_s, totals


def run(quick: bool) -> Result:
    from flows.ingest import FETCH_BATCH, ingest
    from models.db import dispose_engines
    from tests.localweb import LocalWeb

    per_host = 20 if quick else 75
    quiet_events()
    quiet_logs()
    start, end = _site_window()
    # No politeness delay and no latency: the run is CPU-bound, so what Prefect adds is not hidden by waiting.
    registry = generated_registry(HOSTS, delay=0.0)
    result = Result("orchestration")
    with LocalWeb() as web, temp_dir() as tmp:
        for host in HOSTS:
            web.add_generated_site(host, per_host, start=start, end=end, feed_size=per_host)
        with plain_tasks():
            plain_s, plain_empty_s, plain_totals = _ingest(
                ingest.fn, fresh_sqlite(tmp, "plain"), web, registry
            )
        from prefect.testing.utilities import prefect_test_harness

        t0 = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=120):
            startup_s = time.perf_counter() - t0
            prefect_s, prefect_empty_s, prefect_totals = _ingest(
                ingest, fresh_sqlite(tmp, "prefect"), web, registry
            )
        dispose_engines()
    # discover per source; per host, one fetch task per batch of pages and one extract task per batch
    batches = len(HOSTS) * -(-per_host // FETCH_BATCH)
    tasks = len(HOSTS) + 2 * batches
    fixed_s = prefect_empty_s - plain_empty_s
    result.rows.append(
        Row("ingest under Prefect: wall time", prefect_s, "s", plain_s, "same stages, plain calls")
    )
    result.rows.append(
        Row("one empty-window flow run under Prefect", prefect_empty_s, "s", plain_empty_s, "plain calls")
    )
    result.rows.append(
        Row(
            "ingest under Prefect, less the fixed run cost",
            prefect_s - fixed_s,
            "s",
            plain_s,
            "same stages, plain calls",
        )
    )
    result.rows.append(
        Row(
            "Prefect overhead per task (beyond the fixed run cost)",
            (prefect_s - plain_s - fixed_s) / tasks * 1000,
            "ms",
            None,
            "",
        )
    )
    result.rows.append(Row("Prefect test server start-up (not in the above)", startup_s, "s", None, ""))
    result.details.update(
        hosts=len(HOSTS),
        articles_per_host=per_host,
        tasks=tasks,
        plain_totals=plain_totals,
        prefect_totals=prefect_totals,
        plain_s=plain_s,
        prefect_s=prefect_s,
        plain_empty_s=plain_empty_s,
        prefect_empty_s=prefect_empty_s,
        startup_s=startup_s,
    )
    if plain_totals.get("stored") != prefect_totals.get("stored"):
        result.notes.append(f"the two runs stored different counts: {plain_totals} vs {prefect_totals}")
    result.notes.append(
        f"{tasks} tasks ({len(HOSTS)} discover; per host, one fetch and one extract task per {FETCH_BATCH} pages), "
        "no politeness delay; both sides run the host queues on the same number of threads; events dropped on "
        "both sides; one warm-up run each, untimed; the empty-window run is the fixed cost of a flow run "
        "(Prefect: flow-run creation, artifacts, the heartbeat thread's join at exit)"
    )
    return result


if __name__ == "__main__":
    standalone(run, __doc__)
