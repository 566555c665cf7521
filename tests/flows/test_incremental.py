"""Incremental runs on the local web, counting requests: what is unchanged is not asked for again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from flows.pipeline import Pipeline, build_pipeline, using
from models.db import dispose_engines, get_engine
from scrapers.registry import Link, Registry, Source
from tests.localweb import GeneratedSite, LocalWeb
from tests.localweb.generated import ARTICLE_PREFIX, VN_TZ

HOSTS = ("inc-a.example", "inc-b.example")
ARTICLES = 12
SINCE, UNTIL = date(2024, 1, 1), date(2024, 3, 31)
WINDOW = dict(since=SINCE, until=UNTIL, extract=False, redo=True)


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for this module's flow runs."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def site_web() -> Iterator[LocalWeb]:
    """Two generated sites (sitemap index, monthly shards, feed) with every article in Q1 2024."""
    with LocalWeb() as web:
        for host in HOSTS:
            web.add_generated_site(
                host,
                ARTICLES,
                start=datetime(2024, 1, 2, 12, tzinfo=VN_TZ),
                end=datetime(2024, 3, 28, tzinfo=VN_TZ),
                feed_size=ARTICLES,
            )
        yield web


@pytest.fixture
def sites(flow_db: str, site_web: LocalWeb) -> Iterator[Pipeline]:
    """Flows in this process read the generated sites and write a fresh database."""
    sources = tuple(
        Source(
            code=host.split(".")[0].replace("-", "_"),
            name=host,
            lang="vi",
            base_url=f"https://{host}/",
            feeds=(Link(f"https://{host}/rss.xml"),),
            sitemaps=(Link(f"https://{host}/sitemap.xml"),),
            delay_seconds=0.0,
        )
        for host in HOSTS
    )
    registry = Registry(sources=sources, allow_private_hosts=True)
    with using(
        build_pipeline(registry=registry, host_map=site_web.host_map(), engine=get_engine(flow_db))
    ) as p:
        yield p
    dispose_engines()


def article_requests(web: LocalWeb) -> list[str]:
    return sorted(f"{r.host}{r.path}" for r in web.log if r.path.startswith(ARTICLE_PREFIX))


def discovery_statuses(web: LocalWeb) -> set[int | None]:
    return {r.status for r in web.log if not r.path.startswith(ARTICLE_PREFIX)}


def test_unchanged_backfill_rerun_requests_no_article(sites: Pipeline, site_web: LocalWeb) -> None:
    from flows.backfill import backfill

    first = backfill(**WINDOW)
    site_web.log.clear()
    again = backfill(**WINDOW)
    assert (first["stored"], len(article_requests(site_web))) == (2 * ARTICLES, 0)
    assert (again["stored"], again["not_modified"], again["failed"]) == (0, 2 * ARTICLES, 0)


def test_unchanged_backfill_rerun_reads_sitemaps_conditionally(sites: Pipeline, site_web: LocalWeb) -> None:
    from flows.backfill import backfill

    backfill(**WINDOW)
    site_web.log.clear()
    backfill(**WINDOW)
    assert discovery_statuses(site_web) == {304}


def test_refresh_requests_every_article_again(sites: Pipeline, site_web: LocalWeb) -> None:
    from flows.backfill import backfill

    backfill(**WINDOW)
    site_web.log.clear()
    again = backfill(**WINDOW, refresh=True)
    expected = sorted(f"{h}{ARTICLE_PREFIX}{i}.html" for h in HOSTS for i in range(ARTICLES))
    assert article_requests(site_web) == expected
    assert (again["stored"], again["not_modified"]) == (0, 2 * ARTICLES)


def test_an_article_with_a_newer_lastmod_is_fetched_again(sites: Pipeline, site_web: LocalWeb) -> None:
    from flows.backfill import backfill

    backfill(**WINDOW)
    site: GeneratedSite = site_web.generated[HOSTS[0]]
    site.revise(3, at=datetime.now(UTC) + timedelta(seconds=1))
    site_web.log.clear()
    again = backfill(**WINDOW)
    with sites.engine.connect() as connection:
        revised = connection.execute(
            text("SELECT count(*) FROM document WHERE url = :url AND text LIKE '%Revised%'"),
            {"url": f"https://{HOSTS[0]}{ARTICLE_PREFIX}3.html"},
        ).scalar()
    assert article_requests(site_web) == [f"{HOSTS[0]}{ARTICLE_PREFIX}3.html"]
    assert (again["stored"], revised) == (1, 1)


def test_unchanged_ingest_rerun_requests_no_article(sites: Pipeline, site_web: LocalWeb) -> None:
    from flows.ingest import ingest

    first = ingest(since=SINCE, until=UNTIL, extract=False)
    site_web.log.clear()
    again = ingest(since=SINCE, until=UNTIL, extract=False)
    assert first["stored"] == 2 * ARTICLES
    assert (article_requests(site_web), discovery_statuses(site_web)) == ([], {304})
    assert (again["stored"], again["not_modified"]) == (0, 2 * ARTICLES)


def test_backfill_reads_each_sitemap_once_for_a_window_of_many_chunks(
    sites: Pipeline, site_web: LocalWeb
) -> None:
    from flows.backfill import backfill

    backfill(**WINDOW, chunk="week")
    per_path: dict[Any, int] = {}
    for record in site_web.log:
        if not record.path.startswith(ARTICLE_PREFIX):
            per_path[(record.host, record.path)] = per_path.get((record.host, record.path), 0) + 1
    with sites.engine.connect() as connection:
        finished = connection.execute(text("SELECT count(*) FROM backfill_chunk")).scalar()
    assert set(per_path.values()) == {1}
    assert finished == len(HOSTS) * 13  # ISO weeks 2024-W01 .. 2024-W13


def test_chiso_backfill_refresh_option_requests_every_article_again(
    sites: Pipeline, site_web: LocalWeb, flow_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("CHISO_DATABASE_URL", flow_db)
    window = ["backfill", "--since", str(SINCE), "--until", str(UNTIL), "--redo"]
    runner = CliRunner()
    first = runner.invoke(app, window)
    site_web.log.clear()
    plain = runner.invoke(app, window)
    plain_requests = article_requests(site_web)
    site_web.log.clear()
    refreshed = runner.invoke(app, [*window, "--refresh"])
    assert (first.exit_code, plain.exit_code, refreshed.exit_code) == (0, 0, 0)
    assert (len(plain_requests), len(article_requests(site_web))) == (0, 2 * ARTICLES)
