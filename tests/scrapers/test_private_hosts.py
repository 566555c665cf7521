"""Hosts that resolve to private, loopback or link-local addresses are refused, first request and redirects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from scrapers.http import HttpClient, default_resolver, is_public_address
from tests.localweb import LocalWeb

PUBLIC_LOOKING = "news.example"
PUBLIC_IP = "93.184.216.34"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.1", False),
        ("10.255.1.2", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("192.168.178.20", False),
        ("169.254.169.254", False),
        ("169.254.1.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:192.168.1.1", False),
        ("224.0.0.1", False),
        (PUBLIC_IP, True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_address_classifier(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.fixture(autouse=True)
def _private_hosts_not_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHISO_ALLOW_PRIVATE_HOSTS", raising=False)


@pytest.fixture
def localweb(tmp_path: Path) -> Iterator[LocalWeb]:
    """The local web, also serving a page for the name `localhost`."""
    (tmp_path / "localhost").mkdir()
    (tmp_path / "localhost" / "page.html").write_text("<html><body><p>local</p></body></html>\n")
    with LocalWeb(extra_dirs=(tmp_path,)) as web:
        yield web


def test_localhost_resolves_to_loopback() -> None:
    # The tests below rely on a real name resolving to 127.0.0.1 (or ::1): no patched resolution.
    assert default_resolver("localhost") and not any(
        is_public_address(a) for a in default_resolver("localhost")
    )


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "127.0.0.1"])
def test_first_request_to_a_loopback_name_is_refused_and_never_sent(localweb: LocalWeb, name: str) -> None:
    url = f"http://{name}:{localweb.port}/page.html"
    with HttpClient(allowed_hosts=[f"{name.lower()}:{localweb.port}"], default_delay=0.0) as client:
        result = client.fetch(url)
    assert (result.kind, result.ok, localweb.log.snapshot()) == ("refused", False, [])
    assert result.reason.startswith(f"refused host {name.lower()}: resolves to non-public address 127.0.0.1")
    assert "CHISO_ALLOW_PRIVATE_HOSTS=1" in result.reason


@pytest.mark.parametrize("how", ["option", "environment"])
def test_loopback_name_is_fetched_when_private_hosts_are_allowed(
    localweb: LocalWeb, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "environment":
        monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
    url = f"http://localhost:{localweb.port}/page.html"
    with HttpClient(
        allowed_hosts=[f"localhost:{localweb.port}"], default_delay=0.0, allow_private_hosts=how == "option"
    ) as client:
        result = client.fetch(url)
    assert (result.kind, result.text) == ("ok", "<html><body><p>local</p></body></html>\n")
    assert [r.path for r in localweb.requests_for("localhost")] == ["/robots.txt", "/page.html"]


class _Via(HTTPAdapter):
    """Sends one host's requests to the local web, as if that name's public address served them."""

    def __init__(self, host: str, target: str) -> None:
        super().__init__()
        self.host, self.target = host, target

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        if parts.hostname == self.host:
            request.url = urlunsplit(("http", self.target, parts.path, parts.query, ""))
            request.headers["Host"] = parts.netloc
        return super().send(request, *args, **kwargs)


def _redirecting_client(web: LocalWeb, *, allow_private_hosts: bool) -> HttpClient:
    session = requests.Session()
    session.mount(f"http://{PUBLIC_LOOKING}/", _Via(PUBLIC_LOOKING, f"127.0.0.1:{web.port}"))
    # The public-looking host "resolves" to a public address; every other name is resolved for real.
    return HttpClient(
        allowed_hosts=[PUBLIC_LOOKING, f"localhost:{web.port}"],
        default_delay=0.0,
        allow_private_hosts=allow_private_hosts,
        resolver=lambda host: [PUBLIC_IP] if host == PUBLIC_LOOKING else default_resolver(host),
        session=session,
    )


def test_redirect_to_a_loopback_name_is_refused_at_the_redirect(localweb: LocalWeb) -> None:
    target = f"http://localhost:{localweb.port}/page.html"
    localweb.fault(PUBLIC_LOOKING, "/story.html", "redirect_offlist", location=target)
    client = _redirecting_client(localweb, allow_private_hosts=False)
    try:
        result = client.fetch(f"http://{PUBLIC_LOOKING}/story.html")
    finally:
        client.close()
    assert (result.kind, result.final_url) == ("refused", target)
    assert result.reason.startswith("refused host localhost: resolves to non-public address 127.0.0.1")
    # The allowed host answered the redirect; the loopback name never got a request.
    assert [r.path for r in localweb.requests_for(PUBLIC_LOOKING)] == ["/robots.txt", "/story.html"]
    assert localweb.requests_for("localhost") == []


def test_the_same_redirect_is_followed_when_private_hosts_are_allowed(localweb: LocalWeb) -> None:
    # Guards the test above: the refusal is the address check, not the redirect or the routing.
    target = f"http://localhost:{localweb.port}/page.html"
    localweb.fault(PUBLIC_LOOKING, "/story.html", "redirect_offlist", location=target)
    client = _redirecting_client(localweb, allow_private_hosts=True)
    try:
        result = client.fetch(f"http://{PUBLIC_LOOKING}/story.html")
    finally:
        client.close()
    assert (result.kind, result.final_url) == ("ok", target)
    assert [r.path for r in localweb.requests_for("localhost")] == ["/robots.txt", "/page.html"]
