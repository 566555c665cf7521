"""The weekly source check: a source whose markup changed under it emits one chiso.source.degraded event
naming its problems; healthy sources emit none."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from flows.check_sources import check_and_report
from flows.errors import ChisoError
from scrapers.registry import Registry, load_registry
from tests.localweb import SITES_DIR, LocalWeb

Events = list[tuple[str, str, dict[str, Any]]]


@pytest.fixture
def broken_web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    """The sample web with VnExpress redesigned: its article, title and lead classes renamed."""
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR, sites)
    for page in (sites / "vnexpress.net").glob("*.html"):
        text = page.read_text(encoding="utf-8").replace("fck_detail", "story-body")
        page.write_text(text.replace("title-detail", "story-title"), encoding="utf-8")
    with LocalWeb(sites_dir=sites) as web:
        monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
        monkeypatch.setenv("CHISO_HOST_MAP", ",".join(f"{h}={a}" for h, a in web.host_map().items()))
        yield web


@pytest.fixture
def registry() -> Registry:
    return replace(load_registry(), allow_private_hosts=True).with_delay(0.0)


def test_a_degraded_source_emits_one_event_with_its_problems(
    broken_web: LocalWeb, registry: Registry, recorded_events: Events
) -> None:
    check_and_report(registry, ["vnexpress", "tuoitre"], articles=2)
    assert [(event, resource, payload["problems"]) for event, resource, payload in recorded_events] == [
        (
            "chiso.source.degraded",
            "chiso.source.vnexpress",
            ["site markup matched nothing on 2 of 2 articles"],
        )
    ]


def test_the_event_carries_the_sources_report(
    broken_web: LocalWeb, registry: Registry, recorded_events: Events
) -> None:
    check_and_report(registry, ["vnexpress"], articles=2)
    assert recorded_events[0][2]["report"].splitlines()[0] == "vnexpress: DEGRADED"


def test_healthy_sources_emit_nothing(
    broken_web: LocalWeb, registry: Registry, recorded_events: Events
) -> None:
    checks = check_and_report(registry, ["tuoitre", "nhandan"], articles=2)
    assert ([c.degraded for c in checks], recorded_events) == ([False, False], [])


def test_an_unknown_source_code_stops_the_check_with_one_line(
    registry: Registry, recorded_events: Events
) -> None:
    with pytest.raises(ChisoError) as raised:
        check_and_report(registry, ["vnexpress", "nope"], articles=1)
    assert (str(raised.value).split(" (known")[0], recorded_events) == ("unknown source 'nope'", [])
