"""Document text: HTML main text, title, date and language; sentence spans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extractors.document import document_from_html, document_from_text, guess_lang, split_sentences

PAGE = """<html lang="vi"><head><title>Tiêu đề trang</title>
<meta property="article:published_time" content="2023-06-22T08:00:00+07:00"></head>
<body><nav>Trang chủ</nav><article><h1>Bình Dương vào Top 7</h1>
<p>Đoạn mở đầu về Bình Dương và các cộng đồng thông minh trên thế giới, được viết đủ dài để là nội dung chính.</p>
<p>Danh sách gồm:</p><ul><li>Binh Duong, Vietnam</li><li>Coral Gables, Florida, USA</li></ul></article>
<footer>Bản quyền</footer></body></html>"""


def _texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PGS.TS. Nguyễn Văn A nói. Ông B đồng ý.", ["PGS.TS. Nguyễn Văn A nói.", "Ông B đồng ý."]),
        (
            "TP.HCM đạt 3,5 tỷ USD. Hà Nội đạt 1.234,5 tỷ.",
            ["TP.HCM đạt 3,5 tỷ USD.", "Hà Nội đạt 1.234,5 tỷ."],
        ),
        (
            "ThS. Lê C cho biết GRDP tăng 8.5%. Tiếp theo là X.",
            ["ThS. Lê C cho biết GRDP tăng 8.5%.", "Tiếp theo là X."],
        ),
        (
            "Dr. Smith met Mr. Jones in the U.S. last year. Growth was 3.5.",
            ["Dr. Smith met Mr. Jones in the U.S. last year.", "Growth was 3.5."],
        ),
        ("Dòng một\nDòng hai", ["Dòng một", "Dòng hai"]),
        ("Sân bay, cảng biển... Tuy nhiên, họ đổi mới.", ["Sân bay, cảng biển...", "Tuy nhiên, họ đổi mới."]),
    ],
)
def test_sentence_splitting_respects_abbreviations_decimals_and_lines(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


def test_sentence_spans_point_into_the_text() -> None:
    text = "  Câu một.  Câu hai!\n\nCâu ba "
    assert all(text[s:e].strip() == text[s:e] and text[s:e] for s, e in split_sentences(text))


def test_html_keeps_list_items_and_headings_as_separate_lines() -> None:
    doc = document_from_html(PAGE)
    lines = doc.text.split("\n")
    assert "Binh Duong, Vietnam" in lines
    assert "Coral Gables, Florida, USA" in lines
    assert "Trang chủ" not in doc.text


def test_html_metadata_gives_title_language_and_aware_publication_date() -> None:
    doc = document_from_html(PAGE, url="https://example.vn/a")
    assert doc.lang == "vi"
    assert doc.published == datetime(2023, 6, 22, 1, 0, tzinfo=UTC)
    assert doc.published.tzinfo is not None
    assert doc.url == "https://example.vn/a"
    assert doc.title in ("Bình Dương vào Top 7", "Tiêu đề trang")


def test_publication_date_is_never_later_than_fetch_time() -> None:
    doc = document_from_html(PAGE, fetched_at=datetime(2023, 1, 1, tzinfo=UTC))
    assert doc.published is None or doc.published <= datetime(2023, 1, 1, tzinfo=UTC)


def test_css_selectors_choose_title_and_body() -> None:
    doc = document_from_html(PAGE, selectors={"title": "h1", "body": "article ul"})
    assert doc.title == "Bình Dương vào Top 7"
    assert doc.text == "Bình Dương vào Top 7\nBinh Duong, Vietnam\nCoral Gables, Florida, USA"


def test_jsonld_date_is_used_when_no_meta_tag() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"datePublished": "2019-10-22T12:00:00Z"}</script>'
        "</head><body><p>The Smart21 Communities of 2020 were announced today by the forum.</p></body></html>"
    )
    assert document_from_html(html).published == datetime(2019, 10, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bình Dương thu hút vốn đầu tư nước ngoài", "vi"),
        ("The province is among the seven most intelligent communities of the world", "en"),
        ("La province est parmi les sept communautés intelligentes du monde", "fr"),
    ],
)
def test_language_guess_uses_diacritics_then_stopwords(text: str, lang: str) -> None:
    assert guess_lang(text) == lang


def test_explicit_language_wins_over_the_guess() -> None:
    assert document_from_text("The province grew.", lang="fr").lang == "fr"


def test_html_table_rows_stay_one_line_each_with_their_cells_in_order() -> None:
    page = (
        "<html><body><article><h1>PCI 2023</h1><table><tr><th>Hạng</th><th>Tỉnh</th></tr>"
        "<tr><td>1</td><td><p>Quảng Ninh</p></td></tr></table></article></body></html>"
    )
    doc = document_from_html(page, selectors={"body": "article"})
    assert doc.text.split("\n") == ["PCI 2023", "| Hạng | Tỉnh |", "| 1 | Quảng Ninh |"]
