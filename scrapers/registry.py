"""The sources registry: scrapers/sources.yaml (or --sources / CHISO_SOURCES) as typed, validated entries."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_SOURCES_PATH = Path(__file__).with_name("sources.yaml")
DEFAULT_USER_AGENT = "chiso/0.1 (smart-city indicators research crawler; +https://example.org/chiso-operator)"
DEFAULT_DELAY_SECONDS = 3.0
LANGS = frozenset({"vi", "en", "fr"})
SELECTOR_KEYS = frozenset({"title", "lead", "body", "published", "drop"})

_TOP_KEYS = frozenset({"allow_private_hosts", "user_agent", "sources"})
_SOURCE_KEYS = frozenset(
    {
        "code",
        "name",
        "lang",
        "base_url",
        "feeds",
        "sitemaps",
        "listings",
        "topics",
        "delay_seconds",
        "selectors",
        "parser",
        "verified",
    }
)
_REQUIRED_SOURCE_KEYS = ("code", "name", "lang", "base_url")
DEFAULT_PORTS = {"http": 80, "https": 443}
_LINK_KEYS = frozenset({"url", "verified"})
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE = frozenset({"1", "true", "yes", "on"})


class RegistryError(ValueError):
    """The sources file is missing or invalid; the message is one line naming the file and the key."""


class UnknownSourceError(KeyError):
    """A source code the registry does not hold; the message names the known codes."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Link:
    """A feed, sitemap or listing URL, and what real evidence it was checked against (False: nothing)."""

    url: str
    verified: str | bool = False


@dataclass(frozen=True)
class Source:
    """One configured site: where to discover its articles and how to read them."""

    code: str
    name: str
    lang: str
    base_url: str
    feeds: tuple[Link, ...] = ()
    sitemaps: tuple[Link, ...] = ()
    listings: tuple[Link, ...] = ()
    topics: tuple[str, ...] = ()
    delay_seconds: float = DEFAULT_DELAY_SECONDS
    selectors: Mapping[str, str] = field(default_factory=dict)
    parser: str | None = None
    # What the article markup (selectors or parser) was checked against, e.g. "2025-10-22 capture"; False: nothing.
    verified: str | bool = False

    @property
    def host(self) -> str:
        """The host of the base URL."""
        return _host(self.base_url)

    @property
    def hosts(self) -> frozenset[str]:
        """Every host this source's URLs live on (base URL, feeds, sitemaps, listings)."""
        links = (*self.feeds, *self.sitemaps, *self.listings)
        return frozenset({self.host, *(_host(link.url) for link in links)})

    @property
    def servers(self) -> frozenset[str]:
        """Every server (host, plus the port when not the scheme's default) this source's URLs live on."""
        links = (*self.feeds, *self.sitemaps, *self.listings)
        return frozenset({server_of(self.base_url), *(server_of(link.url) for link in links)})


@dataclass(frozen=True)
class Registry:
    """All configured sources plus the crawl-wide settings of the sources file."""

    sources: tuple[Source, ...]
    allow_private_hosts: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    path: Path | None = None

    def get(self, code: str) -> Source:
        """The source with this code; UnknownSourceError names the known codes."""
        for source in self.sources:
            if source.code == code:
                return source
        known = ", ".join(s.code for s in self.sources)
        raise UnknownSourceError(f"unknown source {code!r} (known: {known})")

    def select(self, codes: Sequence[str] | None) -> list[Source]:
        """The sources with these codes, in the order given (all sources when `codes` is empty)."""
        return [self.get(code) for code in codes] if codes else list(self.sources)

    def codes(self) -> tuple[str, ...]:
        """The source codes in file order."""
        return tuple(s.code for s in self.sources)

    def hosts(self) -> frozenset[str]:
        """Every host name of every source."""
        return frozenset().union(*(s.hosts for s in self.sources)) if self.sources else frozenset()

    def servers(self) -> frozenset[str]:
        """Every server (host[:port]) of every source: the client's allow-list."""
        return frozenset().union(*(s.servers for s in self.sources)) if self.sources else frozenset()

    def host_delays(self) -> dict[str, float]:
        """The delay between two requests to each server (the largest when sources share one)."""
        delays: dict[str, float] = {}
        for source in self.sources:
            for server in source.servers:
                delays[server] = max(delays.get(server, 0.0), source.delay_seconds)
        return delays

    def source_for_url(self, url: str) -> Source | None:
        """The source whose servers include the URL's, preferring the one whose base URL is on it."""
        server = server_of(url)
        owners = [s for s in self.sources if server in s.servers]
        for source in owners:
            if server_of(source.base_url) == server:
                return source
        return owners[0] if owners else None

    def with_delay(self, seconds: float) -> Registry:
        """The same registry with every source's delay set to `seconds` (tests and the demo)."""
        return replace(self, sources=tuple(replace(s, delay_seconds=seconds) for s in self.sources))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def server_of(url: str) -> str:
    """The URL's server: its host, with ":port" when the port is not the scheme's default (80, 443).

    http and https on the default ports are one server (a site redirecting http to https is one
    machine to be polite to); a site on another port is another server.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def origin_of(url: str) -> str:
    """The URL's origin as RFC 9309 keys robots.txt: scheme://host[:port] (default port left out)."""
    return f"{urlsplit(url).scheme.lower()}://{server_of(url)}"


