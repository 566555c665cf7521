"""`chiso sources check` on the local web: healthy sites pass, a site whose markup changed under us, a dead
feed and a source with nothing to read are reported, and a degraded source makes the command exit 1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from flows.cli_scrapers import sources_app
from scrapers.registry import DEFAULT_SOURCES_PATH
from tests.localweb import SITES_DIR, LocalWeb

app = typer.Typer()
app.add_typer(sources_app(), name="sources")
runner = CliRunner()
# The markup VnExpress's layout relies on, renamed as a site redesign would.
REDESIGN = {
    "fck_detail": "story-body",
    "title-detail": "story-title",
    'class="description"': 'class="story-lead"',
}


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    """The local web from a copy of the sample sites (tests may change them), every delay 0."""
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR, sites)
    data = yaml.safe_load(DEFAULT_SOURCES_PATH.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        entry["delay_seconds"] = 0
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with LocalWeb(sites_dir=sites) as served:
        monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
        monkeypatch.setenv("CHISO_SOURCES", str(path))
        monkeypatch.setenv("CHISO_HOST_MAP", ",".join(f"{h}={a}" for h, a in served.host_map().items()))
        yield served


def _check(*args: str) -> Result:
    return runner.invoke(app, ["sources", "check", *args])


def _redesign(web: LocalWeb, host: str) -> None:
    for page in (web.sites_dir / host).glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for old, new in REDESIGN.items():
            text = text.replace(old, new)
        page.write_text(text, encoding="utf-8")


def test_a_healthy_source_is_ok_and_exits_0(web: LocalWeb) -> None:
    result = _check("--source", "vnexpress")
    assert (result.exit_code, result.output.splitlines()[0], result.output.splitlines()[-1]) == (
        0,
        "vnexpress: ok",
        "1 of 1 sources ok",
    )


def test_every_checked_article_reports_each_field_found_by_the_site_markup(web: LocalWeb) -> None:
    result = _check("--source", "tuoitre", "--articles", "2")
    articles = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert len(articles) == 2 and all(
        "title=selector" in a and "lead=selector" in a and "body=selector" in a for a in articles
    )


def test_feed_and_sitemap_are_reported_reachable_with_what_they_list(web: LocalWeb) -> None:
    lines = _check("--source", "tuoitre").output.splitlines()
    assert lines[1:3] == [
        "  feed https://tuoitre.vn/rss/kinh-doanh.rss: ok, 2 entries",
        "  sitemap https://tuoitre.vn/sitemap.xml: ok, index of 2 sitemaps; newest has 1 pages",
    ]


def test_a_site_whose_markup_changed_is_degraded_and_exits_1(web: LocalWeb) -> None:
    _redesign(web, "vnexpress.net")
    result = _check("--source", "vnexpress")
    assert (result.exit_code, result.output.splitlines()[0]) == (1, "vnexpress: DEGRADED")


def test_the_degraded_report_says_the_markup_matched_nothing(web: LocalWeb) -> None:
    _redesign(web, "vnexpress.net")
    output = _check("--source", "vnexpress").output
    assert "  problem: site markup matched nothing on 2 of 2 articles" in output.splitlines()


def test_the_redesigned_pages_are_read_only_by_the_fallback(web: LocalWeb) -> None:
    _redesign(web, "vnexpress.net")
    articles = [
        line for line in _check("--source", "vnexpress").output.splitlines() if line.startswith("  - ")
    ]
    assert articles and all("body=fallback" in a and "lead=missing" in a for a in articles)


def test_one_degraded_source_does_not_hide_the_healthy_ones(web: LocalWeb) -> None:
    _redesign(web, "vnexpress.net")
    result = _check("--source", "vnexpress", "--source", "tuoitre")
    assert (result.exit_code, result.output.splitlines()[-1]) == (1, "1 of 2 sources ok; degraded: vnexpress")


def test_a_dead_feed_is_reported_failed(web: LocalWeb) -> None:
    web.fault("tuoitre.vn", "/rss/kinh-doanh.rss", "status", code=404)
    lines = _check("--source", "tuoitre").output.splitlines()
    assert lines[1] == "  feed https://tuoitre.vn/rss/kinh-doanh.rss: FAILED, HTTP 404 Not Found"


def test_a_source_with_nothing_to_read_is_degraded(web: LocalWeb) -> None:
    web.fault("tuoitre.vn", "/rss/*", "status", code=404)
    web.fault("tuoitre.vn", "/sitemap*", "status", code=404)
    result = _check("--source", "tuoitre")
    assert (
        result.exit_code,
        "  problem: no article found in its feeds, sitemaps or listings" in result.output,
    ) == (
        1,
        True,
    )


def test_articles_limits_how_many_pages_are_fetched(web: LocalWeb) -> None:
    _check("--source", "baobinhduong", "--articles", "1")
    pages = [
        r.path for r in web.requests_for("baobinhduong.vn") if r.path.endswith(".html") and "-a" in r.path
    ]
    assert len(pages) == 1


def test_an_unknown_source_code_is_one_clear_error(web: LocalWeb) -> None:
    result = _check("--source", "nope")
    assert (result.exit_code, str(result.exception).split(" (known")[0]) == (1, "unknown source 'nope'")


def test_sources_without_a_subcommand_still_lists_the_table(web: LocalWeb) -> None:
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 0 and "│ vnexpress " in result.output


def test_a_parser_that_raises_is_reported_not_fatal(web: LocalWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("layout bug")

    monkeypatch.setattr("scrapers.crawl.parse_page", broken)
    result = _check("--source", "tuoitre", "--articles", "1")
    assert (result.exit_code, [line for line in result.output.splitlines() if "problem:" in line]) == (
        1,
        ["  problem: no article could be fetched", "  problem: parser failed on 1 of 1 articles"],
    )
