"""Indicator values: phrase -> figure in base units, with entity, period, qualifier and status."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import cache

from extractors.catalogue import (
    IndicatorRule,
    count_nouns,
    count_unit_names,
    indicator_phrases,
    indicator_rules,
    open_figures,
    rule,
)
from extractors.context import DocContext, Sentence, all_matches, first_match
from extractors.entities import Mention
from extractors.numbers import PER_PERSON, Quantity, find_quantities, parse_spelled, spelled_words, to_number
from extractors.periods import PeriodMention, find_periods, relative_year
from extractors.prefilter import Prefilter
from extractors.records import IndicatorRecord

GROWTH_INDICATORS = frozenset({"grdp_growth"})
# Press copy states a sub-year period once ("9 tháng đầu năm 2024, ...") and the next sentences report more flows
# of the same period without repeating it; only these period kinds carry over, and only to flows (money, growth).
CARRIED_PERIOD_KINDS = frozenset({"period_ytd", "period_h1", "period_quarter", "period_month"})
MONEY = ("VND", "USD")
COUNTRY = ("Vietnam", "Việt Nam", "VN")
COUNT_UNITS = ("persons", "enterprises", "projects", "parks")
OF_ENTITY = re.compile(
    r"^\s*(?:của|tại|ở|of|in|de|du|à)\s+(?:tỉnh\s+|thành phố\s+|TP\.?\s*)?$", re.IGNORECASE
)
COUNT_VERB = re.compile(
    r"(?:có|hiện có|gồm|với|tổng số|has|have|had|with|compte|totalling|total of)\s*(?:\S+\s+){0,2}$",
    re.IGNORECASE,
)
BACKWARD_GAP = re.compile(r"^\s*(?:vốn|of|in|from|de|d'|en|worth of)?\s*$", re.IGNORECASE)
RISE_BEFORE = re.compile(
    r"(?:tăng|tăng trưởng|grew|rose|increased|expanded|up|growth of|progressé de|hausse de)"
    r"\s*(?:khoảng|gần|hơn|trên|by|of|about|nearly|over|de)?\s*$",
    re.IGNORECASE,
)
NATIONAL_GAP = re.compile(r"\s*(?:of|in|du|de|của)?\s*(?:the\s+)?", re.IGNORECASE)
# "Bắc Ninh thu hút 2,3 tỷ USD vốn FDI, cao hơn Quảng Ninh (1,5 tỷ USD)": a figure set directly before the phrase
# is its value, before any figure further on (ho3-a02)
ADJACENT_GAP = re.compile(r"\s*(?:vốn\s*)?")
# "... Quảng Ninh (1,5 tỷ USD) và Hải Phòng (1,2 tỷ USD)": the same indicator for another place, in brackets (ho3-a02)
BRACKETED = re.compile(r"\s*\(\s*$")
NUMBER_PART = re.compile(r"(?:\d[\d.,\u00a0\u202f ]*\d|\d)\s?")
# "5.8% in Binh Duong", "2 tỷ USD của tỉnh Bình Dương": the place right after a figure holds it
HOLDER_AFTER = re.compile(r"^\s*(?:của|tại|ở|in|of|for|at|de|du|à|pour)\s+(?:the\s+)?$", re.IGNORECASE)
# an index score is a bare decimal ("0,8340"), never a whole number (a count, a rank, a year)
BARE_SCORE = re.compile(r"\d+[.,]\d+$")
LABEL_WORDS = 8
RATE_UNITS = ("VND/person/month", "VND/person/year", "USD/person/month", "USD/person/year")
YEAR = re.compile(r"(?:19|20)\d{2}")
# "0.83% of the country", "25% của cả nước": a share of the country, held by the place before it
SHARE_OF = re.compile(r"(?:of|của|du|de)\b", re.IGNORECASE)
PLURAL_BEFORE = re.compile(
    r"(?<!\w)(?:một|các|những|mỗi|nhiều|a|an|any|each|every|other|des|les)\s*$", re.IGNORECASE
)
LABEL_NOISE = ("rank_n", "rank_first", "rank_last", "national_scope", "national_holder")
# a table cell on its own line: numbers, brackets and signs only ("01 (0,727)")
CELL_LINE = re.compile(r"[\d\s.,()%/+\-–]+")
ROW_DECIMAL = re.compile(r"(?<![\w.,])\d+[.,]\d+(?![\w.,]*\w)")
CLAUSE_CUT = re.compile(r"[,;:()\[\]“”\"]|\s[-–—]\s")


def _rules_by_code() -> dict[str, IndicatorRule]:
    return {r.indicator.code: r for r in indicator_rules()}


def _fit(rule: IndicatorRule, q: Quantity) -> tuple[Decimal, str] | None:
    """The value and unit `q` gives for this indicator, or None when the figure is of the wrong kind."""
    unit = q.unit
    measure = rule.measure
    if measure == "money":
        return (q.value, unit) if unit in MONEY else None
    if measure == "per_capita":
        if unit is None:
            return None
        cur, _, per = unit.partition("/")
        if cur not in MONEY:
            return None
        if rule.indicator.code == "grdp_per_capita":
            return q.value, f"{cur}/person/year"
        per = {
            "person/year": "/person/year",
            "person/month": "/person/month",
            "year": "/person/year",
            "month": "/person/month",
            "person": "/person",
            "": "/person",
        }.get(per, "/person")
        return q.value, cur + per
    if measure == "percent":
        return (q.value, "%") if unit == "%" else None
    if measure == "points":
        return (q.value, "points") if unit == "points" else None
    if measure == "persons":
        if unit == "persons" or (unit is None and q.scaled):
            return q.value, "persons"
        return None
    if measure == "area":
        target = rule.indicator.unit
        if unit == target:
            return q.value, unit
        if unit == "ha" and target == "km2":
            return q.value / 100, "km2"
        if unit == "km2" and target == "ha":
            return q.value * 100, "ha"
        return None
    if measure == "count":
        return (q.value, rule.indicator.unit) if unit == rule.indicator.unit else None
    return None


def _entity_for(
    ctx: DocContext, sent: Sentence, ps: int, pe: int, fallback: Mention | None
) -> Mention | None:
    text = sent.text
    for m in sent.mentions:
        if m.start >= pe and OF_ENTITY.match(text[pe : m.start]):
            return m
    # "croissance économique du pays", "GRDP của cả nước": the nation's figure, whoever was named before (ho3-a05)
    nat = first_match("national_scope", ctx.lang, text, pe, pe + 16)
    if nat is not None and NATIONAL_GAP.fullmatch(text[pe : nat.start()]):
        return _country(nat.start(), nat.end())
    # "Ses exportations", "The province's GRDP", "... của tỉnh": the place the document is about (ho3-a04, ho3-a05)
    if ctx.main is not None:
        head, tail = text[max(0, ps - 20) : ps], text[pe : pe + 25]
        if any(not head[m.end() :].strip() for m in all_matches("possessive_anaphor", ctx.lang, head)) or any(
            not tail[: m.start()].strip() for m in all_matches("anaphor_after", ctx.lang, tail)
        ):
            return ctx.main
    before = [m for m in sent.mentions if m.end <= ps]
    if before:
        return before[-1]
    country = _national(ctx, text, 0, ps)
    if country is not None:
        return country
    if first_match("national_scope", ctx.lang, text, 0, ps) is not None:
        return None
    after = [m for m in sent.mentions if m.start >= pe]
    if after:
        return after[0]
    return fallback


def _anaphor(ctx: DocContext, text: str, hi: int) -> bool:
    """A reference back to the place ("tỉnh", "the province") before `hi`; "các tỉnh" (the provinces) is none."""
    return any(
        not PLURAL_BEFORE.search(text, max(0, m.start() - 8), m.start())
        for m in all_matches("anaphor", ctx.lang, text[:hi])
    )


def _national(ctx: DocContext, text: str, lo: int, hi: int) -> Mention | None:
    """The country, when text[lo:hi] states a national scope that is not a rank's ("thứ 3 cả nước")."""
    ranks = all_matches("rank_scope", ctx.lang, text)
    for m in all_matches("national_holder", ctx.lang, text[:hi]):
        if m.start() >= lo and not any(r.start() <= m.start() < r.end() for r in ranks):
            return _country(m.start(), m.end())
    return None


