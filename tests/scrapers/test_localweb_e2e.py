"""End to end on the local web with the real client: discovery -> fetch -> store for every shipped source,
robots and delays proven by the server's request log, 304s, and every fault kind survived and reported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from flows.load import crawl_source, fetch_and_store
from models.db import get_engine, session_scope
from models.tables import Document, RawPage
from scrapers.http import HttpClient
from scrapers.registry import Registry, load_registry
from tests.localweb import LocalWeb

REGISTRY = load_registry()
VOV_ARTICLE = "https://vov.vn/kinh-te/binh-duong-lan-thu-3-lien-tiep-vao-top-7-cong-dong-thong-minh-the-gioi-post1028341.vov"
VOV_PATH = "/kinh-te/binh-duong-lan-thu-3-lien-tiep-vao-top-7-cong-dong-thong-minh-the-gioi-post1028341.vov"
VOV_OTHER = "https://vov.vn/kinh-te/binh-duong-thu-hut-hon-1-2-ty-usd-von-fdi-trong-9-thang-post1051277.vov"
# The client spaces request starts on its clock; the server stamps arrivals after the send, with the jitter of a
# loaded machine (up to tens of ms), so arrivals may be a little closer than the delay.
TIMING_SLACK = 0.1


@pytest.fixture(scope="module")
def web() -> Iterator[LocalWeb]:
    with LocalWeb() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_web(web: LocalWeb) -> Iterator[None]:
    web.clear_faults()
    web.log.clear()
    yield
    web.clear_faults()


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    engine = get_engine(sqlite_url)
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def make_client(web: LocalWeb) -> Iterator[Callable[..., HttpClient]]:
    """Real clients (real clock and sleep) on the local web, with short delays, timeouts and backoff."""
    made: list[HttpClient] = []

    def build(registry: Registry = REGISTRY.with_delay(0.0), **options: Any) -> HttpClient:
        settings: dict[str, Any] = {
            "host_map": web.host_map(),
            "allow_private_hosts": True,
            "max_attempts": 2,
            "backoff_base": 0.05,
            "backoff_max": 0.1,
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
        }
        settings.update(options)
        client = HttpClient.from_registry(registry, **settings)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


def _count(engine: Engine, model: type[SQLModel]) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


# --- every shipped source ------------------------------------------------------------------------


@pytest.mark.parametrize("code", REGISTRY.codes())
def test_source_is_discovered_fetched_and_stored(
    code: str, make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    report = crawl_source(REGISTRY.get(code), make_client(), engine=engine, run_id="e2e")
    statuses = {o.status for o in report.outcomes}
    assert (report.discovery.problems, statuses, report.count("stored") >= 1) == ((), {"stored"}, True)


@pytest.mark.parametrize("code", ["vov", "nhandan", "tuoitre", "icf"])
def test_backfill_walks_sitemaps_to_stored_documents(
    code: str, make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    report = crawl_source(REGISTRY.get(code), make_client(), engine=engine, run_id="e2e", mode="backfill")
    assert (report.discovery.problems, report.count("stored") >= 1, report.count("failed")) == ((), True, 0)


def test_rerun_gets_304s_and_stores_nothing_new(
    make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    client = make_client()
    source = REGISTRY.get("vov")
    crawl_source(source, client, engine=engine, run_id="first")
    counts = (_count(engine, Document), _count(engine, RawPage))
    again = crawl_source(source, client, engine=engine, run_id="second")
    assert ({o.status for o in again.outcomes}, (_count(engine, Document), _count(engine, RawPage))) == (
        {"not_modified"},
        counts,
    )


def test_user_agent_reaches_the_server(web: LocalWeb, make_client: Callable[..., HttpClient]) -> None:
    make_client().fetch(VOV_ARTICLE)
    assert {r.user_agent for r in web.requests_for("vov.vn")} == {REGISTRY.user_agent}


# --- robots and delays, proven by the server log ---------------------------------------------------


def test_robots_disallowed_path_is_never_requested(
    web: LocalWeb, make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    web.fault("vov.vn", None, "robots", text="User-agent: *\nDisallow: /kinh-te/\n")
    report = crawl_source(REGISTRY.get("vov"), make_client(), engine=engine, run_id="e2e")
    assert web.requests_for("vov.vn", "/kinh-te/*") == []
    assert {(o.status, o.fetch_kind) for o in report.outcomes} == {("failed", "robots")}


def test_crawl_delay_holds_between_requests(web: LocalWeb, make_client: Callable[..., HttpClient]) -> None:
    web.fault("vov.vn", None, "robots", text="User-agent: *\nCrawl-delay: 0.3\n")
    client = make_client()
    for url in (VOV_ARTICLE, VOV_OTHER, VOV_ARTICLE):
        client.fetch(url)
    times = [r.t for r in web.requests_for("vov.vn")]
    assert len(times) == 4 and min(b - a for a, b in pairwise(times)) >= 0.3 - TIMING_SLACK


def test_per_host_delay_holds_between_requests(web: LocalWeb, make_client: Callable[..., HttpClient]) -> None:
    client = make_client(REGISTRY.with_delay(0.25))
    for url in (VOV_ARTICLE, VOV_OTHER, VOV_ARTICLE):
        client.fetch(url)
    times = [r.t for r in web.requests_for("vov.vn")]
    assert len(times) == 4 and min(b - a for a, b in pairwise(times)) >= 0.25 - TIMING_SLACK


def test_hosts_do_not_wait_for_each_other(web: LocalWeb, make_client: Callable[..., HttpClient]) -> None:
    client = make_client(REGISTRY.with_delay(0.5))
    client.fetch(VOV_ARTICLE)
    first_other = client.fetch(
        "https://tuoitre.vn/binh-duong-vao-top-7-cong-dong-thong-minh-nam-2023-20230622101530123.htm"
    )
    vov_last = web.requests_for("vov.vn")[-1].t
    tuoitre_first = web.requests_for("tuoitre.vn")[0].t
    assert first_other.ok and tuoitre_first - vov_last < 0.5


# --- faults ----------------------------------------------------------------------------------------

FAULTS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    # (kind, fault params, client options, expected outcome status, expected fetch kind)
    ("slow", {"delay": 1.5}, {"read_timeout": 0.3}, "failed", "network"),
    ("status", {"code": 500}, {}, "failed", "http_error"),
    ("status", {"code": 503, "times": 1}, {}, "stored", "ok"),
    ("retry_after", {"seconds": 1, "times": 1}, {}, "stored", "ok"),
    ("retry_after", {"seconds": 1, "http_date": True, "times": 1}, {}, "stored", "ok"),
    ("retry_after", {"value": "3600"}, {"retry_after_cap": 60.0}, "failed", "retry_later"),
    ("reset", {}, {}, "failed", "network"),
    ("reset", {"times": 1}, {}, "stored", "ok"),
    ("truncated", {}, {}, "failed", "network"),
    ("wrong_charset", {}, {}, "stored", "ok"),
    ("huge", {"size_mb": 2}, {"max_bytes": 1024 * 1024}, "failed", "too_large"),
    ("huge", {"size_mb": 2, "declare_length": False}, {"max_bytes": 1024 * 1024}, "failed", "too_large"),
    ("redirect_loop", {}, {}, "failed", "redirect"),
    ("redirect_offlist", {}, {}, "failed", "refused"),
    ("robots", {"text": "User-agent: *\nDisallow: /\n"}, {}, "failed", "robots"),
    ("latency", {"seconds": 0.05}, {}, "stored", "ok"),
]


@pytest.mark.parametrize(
    ("kind", "params", "options", "status", "fetch_kind"),
    FAULTS,
    ids=[f"{k}-{i}" for i, (k, *_rest) in enumerate(FAULTS)],
)
def test_fault_is_survived_and_reported_in_one_line(
    web: LocalWeb,
    make_client: Callable[..., HttpClient],
    engine: Engine,
    kind: str,
    params: dict[str, Any],
    options: dict[str, Any],
    status: str,
    fetch_kind: str,
) -> None:
    times = params.pop("times", None)
    web.fault("vov.vn", None if kind in ("robots", "latency") else VOV_PATH, kind, times=times, **params)
    outcome = fetch_and_store(
        VOV_ARTICLE, source=REGISTRY.get("vov"), client=make_client(**options), engine=engine, run_id="e2e"
    )
    assert (outcome.status, outcome.fetch_kind) == (status, fetch_kind), outcome.reason
    assert outcome.reason and "\n" not in outcome.reason


def test_wrong_declared_charset_keeps_vietnamese_intact(
    web: LocalWeb, make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    web.fault("vov.vn", VOV_PATH, "wrong_charset", charset="iso-8859-1")
    outcome = fetch_and_store(
        VOV_ARTICLE, source=REGISTRY.get("vov"), client=make_client(), engine=engine, run_id="e2e"
    )
    with session_scope(engine) as session:
        doc = session.get(Document, outcome.document_id)
        assert (
            doc is not None
            and doc.title == "Bình Dương lần thứ 3 liên tiếp vào Top 7 cộng đồng thông minh thế giới"
        )


def test_offlist_redirect_target_is_never_contacted(
    web: LocalWeb, make_client: Callable[..., HttpClient]
) -> None:
    web.fault("vov.vn", VOV_PATH, "redirect_offlist", location="https://evil.example.com/phishing")
    make_client().fetch(VOV_ARTICLE)
    assert web.requests_for("evil.example.com") == []


def test_a_broken_source_does_not_stop_the_others(
    web: LocalWeb, make_client: Callable[..., HttpClient], engine: Engine
) -> None:
    web.fault("vov.vn", None, "status", code=500)
    client = make_client()
    reports = {
        code: crawl_source(REGISTRY.get(code), client, engine=engine, run_id="e2e")
        for code in ("vov", "tuoitre", "icf")
    }
    assert (len(reports["vov"].discovery.problems) >= 1, reports["vov"].outcomes) == (True, ())
    assert (reports["tuoitre"].count("stored") >= 1, reports["icf"].count("stored") >= 1) == (True, True)


def test_one_request_in_flight_per_host_across_threads(
    web: LocalWeb, make_client: Callable[..., HttpClient]
) -> None:
    web.fault("vov.vn", None, "latency", seconds=0.15)
    client = make_client()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(client.fetch, [VOV_ARTICLE, VOV_OTHER, VOV_ARTICLE, VOV_OTHER]))
    times = [r.t for r in web.requests_for("vov.vn")]
    # each response takes 0.15 s, so arrivals 0.15 s apart prove no two requests overlapped
    assert all(r.ok for r in results) and min(b - a for a, b in pairwise(times)) >= 0.15 - TIMING_SLACK
