"""Records: evidence offsets, deduplication, JSON contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extractors import EXTRACTOR_VERSION, document_from_text, extract

VN = timezone(timedelta(hours=7))
TEXT = (
    "Bình Dương tiếp tục thu hút đầu tư.\n"
    "Năm 2023, Bình Dương được vinh danh trong Top 7 cộng đồng thông minh của ICF.\n"
    "Năm 2023, Bình Dương có mặt trong Top 7 của ICF một lần nữa.\n"
    "Năm 2023, xuất khẩu của Bình Dương đạt 32 tỷ USD."
)


def test_offsets_point_at_the_claim_inside_its_evidence_sentence() -> None:
    doc = document_from_text(TEXT, lang="vi")
    ext = extract(doc)
    spans = [(r.evidence, r.start, r.end) for r in ext.rankings] + [
        (i.evidence, i.start, i.end) for i in ext.indicators
    ]
    for evidence, start, end in spans:
        pos = doc.text.find(evidence)
        assert pos <= start < end <= pos + len(evidence)
    assert (
        doc.text[ext.indicators[0].start : ext.indicators[0].end] == "xuất khẩu của Bình Dương đạt 32 tỷ USD"
    )


def test_records_are_deduplicated_on_their_natural_key() -> None:
    ext = extract(document_from_text(TEXT, lang="vi"))
    assert [(r.entity, r.program, r.year) for r in ext.rankings] == [("Binh Duong", "icf_top7", 2023)]


def test_json_contract_has_document_rankings_indicators_and_no_country() -> None:
    doc = document_from_text(TEXT, lang="vi", url="https://x.vn/a", published=datetime(2023, 7, 1, tzinfo=VN))
    out = extract(doc).to_json_dict()
    assert out["document"] == {
        "url": "https://x.vn/a",
        "title": None,
        "published": "2023-07-01T00:00:00+07:00",
        "lang": "vi",
    }
    assert set(out["rankings"][0]) == {
        "entity",
        "entity_local",
        "program",
        "year",
        "status",
        "rank",
        "out_of",
        "year_inferred",
        "evidence",
        "start",
        "end",
    }
    assert set(out["indicators"][0]) == {
        "entity",
        "indicator",
        "label",
        "value",
        "unit",
        "period",
        "qualifier",
        "status",
        "evidence",
        "start",
        "end",
    }


def test_extraction_carries_the_extractor_version() -> None:
    assert extract(document_from_text("Không có gì.", lang="vi")).extractor_version == EXTRACTOR_VERSION


def test_irrelevant_text_gives_empty_result() -> None:
    ext = extract(document_from_text("Hôm nay trời đẹp, mọi người đi chơi công viên.", lang="vi"))
    assert (ext.rankings, ext.indicators) == ([], [])