def _country(start: int, end: int) -> Mention:
    """The country as the holder of a national figure."""
    return Mention(COUNTRY[0], COUNTRY[1], COUNTRY[2], start, end)


def _sole_place(ctx: DocContext) -> Mention | None:
    """The place of a document that names only one."""
    names = {m.name: m for s in ctx.sentences for m in s.mentions}
    return next(iter(names.values())) if len(names) == 1 else None


def _period(ctx: DocContext, text: str, periods: list[PeriodMention], q: Quantity, ps: int) -> str | None:
    usable = []
    for p in periods:
        if first_match("comparison", ctx.lang, text, max(0, p.start - 25), p.start):
            continue
        usable.append(p)
    before = [p for p in usable if p.end <= q.start]
    if before:
        return before[-1].period
    after = [p for p in usable if p.start >= q.end]
    if after:
        return after[0].period
    rel = relative_year(text, lang=ctx.lang, published=ctx.doc.published)
    if rel and not first_match("comparison", ctx.lang, text, max(0, rel[1] - 25), rel[1]):
        return str(rel[0])
    return None


def _qualifier(ctx: DocContext, text: str, q: Quantity) -> str | None:
    after = text[q.end : q.end + 15]
    for m in all_matches("at_least_after", ctx.lang, after):
        if m.start() <= 1:
            return "at_least"
    before = text[max(0, q.start - 25) : q.start]
    best: tuple[int, str] | None = None
    for name, qual in (
        ("approx", "approx"),
        ("approx_under", "approx_under"),
        ("over", "over"),
        ("at_least", "at_least"),
    ):
        for pat in all_matches(name, ctx.lang, before):
            if re.fullmatch(r"\s*(?:mức\s*|là\s*|con số\s*)?", before[pat.end() :]) and (
                best is None or pat.end() - pat.start() > best[0]
            ):
                best = (pat.end() - pat.start(), qual)
    return best[1] if best else None


