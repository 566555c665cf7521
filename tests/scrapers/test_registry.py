"""The sources registry: loading, validation errors naming file and key, overrides, and completeness
(every source has sample pages, a test module and a README row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scrapers.registry import (
    DEFAULT_SOURCES_PATH,
    Link,
    RegistryError,
    load_registry,
    origin_of,
    parse_registry,
    server_of,
)
from tests.localweb.server import SITES_DIR

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (
    "vov",
    "vovworld",
    "baobinhduong",
    "vietnamplus",
    "vietnamplus_en",
    "vietnamplus_fr",
    "nhandan",
    "nhandan_en",
    "vnexpress",
    "tuoitre",
    "thanhnien",
    "icf",
)
REGISTRY = load_registry(DEFAULT_SOURCES_PATH)


def _minimal(**source: Any) -> dict[str, Any]:
    entry = {"code": "demo", "name": "Demo", "lang": "vi", "base_url": "https://demo.example.vn/", **source}
    return {"sources": [entry]}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- the shipped file ------------------------------------------------------------------------------


def test_shipped_sources_in_order() -> None:
    assert REGISTRY.codes() == SHIPPED


def test_shipped_file_is_not_private_by_default() -> None:
    assert REGISTRY.allow_private_hosts is False


def test_shipped_user_agent_has_a_contact_url() -> None:
    assert "+https://" in REGISTRY.user_agent


def test_links_are_typed_with_their_verified_flag() -> None:
    assert REGISTRY.get("vov").feeds == (Link(url="https://vov.vn/rss/kinh-te.rss", verified=False),)


def test_hosts_cover_base_urls_and_every_link() -> None:
    assert REGISTRY.get("vovworld").hosts == frozenset({"vovworld.vn"})
    assert len(REGISTRY.hosts()) == 12


def test_get_unknown_code_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown source 'nope' \\(known: vov, vovworld"):
        REGISTRY.get("nope")


def test_source_for_url_prefers_the_base_host() -> None:
    source = REGISTRY.source_for_url("https://en.vietnamplus.vn/x-post1.vnp")
    assert source is not None and source.code == "vietnamplus_en"


def test_with_delay_changes_every_source() -> None:
    assert {s.delay_seconds for s in REGISTRY.with_delay(0.25).sources} == {0.25}


def test_icf_uses_its_parser_module() -> None:
    assert REGISTRY.get("icf").parser == "icf"


# --- completeness: adding a source is one entry, one fixture, one test, one README row --------------


@pytest.mark.parametrize("code", REGISTRY.codes())
def test_every_source_has_sample_pages(code: str) -> None:
    source = REGISTRY.get(code)
    local = SITES_DIR / source.host
    own = ROOT / "tests" / "scrapers" / "fixtures" / code
    pages = [
        p
        for d in (local, own)
        if d.is_dir()
        for p in d.rglob("*")
        if p.suffix in (".html", ".htm", ".vov", ".vnp")
    ]
    assert pages, f"source {code}: no sample pages under {local} or {own}"


@pytest.mark.parametrize("code", REGISTRY.codes())
def test_every_source_has_a_test_module(code: str) -> None:
    module = ROOT / "tests" / "scrapers" / f"test_{code}.py"
    assert module.is_file(), f"source {code}: missing {module.relative_to(ROOT)}"


@pytest.mark.parametrize("code", REGISTRY.codes())
def test_every_source_has_a_readme_row(code: str) -> None:
    readme = ROOT / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines() if readme.is_file() else []
    assert any(line.startswith(f"| {code} |") for line in lines), (
        f"source {code}: no '| {code} |' row in README.md"
    )


# --- environment and path selection -----------------------------------------------------------------


def test_chiso_sources_selects_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_SOURCES", str(_write(tmp_path, _minimal())))
    assert load_registry().codes() == ("demo",)


def test_explicit_path_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_SOURCES", str(tmp_path / "absent.yaml"))
    assert load_registry(DEFAULT_SOURCES_PATH).codes() == SHIPPED


def test_environment_allows_private_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
    assert load_registry(DEFAULT_SOURCES_PATH).allow_private_hosts is True


def test_file_allows_private_hosts(tmp_path: Path) -> None:
    assert load_registry(_write(tmp_path, {**_minimal(), "allow_private_hosts": True})).allow_private_hosts


def test_environment_user_agent_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_USER_AGENT", "chiso-ops/2 (+https://ops.example.org)")
    assert load_registry(DEFAULT_SOURCES_PATH).user_agent == "chiso-ops/2 (+https://ops.example.org)"


def test_defaults_for_optional_keys(tmp_path: Path) -> None:
    source = load_registry(_write(tmp_path, _minimal())).get("demo")
    assert (source.feeds, source.topics, source.delay_seconds, dict(source.selectors), source.parser) == (
        (),
        (),
        3.0,
        {},
        None,
    )


def test_plain_string_links_are_accepted_as_unverified() -> None:
    registry = parse_registry(_minimal(feeds=["https://demo.example.vn/rss.xml"]))
    assert registry.get("demo").feeds == (Link("https://demo.example.vn/rss.xml", False),)


# --- validation: one line naming the file and the key -----------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sources": []}, "sources: expected a non-empty list of sources"),
        ({"source": []}, "source: unknown key"),
        (_minimal(feed=[]), "sources[0] (demo).feed: unknown key"),
        (
            {"sources": [{"name": "x", "lang": "vi", "base_url": "https://x.vn/"}]},
            "sources[0].code: required",
        ),
        (_minimal(code="Bad-Code"), "sources[0] (Bad-Code).code: lowercase letters"),
        (_minimal(lang="de"), "sources[0] (demo).lang: 'de' is not one of en, fr, vi"),
        (_minimal(base_url="ftp://x.vn/"), "sources[0] (demo).base_url: 'ftp://x.vn/' is not an http(s) URL"),
        (_minimal(feeds=[{"url": "nope"}]), "sources[0] (demo).feeds[0].url: 'nope' is not an http(s) URL"),
        (
            _minimal(feeds=[{"url": "https://x.vn/r", "ok": True}]),
            "sources[0] (demo).feeds[0].ok: unknown key",
        ),
        (
            _minimal(sitemaps=[{"url": "https://x.vn/s", "verified": True}]),
            "sitemaps[0].verified: expected false or a string naming what it was checked against",
        ),
        (_minimal(delay_seconds=-1), "sources[0] (demo).delay_seconds: expected a number of seconds >= 0"),
        (_minimal(selectors={"author": "span"}), "sources[0] (demo).selectors.author: unknown selector"),
        (_minimal(parser="nope"), "sources[0] (demo).parser: no module scrapers/parsers/nope.py"),
        (_minimal(topics="FDI"), "sources[0] (demo).topics: expected a list of keywords"),
        ({**_minimal(), "allow_private_hosts": "yes"}, "allow_private_hosts: expected true or false"),
    ],
)
def test_invalid_entries_raise_one_line_naming_file_and_key(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    text = str(info.value)
    assert (text.startswith(f"{path}: "), message in text, "\n" in text) == (True, True, False)


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    entry = _minimal()["sources"][0]
    with pytest.raises(RegistryError, match=r"sources\[1\]\.code: duplicate source code 'demo'"):
        load_registry(_write(tmp_path, {"sources": [entry, entry]}))


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"absent\.yaml: sources file not found"):
        load_registry(tmp_path / "absent.yaml")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - code: [unclosed\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"sources.yaml: invalid YAML at line \d+"):
        load_registry(path)


@pytest.mark.parametrize(
    ("url", "server", "origin"),
    [
        ("https://vov.vn/a", "vov.vn", "https://vov.vn"),
        ("http://vov.vn:80/a", "vov.vn", "http://vov.vn"),
        ("https://VOV.vn:443/a", "vov.vn", "https://vov.vn"),
        ("http://127.0.0.1:8123/a", "127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("https://vov.vn:80/a", "vov.vn:80", "https://vov.vn:80"),
        ("http://[::1]:8000/a", "[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_server_and_origin_keep_a_non_default_port(url: str, server: str, origin: str) -> None:
    assert (server_of(url), origin_of(url)) == (server, origin)


def test_source_for_url_tells_two_ports_of_one_host_apart() -> None:
    raw = {
        "sources": [
            {"code": "a", "name": "A", "lang": "vi", "base_url": "http://127.0.0.1:8001/"},
            {"code": "b", "name": "B", "lang": "vi", "base_url": "http://127.0.0.1:8002/"},
        ]
    }
    registry = parse_registry(raw)
    assert [registry.source_for_url(f"http://127.0.0.1:{p}/x").code for p in (8001, 8002)] == ["a", "b"]  # type: ignore[union-attr]
