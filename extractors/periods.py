"""Periods of indicator values (YYYY, YYYY-H1, YYYY-Qn, YYYY-01..YYYY-MM, cumulative@..., YYYY..YYYY) and years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from extractors.catalogue import rule
from extractors.numbers import SPELLED
from extractors.prefilter import Prefilter, rule_candidates

# Counts of months, quarters or years in a streak: the spelled-out numbers from 2 up, plus "mười một".
WORD_NUMBERS = {word: n for words in SPELLED.values() for word, n in words.items() if 2 <= n <= 12} | {
    "mười một": 11
}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "premier": 1,
    "première": 1,
    "deuxième": 2,
    "troisième": 3,
    "quatrième": 4,
    "cinquième": 5,
    "sixième": 6,
    "nhất": 1,
    "nhì": 2,
}
MONTHS_EN = {
    m: i + 1
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    )
} | {
    m: i + 1
    for i, m in enumerate(
        (
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        )
    )
}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
YEAR_RE = re.compile(r"(?<![\d.,])(?:19|20)\d{2}(?!\d)")
PERIOD_RULES = (
    "period_cumulative",
    "period_h1",
    "period_ytd",
    "period_quarter",
    "period_plan",
    "period_month",
    "period_year",
)


def small_number(text: str | None) -> int | None:
    """A count written as digits, a word ("sáu", "nine") or an ordinal ("third", "3rd", "5e")."""
    if not text:
        return None
    t = text.strip().lower()
    m = re.match(r"^(\d{1,2})(?:st|nd|rd|th|e)?$", t)
    if m:
        return int(m.group(1))
    return WORD_NUMBERS.get(t) or ORDINALS.get(t)


@dataclass(frozen=True)
class PeriodMention:
    period: str
    start: int
    end: int
    kind: str


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _period_from(kind: str, m: re.Match[str], published: datetime | None) -> str | None:
    year_s = _group(m, "y") or _group(m, "y2")
    year = int(year_s) if year_s else (published.year if published else None)
    if kind == "period_plan":
        y1, y2 = int(m.group("y1")), int(m.group("y2"))
        return f"{y1}..{y2}" if y1 < y2 else None
    if year is None:
        return None
    if kind == "period_year":
        return str(year)
    if kind == "period_month":
        month = int(m.group("m")) if _group(m, "m") else MONTHS_EN.get(str(_group(m, "mname")).lower())
        return f"{year}-{month:02d}" if month and 1 <= month <= 12 else None
    if kind == "period_h1":
        return f"{year}-H1"
    if kind == "period_quarter":
        q = _group(m, "q")
        qn = ROMAN.get(q.upper()) if q and not q.isdigit() else (int(q) if q else None)
        if qn is None:
            qn = ORDINALS.get((_group(m, "qw") or "").lower())
        return f"{year}-Q{qn}" if qn else None
    if kind == "period_ytd":
        month = small_number(_group(m, "m"))
        if month is None and _group(m, "mname"):
            month = MONTHS_EN[str(_group(m, "mname")).lower()]
        if month is None and _group(m, "now") is not None and published is not None:
            # "từ đầu năm đến nay": January to the month of publication
            month = published.month
        if month is None or not 1 <= month <= 12:
            return None
        if month == 12:
            return str(year)
        if month == 6:
            return f"{year}-H1"
        if month == 3:
            return f"{year}-Q1"
        return f"{year}-01..{year}-{month:02d}"
    if kind == "period_cumulative":
        month_s = _group(m, "m") or _group(m, "m2")
        month = int(month_s) if month_s else None
        if month is None and _group(m, "mname"):
            month = MONTHS_EN[str(_group(m, "mname")).lower()]
        if year_s:
            return f"cumulative@{year}-{month:02d}" if month else f"cumulative@{year}"
        if published is None:
            return None
        return f"cumulative@{published.year}-{published.month:02d}"
    return None


@cache
def _period_prefilter(lang: str) -> Prefilter:
    """All period patterns of `lang`, to find those a sentence can hold with one lookup of their words."""
    return Prefilter(tuple(p for kind in PERIOD_RULES for p in rule(kind, lang)))


def find_periods(text: str, *, lang: str, published: datetime | None) -> list[PeriodMention]:
    """Non-overlapping period expressions in a sentence, the more specific rule winning an overlap."""
    found: list[PeriodMention] = []
    taken: list[tuple[int, int]] = []
    live = set(_period_prefilter(lang).candidates(text))
    if not live:
        return found
    for kind in PERIOD_RULES:
        for pat in rule(kind, lang):
            if pat not in live:
                continue  # lacks a word it needs
            for m in pat.finditer(text):
                if m.end() == m.start() or any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                period = _period_from(kind, m, published)
                if period is None:
                    continue
                found.append(PeriodMention(period, m.start(), m.end(), kind))
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda p: p.start)


def relative_year(text: str, *, lang: str, published: datetime | None) -> tuple[int, int, int] | None:
    """("năm nay" / "last year" ...) -> (year, start, end) against the publication date."""
    if published is None:
        return None
    for pat in rule_candidates("relative_year", lang, text):
        m = pat.search(text)
        if m:
            delta = 0 if m.groupdict().get("this") else -1 if m.groupdict().get("last") else 1
            return published.year + delta, m.start(), m.end()
    return None