def _status(ctx: DocContext, text: str, lo: int, hi: int) -> str:
    window = text[lo:hi]
    if first_match("target", ctx.lang, window):
        return "target"
    if first_match("estimate", ctx.lang, window):
        return "estimate"
    return "actual"


def _is_change(ctx: DocContext, text: str, q: Quantity, seg_start: int) -> bool:
    before = text[max(seg_start, q.start - 22) : q.start]
    for m in all_matches("change", ctx.lang, before):
        if re.fullmatch(
            r"\s*(?:khoảng|gần|hơn|trên|thêm|about|nearly|over|by|of|de|là|ở mức)?\s*", before[m.end() :]
        ):
            return True
    return False


def _in_ranges(ctx: DocContext, text: str) -> list[tuple[int, int]]:
    """Spans of ranges ("từ 8 - 8,5%"): the text claims no single value inside them."""
    return [(m.start(), m.end()) for m in all_matches("value_range", ctx.lang, text)]


def _threshold_guard(ctx: DocContext, text: str, ps: int) -> bool:
    """A count of things reaching a level ("11/23 KCN đạt tỷ lệ lấp đầy trên 90%") precedes the phrase."""
    m = first_match("threshold_count", ctx.lang, text, 0, ps)
    return m is not None


def extract_indicators(ctx: DocContext) -> list[IndicatorRecord]:
    """Every figure a place holds: catalogue indicators by their phrases, then the rest with open labels."""
    rules = _rules_by_code()
    pattern, table = indicator_phrases(ctx.lang, for_rank=False)
    out: list[IndicatorRecord] = []
    seen: set[tuple[object, ...]] = set()
    carried: str | None = None
    home = ctx.main or _sole_place(ctx)
    recent: Mention | None = None
    prev_end = 0
    # tables and lists: a line that is only a place names the holder of the number-only line after it; a heading
    # line naming an indicator (and its basis, "per capita per month") types the "Place – figure" lines below it
    place_line: Mention | None = None
    header: tuple[str, str, str | None] | None = None
    national_passage = False
    table_period: str | None = None
    for sent in ctx.sentences:
        text = sent.text
        # The holder of the last figure (else the last place) named earlier in the paragraph holds the figures of a
        # sentence that names no place; "tỉnh", "the province" and a new paragraph go back to the document's place,
        # except after a national statistics passage (about the country, naming no place), which goes on.
        if "\n" in ctx.doc.text[prev_end : sent.start] and not national_passage:
            recent = None
        prev_end = sent.end
        before_sentence = (
            recent if home is None or (recent is not None and not _anaphor(ctx, text, len(text))) else home
        )
        if sent.mentions:
            recent = sent.mentions[-1]
        whole_line = _whole_line(ctx, sent)
        # a number-only cell, or a table row: a place then its numbers ("Quang Ninh 7.16 7.00 ... 73.40 1 Rất tốt")
        cell = whole_line and (bool(CELL_LINE.fullmatch(text)) or _table_row(sent))
        if cell and place_line is not None:
            before_sentence = place_line
        place_line = _place_only(sent) if whole_line else None
        quantities = find_quantities(text, lang=ctx.lang, convention=ctx.convention)
        quantities = sorted(quantities + _spelled_counts(ctx, text, quantities), key=lambda q: q.start)
        ranges = _in_ranges(ctx, text) if quantities else []
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in ranges)]
        if whole_line and not any(q.unit for q in quantities) and not cell:
            heads = list(pattern.finditer(text))
            dated = (
                find_periods(text, lang=ctx.lang, published=ctx.doc.published) if YEAR.search(text) else []
            )
            # a heading's year dates the table under it ("... năm 2024" over its rows)
            table_period = dated[-1].period if dated else table_period
            if heads:
                header = (table[heads[-1].group(1).casefold()], text, dated[-1].period if dated else None)
        if not quantities:
            continue
        listed = header is not None and whole_line and bool(sent.mentions) and sent.mentions[0].start <= 3
        if not listed and any(q.unit for q in quantities):
            header = None
        periods = find_periods(text, lang=ctx.lang, published=ctx.doc.published)
        inherited = carried if not periods else None
        # A later annual, cumulative or same-period-last-year figure ("cùng kỳ năm 2023") does not end the report's
        # period: the next period-less flow is still of it (ho3-a03, ho3-a05); another sub-year period replaces it.
        own = [
            p
            for p in periods
            if p.kind in CARRIED_PERIOD_KINDS
            and not first_match("comparison", ctx.lang, text, max(0, p.start - 25), p.start)
        ]
        if own:
            carried = own[-1].period
        phrases = [(m.start(), m.end(), table[m.group(1).casefold()]) for m in pattern.finditer(text)]
        if "grdp_growth" in rules:
            for m in all_matches("economy_growth", ctx.lang, text):
                if not any(s <= m.start() < e for s, e, _ in phrases):
                    phrases.append((m.start(), m.end(), "grdp_growth"))
            phrases.sort()
        used: set[int] = set()
        # counts and their follow-on figures first: in "32 industrial parks with a total area of 10,000 ha" the
        # area belongs to the parks, not to the province's "total area" phrase it contains
        claims: list[tuple[int, int, str, Quantity, Decimal, str]] = _count_claims(
            ctx, text, quantities, used
        )
        headed: set[int] = set()
        if listed and header is not None:
            claims += _listed_claim(ctx, rules[header[0]], header[1], quantities, used)
            headed = {c[3].start for c in claims if c[2] == header[0]}
        for i, (ps, pe, code) in enumerate(phrases):
            rule = rules[code]
            seg_end = phrases[i + 1][0] if i + 1 < len(phrases) else len(text)
            found = None
            for q in quantities:
                if q.end <= ps and q.start not in used and ADJACENT_GAP.fullmatch(text[q.end : ps]):
                    fit = _fit(rule, q)
                    if fit is not None and not _is_change(ctx, text, q, 0):
                        found = (q, *fit)
            for q in quantities:
                if found is not None:
                    break
                if q.start < pe or q.start >= seg_end or q.start in used:
                    continue
                if code not in GROWTH_INDICATORS and _is_change(ctx, text, q, pe):
                    continue
                fit = _fit(rule, q)
                if fit is None:
                    continue
                if _threshold_guard(ctx, text, ps):
                    break
                found = (q, *fit)
                break
            if found is None and rule.growth:
                growth = rules[rule.growth]
                for q in quantities:
                    if (
                        pe <= q.start < seg_end
                        and q.start not in used
                        and q.unit == "%"
                        and RISE_BEFORE.search(text[max(pe, q.start - 25) : q.start])
                    ):
                        code = rule.growth
                        found = (q, q.value, "%")
                        rule = growth
                        break
            if found is None:
                for q in quantities:
                    if q.end <= ps and q.start not in used and BACKWARD_GAP.match(text[q.end : ps]):
                        fit = _fit(rule, q)
                        if fit is not None and not _is_change(ctx, text, q, 0):
                            found = (q, *fit)
            if found is None:
                continue
            q, value, unit = found
            used.add(q.start)
            claims.append((ps, pe, code, q, value, unit))
        holders: dict[int, Mention] = {}
        for q in quantities:
            if q.start in used or not re.match(r"\s*\)", text[q.end :]):
                continue
            lead = BRACKETED.search(text, 0, q.start)
            named = [
                m
                for m in sent.mentions
                if lead and m.end <= lead.start() and not text[m.end : lead.start()].strip()
            ]
            prior = [c for c in claims if c[3].end <= q.start and _fit(rules[c[2]], q) is not None]
            fit = _fit(rules[prior[-1][2]], q) if prior else None
            if named and prior and fit is not None:
                ps, pe, code = prior[-1][:3]
                used.add(q.start)
                holders[q.start] = named[-1]
                claims.append((ps, pe, code, q, *fit))
        sentence_out: list[IndicatorRecord] = []
        for ps, pe, code, q, value, unit in claims:
            ent = holders.get(q.start) or _entity_for(ctx, sent, ps, pe, before_sentence)
            if ent is None or (q.start not in holders and _region_holds(ctx, sent, q.start)):
                continue
            # an industrial-park occupancy rate "across the country" is the country's figure
            if (
                q.start not in holders
                and pe < q.start
                and not any(pe <= m.start < q.start for m in sent.mentions)
            ):
                ent = _national(ctx, text, pe, q.start) or ent
            unit = _with_basis(ctx, text, unit)
            period = _period(ctx, text, periods, q, ps)
            if period is None and q.start in headed and header is not None:
                period = header[2]
            if period is None and inherited and (rules[code].measure == "money" or code in GROWTH_INDICATORS):
                period = inherited
            # "trong đó cấp mới 72 dự án": newly licensed projects are a flow of the carried period (ho-a01)
            if (
                period is None
                and inherited
                and code == "fdi_projects"
                and first_match("new_projects", ctx.lang, text, max(0, q.start - 15), pe) is not None
            ):
                period = inherited
            if code == "fdi_registered" and period and period.startswith("cumulative@"):
                code = "fdi_cumulative"
            lo, hi = min(ps, q.start), max(pe, q.end)
            # "xuất khẩu ước đạt 7,1 tỷ USD, tăng 17,3%; nhập khẩu đạt 4,9 tỷ USD": an estimate or target word
            # of the clause before a semicolon is not this figure's (ho3-a01)
            win_lo = max(0, lo - 80)
            win_lo = max(win_lo, text.rfind(";", win_lo, lo) + 1)
            status = _status(ctx, text, win_lo, q.start)
            rec = IndicatorRecord(
                ent.name,
                ent.country,
                code,
                to_number(value),
                unit,
                period,
                _qualifier(ctx, text, q),
                status,
                text,
                sent.start + lo,
                sent.start + hi,
            )
            sentence_out.append(rec)
        opened = _open_records(
            ctx, sent, quantities, used, periods, inherited, before_sentence, sentence_out, claims, cell
        )
        if cell:
            opened = [r if r.period else replace(r, period=table_period) for r in opened]
        sentence_out += opened
        for rec in sentence_out:
            if rec.key() not in seen:
                seen.add(rec.key())
                out.append(rec)
        if sentence_out:
            last = max(sentence_out, key=lambda r: r.start)
            recent = Mention(last.entity or "", None, last.country or "", 0, 0)
        national_passage = recent is not None and recent.name == COUNTRY[0] and not sent.mentions
        # a per-person rate stated here holds for the next sentence's sums of the same thing (a monthly income per
        # person, then "the urban figure was 6 million dong" in the next sentence)
        stated = [r.unit for r in sentence_out if "/person/" in r.unit]
        if stated:
            ctx.notes["rate_unit"] = RATE_UNITS.index(stated[-1]) if stated[-1] in RATE_UNITS else -1
        else:
            ctx.notes.pop("rate_unit", None)
    return _drop_open_restatements(_drop_headline_restatements(ctx, out))


