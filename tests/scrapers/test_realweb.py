"""Real pages, as the sites served them: `chiso fetch` of the real VnExpress captures (../shared/realweb,
served under vnexpress.net by the local web) stores fundus's expected title, date, lead and paragraphs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from flows.cli_scrapers import fetch_command, sources_command
from flows.database import upgrade_and_seed
from models.db import dispose_engines, get_engine
from models.tables import Document
from scrapers.parse import parse_page
from tests.localweb import LocalWeb
from tests.scrapers.sources import ICT, realweb_dir, source

REALWEB = realweb_dir()
pytestmark = pytest.mark.skipif(
    REALWEB is None, reason="no real captures here: ../shared/realweb (or CHISO_REALWEB) is absent"
)
FUNDUS_PAGE = "https://vnexpress.net/dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html"
PAGE_2023 = "https://vnexpress.net/ong-ho-duc-phoc-se-nang-muc-giam-tru-gia-canh-tinh-thue-ca-nhan-khi-sua-luat-4672302.html"
app = typer.Typer()
app.command("fetch")(fetch_command)
app.command("sources")(sources_command)  # two commands, so `fetch` is a subcommand


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    assert REALWEB is not None
    data: dict[str, Any] = json.loads((REALWEB / "vnexpress.net" / "fundus-expected.json").read_text("utf-8"))
    return data["V1"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Document]]:
    """Both captures fetched with `chiso fetch` from the local web, as stored in a fresh database."""
    assert REALWEB is not None
    db = tmp_path_factory.mktemp("realweb") / "chiso.db"
    url = f"sqlite:///{db}"
    upgrade_and_seed(url)
    with LocalWeb(extra_dirs=(REALWEB,)) as web, pytest.MonkeyPatch.context() as env:
        env.setenv("CHISO_DATABASE_URL", url)
        env.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
        env.setenv("CHISO_HOST_MAP", ",".join(f"{h}={a}" for h, a in web.host_map().items()))
        runner = CliRunner()
        outputs = [runner.invoke(app, ["fetch", page]) for page in (FUNDUS_PAGE, PAGE_2023)]
        assert [r.exit_code for r in outputs] == [0, 0], [r.output for r in outputs]
        with Session(get_engine(url)) as session:
            docs = {doc.url: doc for doc in session.exec(select(Document)).all()}
            for doc in docs.values():
                session.expunge(doc)
    dispose_engines()
    yield docs


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _captions(expected: dict[str, Any]) -> list[str]:
    return [image["caption"] for image in expected["images"] if image.get("caption")]


def _paragraphs(expected: dict[str, Any]) -> list[str]:
    return [p for section in expected["body"]["sections"] for p in section["paragraphs"]]


def test_title_is_fundus_title(stored: dict[str, Document], expected: dict[str, Any]) -> None:
    assert stored[FUNDUS_PAGE].title == expected["title"]


def test_published_is_fundus_date(stored: dict[str, Document], expected: dict[str, Any]) -> None:
    assert _utc(stored[FUNDUS_PAGE].published_at) == _utc(datetime.fromisoformat(expected["publishing_date"]))


def test_text_is_title_lead_and_fundus_paragraphs(
    stored: dict[str, Document], expected: dict[str, Any]
) -> None:
    # fundus keeps the photo caption as a paragraph; chiso leaves captions out of the text
    body = [p for p in _paragraphs(expected) if not any(p.startswith(c) for c in _captions(expected))]
    want = [expected["title"], *expected["body"]["summary"], *body]
    assert _norm(stored[FUNDUS_PAGE].text) == _norm("\n".join(want))


def test_the_lead_is_the_second_line(stored: dict[str, Document], expected: dict[str, Any]) -> None:
    assert stored[FUNDUS_PAGE].text.splitlines()[1] == expected["body"]["summary"][0]


def test_the_photo_caption_stays_out_of_the_text(
    stored: dict[str, Document], expected: dict[str, Any]
) -> None:
    captions = _captions(expected)
    assert captions and not [c for c in captions if c in stored[FUNDUS_PAGE].text]


def test_the_author_line_stays_out_of_the_text(stored: dict[str, Document], expected: dict[str, Any]) -> None:
    assert expected["authors"] and not [a for a in expected["authors"] if a in stored[FUNDUS_PAGE].text]


def test_the_2023_capture_is_dated_2023_11_02(stored: dict[str, Document]) -> None:
    published = _utc(stored[PAGE_2023].published_at)
    assert published is not None and published.astimezone(ICT).date() == date(2023, 11, 2)


@pytest.mark.parametrize("page", [FUNDUS_PAGE, PAGE_2023])
def test_every_field_comes_from_the_site_markup_not_the_fallback(page: str) -> None:
    assert REALWEB is not None
    path: Path = REALWEB / "vnexpress.net" / page.rsplit("/", 1)[1]
    parsed = parse_page(path.read_bytes(), url=page, source=source("vnexpress"), fetched_at=datetime.now(UTC))
    assert {k: v for k, v in parsed.found.items() if k != "layout"} == {
        "title": "selector",
        "date": "jsonld",
        "lead": "selector",
        "body": "selector",
    }
