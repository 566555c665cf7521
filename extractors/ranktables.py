"""Ranked lists and table rows: a place and its rank read together from one row of a ranking's table."""

from __future__ import annotations

import re

from extractors.context import DocContext
from extractors.entities import Mention

# "1. Quảng Ninh 73,02", "2) Đồng Tháp – 72,10 điểm": a rank number, then the place.
_NUMBERED = re.compile(r"^\s*(?:hạng\s*|No\.\s*|#\s*)?(\d{1,3})\s*[.)/:–-]?\s+")
_INTEGER = re.compile(r"^\d{1,3}$")
_LONE_NUMBER = re.compile(r"^\s*(\d{1,3})[.)]?\s*$")
_NUMERIC = re.compile(r"^[(]?[-+]?\d[\d.,]*[)%]?$|^N/?A$|^-$", re.IGNORECASE)
_RANK_CELL = re.compile(r"^(\d{1,3})\s*\(\s*\d[\d.,]*\s*\)$")


def _whole(sent_mentions: list[Mention], text: str, start: int) -> Mention | None:
    """The mention that starts at `start` (a row's place cell)."""
    return next((m for m in sent_mentions if m.start == start), None)


def row_rank(ctx: DocContext, idx: int) -> tuple[Mention, int] | None:
    """(place, rank) when sentence `idx` is one row of a ranking table or numbered list, else None."""
    sent = ctx.sentences[idx]
    text = sent.text
    if not sent.mentions:
        return None
    if text.count("|") >= 2:
        return _cells_row(sent.mentions, text)
    lead = _NUMBERED.match(text)
    if lead:
        m = _whole(sent.mentions, text, lead.end())
        rest = text[m.end :].split() if m else []
        if (
            m is not None
            and len(rest) <= 6
            and not any(len(w) > 3 and w.isalpha() and w.islower() for w in rest)
        ):
            return m, int(lead.group(1))
        return None
    first = sent.mentions[0]
    if first.start != 0:
        return None
    rest = text[first.end :].split()
    if not rest:
        # a row written one cell per line: "1" / "Thừa Thiên - Huế" / "01 (0,727)"; the rank cell after the place
        # wins over the row number before it (tied ranks: row 18 is ranked "17 (0,633)")
        nxt = ctx.sentences[idx + 1].text.strip() if idx + 1 < len(ctx.sentences) else ""
        cell = _RANK_CELL.match(nxt)
        if cell:
            return first, int(cell.group(1))
        prev = ctx.sentences[idx - 1].text.strip() if idx > 0 else ""
        return (first, int(prev)) if _INTEGER.match(prev) else None
    lone = _LONE_NUMBER.match(ctx.sentences[idx - 1].text) if idx > 0 else None
    if lone and len(rest) <= 6 and not any(len(w) > 3 and w.isalpha() and w.islower() for w in rest):
        # "1. Quảng Ninh 71,25", split by the sentence splitter after "1."
        return first, int(lone.group(1))
    if (
        idx == len(ctx.sentences) - 1
        and idx > 0
        and len(ctx.sentences[idx - 1].text.split()) > len(text.split())
    ):
        return None  # the last line of a cut-off excerpt has lost cells: its whole numbers may be anything
    numeric = [w for w in rest if _NUMERIC.match(w)]
    words = [w for w in rest if not _NUMERIC.match(w)]
    ints = [int(w) for w in rest if _INTEGER.match(w)]
    # "Quang Ninh 7.16 7.00 ... 73.40 1 Rất tốt": the one whole number among the scores is the rank
    if len(numeric) >= 2 and len(words) <= 3 and len(ints) == 1 and 1 <= ints[0] <= 99:
        return first, ints[0]
    return None


def _cells_row(mentions: list[Mention], text: str) -> tuple[Mention, int] | None:
    """A row of an HTML table ("| 1 | Quảng Ninh | 71,25 |"): the place cell and the rank cell."""
    cells: list[tuple[int, str]] = []
    pos = 0
    for part in text.split("|"):
        lead = len(part) - len(part.lstrip())
        if part.strip():
            cells.append((pos + lead, part.strip()))
        pos += len(part) + 1
    place = next(
        (m for start, cell in cells for m in mentions if m.start == start and m.end - m.start == len(cell)),
        None,
    )
    if place is None:
        return None
    ints = [int(cell) for _, cell in cells if _INTEGER.match(cell)]
    if len(ints) == 1 and 1 <= ints[0] <= 99:
        return place, ints[0]
    if ints and cells and _INTEGER.match(cells[0][1]):
        return place, int(cells[0][1])
    return None