def _drop_open_restatements(recs: list[IndicatorRecord]) -> list[IndicatorRecord]:
    """An open figure that repeats a coded one, or a figure with no period that repeats a dated one (same place,
    value and unit, as in a headline over its story), is that fact again."""
    coded = {(r.entity, r.value, r.unit) for r in recs if r.indicator is not None}
    dated = {(r.entity, r.value, r.unit) for r in recs if r.period is not None}
    return [
        r
        for r in recs
        if (r.indicator is not None or (r.entity, r.value, r.unit) not in coded)
        and (r.period is not None or (r.entity, r.value, r.unit) not in dated)
    ]


def _with_basis(ctx: DocContext, text: str, unit: str) -> str:
    """A per-person rate with no period takes the one the sentence states once ("mỗi tháng", "a year"), else the
    one the document stated last for such a rate."""
    if not unit.endswith("/person"):
        return unit
    if first_match("basis_month", ctx.lang, text):
        ctx.notes["basis"] = 1
    elif first_match("basis_year", ctx.lang, text):
        ctx.notes["basis"] = 2
    basis = ctx.notes.get("basis")
    return unit + ("/month" if basis == 1 else "/year" if basis == 2 else "")


def _table_row(sent: Sentence) -> bool:
    """A line that starts with a place and goes on with at least three bare decimals (a table's row)."""
    if not sent.mentions or sent.mentions[0].start != 0:
        return False
    return len(ROW_DECIMAL.findall(sent.text, sent.mentions[0].end)) >= 3


