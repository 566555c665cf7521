"""Scraper test helpers: a fake clock whose sleep only records and advances time, and client factories."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses

from scrapers.http import HttpClient

T0 = 1_763_700_000.0  # 2025-11-21T04:40:00Z, an arbitrary fixed epoch
PUBLIC_IP = "93.184.216.34"
HOSTS = ("vov.vn", "vovworld.vn", "baobinhduong.vn", "www.intelligentcommunity.org")
UA = "chiso-test/1.0 (+https://example.org/chiso)"


@dataclass
class FakeClock:
    """Epoch seconds that move only when the code under test sleeps; every sleep is recorded."""

    now: float = T0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., HttpClient]]:
    """Build clients on the fake clock, public DNS answers, no jitter randomness across runs."""
    made: list[HttpClient] = []

    def build(**overrides: Any) -> HttpClient:
        options: dict[str, Any] = {
            "allowed_hosts": HOSTS,
            "user_agent": UA,
            "default_delay": 3.0,
            "clock": clock,
            "sleep": clock.sleep,
            "rng": random.Random(7),
            "resolver": lambda host: [PUBLIC_IP],
        }
        options.update(overrides)
        client = HttpClient(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def web() -> Iterator[responses.RequestsMock]:
    """`responses` mock where every host answers robots.txt with 404 (allow all) unless a test overrides it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def no_robots(mock: responses.RequestsMock, *hosts: str) -> None:
    """robots.txt is absent (404) on these hosts: everything allowed."""
    for host in hosts or HOSTS:
        mock.get(f"https://{host}/robots.txt", status=404)


def robots(mock: responses.RequestsMock, host: str, body: str) -> None:
    mock.get(f"https://{host}/robots.txt", body=body, content_type="text/plain")


def page_requests(mock: responses.RequestsMock) -> list[str]:
    """URLs requested, robots.txt excluded."""
    return [c.request.url for c in mock.calls if not c.request.url.endswith("/robots.txt")]
