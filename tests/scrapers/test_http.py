"""The polite HTTP client, rule by rule, against `responses` with a fake clock."""

from __future__ import annotations

import codecs
import gzip
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests
import responses
from responses import matchers

from scrapers.http import DEFAULT_MAX_BYTES, HttpClient, decode_body, parse_retry_after
from scrapers.politeness import MemoryPoliteness
from scrapers.registry import DEFAULT_USER_AGENT, parse_registry
from tests.scrapers.conftest import T0, UA, FakeClock, no_robots, page_requests, robots

MakeClient = Callable[..., HttpClient]
URL = "https://vov.vn/kinh-te/bai-viet-123.vov"


def _ok(mock: responses.RequestsMock, url: str = URL, body: str = "<html>ok</html>") -> None:
    mock.get(url, body=body, content_type="text/html; charset=utf-8")


# --- robots.txt ------------------------------------------------------------------------------------


def test_robots_disallowed_path_is_never_requested(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    robots(web, "vov.vn", "User-agent: *\nDisallow: /kinh-te/\n")
    _ok(web)
    result = make_client().fetch(URL)
    assert (result.kind, result.ok, page_requests(web)) == ("robots", False, [])


def test_robots_disallow_reason_names_the_host_and_url(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    robots(web, "vov.vn", "User-agent: *\nDisallow: /kinh-te/\n")
    result = make_client().fetch(URL)
    assert result.reason == f"disallowed by robots.txt of vov.vn: {URL}"


def test_robots_allowed_path_is_fetched(web: responses.RequestsMock, make_client: MakeClient) -> None:
    robots(web, "vov.vn", "User-agent: *\nDisallow: /private/\n")
    _ok(web)
    result = make_client().fetch(URL)
    assert (result.ok, result.status, result.text) == (True, 200, "<html>ok</html>")


def test_robots_group_for_our_product_token_applies(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    robots(web, "vov.vn", "User-agent: chiso-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    _ok(web)
    assert make_client().fetch(URL).kind == "robots"


def test_robots_404_allows_everything(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    assert make_client().fetch(URL).ok


@pytest.mark.parametrize("status", [500, 503])
def test_robots_5xx_disallows_everything(
    web: responses.RequestsMock, make_client: MakeClient, status: int
) -> None:
    web.get("https://vov.vn/robots.txt", status=status)
    _ok(web)
    result = make_client().fetch(URL)
    assert (result.kind, page_requests(web)) == ("robots", [])
    assert result.reason.startswith(f"robots.txt of vov.vn unavailable (HTTP {status}")


def test_unreachable_robots_disallows_everything(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    web.get("https://vov.vn/robots.txt", body=requests.exceptions.ConnectionError("connection reset by peer"))
    _ok(web)
    result = make_client().fetch(URL)
    assert (result.kind, page_requests(web)) == ("robots", [])


def test_robots_5xx_disallow_expires_after_the_error_ttl(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    web.get("https://vov.vn/robots.txt", status=503)
    web.get("https://vov.vn/robots.txt", status=404)
    _ok(web)
    client = make_client(robots_error_ttl=900.0, max_attempts=1)
    assert client.fetch(URL).kind == "robots"
    clock.advance(901)
    assert client.fetch(URL).ok


@pytest.mark.parametrize(
    "blip",
    [
        {"body": requests.exceptions.ConnectionError("Connection reset by peer")},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"status": 503},
        {"status": 429, "headers": {"Retry-After": "2"}},
    ],
    ids=["reset", "timeout", "503", "429"],
)
def test_robots_blip_is_retried_not_taken_as_disallow_all(
    web: responses.RequestsMock, make_client: MakeClient, blip: dict[str, object]
) -> None:
    web.get("https://vov.vn/robots.txt", **blip)  # type: ignore[arg-type]
    web.get("https://vov.vn/robots.txt", status=404)
    _ok(web)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.ok, [c.request.url for c in web.calls].count("https://vov.vn/robots.txt")) == (True, 2)


def test_robots_retry_after_is_waited_before_asking_again(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    web.get("https://vov.vn/robots.txt", status=429, headers={"Retry-After": "7"})
    web.get("https://vov.vn/robots.txt", status=404)
    _ok(web)
    make_client(default_delay=0.0).fetch(URL)
    assert clock.sleeps == [7.0]


def test_robots_is_fetched_once_per_host(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    client = make_client()
    client.fetch(URL)
    client.fetch(URL)
    assert [c.request.url for c in web.calls].count("https://vov.vn/robots.txt") == 1


# --- delays ----------------------------------------------------------------------------------------


def test_host_delay_separates_requests_to_one_host(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    client = make_client(default_delay=3.0)
    client.fetch(URL)
    client.fetch(URL)
    # robots.txt at T0, the page at T0+3, the page again at T0+6
    assert clock.sleeps == [3.0, 3.0]


def test_per_host_delay_overrides_the_default(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    make_client(default_delay=3.0, host_delays={"vov.vn": 5.0}).fetch(URL)
    assert clock.sleeps == [5.0]


def test_crawl_delay_longer_than_host_delay_is_applied(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    robots(web, "vov.vn", "User-agent: *\nCrawl-delay: 10\n")
    _ok(web)
    client = make_client(default_delay=3.0)
    client.fetch(URL)
    client.fetch(URL)
    assert clock.sleeps == [10.0, 10.0]


def test_crawl_delay_shorter_than_host_delay_is_ignored(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    robots(web, "vov.vn", "User-agent: *\nCrawl-delay: 1\n")
    _ok(web)
    make_client(default_delay=3.0).fetch(URL)
    assert clock.sleeps == [3.0]


def test_stored_next_allowed_time_is_waited_for(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    store = MemoryPoliteness()
    store.record("vov.vn", next_allowed=T0 + 2.5, crawl_delay=None)
    no_robots(web, "vov.vn")
    _ok(web)
    make_client(politeness=store, default_delay=0.0).fetch(URL)
    assert clock.sleeps == [2.5]


def test_another_hosts_wait_is_not_inherited(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    store = MemoryPoliteness()
    store.record("vovworld.vn", next_allowed=T0 + 100, crawl_delay=None)
    no_robots(web, "vov.vn")
    _ok(web)
    make_client(politeness=store, default_delay=0.0).fetch(URL)
    assert clock.sleeps == []


def test_next_allowed_time_is_recorded_per_host(web: responses.RequestsMock, make_client: MakeClient) -> None:
    store = MemoryPoliteness()
    no_robots(web, "vov.vn")
    _ok(web)
    make_client(politeness=store, default_delay=3.0).fetch(URL)
    assert (store.next_allowed("vov.vn"), store.next_allowed("vovworld.vn")) == (T0 + 6.0, None)


def test_host_wait_beyond_the_cap_returns_retry_later_without_a_request(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    store = MemoryPoliteness()
    no_robots(web, "vov.vn")
    _ok(web)
    client = make_client(politeness=store, default_delay=0.0, retry_after_cap=300.0)
    client.fetch(URL)
    store.record("vov.vn", next_allowed=T0 + 1000, crawl_delay=None)
    result = client.fetch(URL)
    assert (result.kind, len(page_requests(web)), clock.sleeps) == ("retry_later", 1, [])


# --- retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 1.0, 2.0), (2, 2.0, 4.0), (3, 4.0, 8.0), (4, 8.0, 16.0), (8, 30.0, 60.0)],
)
def test_backoff_is_exponential_with_equal_jitter(
    make_client: MakeClient, attempt: int, low: float, high: float
) -> None:
    client = make_client(backoff_base=2.0, backoff_max=60.0, rng=random.Random(1))
    waits = [client.backoff_wait(attempt) for _ in range(200)]
    assert low <= min(waits) and max(waits) <= high and max(waits) - min(waits) > (high - low) / 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_status_is_retried_until_success(
    web: responses.RequestsMock, make_client: MakeClient, status: int
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=status)
    _ok(web)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.ok, result.attempts) == (True, 2)


def test_backoff_waits_are_slept_between_attempts(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=503)
    web.get(URL, status=503)
    _ok(web)
    make_client(default_delay=0.0, backoff_base=2.0).fetch(URL)
    first, second = clock.sleeps
    assert 1.0 <= first <= 2.0 and 2.0 <= second <= 4.0


def test_backoff_never_shortens_the_host_delay(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=503)
    _ok(web)
    make_client(default_delay=3.0, backoff_base=2.0).fetch(URL)
    assert clock.sleeps == [3.0, 3.0]


def test_retries_stop_after_max_attempts(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=500)
    result = make_client(default_delay=0.0, max_attempts=4).fetch(URL)
    assert (result.kind, result.attempts, len(page_requests(web))) == ("http_error", 4, 4)
    assert result.reason == "HTTP 500 Internal Server Error (after 4 attempts)"


def test_client_error_is_not_retried(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=404)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.kind, result.status, result.attempts, result.reason) == (
        "http_error",
        404,
        1,
        "HTTP 404 Not Found",
    )


@pytest.mark.parametrize(
    ("error", "prefix"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), "timeout: "),
        (requests.exceptions.ReadTimeout("read timed out"), "timeout: "),
        (requests.exceptions.ConnectionError("Connection reset by peer"), "connection failed: "),
    ],
)
def test_network_errors_are_retried_then_reported(
    web: responses.RequestsMock, make_client: MakeClient, error: Exception, prefix: str
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=error)
    result = make_client(default_delay=0.0, max_attempts=3).fetch(URL)
    assert (result.kind, result.status, result.attempts) == ("network", 0, 3)
    assert result.reason.startswith(prefix) and "\n" not in result.reason


def test_reset_then_success_is_ok(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    _ok(web)
    assert make_client(default_delay=0.0).fetch(URL).attempts == 2


def test_truncated_body_is_retried(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body="<html>short", headers={"Content-Length": "5000"})
    _ok(web)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.ok, result.attempts) == (True, 2)


def test_truncated_body_reason_says_truncated(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body="<html>short", headers={"Content-Length": "5000"})
    result = make_client(default_delay=0.0, max_attempts=2).fetch(URL)
    assert (result.kind, result.ok) == ("network", False)
    assert result.reason.startswith("truncated body: ") and "reset" not in result.reason


# --- Retry-After -----------------------------------------------------------------------------------


def test_retry_after_seconds_is_waited(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "7"})
    _ok(web)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.ok, clock.sleeps) == (True, [7.0])


def test_retry_after_on_the_last_attempt_is_waited_before_the_next_request_to_the_host(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "7"})
    _ok(web, "https://vov.vn/kinh-te/other.vov")
    client = make_client(default_delay=0.0, max_attempts=1)
    assert client.fetch(URL).status == 429
    assert (client.fetch("https://vov.vn/kinh-te/other.vov").ok, clock.sleeps) == (True, [7.0])


def test_retry_after_holds_the_host_from_the_moment_the_response_arrives(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    # Another thread may ask the host the moment its lock is released: the hold must be recorded by then,
    # not a plain delay first (the host open for a moment) and the Retry-After after.
    holds: list[float] = []

    class Recorded(MemoryPoliteness):
        def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
            holds.append(next_allowed - clock())
            super().record(host, next_allowed=next_allowed, crawl_delay=crawl_delay)

    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "7"})
    make_client(default_delay=1.0, max_attempts=1, politeness=Recorded()).fetch(URL)
    assert holds == [1.0, 7.0]  # after robots.txt: the delay; after the 429: Retry-After, nothing between


def test_retry_after_http_date_is_waited(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    when = format_datetime(datetime.fromtimestamp(T0 + 42, UTC), usegmt=True)
    no_robots(web, "vov.vn")
    web.get(URL, status=503, headers={"Retry-After": when})
    _ok(web)
    make_client(default_delay=0.0).fetch(URL)
    assert clock.sleeps == [42.0]


def test_retry_after_beyond_the_cap_gives_up_with_retry_at(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "3600"})
    result = make_client(default_delay=0.0, retry_after_cap=300.0).fetch(URL)
    assert (result.kind, result.attempts, clock.sleeps) == ("retry_later", 1, [])
    assert result.retry_at == datetime.fromtimestamp(T0 + 3600, UTC)


def test_retry_after_beyond_the_cap_defers_the_whole_host(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "3600"})
    client = make_client(default_delay=0.0, retry_after_cap=300.0)
    client.fetch(URL)
    other = client.fetch("https://vov.vn/xa-hoi/khac-9.vov")
    assert (other.kind, len(page_requests(web))) == ("retry_later", 1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (format_datetime(datetime.fromtimestamp(T0 + 30, UTC), usegmt=True), 30.0),
        (format_datetime(datetime.fromtimestamp(T0 - 30, UTC), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=datetime.fromtimestamp(T0, UTC)) == expected


# --- conditional GET -------------------------------------------------------------------------------


def test_conditional_get_sends_stored_validators(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(
        URL,
        status=304,
        match=[
            matchers.header_matcher(
                {"If-None-Match": '"abc"', "If-Modified-Since": "Wed, 19 Nov 2025 01:00:00 GMT"}
            )
        ],
    )
    result = make_client().fetch(URL, etag='"abc"', last_modified="Wed, 19 Nov 2025 01:00:00 GMT")
    assert result.status == 304


def test_304_is_not_modified_with_no_body(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=304)
    result = make_client().fetch(URL, etag='"abc"')
    assert (result.kind, result.ok, result.not_modified, result.failed, result.body) == (
        "not_modified",
        False,
        True,
        False,
        b"",
    )


def test_validators_of_the_response_are_returned(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body="x", headers={"ETag": '"v2"', "Last-Modified": "Thu, 20 Nov 2025 01:30:00 GMT"})
    result = make_client().fetch(URL)
    assert (result.etag, result.last_modified) == ('"v2"', "Thu, 20 Nov 2025 01:30:00 GMT")


def test_unconditional_get_sends_no_validators(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    make_client().fetch(URL)
    sent = web.calls[-1].request.headers
    assert ("If-None-Match" in sent, "If-Modified-Since" in sent) == (False, False)


# --- size cap --------------------------------------------------------------------------------------


def test_default_size_cap_is_10_mb() -> None:
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024


def test_declared_length_over_the_cap_is_refused(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=b"x" * 5000, headers={"Content-Length": "5000"})
    result = make_client(max_bytes=1000).fetch(URL)
    assert (result.kind, result.reason, result.body) == (
        "too_large",
        "Content-Length 5000 exceeds the 1000-byte cap",
        b"",
    )


def test_streamed_body_over_the_cap_without_length_is_cut(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=b"x" * 50_000)
    result = make_client(max_bytes=20_000).fetch(URL)
    assert (result.kind, result.reason) == ("too_large", "body exceeds the 20000-byte cap")


def test_lying_content_length_does_not_bypass_the_cap(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=b"x" * 50_000, headers={"Content-Length": "100"})
    result = make_client(max_bytes=10_000).fetch(URL)
    assert result.kind == "too_large"


def test_oversized_response_is_not_retried(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=b"x" * 50_000)
    assert make_client(max_bytes=20_000).fetch(URL).attempts == 1


# --- redirects, schemes, hosts ---------------------------------------------------------------------


def _redirect(mock: responses.RequestsMock, src: str, dst: str, status: int = 301) -> None:
    mock.get(src, status=status, headers={"Location": dst})


def test_redirect_is_followed_to_the_final_url(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _redirect(web, URL, "/kinh-te/moi-123.vov")
    _ok(web, "https://vov.vn/kinh-te/moi-123.vov")
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.ok, result.url, result.final_url) == (True, URL, "https://vov.vn/kinh-te/moi-123.vov")


@pytest.mark.parametrize(("hops", "kind"), [(5, "ok"), (6, "redirect")])
def test_at_most_five_redirects_are_followed(
    web: responses.RequestsMock, make_client: MakeClient, hops: int, kind: str
) -> None:
    no_robots(web, "vov.vn")
    for i in range(hops):
        _redirect(web, f"https://vov.vn/r{i}", f"https://vov.vn/r{i + 1}", status=302)
    _ok(web, f"https://vov.vn/r{hops}")
    result = make_client(default_delay=0.0).fetch("https://vov.vn/r0")
    assert result.kind == kind


def test_redirect_loop_is_reported(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _redirect(web, "https://vov.vn/a", "https://vov.vn/b", status=302)
    _redirect(web, "https://vov.vn/b", "https://vov.vn/a", status=302)
    result = make_client(default_delay=0.0).fetch("https://vov.vn/a")
    assert (result.kind, result.reason) == ("redirect", "redirect loop at https://vov.vn/a after 2 redirects")


def test_redirect_to_an_undeclared_host_is_refused(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    _redirect(web, URL, "https://tracker.example.com/x")
    web.get("https://tracker.example.com/x", body="no")
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.kind, result.reason) == (
        "refused",
        "refused host tracker.example.com: not among the declared sources' hosts",
    )
    assert "https://tracker.example.com/x" not in page_requests(web)


def test_redirect_to_a_robots_disallowed_path_is_not_followed(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    robots(web, "vov.vn", "User-agent: *\nDisallow: /admin/\n")
    _redirect(web, URL, "https://vov.vn/admin/login")
    web.get("https://vov.vn/admin/login", body="secret")
    result = make_client(default_delay=0.0).fetch(URL)
    assert (result.kind, page_requests(web)) == ("robots", [URL])


def test_redirect_to_a_non_http_scheme_is_refused(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    _redirect(web, URL, "ftp://vov.vn/file")
    assert make_client(default_delay=0.0).fetch(URL).kind == "refused"


@pytest.mark.parametrize(
    "url", ["ftp://vov.vn/a", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,hi", "//vov.vn/a"]
)
def test_non_http_urls_are_refused_without_a_request(
    web: responses.RequestsMock, make_client: MakeClient, url: str
) -> None:
    result = make_client().fetch(url)
    assert (result.kind, result.status, len(web.calls)) == ("refused", 0, 0)


def test_undeclared_host_is_refused_without_a_request(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    result = make_client().fetch("https://example.com/")
    assert (result.kind, len(web.calls)) == ("refused", 0)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"]
)
def test_host_resolving_to_a_private_address_is_refused(
    web: responses.RequestsMock, make_client: MakeClient, address: str
) -> None:
    result = make_client(resolver=lambda host: [address]).fetch(URL)
    assert (result.kind, len(web.calls)) == ("refused", 0)
    assert result.reason.startswith(f"refused host vov.vn: resolves to non-public address {address}")


def test_private_addresses_are_allowed_when_configured(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    assert make_client(resolver=lambda host: ["127.0.0.1"], allow_private_hosts=True).fetch(URL).ok


def test_private_addresses_are_allowed_by_the_environment(
    web: responses.RequestsMock, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
    no_robots(web, "vov.vn")
    _ok(web)
    assert make_client(resolver=lambda host: ["127.0.0.1"]).fetch(URL).ok


def test_unresolvable_host_is_reported(web: responses.RequestsMock, make_client: MakeClient) -> None:
    def fail(host: str) -> list[str]:
        raise OSError("Name or service not known")

    result = make_client(resolver=fail).fetch(URL)
    assert (result.kind, result.reason) == ("refused", "cannot resolve vov.vn: Name or service not known")


# --- host map --------------------------------------------------------------------------------------


def test_host_map_sends_the_real_url_to_the_local_web_with_the_real_host_header(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    web.get("http://127.0.0.1:8765/robots.txt", status=404)
    web.get("http://127.0.0.1:8765/kinh-te/bai-viet-123.vov?p=1", body="local")
    client = make_client(host_map={"vov.vn": "127.0.0.1:8765"}, allow_private_hosts=True, default_delay=0.0)
    result = client.fetch(URL + "?p=1")
    assert (result.text, result.final_url, web.calls[-1].request.headers["Host"]) == (
        "local",
        URL + "?p=1",
        "vov.vn",
    )


def test_host_map_keeps_politeness_keyed_by_the_real_host(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    store = MemoryPoliteness()
    web.get("http://127.0.0.1:8765/robots.txt", status=404)
    web.get("http://127.0.0.1:8765/kinh-te/bai-viet-123.vov", body="local")
    make_client(
        host_map={"vov.vn": "127.0.0.1:8765"}, allow_private_hosts=True, politeness=store, default_delay=3.0
    ).fetch(URL)
    assert (store.next_allowed("vov.vn"), store.next_allowed("127.0.0.1")) == (T0 + 6.0, None)


def test_host_map_target_is_still_checked_for_private_addresses(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    client = make_client(host_map={"vov.vn": "127.0.0.1:8765"}, resolver=lambda host: [host])
    assert client.fetch(URL).kind == "refused"


# --- User-Agent ------------------------------------------------------------------------------------


def test_configured_user_agent_is_sent(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    make_client().fetch(URL)
    assert {c.request.headers["User-Agent"] for c in web.calls} == {UA}


def test_user_agent_comes_from_the_environment_when_not_given(
    web: responses.RequestsMock, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHISO_USER_AGENT", "chiso-ops/2 (+https://ops.example.org)")
    assert make_client(user_agent=None).user_agent == "chiso-ops/2 (+https://ops.example.org)"


def test_default_user_agent_is_descriptive_with_a_contact_url(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHISO_USER_AGENT", raising=False)
    agent = make_client(user_agent=None).user_agent
    assert (agent, agent.startswith("chiso/"), "+https://" in agent) == (DEFAULT_USER_AGENT, True, True)


# --- encodings -------------------------------------------------------------------------------------

VI = "Bình Dương đứng đầu"
VI_1258 = "Đà Dương"  # letters windows-1258 has precomposed


@pytest.mark.parametrize(
    ("body", "content_type", "text", "encoding"),
    [
        (codecs.BOM_UTF8 + VI.encode(), "text/html; charset=iso-8859-1", VI, "utf-8"),
        (codecs.BOM_UTF16_LE + VI.encode("utf-16-le"), None, VI, "utf-16-le"),
        (codecs.BOM_UTF16_BE + VI.encode("utf-16-be"), "application/xml", VI, "utf-16-be"),
        (
            '<?xml version="1.0" encoding="UTF-16"?><rss/>'.encode("utf-16-le"),
            "application/rss+xml",
            '<?xml version="1.0" encoding="UTF-16"?><rss/>',
            "utf-16-le",
        ),
        (VI.encode(), "text/html; charset=utf-8", VI, "utf-8"),
        (VI.encode(), "text/html; charset=iso-8859-1", VI, "utf-8"),
        (VI.encode(), "text/html; charset=windows-1252", VI, "utf-8"),
        (
            f'<meta charset="windows-1258"><p>{VI_1258}</p>'.encode("cp1258"),
            "text/html",
            f'<meta charset="windows-1258"><p>{VI_1258}</p>',
            "cp1258",
        ),
        (
            f'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">{VI_1258}'.encode(
                "cp1258"
            ),
            None,
            f'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">{VI_1258}',
            "cp1258",
        ),
        (
            f"<p>{VI_1258}</p>".encode("cp1258"),
            "text/html; charset=windows-1258",
            f"<p>{VI_1258}</p>",
            "cp1258",
        ),
        (
            f'<meta charset="utf-8"><p>{VI_1258}</p>'.encode("cp1258"),
            "text/html; charset=windows-1258",
            f'<meta charset="utf-8"><p>{VI_1258}</p>',
            "cp1258",
        ),
        (b"<p>plain</p>", "text/html; charset=iso-8859-1", "<p>plain</p>", "cp1252"),
        (b"<p>plain</p>", "text/html", "<p>plain</p>", "utf-8"),
    ],
    ids=[
        "utf8-bom-beats-header",
        "utf16le-bom",
        "utf16be-bom",
        "utf16-without-bom",
        "header-utf8",
        "header-latin1-but-utf8-bytes",
        "header-cp1252-but-utf8-bytes",
        "meta-charset",
        "meta-http-equiv",
        "header-charset",
        "header-beats-wrong-meta",
        "ascii-keeps-declared",
        "ascii-undeclared",
    ],
)
def test_decode_body(body: bytes, content_type: str | None, text: str, encoding: str) -> None:
    assert decode_body(body, content_type=content_type) == (text, encoding)


def test_fetch_decodes_vietnamese_despite_a_wrong_header_charset(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=VI.encode(), headers={"Content-Type": "text/html; charset=iso-8859-1"})
    result = make_client().fetch(URL)
    assert (result.text, result.encoding) == (VI, "utf-8")


def test_gzip_body_is_kept_as_bytes_without_text(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    payload = gzip.compress(b"<urlset/>")
    web.get("https://vov.vn/sitemap-1.xml.gz", body=payload, content_type="application/x-gzip")
    result = make_client().fetch("https://vov.vn/sitemap-1.xml.gz")
    assert (result.body, result.text, result.encoding) == (payload, None, None)


# --- the result ------------------------------------------------------------------------------------


def test_result_carries_url_status_type_and_fetch_time(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    result = make_client(default_delay=0.0).fetch(URL)
    assert (
        result.url,
        result.status,
        result.reason,
        result.content_type,
        result.fetched_at,
        result.attempts,
    ) == (
        URL,
        200,
        "HTTP 200 OK",
        "text/html; charset=utf-8",
        datetime.fromtimestamp(T0, UTC),
        1,
    )


def test_result_is_frozen(web: responses.RequestsMock, make_client: MakeClient) -> None:
    no_robots(web, "vov.vn")
    _ok(web)
    result = make_client().fetch(URL)
    with pytest.raises(AttributeError):
        result.status = 500  # type: ignore[misc]


def test_from_registry_uses_its_hosts_delays_and_agent(clock: FakeClock) -> None:
    from scrapers.registry import load_registry

    registry = load_registry()
    client = HttpClient.from_registry(registry, clock=clock, sleep=clock.sleep)
    assert (client.allowed_hosts, client.user_agent, client.delay_for("vov.vn")) == (
        registry.hosts(),
        registry.user_agent,
        3.0,
    )


def test_host_is_resolved_once_within_the_dns_ttl(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    lookups: list[str] = []

    def resolver(host: str) -> list[str]:
        lookups.append(host)
        return ["93.184.216.34"]

    no_robots(web, "vov.vn")
    _ok(web)
    client = make_client(resolver=resolver, default_delay=0.0)
    client.fetch(URL)
    client.fetch(URL)
    assert lookups == ["vov.vn"]


# --- origins: a site on any port ---------------------------------------------------------------------

PORTED = "http://127.0.0.1:8123/kinh-te/bai-viet-1.html"
OTHER_PORT = "http://127.0.0.1:8124/kinh-te/bai-viet-1.html"


def _ported_client(make_client: MakeClient, **overrides: object) -> HttpClient:
    options: dict[str, object] = {
        "allowed_hosts": ["127.0.0.1:8123", "127.0.0.1:8124"],
        "allow_private_hosts": True,
    }
    options.update(overrides)
    return make_client(**options)


def test_robots_txt_is_asked_of_the_urls_own_port(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    web.get("http://127.0.0.1:8123/robots.txt", status=404)
    web.get(PORTED, body="ok")
    result = _ported_client(make_client).fetch(PORTED)
    assert (result.ok, [c.request.url for c in web.calls]) == (
        True,
        ["http://127.0.0.1:8123/robots.txt", PORTED],
    )


def test_robots_txt_of_one_port_does_not_rule_another(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    web.get("http://127.0.0.1:8123/robots.txt", body="User-agent: *\nDisallow: /\n")
    web.get("http://127.0.0.1:8124/robots.txt", status=404)
    web.get(OTHER_PORT, body="ok")
    client = _ported_client(make_client)
    assert (client.fetch(PORTED).kind, client.fetch(OTHER_PORT).kind) == ("robots", "ok")


def test_robots_disallow_reason_names_the_server_with_its_port(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    web.get("http://127.0.0.1:8123/robots.txt", body="User-agent: *\nDisallow: /\n")
    assert _ported_client(make_client).fetch(PORTED).reason == (
        f"disallowed by robots.txt of 127.0.0.1:8123: {PORTED}"
    )


def test_an_undeclared_port_of_a_declared_host_is_refused(
    web: responses.RequestsMock, make_client: MakeClient
) -> None:
    result = _ported_client(make_client, allowed_hosts=["127.0.0.1:8123"]).fetch(OTHER_PORT)
    assert (result.kind, result.reason, len(web.calls)) == (
        "refused",
        "refused host 127.0.0.1:8124: not among the declared sources' hosts",
        0,
    )


def test_a_bare_host_allows_both_default_ports(web: responses.RequestsMock, make_client: MakeClient) -> None:
    client = make_client()
    assert (
        client.allows("http://vov.vn/a"),
        client.allows("https://vov.vn/a"),
        client.allows("https://vov.vn:8443/a"),
    ) == (
        True,
        True,
        False,
    )


def test_politeness_is_kept_per_port_so_another_port_never_waits(
    web: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    store = MemoryPoliteness()
    for url in (PORTED, OTHER_PORT):
        web.get(url.split("/kinh-te")[0] + "/robots.txt", status=404)
        web.get(url, body="ok")
    client = _ported_client(make_client, politeness=store, default_delay=3.0)
    client.fetch(PORTED)
    client.fetch(OTHER_PORT)
    assert (store.next_allowed("127.0.0.1:8123"), store.next_allowed("127.0.0.1:8124"), clock.sleeps) == (
        T0 + 6.0,
        T0 + 9.0,
        [3.0, 3.0],
    )


def test_registry_allow_list_names_each_sources_server() -> None:
    raw = {
        "sources": [
            {"code": "a", "name": "A", "lang": "vi", "base_url": "https://vov.vn/"},
            {"code": "b", "name": "B", "lang": "vi", "base_url": "http://127.0.0.1:8123/"},
        ]
    }
    client = HttpClient.from_registry(parse_registry(raw), allow_private_hosts=True)
    assert client.allowed_hosts == frozenset({"vov.vn", "127.0.0.1:8123"})