def _whole_line(ctx: DocContext, sent: Sentence) -> bool:
    """The sentence is a line of its own (a table cell, a list item, a heading)."""
    text = ctx.doc.text
    return (sent.start == 0 or text[sent.start - 1] == "\n") and (
        sent.end == len(text) or text[sent.end] == "\n"
    )


def _place_only(sent: Sentence) -> Mention | None:
    """The place a line names and nothing else ("TP. Đà Nẵng", a table's row head)."""
    if len(sent.mentions) != 1:
        return None
    m = sent.mentions[0]
    rest = sent.text[: m.start] + sent.text[m.end :]
    return None if re.search(r"[^\W\d_]{3,}|\d", rest) else m


def _listed_claim(
    ctx: DocContext, rule: IndicatorRule, heading: str, quantities: list[Quantity], used: set[int]
) -> list[tuple[int, int, str, Quantity, Decimal, str]]:
    """A "Place – figure" line under a heading that names the indicator: its first figure that fits, with the
    heading's basis ("average income (per capita per month)")."""
    per = next((p for w, p in PER_PERSON.get(ctx.lang, ()) if w in heading.casefold()), "")
    for q in quantities:
        if q.start in used:
            continue
        typed = q
        if per and q.unit in MONEY:
            typed = Quantity(q.value, q.unit + per, q.start, q.end, q.scaled)
        fit = _fit(rule, typed)
        if fit is not None:
            used.add(q.start)
            return [(q.start, q.start, rule.indicator.code, q, *fit)]
    return []


@cache
def _count_noun_words(lang: str) -> re.Pattern[str]:
    """Any count noun of `lang`, to skip the spelled-number search in sentences that have none."""
    nouns = sorted({n for n, _ in count_nouns(lang)}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in nouns) + r")(?!\w)", re.IGNORECASE)


@cache
def _count_noun_filter(lang: str) -> Prefilter:
    """The count nouns as prefilter words: the long alternation is searched only where one may be."""
    return Prefilter((_count_noun_words(lang),))


def _spelled_counts(ctx: DocContext, text: str, quantities: list[Quantity]) -> list[Quantity]:
    """Counts written in words before a count noun ("Thirty new projects", "six IPs", "neuf projets")."""
    out: list[Quantity] = []
    if not _count_noun_filter(ctx.lang).candidates(text) or not _count_noun_words(ctx.lang).search(text):
        return out
    taken = [(q.start, q.end) for q in quantities]
    nouns = open_figures().count_units[ctx.lang]
    names = count_unit_names(ctx.lang)
    for m in spelled_words(ctx.lang).finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        value = parse_spelled(re.split(r"[\s-]+", m.group()), ctx.lang)
        noun = nouns.match(text, m.end())
        if value is None or value < 2 or noun is None:
            continue
        group = next(k for k, v in noun.groupdict().items() if v is not None)
        out.append(Quantity(value, names[int(group[1:])], m.start(), noun.end(), False))
    return out