def sources_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The sources file to use: explicit, else CHISO_SOURCES, else the shipped scrapers/sources.yaml."""
    chosen = path or os.environ.get("CHISO_SOURCES")
    return Path(chosen) if chosen else DEFAULT_SOURCES_PATH


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """Load and validate the sources file; CHISO_USER_AGENT and CHISO_ALLOW_PRIVATE_HOSTS=1 override it."""
    file = sources_path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{file}: sources file not found") from None
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the sources file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RegistryError(f"{file}: invalid YAML{where}: {problem}") from None
    registry = parse_registry(raw, file=file)
    env_ua = os.environ.get("CHISO_USER_AGENT", "").strip()
    env_private = os.environ.get("CHISO_ALLOW_PRIVATE_HOSTS", "").strip().lower() in _TRUE
    return replace(
        registry,
        user_agent=env_ua or registry.user_agent,
        allow_private_hosts=registry.allow_private_hosts or env_private,
    )


def parse_registry(raw: Any, *, file: Path | str = "<sources>") -> Registry:
    """Validate already-loaded YAML data into a Registry (no environment overrides)."""

    def fail(where: str, problem: str) -> RegistryError:
        return RegistryError(f"{file}: {where}: {problem}")

    if not isinstance(raw, dict):
        raise fail("top level", "expected a mapping with a 'sources' list")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (expected one of {', '.join(sorted(_TOP_KEYS))})")
    allow_private = raw.get("allow_private_hosts", False)
    if not isinstance(allow_private, bool):
        raise fail("allow_private_hosts", "expected true or false")
    user_agent = raw.get("user_agent") or DEFAULT_USER_AGENT
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise fail("user_agent", "expected a non-empty string")
    entries = raw.get("sources")
    if not isinstance(entries, list) or not entries:
        raise fail("sources", "expected a non-empty list of sources")

    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        source = _parse_source(entry, where=f"sources[{index}]", fail=fail)
        if source.code in seen:
            raise fail(f"sources[{index}].code", f"duplicate source code {source.code!r}")
        seen.add(source.code)
        sources.append(source)
    return Registry(
        sources=tuple(sources),
        allow_private_hosts=allow_private,
        user_agent=user_agent.strip(),
        path=Path(file) if not isinstance(file, Path) else file,
    )


def _parse_source(entry: Any, *, where: str, fail: Any) -> Source:
    if not isinstance(entry, dict):
        raise fail(where, "expected a mapping")
    if isinstance(entry.get("code"), str):
        where = f"{where} ({entry['code']})"
    unknown = sorted(set(entry) - _SOURCE_KEYS)
    if unknown:
        raise fail(f"{where}.{unknown[0]}", "unknown key")
    for key in _REQUIRED_SOURCE_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}.{key}", "required, a non-empty string")
    code = entry["code"].strip()
    if not _CODE_RE.match(code):
        raise fail(f"{where}.code", "lowercase letters, digits and underscores, starting with a letter")
    lang = entry["lang"].strip()
    if lang not in LANGS:
        raise fail(f"{where}.lang", f"{lang!r} is not one of {', '.join(sorted(LANGS))}")
    base_url = entry["base_url"].strip()
    if not _is_http_url(base_url):
        raise fail(f"{where}.base_url", f"{base_url!r} is not an http(s) URL")

    links: dict[str, tuple[Link, ...]] = {}
    for key in ("feeds", "sitemaps", "listings"):
        links[key] = _parse_links(entry.get(key), where=f"{where}.{key}", fail=fail)

    topics = entry.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str | int) for t in topics):
        raise fail(f"{where}.topics", "expected a list of keywords")

    delay = entry.get("delay_seconds", DEFAULT_DELAY_SECONDS)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise fail(f"{where}.delay_seconds", "expected a number of seconds >= 0")

    selectors = entry.get("selectors") or {}
    if not isinstance(selectors, dict):
        raise fail(
            f"{where}.selectors", "expected a mapping of title/lead/body/published/drop to CSS selectors"
        )
    for key, value in selectors.items():
        if key not in SELECTOR_KEYS:
            raise fail(
                f"{where}.selectors.{key}", f"unknown selector (expected {', '.join(sorted(SELECTOR_KEYS))})"
            )
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}.selectors.{key}", "expected a CSS selector string")

    parser = entry.get("parser")
    if parser is not None:
        if not isinstance(parser, str) or not _CODE_RE.match(parser):
            raise fail(f"{where}.parser", "expected a module name under scrapers/parsers")
        if importlib.util.find_spec(f"scrapers.parsers.{parser}") is None:
            raise fail(f"{where}.parser", f"no module scrapers/parsers/{parser}.py")

    return Source(
        code=code,
        name=entry["name"].strip(),
        lang=lang,
        base_url=base_url,
        feeds=links["feeds"],
        sitemaps=links["sitemaps"],
        listings=links["listings"],
        topics=tuple(str(t).strip() for t in topics if str(t).strip()),
        delay_seconds=float(delay),
        selectors={k: v.strip() for k, v in selectors.items()},
        parser=parser,
        verified=_verified(entry.get("verified", False), f"{where}.verified", fail),
    )


def _parse_links(value: Any, *, where: str, fail: Any) -> tuple[Link, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail(where, "expected a list of {url, verified} entries")
    links: list[Link] = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise fail(at, "expected a mapping {url, verified}")
        unknown = sorted(set(item) - _LINK_KEYS)
        if unknown:
            raise fail(f"{at}.{unknown[0]}", "unknown key (expected url, verified)")
        url = item.get("url")
        if not isinstance(url, str) or not _is_http_url(url.strip()):
            raise fail(f"{at}.url", f"{url!r} is not an http(s) URL")
        links.append(
            Link(url=url.strip(), verified=_verified(item.get("verified", False), f"{at}.verified", fail))
        )
    return tuple(links)


def _verified(value: Any, where: str, fail: Any) -> str | bool:
    """False, or a non-empty string naming what real page or file the entry was checked against."""
    if value is False:
        return False
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise fail(where, "expected false or a string naming what it was checked against")


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
