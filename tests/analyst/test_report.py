"""`chiso report`: the HTML page in headless Chromium, the PNGs, and what the pictures hold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from flows.errors import ChisoError
from flows.report import build, write_report
from models.db import get_engine
from tests.browser import chromium, distinct_colours
from tests.models import dataset

REPO = Path(__file__).resolve().parents[2]
PRESS_URL = dataset.document(0)["url"]
ICF_URL = dataset.document(2)["url"]


@pytest.fixture
def engine(analyst_db: str) -> Engine:
    return get_engine(analyst_db)


@pytest.fixture
def any_engine(analyst_db_any: str) -> Engine:
    """The same data on SQLite and on PostgreSQL: the report reads the views alike on both."""
    return get_engine(analyst_db_any)


def test_timeline_has_a_mark_per_program_year_status_told_official_or_press(any_engine: Engine) -> None:
    report = build(any_engine, "Bình Dương", programs=None, indicators=None)
    marks = report.pictures[0].spec["data"]["values"]
    assert [(m["program"], m["year"], m["status"], m["stated"], m["documents"]) for m in marks] == [
        ("ICF Top7 Intelligent Communities", 2023, "achieved", "official (ICF)", 1),
        ("ICF Top7 Intelligent Communities", 2023, "candidate", "press only", 1),
    ]


def test_each_mark_opens_its_evidence_sentences_with_links(any_engine: Engine) -> None:
    report = build(any_engine, "tỉnh Bình Dương", programs=None, indicators=None)
    candidate = report.evidence_html["ev-timeline-icf-top7-2023-candidate"]
    assert f'href="{PRESS_URL}"' in candidate and "Bình Dương vào Top 7 năm 2023." in candidate
    assert ICF_URL not in candidate


def test_indicator_chart_has_every_sources_figure_as_its_own_point_and_rings_conflicts(
    any_engine: Engine,
) -> None:
    report = build(any_engine, "Binh Duong", programs=None, indicators=None)
    chart = next(p for p in report.pictures if p.id == "indicator-fdi-registered")
    points = chart.spec["data"]["values"]
    assert sorted((p["period"], p["shown"], p["disagree"]) for p in points) == [
        ("2023", 1.5, True),
        ("2023", 2.1, True),
    ]
    assert report.notes["indicator-fdi-registered"] == [
        "2023: sources disagree beyond rounding (1,500,000,000 USD from vov, 2,100,000,000 USD from vov)."
    ]


def test_program_and_indicator_options_narrow_the_report(engine: Engine) -> None:
    report = build(engine, "Binh Duong", programs=["vn_pci"], indicators=["ip_occupancy_rate"])
    assert (report.pictures, report.notes["timeline"], report.notes["indicators"]) == (
        [],
        ["No dated ranking claim for this entity."],
        ["No indicator figure for this entity."],
    )


@pytest.mark.parametrize(
    ("programs", "indicators", "message"),
    [
        (["icf_top8"], None, "unknown program 'icf_top8' (known: icf_top7, vn_pci)"),
        (None, ["fdi"], "unknown indicator 'fdi' (known: fdi_registered, ip_occupancy_rate)"),
    ],
)
def test_an_unknown_program_or_indicator_is_a_clear_error(
    engine: Engine, programs: list[str] | None, indicators: list[str] | None, message: str
) -> None:
    with pytest.raises(ChisoError) as raised:
        build(engine, "Binh Duong", programs=programs, indicators=indicators)
    assert str(raised.value) == message


def test_an_unknown_entity_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(ChisoError, match="no entity 'Atlantis'"):
        build(engine, "Atlantis", programs=None, indicators=None)


def test_the_page_is_self_contained(engine: Engine, tmp_path: Path) -> None:
    page = write_report(engine, "Binh Duong", out=tmp_path / "r.html").html.read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=\"?http", page) == []


def test_pngs_are_pictures_not_blank(engine: Engine, tmp_path: Path) -> None:
    written = write_report(engine, "Binh Duong", out=tmp_path / "r.html", png_dir=tmp_path / "png")
    assert sorted(p.name for p in written.pngs) == [
        "binh-duong-indicator-fdi-registered.png",
        "binh-duong-timeline.png",
    ]
    assert all(distinct_colours(p.read_bytes()) > 20 for p in written.pngs)


def test_the_page_renders_offline_in_headless_chromium_and_a_click_opens_the_evidence(
    engine: Engine, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = write_report(engine, "Binh Duong", out=tmp_path / "report.html").html
    with chromium(tmp_path / "profile") as browser:
        browser.get(page.as_uri())
        state = WebDriverWait(browser, 60).until(
            lambda b: b.execute_script(
                "return document.body.dataset.rendered || document.body.dataset.renderError"
            )
        )
        assert state == "2"
        timeline_text = browser.execute_script(
            "return document.querySelector('#chart-timeline svg').textContent"
        )
        chart_text = browser.execute_script(
            "return document.querySelector('#chart-indicator-fdi-registered svg').textContent"
        )
        labels = ["ICF Top7 Intelligent Communities", "2023", "official (ICF)", "press only", "candidate"]
        assert [label for label in labels if label not in timeline_text] == []
        assert "billion USD" in chart_text and "vov" in chart_text
        timeline = browser.find_element(By.ID, "chart-timeline")
        assert distinct_colours(timeline.screenshot_as_png) > 20
        assert distinct_colours(browser.get_screenshot_as_png()) > 20
        candidate = next(
            mark
            for mark in timeline.find_elements(By.CSS_SELECTOR, "g.mark-symbol path")
            if "candidate" in (mark.get_attribute("aria-label") or "")
        )
        candidate.click()
        evidence = "ev-timeline-icf-top7-2023-candidate"

        def evidence_open(b: Any) -> list[str] | None:
            ids = b.execute_script("return [...document.querySelectorAll('details[open]')].map(d => d.id)")
            # Wait for the clicked mark's evidence to open, then compare the whole list of open ones.
            return list(ids) if evidence in ids else None

        opened = WebDriverWait(browser, 10).until(evidence_open)
        assert opened == ["ev-timeline-icf-top7-2023-candidate"]
        link = browser.find_element(By.CSS_SELECTOR, "#ev-timeline-icf-top7-2023-candidate a")
        assert link.get_attribute("href") == PRESS_URL


def _chiso(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHISO_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_chiso_report_writes_the_page_and_the_pngs_and_says_where(analyst_db: str, tmp_path: Path) -> None:
    result = _chiso("report", "--entity", "Bình Dương", "--png", "slides", url=analyst_db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "report: report.html (2 pictures)",
        "png: slides/binh-duong-timeline.png",
        "png: slides/binh-duong-indicator-fdi-registered.png",
    ]
    assert (tmp_path / "report.html").stat().st_size > 0


def test_chiso_report_on_an_unknown_entity_is_one_line_and_writes_nothing(
    analyst_db: str, tmp_path: Path
) -> None:
    result = _chiso("report", "--entity", "Atlantis", url=analyst_db, cwd=tmp_path)
    assert (result.returncode, result.stderr.count("\n"), list(tmp_path.iterdir())) == (1, 1, [])
    assert result.stderr.startswith("chiso: error: no entity 'Atlantis'")