def _open_unit(ctx: DocContext, text: str, q: Quantity, *, cell: bool = False) -> tuple[str, int] | None:
    """The unit of a figure no catalogue phrase claimed, and where the figure's words end; None if it has none."""
    figures = open_figures()
    if q.unit is not None:
        base = q.unit.split("/", 1)[0]
        return (q.unit, q.end) if base in figures.units else None
    m = figures.count_units[ctx.lang].match(text, q.end)
    if m is not None and q.value == q.value.to_integral_value():
        names = count_unit_names(ctx.lang)
        group = next(k for k, v in m.groupdict().items() if v is not None)
        return names[int(group[1:])], m.end()
    if any(m.start("n") == q.start for m in all_matches("multiple", ctx.lang, text)):
        return "times", q.end
    if q.value == q.value.to_integral_value():
        names = count_unit_names(ctx.lang)
        for m in all_matches("number_of", ctx.lang, text[max(0, q.start - 80) : q.start]):
            noun = figures.count_units[ctx.lang].match(text, max(0, q.start - 80) + m.end())
            # the count is the next figure after the noun, and a year is never one
            if (
                noun is not None
                and not re.search(r"\d", text[noun.end() : q.start])
                and not YEAR.fullmatch(text[q.start : q.end].strip())
            ):
                group = next(k for k, v in noun.groupdict().items() if v is not None)
                return names[int(group[1:])], q.end
    number = text[q.start : q.end].strip()
    if BARE_SCORE.match(number) and (
        figures.score_context[ctx.lang].search(text, 0, q.start)
        or (cell and figures.points_context[ctx.lang].search(ctx.doc.text))
    ):
        return "points", q.end
    return None


def _open_holder(
    ctx: DocContext, sent: Sentence, q: Quantity, end: int, unit: str, context: Mention | None
) -> Mention | None:
    """Who a figure belongs to: a place right after it ("5.8% in X"), else the last place named before it in the
    sentence (None for a region the catalogue does not hold), else the country for a national figure, else the
    place of the paragraph or of the document."""
    text = sent.text
    for m in sent.mentions:
        if m.start >= end and HOLDER_AFTER.match(text[end : m.start]):
            return m
    # "6.8% nationwide": the country's figure, whoever was named before it ("0.83% of the country" is a share of
    # it, held by the place before)
    nat = first_match("national_holder", ctx.lang, text, end, min(len(text), end + 20))
    share = unit == "%" and SHARE_OF.match(text, nat.start()) is not None if nat is not None else False
    if (
        nat is not None
        and not share
        and (
            not text[end : nat.start()].strip()
            or (unit != "%" and HOLDER_AFTER.match(text[end : nat.start()]))
        )
    ):
        return _country(nat.start(), nat.end())
    before = [m for m in sent.mentions if m.end <= q.start]
    if _region_holds(ctx, sent, q.start):
        return None
    last = before[-1].end if before else 0
    if any(last <= m.start() < q.start for m in all_matches("plural_places", ctx.lang, text[: q.start])):
        return None
    if before:
        return before[-1]
    if context is not None and _anaphor(ctx, text, q.start):
        return context
    country = _national(ctx, text, 0, q.start)
    if country is not None:
        return country
    if first_match("national_scope", ctx.lang, text, 0, q.start) is not None:
        return None
    if context is not None:
        return context
    after = [m for m in sent.mentions if m.start >= end]
    return after[0] if after else None


def _clause_words(
    sent: Sentence, q: Quantity, periods: list[PeriodMention], noise: list[tuple[int, int]]
) -> str:
    """The words of a figure's clause before it, without places, periods and other figures."""
    text = sent.text
    lo = 0
    for m in CLAUSE_CUT.finditer(text, 0, q.start):
        lo = m.end()
    chars = list(text[lo : q.start])
    # a rank claim and its scope ("đứng thứ 3 cả nước", in `noise`) say where the figure stands, not what it measures
    spans = [(m.start, m.end) for m in sent.mentions] + [(p.start, p.end) for p in periods] + noise
    for span in spans:
        for i in range(max(span[0], lo), min(span[1], q.start)):
            chars[i - lo] = " "
    return " ".join(re.sub(r"\d[\d.,]*\s?(?:%|\w+)?", " ", "".join(chars)).split())


def _label(ctx: DocContext, sent: Sentence, q: Quantity, end: int, raw: str) -> str:
    """The noun phrase a figure measures: the words of its clause before it, without verbs, qualifiers, places and
    periods; for a count with nothing before it, its noun ("1.968 doanh nghiệp" -> "doanh nghiệp")."""
    text = sent.text
    words = _strip_edges(ctx, raw).split()[-LABEL_WORDS:]
    number = NUMBER_PART.match(text, q.start)
    if not words and number is not None and (end > q.end or q.unit in COUNT_UNITS):
        words = _strip_edges(ctx, text[number.end() : end]).split()
    if not words:
        words = raw.split()[-LABEL_WORDS:]
    return re.sub(r"^['’]s\s+", "", " ".join(words).casefold()).strip(" .,'\"’") or "figure"


