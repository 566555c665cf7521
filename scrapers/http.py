"""The polite HTTP client, the only module that touches the network: robots, delays, retries, limits, encodings."""

from __future__ import annotations

import ipaddress
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego

from scrapers.encoding import decode_body, is_textual
from scrapers.politeness import MemoryPoliteness, PolitenessStore
from scrapers.registry import DEFAULT_DELAY_SECONDS, DEFAULT_USER_AGENT, Registry, origin_of, server_of
from scrapers.state import Cached, ConditionalCache

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,*/*;q=0.8"
ROBOTS_MAX_BYTES = 512 * 1024
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DNS_TTL = 300.0

FetchKind = Literal[
    "ok",  # a 2xx body
    "not_modified",  # 304 on a conditional GET
    "http_error",  # a non-2xx status, after retries where retryable
    "network",  # timeout, reset, truncated body, DNS failure, after retries
    "robots",  # robots.txt disallows the URL (or robots.txt is unavailable: 5xx)
    "refused",  # not http(s), host not declared, private address
    "too_large",  # body over the size cap
    "redirect",  # too many redirects or a loop
    "retry_later",  # Retry-After or the host's delay is beyond the cap: try again at retry_at
]

Resolver = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class FetchResult:
    """Everything one fetch produced; never None and never an exception for network problems.

    `ok` means a 2xx body is here; `not_modified` means a 304 answered the conditional GET; anything else
    is a failure described by `kind` and the one-line `reason`. `status` is 0 when no response arrived.
    """

    url: str
    final_url: str
    status: int
    reason: str
    ok: bool
    not_modified: bool
    body: bytes
    text: str | None
    encoding: str | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    attempts: int
    elapsed: float
    kind: FetchKind = "ok"
    retry_at: datetime | None = None

    @property
    def failed(self) -> bool:
        """Neither a body nor a 304."""
        return not (self.ok or self.not_modified)


@dataclass(frozen=True)
class _Robots:
    parser: Protego | None
    disallow_all: bool
    expires: float
    reason: str


@dataclass
class _Exchange:
    """One request/response to one URL (no redirects followed)."""

    url: str
    status: int = 0
    headers: Mapping[str, str] | None = None
    body: bytes = b""
    kind: FetchKind = "ok"
    reason: str = ""
    retryable: bool = False
    retry_after: float | None = None


def default_resolver(host: str) -> list[str]:
    """The IP addresses a host name resolves to."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def env_allows_private_hosts() -> bool:
    """CHISO_ALLOW_PRIVATE_HOSTS=1 (tests and the demo talk to 127.0.0.1)."""
    return os.environ.get("CHISO_ALLOW_PRIVATE_HOSTS", "").strip().lower() in {"1", "true", "yes", "on"}


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None if absent/invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- the client ----------------------------------------------------------------------------------


class HttpClient:
    """A polite, bounded HTTP client for the declared sources' hosts.

    `clock` returns epoch seconds (politeness is persisted across processes), `sleep` waits, and `now` is the
    wall-clock datetime for HTTP dates (defaults to `clock` as a UTC datetime). `host_map` sends a real host
    to "127.0.0.1:PORT" over plain http, keeping the real Host header and per-host politeness.

    Everything is kept per server or origin, never per bare host name, so a site on any port works:
    `allowed_hosts` and `host_delays` name servers ("vov.vn" for ports 80/443, "127.0.0.1:8123" otherwise),
    politeness (and the host_state table) is keyed by server, and robots.txt is read and cached per origin
    (scheme, host, port), from that origin's own /robots.txt.
    """

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str],
        user_agent: str | None = None,
        host_delays: Mapping[str, float] | None = None,
        default_delay: float = DEFAULT_DELAY_SECONDS,
        allow_private_hosts: bool = False,
        host_map: Mapping[str, str] | None = None,
        politeness: PolitenessStore | None = None,
        cache: ConditionalCache | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
        resolver: Resolver = default_resolver,
        session: requests.Session | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        max_attempts: int = 4,
        backoff_base: float = 2.0,
        backoff_max: float = 120.0,
        retry_after_cap: float = 300.0,
        robots_ttl: float = 24 * 3600.0,
        robots_error_ttl: float = 900.0,
    ) -> None:
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.user_agent = user_agent or os.environ.get("CHISO_USER_AGENT", "").strip() or DEFAULT_USER_AGENT
        self.host_delays = {h.lower(): float(d) for h, d in (host_delays or {}).items()}
        self.default_delay = default_delay
        self.allow_private_hosts = allow_private_hosts or env_allows_private_hosts()
        self.host_map = {h.lower(): target for h, target in (host_map or {}).items()}
        self.politeness: PolitenessStore = politeness or MemoryPoliteness()
        # Validators and bodies of robots.txt, feeds and sitemaps; None: they are fetched unconditionally.
        self.cache = cache
        self._clock = clock
        self._sleep = sleep
        self._now = now or (lambda: datetime.fromtimestamp(self._clock(), UTC))
        self._rng = rng or random.Random()
        self._resolver = resolver
        # One connection pool per server (keep-alive per host); an injected session serves every server.
        self._session = session
        self._owns_session = session is None
        self._sessions: dict[str, requests.Session] = {}
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap
        self.robots_ttl = robots_ttl
        self.robots_error_ttl = robots_error_ttl
        self._robots: dict[str, _Robots] = {}
        self._dns: dict[str, tuple[float, list[str]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def from_registry(
        cls,
        registry: Registry,
        *,
        host_map: Mapping[str, str] | None = None,
        politeness: PolitenessStore | None = None,
        cache: ConditionalCache | None = None,
        **options: Any,
    ) -> HttpClient:
        """A client allowed on the registry's hosts, with its delays, User-Agent and private-host setting.

        `options` override any constructor argument (clock, sleep, allow_private_hosts, timeouts...).
        """
        settings: dict[str, Any] = {
            "allowed_hosts": registry.servers(),
            "user_agent": registry.user_agent,
            "host_delays": registry.host_delays(),
            "allow_private_hosts": registry.allow_private_hosts,
            "host_map": host_map,
            "politeness": politeness,
            "cache": cache,
        }
        settings.update(options)
        return cls(**settings)

    def close(self) -> None:
        """Close the underlying sessions if the client created them."""
        if self._owns_session:
            with self._locks_guard:
                sessions, self._sessions = list(self._sessions.values()), {}
            for session in sessions:
                session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The client's wall-clock time (the injected clock in tests)."""
        return self._now()

    def allows(self, url: str) -> bool:
        """Whether the URL's server (host, and port when not the default) is on the allow-list."""
        return server_of(url) in self.allowed_hosts

    def delay_for(self, server: str) -> float:
        """Seconds between two requests to the server: its configured delay or robots Crawl-delay, the larger."""
        server = server.lower()
        delay = self.host_delays.get(server, self.default_delay)
        crawl_delay = self._crawl_delay(server)
        if crawl_delay:
            delay = max(delay, crawl_delay)
        return delay

    def robots_allows(self, url: str) -> tuple[bool, str]:
        """Whether robots.txt lets us fetch the URL, and why not (fetching robots.txt when not cached)."""
        robots = self._robots_for(origin_of(url))
        if robots.disallow_all:
            return False, robots.reason
        if robots.parser is not None and not robots.parser.can_fetch(url, self.user_agent):
            return False, f"disallowed by robots.txt of {server_of(url)}"
        return True, ""

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = DEFAULT_ACCEPT,
    ) -> FetchResult:
        """GET the URL politely; conditional when validators are given. Never raises for network problems."""
        started = time.perf_counter()
        headers = {"Accept": accept, **_validators(etag, last_modified)}
        attempts = 0
        final_url = url
        exchange = _Exchange(url=url)
        retry_at: datetime | None = None
        while attempts < self.max_attempts:
            attempts += 1
            exchange, final_url = self._follow(url, headers, max_bytes=self.max_bytes, check_robots=True)
            if not exchange.retryable:
                break
            host = server_of(final_url)
            if exchange.retry_after is not None:
                if exchange.retry_after > self.retry_after_cap:
                    self._defer(host, exchange.retry_after)
                    retry_at = self._now_after(exchange.retry_after)
                    exchange.kind = "retry_later"
                    exchange.reason = (
                        f"{exchange.reason}; Retry-After {exchange.retry_after:.0f}s exceeds the "
                        f"{self.retry_after_cap:.0f}s cap, not before {retry_at.isoformat(timespec='seconds')}"
                    )
                    break
                wait = exchange.retry_after
            else:
                wait = self.backoff_wait(attempts)
            # Retry-After is the server's word for the host, so it holds after the last attempt too
            if attempts < self.max_attempts or exchange.retry_after is not None:
                self._defer(host, wait)
        return self._result(
            url,
            final_url,
            exchange,
            attempts=attempts,
            elapsed=time.perf_counter() - started,
            retry_at=retry_at,
        )

    def fetch_cached(self, url: str, *, accept: str = DEFAULT_ACCEPT) -> tuple[FetchResult, bytes | None]:
        """GET a discovery resource conditionally from the client's cache; the body is the cached one on a 304.

        The body is None when the fetch failed (or a 304 came without a cached body to go with it).
        """
        cached = self.cache.recall(url) if self.cache is not None else None
        result = self.fetch(
            url,
            etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
            accept=accept,
        )
        if result.not_modified:
            return result, cached.body if cached else None
        if result.ok and self.cache is not None and (result.etag or result.last_modified):
            self.cache.remember(
                url, Cached(etag=result.etag, last_modified=result.last_modified, body=result.body)
            )
        return result, result.body if result.ok else None

    def backoff_wait(self, attempt: int) -> float:
        """The wait after failed attempt n (1-based): base * 2**(n-1), capped, with equal jitter in [w/2, w]."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    # -- internals --------------------------------------------------------------------------------

    def _now_after(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(self._clock() + seconds, UTC)

    def _lock(self, table: dict[str, threading.Lock], host: str) -> threading.Lock:
        with self._locks_guard:
            lock = table.get(host)
            if lock is None:
                lock = table[host] = threading.Lock()
            return lock

    def _crawl_delay(self, server: str) -> float | None:
        """The largest robots Crawl-delay cached for the server's origins (http and https)."""
        delays = []
        for scheme in ("https", "http"):
            robots = self._robots.get(f"{scheme}://{server}")
            if robots is not None and robots.parser is not None:
                value = robots.parser.crawl_delay(self.user_agent)
                if value:
                    delays.append(float(value))
        return max(delays) if delays else None

    def _defer(self, server: str, seconds: float) -> None:
        """Push the server's next allowed time to at least now + seconds."""
        target = self._clock() + seconds
        current = self.politeness.next_allowed(server)
        if current is None or current < target:
            self.politeness.record(server, next_allowed=target, crawl_delay=self._crawl_delay(server))

    def _check_target(self, url: str) -> str | None:
        """Why the URL may not be requested at all, or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"refused {parts.scheme or 'scheme-less'} URL {url}: only http and https"
        host = (parts.hostname or "").lower()
        if not host:
            return f"refused URL without a host: {url}"
        server = server_of(url)
        if server not in self.allowed_hosts:
            return f"refused host {server}: not among the declared sources' hosts"
        if self.allow_private_hosts:
            return None
        target_host = self.host_map[host].rsplit(":", 1)[0] if host in self.host_map else host
        try:
            addresses = self._resolve(target_host)
        except (OSError, UnicodeError) as exc:
            return f"cannot resolve {host}: {exc}"
        if not addresses:
            return f"cannot resolve {host}: no address"
        for address in addresses:
            try:
                public = is_public_address(address)
            except ValueError:
                public = False
            if not public:
                return (
                    f"refused host {host}: resolves to non-public address {address} "
                    "(set CHISO_ALLOW_PRIVATE_HOSTS=1 or allow_private_hosts: true to allow)"
                )
        return None

    def _resolve(self, host: str) -> Sequence[str]:
        now = self._clock()
        cached = self._dns.get(host)
        if cached is not None and cached[0] > now:
            return cached[1]
        addresses = list(self._resolver(host))
        self._dns[host] = (now + DNS_TTL, addresses)
        return addresses

    def _route(self, url: str) -> tuple[str, dict[str, str]]:
        """The URL actually requested and the extra headers, after the host map."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        target = self.host_map.get(host)
        if target is None:
            return url, {}
        return urlunsplit(("http", target, parts.path or "/", parts.query, "")), {"Host": host}

    def _follow(
        self, url: str, headers: Mapping[str, str], *, max_bytes: int, check_robots: bool
    ) -> tuple[_Exchange, str]:
        """Request the URL and follow up to max_redirects redirects, checking every hop."""
        seen: set[str] = set()
        current = url
        for hop in range(self.max_redirects + 1):
            refusal = self._check_target(current)
            if refusal:
                return _Exchange(url=current, kind="refused", reason=refusal), current
            if check_robots:
                allowed, why = self.robots_allows(current)
                if not allowed:
                    return _Exchange(url=current, kind="robots", reason=f"{why}: {current}"), current
            seen.add(current)
            exchange = self._exchange(current, headers, max_bytes=max_bytes)
            if exchange.status not in REDIRECT_STATUSES:
                return exchange, current
            location = (exchange.headers or {}).get("Location")
            if not location:
                exchange.kind = "http_error"
                exchange.reason = f"HTTP {exchange.status} redirect without a Location header"
                return exchange, current
            following = urljoin(current, location.strip())
            following = urlunsplit(urlsplit(following)._replace(fragment=""))
            if following in seen:
                exchange.kind = "redirect"
                exchange.reason = f"redirect loop at {following} after {hop + 1} redirects"
                return exchange, current
            current = following
        return (
            _Exchange(
                url=current,
                status=exchange.status,
                kind="redirect",
                reason=f"more than {self.max_redirects} redirects (last to {current})",
            ),
            current,
        )

    def _exchange(self, url: str, headers: Mapping[str, str], *, max_bytes: int) -> _Exchange:
        """One polite request: wait for the server's turn, send, stream the body under the cap."""
        host = server_of(url)
        target, extra = self._route(url)
        request_headers = {"User-Agent": self.user_agent, **headers, **extra}
        # The host's turn: this process's threads, then other processes sharing the store, one at a time.
        with self._lock(self._locks, host), self.politeness.exclusive(host):
            next_allowed = self.politeness.next_allowed(host)
            wait = 0.0 if next_allowed is None else next_allowed - self._clock()
            if wait > self.retry_after_cap:
                at = datetime.fromtimestamp(next_allowed or 0.0, UTC)
                return _Exchange(
                    url=url,
                    kind="retry_later",
                    reason=f"{host} asked us to wait until {at.isoformat(timespec='seconds')}",
                )
            if wait > 0:
                self._sleep(wait)
            exchange: _Exchange | None = None
            try:
                exchange = self._send(url, target, request_headers, max_bytes=max_bytes)
                return exchange
            finally:
                # The host's delay runs from the end of this request (a Retry-After holds it longer), and is
                # recorded before the turn is released: whoever asks next, in any process, reads it.
                hold = exchange.retry_after if exchange is not None and exchange.retry_after else 0.0
                self._defer(host, max(self.delay_for(host), hold))

    def _session_for(self, server: str) -> requests.Session:
        if self._session is not None:
            return self._session
        with self._locks_guard:
            session = self._sessions.get(server)
            if session is None:
                session = self._sessions[server] = requests.Session()
            return session

    def _send(self, url: str, target: str, headers: Mapping[str, str], *, max_bytes: int) -> _Exchange:
        try:
            response = self._session_for(server_of(url)).get(
                target, headers=dict(headers), stream=True, allow_redirects=False, timeout=self.timeout
            )
        except requests.exceptions.Timeout as exc:
            return _Exchange(url=url, kind="network", retryable=True, reason=f"timeout: {_short(exc)}")
        except requests.exceptions.ConnectionError as exc:
            return _Exchange(
                url=url, kind="network", retryable=True, reason=f"connection failed: {_short(exc)}"
            )
        except requests.exceptions.RequestException as exc:
            return _Exchange(url=url, kind="network", reason=f"request failed: {_short(exc)}")
        with response:
            exchange = _Exchange(url=url, status=response.status_code, headers=response.headers)
            status = response.status_code
            if status in REDIRECT_STATUSES or status == 304:
                return exchange
            if status in RETRYABLE_STATUSES:
                exchange.kind = "http_error"
                exchange.retryable = True
                exchange.reason = f"HTTP {status} {response.reason or ''}".strip()
                exchange.retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._now())
                return exchange
            if not 200 <= status < 300:
                exchange.kind = "http_error"
                exchange.reason = f"HTTP {status} {response.reason or ''}".strip()
                return exchange
            declared = response.headers.get("Content-Length", "").strip()
            if declared.isdigit() and int(declared) > max_bytes:
                exchange.kind = "too_large"
                exchange.reason = f"Content-Length {declared} exceeds the {max_bytes}-byte cap"
                return exchange
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=16384):
                    size += len(chunk)
                    if size > max_bytes:
                        exchange.kind = "too_large"
                        exchange.reason = f"body exceeds the {max_bytes}-byte cap"
                        return exchange
                    chunks.append(chunk)
            except requests.exceptions.Timeout as exc:
                exchange.kind, exchange.retryable = "network", True
                exchange.reason = f"timeout while reading the body: {_short(exc)}"
                return exchange
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
                exchange.kind, exchange.retryable = "network", True
                exchange.reason = f"{_body_break(exc)}: {_short(exc)}"
                return exchange
            except requests.exceptions.ContentDecodingError as exc:
                exchange.kind, exchange.retryable = "network", True
                exchange.reason = f"corrupt compressed body: {_short(exc)}"
                return exchange
            exchange.body = b"".join(chunks)
            exchange.reason = f"HTTP {status} {response.reason or ''}".strip()
            return exchange

    def _robots_for(self, origin: str) -> _Robots:
        host = server_of(origin)
        with self._lock(self._robots_locks, origin):
            cached = self._robots.get(origin)
            if cached is not None and cached.expires > self._clock():
                return cached
            robots_url = f"{origin}/robots.txt"
            headers = {"Accept": "text/plain,*/*;q=0.5"}
            remembered = self.cache.recall(robots_url) if self.cache is not None else None
            if remembered is not None:
                headers.update(_validators(remembered.etag, remembered.last_modified))
            exchange = self._robots_exchange(robots_url, headers)
            if exchange.kind == "ok" and exchange.status == 304 and remembered is not None:
                exchange.status, exchange.body = 200, remembered.body
            elif exchange.kind == "ok" and 200 <= exchange.status < 300 and self.cache is not None:
                etag, modified = (
                    (exchange.headers or {}).get("ETag"),
                    (exchange.headers or {}).get("Last-Modified"),
                )
                if etag or modified:
                    self.cache.remember(
                        robots_url, Cached(etag=etag, last_modified=modified, body=exchange.body)
                    )
            now = self._clock()
            if exchange.kind == "ok" and 200 <= exchange.status < 300:
                text, _encoding = decode_body(exchange.body, content_type=None)
                entry = _Robots(Protego.parse(text), False, now + self.robots_ttl, "")
            elif exchange.kind == "too_large":
                # Google reads the first 500 KiB of an oversized robots.txt; the rest is ignored.
                entry = _Robots(Protego.parse(""), False, now + self.robots_ttl, "")
            elif 400 <= exchange.status < 500 and exchange.status != 429:
                entry = _Robots(None, False, now + self.robots_ttl, "")
            elif exchange.kind in ("refused", "redirect"):
                # robots.txt that redirects off-list or loops is treated as absent (RFC 9309 §2.3.1.2).
                entry = _Robots(None, False, now + self.robots_ttl, "")
            else:
                why = exchange.reason or f"HTTP {exchange.status}"
                entry = _Robots(
                    None, True, now + self.robots_error_ttl, f"robots.txt of {host} unavailable ({why})"
                )
            self._robots[origin] = entry
            if entry.parser is not None and entry.parser.crawl_delay(self.user_agent):
                self._defer(host, self.delay_for(host))
            return entry

    def _robots_exchange(self, robots_url: str, headers: Mapping[str, str]) -> _Exchange:
        """GET robots.txt, retrying a reset, timeout, 5xx or 429 as fetch() does a page.

        Unretried, one blip would close the whole host for `robots_error_ttl`.
        """
        host = server_of(robots_url)
        exchange, _ = self._follow(robots_url, headers, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)
        for attempt in range(1, self.max_attempts):
            if not exchange.retryable:
                break
            wait = exchange.retry_after if exchange.retry_after is not None else self.backoff_wait(attempt)
            if wait > self.retry_after_cap:
                break
            self._defer(host, wait)
            exchange, _ = self._follow(robots_url, headers, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)
        return exchange

    def _result(
        self,
        url: str,
        final_url: str,
        exchange: _Exchange,
        *,
        attempts: int,
        elapsed: float,
        retry_at: datetime | None,
    ) -> FetchResult:
        headers = exchange.headers or {}
        content_type = headers.get("Content-Type")
        ok = exchange.kind == "ok" and 200 <= exchange.status < 300
        not_modified = exchange.kind == "ok" and exchange.status == 304
        text: str | None = None
        encoding: str | None = None
        if ok and is_textual(content_type, exchange.body):
            text, encoding = decode_body(exchange.body, content_type=content_type)
        kind: FetchKind = exchange.kind
        reason = exchange.reason
        if not_modified:
            kind, reason = "not_modified", "HTTP 304 Not Modified"
        elif exchange.kind == "ok" and not ok:
            kind, reason = "http_error", f"HTTP {exchange.status}"
        if exchange.retryable and attempts > 1 and kind != "retry_later":
            reason = f"{reason} (after {attempts} attempts)"
        return FetchResult(
            url=url,
            final_url=final_url,
            status=exchange.status,
            reason=" ".join(reason.split()),
            ok=ok,
            not_modified=not_modified,
            body=exchange.body if ok else b"",
            text=text,
            encoding=encoding,
            content_type=content_type,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            fetched_at=self._now(),
            attempts=attempts,
            elapsed=elapsed,
            kind=kind,
            retry_at=retry_at,
        )


def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The conditional-request headers for these validators."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _body_break(exc: BaseException) -> str:
    """Name how a body broke off: urllib3 says IncompleteRead when it ended before its Content-Length."""
    text = str(exc)
    if "IncompleteRead" in text or "ended prematurely" in text:
        return "truncated body"
    return "connection broken while reading the body"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
