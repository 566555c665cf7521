"""Indicator values: phrase -> figure in base units, with entity, period, qualifier and status."""

from __future__ import annotations

import re
from decimal import Decimal

from extractors.catalogue import IndicatorRule, indicator_phrases, indicator_rules
from extractors.context import DocContext, Sentence, all_matches, first_match
from extractors.entities import Mention
from extractors.numbers import Quantity, find_quantities, to_number
from extractors.periods import PeriodMention, find_periods, relative_year
from extractors.records import IndicatorRecord

GROWTH_INDICATORS = frozenset({"grdp_growth"})
# Press copy states a sub-year period once ("9 tháng đầu năm 2024, ...") and the next sentences report more flows
# of the same period without repeating it; only these period kinds carry over, and only to flows (money, growth).
CARRIED_PERIOD_KINDS = frozenset({"period_ytd", "period_h1", "period_quarter", "period_month"})
MONEY = ("VND", "USD")
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


def _entity_for(ctx: DocContext, sent: Sentence, ps: int, pe: int) -> Mention | None:
    text = sent.text
    for m in sent.mentions:
        if m.start >= pe and OF_ENTITY.match(text[pe : m.start]):
            return m
    # "croissance économique du pays", "GRDP của cả nước": the nation's figure, whoever was named before (ho3-a05)
    nat = first_match("national_scope", ctx.lang, text, pe, pe + 16)
    if nat is not None and NATIONAL_GAP.fullmatch(text[pe : nat.start()]):
        return None
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
    if first_match("national_scope", ctx.lang, text, 0, ps) is not None:
        return None
    after = [m for m in sent.mentions if m.start >= pe]
    if after:
        return after[0]
    if ctx.main is None:
        return None
    return ctx.main


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
    rules = _rules_by_code()
    pattern, table = indicator_phrases(ctx.lang, for_rank=False)
    out: list[IndicatorRecord] = []
    seen: set[tuple[object, ...]] = set()
    carried: str | None = None
    for sent in ctx.sentences:
        text = sent.text
        quantities = find_quantities(text, lang=ctx.lang, convention=ctx.convention)
        ranges = _in_ranges(ctx, text) if quantities else []
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in ranges)]
        if not quantities:
            continue
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
                if rule.measure == "percent" and _threshold_guard(ctx, text, ps):
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
        for ps, pe, code, q, value, unit in claims:
            ent = holders.get(q.start) or _entity_for(ctx, sent, ps, pe)
            if ent is None:
                continue
            period = _period(ctx, text, periods, q, ps)
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
            if rec.key() not in seen:
                seen.add(rec.key())
                out.append(rec)
    return _drop_headline_restatements(ctx, out)


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


def _count_claims(
    ctx: DocContext, text: str, quantities: list[Quantity], used: set[int]
) -> list[tuple[int, int, str, Quantity, Decimal, str]]:
    """Counts written as number + noun ("120 dự án FDI", "có 29 khu công nghiệp") and the figures that follow
    them ("... với tổng diện tích 12.000 ha")."""
    rules = _rules_by_code()
    out = []
    thresholds = all_matches("threshold_count", ctx.lang, text)
    for r in indicator_rules():
        nouns = sorted(r.count_nouns.get(ctx.lang, ()), key=len, reverse=True)
        if not nouns:
            continue
        for q in quantities:
            if (
                q.start in used
                or q.unit not in (None, r.indicator.unit)
                or q.value != q.value.to_integral_value()
            ):
                continue
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
            nm = next((m for m in (re.match(n + r"(?!\w)", tail, re.IGNORECASE) for n in nouns) if m), None)
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