@cache
def _edge_patterns(lang: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The label_edge words as one pattern anchored at the start of a phrase and one at its end."""
    alts = "|".join(p.pattern for p in rule("label_edge", lang))
    return (
        re.compile(r"^(?:" + alts + r")(?:\s+|$)", re.IGNORECASE),
        re.compile(r"(?:^|\s)(?:" + alts + r")$", re.IGNORECASE),
    )


def _strip_edges(ctx: DocContext, phrase: str) -> str:
    """`phrase` without the label_edge words at either end (repeatedly)."""
    head, tail = _edge_patterns(ctx.lang)
    while phrase:
        m = head.match(phrase) or tail.search(phrase)
        if m is None or not m.group().strip():
            break
        phrase = (phrase[: m.start()] + phrase[m.end() :]).strip()
    return phrase


def _open_records(
    ctx: DocContext,
    sent: Sentence,
    quantities: list[Quantity],
    used: set[int],
    periods: list[PeriodMention],
    inherited: str | None,
    before_sentence: Mention | None,
    coded: list[IndicatorRecord],
    claims: list[tuple[int, int, str, Quantity, Decimal, str]],
    cell: bool = False,
) -> list[IndicatorRecord]:
    """Quantity-first: every remaining figure with a unit and a holder is a record with an open label."""
    text = sent.text
    thresholds = all_matches("threshold_count", ctx.lang, text)
    # the basis of a rate the sentence states once holds for its other sums in that currency (one income "triệu
    # đồng/tháng", then the next province "với 6 triệu đồng")
    rates = {_unit_base(c[5]): c[5] for c in claims if "/person" in c[5]}
    rates.update({_unit_base(r.unit): r.unit for r in coded if "/person" in r.unit})
    carried = ctx.notes.get("rate_unit", -1)
    if carried >= 0 and not rates and first_match("rate_head", ctx.lang, text):
        rates[_unit_base(RATE_UNITS[carried])] = RATE_UNITS[carried]
    if "points_context" not in ctx.notes:
        ctx.notes["points_context"] = int(bool(open_figures().points_context[ctx.lang].search(ctx.doc.text)))
    points_ok = bool(ctx.notes["points_context"])
    noise: list[tuple[int, int]] | None = None
    out = []
    previous: Quantity | None = None
    for q in quantities:
        prior = previous
        if q.unit is not None:
            previous = q
        if q.start in used:
            continue
        found = _open_unit(ctx, text, q, cell=cell)
        if found is None:
            continue
        unit, end = found
        if unit == "points" and not points_ok:
            continue
        base, _, per = unit.partition("/")
        if base in rates and per in ("", "month", "year", "person"):
            unit = rates[base]
        elif base in MONEY and per in ("month", "year") and first_match("per_capita", ctx.lang, text):
            # "GDP per capita reaching VND6.01 million per month": the sentence's rate is per person
            unit = f"{base}/person/{per}"
        elif base in MONEY and not per and first_match("per_capita", ctx.lang, text, end, end + 25):
            # "VND7.12 million of GDP per capita per month"
            unit = _with_basis(ctx, text, f"{base}/person")
        unit = _with_basis(ctx, text, unit)
        # "11/23 KCN đạt trên 90%", "5/63 tỉnh có kim ngạch xuất khẩu trên 10 tỉ USD": counts of things reaching a
        # level, not figures of a place
        if any(t.start() <= q.start for t in thresholds):
            continue
        # "172 triệu đồng (tương đương 7.012 USD)": one fact in two currencies, recorded once
        if (
            prior is not None
            and _unit_base(prior.unit or "") in MONEY
            and _unit_base(unit) in MONEY
            and _unit_base(unit) != _unit_base(prior.unit or "")
            and any(
                p.fullmatch(text, lo, q.start)
                for p in rule("equivalent_bracket", ctx.lang)
                for lo in {prior.end, max(prior.end, text.rfind(",", prior.end, q.start))}
            )
        ):
            continue
        ent = _open_holder(ctx, sent, q, end, unit, before_sentence)
        if ent is None:
            continue
        period = _period(ctx, text, periods, q, q.start)
        if period is None and inherited and unit.split("/")[0] in (*MONEY, "%"):
            period = inherited
        win_lo = max(0, q.start - 80)
        win_lo = max(win_lo, text.rfind(";", win_lo, q.start) + 1)
        if noise is None:
            noise = [(m.start(), m.end()) for name in LABEL_NOISE for m in all_matches(name, ctx.lang, text)]
        words = _clause_words(sent, q, periods, noise)
        label: str | None = _label(ctx, sent, q, end, words)
        code = None
        # "..., còn Hà Nội đạt 6,8 triệu đồng": a figure whose clause names nothing but a place and a verb is
        # another value of the indicator claimed before it in the sentence
        if not _strip_edges(ctx, words):
            same = [c for c in claims if c[3].end <= q.start and _unit_base(c[5]) == _unit_base(unit)]
            if same:
                code, label = same[-1][2], None
        out.append(
            IndicatorRecord(
                ent.name,
                ent.country,
                code,
                to_number(q.value),
                unit,
                period,
                _qualifier(ctx, text, q),
                _status(ctx, text, win_lo, q.start),
                text,
                sent.start + q.start,
                sent.start + end,
                label,
            )
        )
    return out


def _unit_base(unit: str) -> str:
    return unit.split("/", 1)[0]


def _region_holds(ctx: DocContext, sent: Sentence, pos: int) -> bool:
    """A region the catalogue does not hold is the first place named and the last before `pos` ("Vùng Đồng bằng
    sông Hồng có thu nhập ..."); after a province ("Binh Duong is located in the Southeast region") it is where the
    province lies, not a holder."""
    before = [m for m in sent.mentions if m.end <= pos]
    first = sent.mentions[0].start if sent.mentions else len(sent.text)
    last = before[-1].end if before else 0
    return any(
        last <= r.start() and r.end() <= pos and r.end() <= first
        for r in all_matches("other_place", ctx.lang, sent.text)
    )


def _drop_headline_restatements(ctx: DocContext, recs: list[IndicatorRecord]) -> list[IndicatorRecord]:
    """A period-less headline figure that rounds a dated body figure of the same place and indicator ("exports
    top 19 billion USD" over "19.4 billion USD in the first nine months of 2024") is that figure again (ho3-a04,
    ho-a06)."""
    if not ctx.title_end:
        return recs
    body = [r for r in recs if r.start >= ctx.title_end and r.period is not None]

    def restated(h: IndicatorRecord) -> bool:
        return any(
            b.entity == h.entity
            and b.indicator == h.indicator
            and b.unit == h.unit
            and abs(b.value - h.value) <= 0.1 * max(abs(b.value), abs(h.value))
            for b in body
        )

    return [r for r in recs if not (r.end <= ctx.title_end and r.period is None and restated(r))]


@cache
def _count_noun_re(index: int, lang: str) -> re.Pattern[str] | None:
    """The count nouns of the index-th indicator rule as one pattern: the longest noun first, each ending a word
    (None: no nouns)."""
    nouns = sorted(indicator_rules()[index].count_nouns.get(lang, ()), key=len, reverse=True)
    if not nouns:
        return None
    return re.compile("|".join(f"(?:{n}(?!\\w))" for n in nouns), re.IGNORECASE)


def _noun_tail(text: str, q: Quantity) -> tuple[int, str]:
    """Where a count noun after the figure `q` starts, and the lowercased text from there."""
    num = NUMBER_PART.match(text, q.start)
    noun_start = num.end() if num else q.end
    if q.scaled:
        noun_start = max(noun_start, q.end if q.unit is None else noun_start)
        scale_end = re.match(r"\s*\S+\s*", text[noun_start:])
        if q.unit is None and scale_end:
            noun_start = q.end + (1 if text[q.end : q.end + 1] == " " else 0)
    tail = text[noun_start : noun_start + 80].lower()
    adjective = re.match(r"(?:new|additional|nouveaux)\s+", tail)
    if adjective:
        noun_start += adjective.end()
        tail = tail[adjective.end() :]
    return noun_start, tail


def _count_claims(
    ctx: DocContext, text: str, quantities: list[Quantity], used: set[int]
) -> list[tuple[int, int, str, Quantity, Decimal, str]]:
    """Counts written as number + noun ("120 dự án FDI", "có 29 khu công nghiệp") and the figures that follow
    them ("... với tổng diện tích 12.000 ha")."""
    rules = _rules_by_code()
    out = []
    thresholds = all_matches("threshold_count", ctx.lang, text)
    # where the noun after each figure would start, and the lowercased text from there (the same for every rule)
    after: dict[int, tuple[int, str]] = {}
    for index, r in enumerate(indicator_rules()):
        noun_re = _count_noun_re(index, ctx.lang)
        if noun_re is None:
            continue
        for q in quantities:
            if (
                q.start in used
                or q.unit not in (None, r.indicator.unit)
                or q.value != q.value.to_integral_value()
            ):
                continue
            if q.start not in after:
                after[q.start] = _noun_tail(text, q)
            noun_start, tail = after[q.start]
            nm = noun_re.match(tail)
            if nm is None:
                continue
            if any(t.start() <= q.start < t.end() for t in thresholds):
                continue
            if r.indicator.code == "industrial_park_count" and not COUNT_VERB.search(
                text[max(0, q.start - 30) : q.start]
            ):
                continue
            if _is_change(ctx, text, q, 0):
                continue
            used.add(q.start)
            noun_end = noun_start + nm.end()
            out.append((q.start, noun_end, r.indicator.code, q, q.value, r.indicator.unit))
            for code, pat in r.follow_on:
                fm = pat.search(text, noun_end, noun_end + 60)
                if not fm:
                    continue
                for q2 in quantities:
                    if q2.start >= fm.end() and q2.start - fm.end() < 25 and q2.start not in used:
                        fit = _fit(rules[code], q2)
                        if fit is not None:
                            used.add(q2.start)
                            out.append((fm.start(), fm.end(), code, q2, *fit))
                        break
    return out
