"""Crawl throughput: a backfill across several slow generated hosts against the politeness limit and Scrapy."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from datetime import date, datetime

from bench.common import (
    ROOT,
    Result,
    Row,
    count_rows,
    fresh_sqlite,
    generated_registry,
    plain_tasks,
    quiet_events,
    quiet_logs,
    standalone,
    temp_dir,
)

HOSTS = ("bench-a.example", "bench-b.example", "bench-c.example", "bench-d.example")
DELAY = 0.1  # seconds between two requests to one host: the politeness we impose on both crawlers
LATENCY = 0.05  # added by the local web before every response
SINCE, UNTIL = date(2024, 1, 1), date(2024, 3, 31)


def _site_window() -> tuple[datetime, datetime]:
    from tests.localweb.generated import VN_TZ

    # Noon local time on the first day and a day before the end, so UTC day boundaries keep every article.
    return datetime(2024, 1, 1, 12, tzinfo=VN_TZ), datetime(2024, 3, 30, tzinfo=VN_TZ)


def run(quick: bool) -> Result:
    from flows.backfill import backfill
    from flows.pipeline import build_pipeline, using
    from models.db import dispose_engines, get_engine
    from tests.localweb import LocalWeb

    per_host = 30 if quick else 150
    result = Result("crawl")
    quiet_events()
    quiet_logs()
    start, end = _site_window()
    limit = len(HOSTS) / DELAY
    gap_limit = len(HOSTS) / (DELAY + LATENCY)
    registry = generated_registry(HOSTS, delay=DELAY)
    with LocalWeb(latency=LATENCY) as web, temp_dir() as tmp:
        for host in HOSTS:
            web.add_generated_site(host, per_host, start=start, end=end)
        url = fresh_sqlite(tmp, "crawl")
        web.log.clear()
        pipeline = build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(url))
        with using(pipeline), plain_tasks():
            t0 = time.perf_counter()
            backfill.fn(since=SINCE, until=UNTIL, extract=False)
            ours_s = time.perf_counter() - t0
        ours_requests = len(web.log)
        pages = count_rows(url, ["document"])["document"]
        dispose_engines()
        ours_rate = pages / ours_s
        result.rows.append(
            Row(
                "chiso backfill: article pages/s",
                ours_rate,
                "p/s",
                limit,
                f"politeness limit {len(HOSTS)}/{DELAY}s",
            )
        )
        result.rows.append(
            Row(
                "chiso backfill: requests/s (robots, sitemaps too)",
                ours_requests / ours_s,
                "r/s",
                limit,
                "politeness limit",
            )
        )
        result.details.update(
            hosts=len(HOSTS),
            articles_per_host=per_host,
            delay_s=DELAY,
            latency_s=LATENCY,
            limit_pages_per_s=limit,
            limit_if_delay_counts_after_response=gap_limit,
            limit_with_discovery_requests=pages / ours_requests * limit,
            chiso={"pages": pages, "requests": ours_requests, "seconds": ours_s},
        )
        if pages != per_host * len(HOSTS):
            result.notes.append(f"chiso stored {pages} of {per_host * len(HOSTS)} articles")
        result.notes.append(
            f"chiso waits {DELAY}s per host after a response ends ({gap_limit:.1f} p/s at most with {LATENCY}s of "
            f"latency), Scrapy {DELAY}s between request starts; robots.txt and the sitemaps count too "
            f"({ours_requests} requests for {pages} pages)"
        )

        if importlib.util.find_spec("scrapy") is None:
            result.notes.append("Scrapy comparison SKIPPED: scrapy is not installed (pip install scrapy)")
            return result
        web.log.clear()
        scrapy_run = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.scrapy_crawl",
                "--hosts",
                ",".join(HOSTS),
                "--proxy",
                web.base_url,
                "--delay",
                str(DELAY),
                "--user-agent",
                registry.user_agent,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if scrapy_run.returncode != 0:
            result.notes.append(f"Scrapy run FAILED: {scrapy_run.stderr.strip().splitlines()[-1:]}")
            return result
        scrapy_out = json.loads(scrapy_run.stdout.strip().splitlines()[-1])
        scrapy_requests = len(web.log)
        scrapy_rate = scrapy_out["pages"] / scrapy_out["seconds"]
        result.rows.append(
            Row("Scrapy (same delay, 1/host): article pages/s", scrapy_rate, "p/s", limit, "politeness limit")
        )
        result.rows.append(Row("chiso vs Scrapy: pages/s", ours_rate, "p/s", scrapy_rate, "Scrapy pages/s"))
        result.details["scrapy"] = {**scrapy_out, "requests": scrapy_requests}
        if scrapy_out["pages"] != per_host * len(HOSTS):
            result.notes.append(f"Scrapy fetched {scrapy_out['pages']} of {per_host * len(HOSTS)} articles")
    return result


if __name__ == "__main__":
    standalone(run, __doc__)
