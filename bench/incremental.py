"""Incremental re-run: an unchanged backfill again (no article requested, discovery 304s) against the first run."""

from __future__ import annotations

import time
from datetime import date

from bench.common import (
    Result,
    Row,
    count_rows,
    fresh_sqlite,
    generated_registry,
    last_run_id,
    plain_tasks,
    quiet_events,
    quiet_logs,
    standalone,
    temp_dir,
)
from bench.crawl import _site_window

HOSTS = ("inc-a.example", "inc-b.example", "inc-c.example", "inc-d.example")
DELAY = 0.02  # short: the politeness wait would otherwise hide what a re-run saves
LATENCY = 0.02
SINCE, UNTIL = date(2024, 1, 1), date(2024, 3, 31)
DATA_TABLES = ("document", "raw_page", "ranking_mention", "indicator_value", "entity")


def run(quick: bool) -> Result:
    from flows.backfill import backfill
    from flows.pipeline import build_pipeline, using
    from models.db import dispose_engines, get_engine
    from tests.localweb import LocalWeb
    from tests.localweb.generated import ARTICLE_PREFIX

    per_host = 25 if quick else 100
    quiet_events()
    quiet_logs()
    start, end = _site_window()
    registry = generated_registry(HOSTS, delay=DELAY)
    result = Result("incremental")
    runs: list[dict[str, object]] = []
    with LocalWeb(latency=LATENCY) as web, temp_dir() as tmp:
        for host in HOSTS:
            web.add_generated_site(host, per_host, start=start, end=end)
        url = fresh_sqlite(tmp, "incremental")
        pipeline = build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(url))
        with using(pipeline), plain_tasks():
            for label in ("first", "unchanged re-run"):
                before = count_rows(url, DATA_TABLES)
                web.log.clear()
                w0, c0 = time.perf_counter(), time.process_time()
                # redo: the re-run must fetch everything again, not skip the finished chunks.
                totals = backfill.fn(since=SINCE, until=UNTIL, extract=True, redo=True)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                after = count_rows(url, DATA_TABLES)
                written = count_rows(url, [*DATA_TABLES, "fetch_state"], run_id=last_run_id(url))
                records = web.log.snapshot()
                statuses = [r.status for r in records]
                runs.append(
                    {
                        "run": label,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "requests": len(statuses),
                        "http_304": statuses.count(304),
                        "article_requests": sum(1 for r in records if r.path.startswith(ARTICLE_PREFIX)),
                        "new_rows": sum(after.values()) - sum(before.values()),
                        "rows_written": written,
                        "totals": totals,
                    }
                )
        dispose_engines()
    first, again = runs
    data_written = sum(v for k, v in again["rows_written"].items() if k != "fetch_state")  # type: ignore[union-attr]
    result.rows.append(
        Row("re-run wall time", float(again["wall_s"]), "s", float(first["wall_s"]), "first run")
    )
    result.rows.append(Row("re-run CPU time", float(again["cpu_s"]), "s", float(first["cpu_s"]), "first run"))
    result.rows.append(
        Row(
            "re-run article requests",
            float(again["article_requests"]),
            "",
            float(first["article_requests"]),
            "first run article requests",
        )
    )
    result.rows.append(
        Row(
            "re-run 304 responses / requests",
            float(again["http_304"]),
            "",
            float(again["requests"]),
            "requests",
        )
    )
    result.rows.append(
        Row(
            "re-run new rows (data tables)",
            float(again["new_rows"]),
            "",
            float(first["new_rows"]),
            "first run new rows",
        )
    )
    result.rows.append(Row("re-run data rows rewritten", float(data_written), "", None, ""))
    result.details.update(
        hosts=len(HOSTS), articles_per_host=per_host, delay_s=DELAY, latency_s=LATENCY, runs=runs
    )
    result.notes.append(
        f"{len(HOSTS)} hosts x {per_host} articles, delay {DELAY}s, latency {LATENCY}s, extraction inline; "
        "the re-run requests no article whose sitemap lastmod is not newer than its last fetch, and reads robots.txt "
        "and sitemaps conditionally (304s: the rest of its requests)"
    )
    return result


if __name__ == "__main__":
    standalone(run, __doc__)
