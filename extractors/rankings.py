"""Ranking mentions: program triggers, holders, status, years (award-year semantics, streaks), rank and out_of."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache

from extractors.catalogue import (
    icf_context,
    indicator_phrases,
    indicator_rules,
    program_rules,
    rank_program,
    rule,
)
from extractors.context import DocContext, Sentence, all_matches, first_match
from extractors.entities import Mention, community_mentions, list_item_entity, location_tail_end
from extractors.periods import ORDINALS, YEAR_RE, relative_year, small_number
from extractors.prefilter import Prefilter, rule_candidates
from extractors.ranktables import row_rank
from extractors.records import RankingRecord

# A generic "Top 7" followed by one of these nouns is some other league table, not ICF's.
NON_ICF_AFTER = re.compile(
    r"\s*(?:tỉnh|địa phương|doanh nghiệp|ngân hàng|thương hiệu|trường|sản phẩm|đội|CLB|provinces?|localities|"
    r"companies|banks|brands|teams|universities|provinces et)",
    re.IGNORECASE,
)
# "the Top7 Conference", "the Smart21 announcement": an event of the award cycle, not a place in its list.
ICF_EVENT_AFTER = re.compile(
    r"\s*(?:intelligent communit(?:y|ies)\s+|communities\s+|cộng đồng thông minh\s+)?"
    r"(?:conference|summit|announcement|ceremony|event|forum|webinar|hội nghị|hội thảo|sự kiện|lễ công bố|"
    r"conférence|sommet|cérémonie)",
    re.IGNORECASE,
)
# A press dateline ("(March 20, 2024 – New York, NY, USA & Taipei, Taiwan) –", "New York, Feb. 8 (CNA)"): the places
# in it are where the release was filed.
DATELINE = re.compile(
    r"^\s*(?:\([^()]{0,160}?(?:19|20)\d{2}[^()]{0,100}\)\s*[–—-]+|[^.;()]{0,60}?\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
    r"Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:, (?:19|20)\d{2})?\s*\([A-Z]{2,8}\))"
)
COORDINATION = re.compile(
    r"^\s*(?:,|;|và|cùng|cùng với|and|&|et|,\s*và|,\s*and|,\s*et|;\s*and|;\s*và|;\s*et)"
    r"(?:\s+(?:the|le|la|les|l'))?\s*$",
    re.IGNORECASE,
)
EXCLUDED_YEAR_BEFORE = re.compile(
    r"(?:từ|since|depuis|kể từ|bắt đầu từ|triển khai từ|giai đoạn|period|so với|"
    r"compared with|compared to|up from|down from|par rapport à|cùng kỳ)\s*(?:[A-Z][\w-]*\s+)?"
    r"(?:năm|tháng\s*\d{1,2}[-/])?\s*$",
    re.IGNORECASE,
)
LIST_MARKER = re.compile(
    r"(?::|\b(?:gồm|bao gồm|là|include|includes|including|are|were|sont|comprennent))\s*$", re.IGNORECASE
)
AFTER_REACH = 80  # characters between an award and a holder named after it without a list marker
AGENT_BEFORE = re.compile(r"\b(?:of|by|from|của|bởi|từ|de|par)\s+$", re.IGNORECASE)
COMPARED_BEFORE = re.compile(
    r"(?:so với|compared (?:with|to)|up from|down from|par rapport à)\s*$", re.IGNORECASE
)
# "đưa Bình Dương trở thành ...", "make Binh Duong ...": the place is the object of someone's plan.
CAUSATIVE_BEFORE = re.compile(
    r"(?:đưa|giúp|make|making|help|helping|turn|faire de)\s+(?:tỉnh\s+)?$", re.IGNORECASE
)
# "mục tiêu của Bình Dương là trở thành ...": the goal is named before its owner (ho2-a02).
ASPIRATION_OWNER_BEFORE = re.compile(
    r"(?:mục tiêu|kế hoạch|khát vọng|goal|aim|ambition|objectif)\s+(?:của|of|de)\s+(?:tỉnh\s+|the\s+|la\s+)?$",
    re.IGNORECASE,
)
# A superlative ("lớn nhất", "highest") describes a quantity, not a place in an index: never carried (ho-a04).
SUPERLATIVE = re.compile(
    r"cao nhất|lớn nhất|nhiều nhất|tốt nhất|highest|largest|best|le plus|la plus", re.IGNORECASE
)
# "trong 9 tháng", "first 11 months": a year-to-date rank is of the publication year (ho-a04).
YTD_MONTHS = re.compile(
    r"(?<!\d)(?P<n>\d{1,2}) tháng|first (?P<n2>\d{1,2}) months|(?P<n3>\d{1,2}) premiers mois", re.IGNORECASE
)
# "địa phương nhiều năm liền đứng đầu": a past habit, not the rank in the context's year (a08).
PAST_HABIT_BEFORE = re.compile(
    r"(?:nhiều năm(?: liền)?|từng|formerly|previously|longtemps|autrefois)\s+$", re.IGNORECASE
)
# "results announced in 2024": an index of year N is published in N+1 (a11, ho-a03).
ANNOUNCED_BEFORE = re.compile(
    r"(?:công bố|announced|published|released|publié|publiés)\s+(?:\w+\s+){0,2}(?:in\s+|vào\s+|en\s+|năm\s+|tháng\s*\d{1,2}[/-])?$",
    re.IGNORECASE,
)
ICF_PROGRAMS = ("icf_smart21", "icf_top7", "icf_icoty")
CAPTION_MAX = 100  # characters of a place-less line (a caption, a photo credit) the ranking context survives
TABLE_REACH = 15  # sentences between a ranking's name (or its last row) and the next row of its table
SMART21_SHIFT_UNTIL = 2019  # Smart21 of award year N was announced in autumn N-1 up to the 2020 award year


@dataclass(frozen=True)
class Trigger:
    program: str
    start: int
    end: int
    rank: int | None = None
    rank_last: bool = False
    rank_span: tuple[int, int] | None = None
    # named only through the document context (the previous sentence's program), with that context's year
    carried: bool = False
    carried_year: int | None = None


Carry = tuple[str, int | None]


@dataclass(frozen=True)
class PendingStreak:
    """A streak with no year in its sentence, resolved against explicit years elsewhere in the document."""

    sentence: Sentence
    holder: Mention
    program: str
    status: str
    count: int
    start: int
    end: int


def _icf_ok(ctx: DocContext, idx: int, m: re.Match[str]) -> bool:
    if ctx.notes.get("icf_doc"):
        # a document that names ICF or one of its awards outright: its "Top7", "the 2011 winner" are ICF's
        return True
    pats = icf_context()[ctx.lang]
    sent = ctx.sentences[idx]
    texts = [(sent.text, m.start(), m.end())]
    if idx > 0:
        texts.append((ctx.sentences[idx - 1].text, -1, -1))
    if ctx.title_end and ctx.sentences[0].end <= ctx.title_end:
        texts.append((ctx.sentences[0].text, -1, -1) if idx != 0 else (sent.text, m.start(), m.end()))
    for text, s, e in texts:
        for pat in pats:
            for cm in pat.finditer(text):
                if not (cm.start() < e and s < cm.end()):
                    return True
    return False


def _rank_expressions(ctx: DocContext, text: str) -> list[tuple[int, int, int | None, str]]:
    """(start, end, rank, kind) for rank phrases: kind n / first / last / top."""
    out: list[tuple[int, int, int | None, str]] = []
    for kind, name in (("n", "rank_n"), ("first", "rank_first"), ("last", "rank_last"), ("top", "rank_top")):
        if not rule_candidates(name, ctx.lang, text):
            continue
        for m in all_matches(name, ctx.lang, text):
            rank: int | None = None
            if kind == "n":
                digits = m.groupdict().get("n") or ""
                rank = (
                    2
                    if m.groupdict().get("second") is not None
                    else (int(digits) if digits.isdigit() else small_number(digits))
                    or ORDINALS.get((m.groupdict().get("ord") or "").lower())
                )
                if rank is None:
                    continue
            elif kind == "first":
                rank = 1
            elif kind == "top":
                rank = small_number(m.groupdict().get("n"))
            out.append((m.start(), m.end(), rank, kind))
    # "dẫn đầu vùng Tây Nguyên", "ranks first in the Red River Delta": a regional rank is not a national one.
    out = [r for r in out if not _regional(ctx, text, r[1])]
    # "nhóm 10 tỉnh dẫn đầu": the "dẫn đầu" inside a Top-N phrase describes the group, not a first place.
    tops = [(s, e) for s, e, _, k in out if k == "top"]
    return [r for r in out if r[3] == "top" or not any(s <= r[0] and r[1] <= e for s, e in tops)]


def _regional(ctx: DocContext, text: str, end: int) -> bool:
    """Whether a region is named right after the rank phrase ending at `end` ("dẫn đầu vùng Tây Nguyên")."""
    m = first_match("regional_scope", ctx.lang, text, end, min(len(text), end + 60))
    return m is not None and m.start() == end


@cache
def _gate(lang: str) -> Prefilter:
    """One test that tells whether a sentence can hold any ranking trigger at all (most sentences cannot)."""
    parts = [p for pr in program_rules() for p in (*pr.triggers[lang], *pr.generic_triggers[lang])]
    parts += [p for name in ("rank_n", "rank_first", "rank_last", "rank_top") for p in rule(name, lang)]
    return Prefilter((*parts, *rule("program_anaphor", lang), *rule("award_anaphor", lang)))


def clauses(ctx: DocContext, text: str, program: str | None = None) -> list[tuple[int, int]]:
    """Spans of the clauses a contrast ("trong khi", "while", "tandis que") splits a sentence into; for a ranking
    that is not an award, a semicolon also ends a clause ("A dẫn đầu; đứng thứ 2 là B")."""
    cuts = [m.start() for m in all_matches("clause_contrast", ctx.lang, text)]
    if program is not None and program not in _award_programs():
        cuts = sorted({*cuts, *(m.start() for m in all_matches("clause_series", ctx.lang, text))})
    bounds = [0, *cuts, len(text)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def clause_of(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    return next(((a, b) for a, b in spans if a <= pos < b), spans[-1])


def find_triggers(
    ctx: DocContext, idx: int, carry: Carry | None = None
) -> tuple[list[Trigger], list[tuple[int, int, str]]]:
    """The sentence's triggers, and the programs it names (with or without a rank) for the document context."""
    sent = ctx.sentences[idx]
    text = sent.text
    # the trigger patterns that match at all, each searched once: the others have nothing for the loops below
    live = {p for p in _gate(ctx.lang).candidates(text) if p.search(text)}
    if not live:
        return [], []
    found: list[Trigger] = []
    index_spans: list[tuple[int, int, str]] = []
    for pr in program_rules():
        pats = [(p, False) for p in pr.triggers[ctx.lang]] + [
            (p, True) for p in pr.generic_triggers[ctx.lang]
        ]
        for pat, generic in pats:
            if pat not in live:
                continue
            for m in pat.finditer(text):
                if generic and not _icf_ok(ctx, idx, m):
                    continue
                if pr.program.code in ICF_PROGRAMS and (
                    NON_ICF_AFTER.match(text, m.end()) or ICF_EVENT_AFTER.match(text, m.end())
                ):
                    continue
                if pr.program.kind == "index":
                    if COMPARED_BEFORE.search(text, max(0, m.start() - 20), m.start()):
                        continue  # "tụt 8 bậc so với PCI 2022": the index compared with ranks nobody here
                    index_spans.append((m.start(), m.end(), pr.program.code))
                else:
                    found.append(Trigger(pr.program.code, m.start(), m.end()))
    found = _drop_overlaps(found)
    ranks = [
        r for r in _rank_expressions(ctx, text) if not any(r[0] < t.end and t.start < r[1] for t in found)
    ]
    has_top = any(r[3] == "top" for r in ranks)
    used: set[int] = set()
    index_spans.sort()
    for r in ranks:
        # every rank phrase near an index name ranks by that index ("PCI 2023: A dẫn đầu, B xếp thứ 7")
        owner = _nearest_index(index_spans, r, text)
        if owner is None:
            continue
        s, e, code = owner
        rs, re_, rank, kind = r
        used.add(rs)
        found.append(Trigger(code, s, e, None if kind == "top" else rank, kind == "last", (rs, re_)))
    found.extend(_indicator_rank_triggers(ctx, text, [r for r in ranks if r[0] not in used], has_top))
    named = [(t.start, t.end, t.program) for t in found] + index_spans
    if carry is not None:
        found.extend(_carried_triggers(ctx, text, carry, ranks, found, named))
    return _drop_overlaps(found), sorted(named)


def _carried_triggers(
    ctx: DocContext,
    text: str,
    carry: Carry,
    ranks: list[tuple[int, int, int | None, str]],
    found: list[Trigger],
    named: list[tuple[int, int, str]],
) -> list[Trigger]:
    """Rank phrases and references ("danh sách này", "the title") in a clause that names no program of its own
    take the program of the previous sentence: "PCI 2023 ... công bố. Hải Phòng dẫn đầu bảng xếp hạng."."""
    code, year = carry
    spans = clauses(ctx, text, code)
    taken = {t.rank_span for t in found if t.rank_span}
    out: list[Trigger] = []
    for lo, hi in spans:
        own = {c for s, _, c in named if lo <= s < hi}
        if own:
            # only the award is "the title": a Top7 place named before is not (ho-a02)
            if code == "icf_icoty" and code not in own:
                out.extend(
                    Trigger(code, m.start(), m.end(), carried=True, carried_year=year)
                    for m in all_matches("title_anaphor", ctx.lang, text[:hi])
                    if m.start() >= lo
                )
            continue
        here: list[Trigger] = []
        if code in _award_programs() and code not in ICF_PROGRAMS:
            # another body's award: its categories and prizes, never a rank phrase ("took the leading position")
            out.extend(
                Trigger(code, m.start(), m.end(), carried=True, carried_year=year)
                for m in all_matches("award_anaphor", ctx.lang, text[:hi])
                if m.start() >= lo
            )
            continue
        if code not in ICF_PROGRAMS:
            for rs, re_, rank, kind in ranks:
                if not lo <= rs < hi or (rs, re_) in taken:
                    continue
                if kind in ("first", "last") and SUPERLATIVE.search(text, rs, re_):
                    continue
                if PAST_HABIT_BEFORE.search(text[max(0, rs - 25) : rs]):
                    continue
                here.append(
                    Trigger(
                        code, rs, re_, None if kind == "top" else rank, kind == "last", (rs, re_), True, year
                    )
                )
        if not here:
            here = [
                Trigger(code, m.start(), m.end(), carried=True, carried_year=year)
                for m in all_matches("program_anaphor", ctx.lang, text[:hi])
                if m.start() >= lo
            ]
        out.extend(here)
    return out


def _drop_overlaps(trigs: list[Trigger]) -> list[Trigger]:
    out: list[Trigger] = []
    for t in sorted(trigs, key=lambda t: (-(t.end - t.start), t.start)):
        if not any(
            t.start < o.end and o.start < t.end and t.program == o.program and t.rank_span == o.rank_span
            for o in out
        ):
            out.append(t)
    return sorted(out, key=lambda t: t.start)


def _nearest_index(
    spans: list[tuple[int, int, str]], r: tuple[int, int, int | None, str], text: str
) -> tuple[int, int, str] | None:
    best = None
    best_d = 10**9
    # a sentence that names one index ranks by it at any distance (the index named at the start, the place and
    # its rank at the end after a long aside)
    single = len({code for _, _, code in spans}) == 1
    reach = 200 if single else 70
    for s, e, code in spans:
        gap = text[e : r[0]] if r[0] >= e else text[r[1] : s]
        # a semicolon series after the one index a sentence names ranks by it ("PCI 2022: A first; B second")
        if (";" in gap and not (single and r[0] >= e)) or len(gap) > reach:
            continue
        if best_d > len(gap):
            best, best_d = (s, e, code), len(gap)
    return best


def _indicator_rank_triggers(
    ctx: DocContext, text: str, ranks: list[tuple[int, int, int | None, str]], has_top: bool
) -> list[Trigger]:
    pattern, table = indicator_phrases(ctx.lang, for_rank=True)
    phrases = [(m.start(), m.end(), table[m.group(1).casefold()]) for m in pattern.finditer(text)]
    national = first_match("national_scope", ctx.lang, text) is not None
    out = []
    for rs, re_, rank, kind in ranks:
        if kind in ("first", "last") and not national and first_match("out_of_n", ctx.lang, text) is None:
            continue
        if kind == "first" and has_top:
            kind, rank = "top", None
        best = None
        best_d = 10**9
        for ps, pe, code in phrases:
            gap = text[pe:rs] if ps < rs else text[re_:ps]
            if ";" in gap or ("." in gap.replace(",", "") and not re.search(r"\d\.\d", gap)) or len(gap) > 60:
                continue
            if len(gap) < best_d:
                best, best_d = (ps, pe, code), len(gap)
        if best is None:
            continue
        ps, pe, code = best
        growth = _growth_of(code)
        if growth and re.search(
            r"(?:tăng|grew|rose|growth of|progressé de)\s*[\d.,]+\s*%", text[pe:rs] if ps < rs else ""
        ):
            code = growth
        out.append(
            Trigger(
                rank_program(code),
                min(ps, rs),
                max(pe, re_),
                None if kind == "top" else rank,
                kind == "last",
                (rs, re_),
            )
        )
    return out


def _growth_of(code: str) -> str | None:
    return next((r.growth for r in indicator_rules() if r.indicator.code == code), None)


def _excluded_mentions(ctx: DocContext, sent: Sentence) -> set[int]:
    """Mentions that are objects of overtaking ("vượt qua Bình Dương") or the ones ahead ("chỉ sau TP.HCM")."""
    out = set()
    for m in sent.mentions:
        pre = sent.text[max(0, m.start - 40) : m.start]
        for name in ("overtake", "behind"):
            for pat in all_matches(name, ctx.lang, pre):
                tail = pre[pat.end() :]
                if re.fullmatch(
                    r"\s*(?:cả |các |tỉnh |thành phố |TP\.? |the |la |le )?", tail, re.IGNORECASE
                ):
                    out.add(m.start)
    return out


def _group_before(mentions: list[Mention], text: str) -> list[Mention]:
    group = [mentions[-1]]
    for prev in reversed(mentions[:-1]):
        if COORDINATION.match(text[location_tail_end(text, prev.end) : group[0].start]):
            group.insert(0, prev)
        else:
            break
    return group


def _group_after(mentions: list[Mention], text: str) -> list[Mention]:
    group = [mentions[0]]
    for nxt in mentions[1:]:
        if COORDINATION.match(text[location_tail_end(text, group[-1].end) : nxt.start]):
            group.append(nxt)
        else:
            break
    return group


def _venue(ctx: DocContext, text: str, m: Mention) -> bool:
    """Whether the place is where something happens ("in Taipei", "hosted by", "tại Đài Bắc", "X will host")."""
    window = text[max(0, m.start - 40) : m.start]
    if any(v.end() == len(window) for v in all_matches("venue_before", ctx.lang, window)):
        return True
    tail = text[location_tail_end(text, m.end) : m.end + 60]
    return any(v.start() == 0 for v in all_matches("venue_after", ctx.lang, tail))


def _appositive(ctx: DocContext, text: str, trig: Trigger, cands: list[Mention]) -> Mention | None:
    """The place an award's name is set off against by a comma ("X, the 2019 ...", "ICF's 2011 winner, X")."""
    for m in cands:
        gap = text[location_tail_end(text, m.end) : trig.start]
        if m.end <= trig.start and any(
            a.start() == 0 and a.end() == len(gap) for a in all_matches("appositive_before", ctx.lang, gap)
        ):
            return m
        gap = text[trig.end : m.start]
        if m.start >= trig.end and any(
            a.start() == 0 and a.end() == len(gap) for a in all_matches("appositive_after", ctx.lang, gap)
        ):
            return m
    return None


def _unknown_subject(ctx: DocContext, text: str, lo: int, at: int) -> bool:
    """Whether a capitalised name the catalogue does not hold stands right before the rank phrase at `at` (and
    after `lo`, the end of the last known place): "Viêng Chăn ở vị trí thứ 40"."""
    if at <= lo:
        return False
    tokens = text[max(lo, at - 40) : at].split()
    verbs = rule("subject_verb", ctx.lang)
    while tokens and any(v.fullmatch(tokens[-1]) for v in verbs):
        tokens.pop()
    name: list[str] = []
    while tokens and tokens[-1][:1].isupper() and tokens[-1][-1:].isalpha() and len(name) < 4:
        name.append(tokens.pop())
    return bool(name)


def _locator(ctx: DocContext, text: str, m: Mention) -> bool:
    """Whether the place only locates the one before it, in brackets ("Pho Yen (the northern province of X)")."""
    window = text[max(0, m.start - 50) : m.start]
    return any(not window[v.end() :].strip() for v in all_matches("locator_before", ctx.lang, window))


def sent_mentions(ctx: DocContext, sent: Sentence, program: str) -> list[Mention]:
    """The sentence's places; for an ICF program also the communities it writes with state and country."""
    if program not in ICF_PROGRAMS:
        return sent.mentions
    learned = community_mentions(sent.text, sent.mentions)
    return sorted([*sent.mentions, *learned], key=lambda m: m.start) if learned else sent.mentions


def holders(
    ctx: DocContext, sent: Sentence, trig: Trigger, skip: frozenset[int] = frozenset()
) -> list[Mention]:
    """Who holds the ranking: the subject before the trigger, else the listed ones after it, else the document's
    place when the sentence refers to it ("tỉnh", "the province")."""
    text = sent.text
    excluded = _excluded_mentions(ctx, sent) | skip
    # the holder is in the clause of the rank phrase, which may follow the index's name ("PCI: A đầu; B thứ 2")
    lo, hi = clause_of(clauses(ctx, text, trig.program), trig.rank_span[0] if trig.rank_span else trig.start)
    mentions = sent_mentions(ctx, sent, trig.program)
    cands = [m for m in mentions if m.start not in excluded and lo <= m.start < hi]
    if trig.program in _award_programs():
        dl = DATELINE.match(text)
        if dl:
            cands = [m for m in cands if m.start >= dl.end()]
        titled = _appositive(ctx, text, trig, cands)
        if titled is not None:
            # "in Taoyuan, the 2019 Intelligent Community of the Year": the venue holds the title set off after it
            return [titled]
        cands = [m for m in cands if not _venue(ctx, text, m) and not _locator(ctx, text, m)]
    head = trig.rank_span[0] if trig.rank_span and trig.rank_span[0] > trig.start else trig.start
    before = [m for m in cands if m.end <= head]
    after = [m for m in cands if m.start >= trig.end]
    after_all = after
    if trig.program in _award_programs():
        # "selected by analysts led by a former officer of Westchester County": a place named after an award by
        # way of someone else is not its holder
        after = [m for m in after if not AGENT_BEFORE.search(text, max(0, m.start - 12), m.start)]
    if (
        trig.rank_span
        and (before or after)
        and trig.program not in _award_programs()
        and _unknown_subject(
            ctx,
            text,
            max([lo, *(location_tail_end(text, m.end) for m in cands if m.end <= trig.rank_span[0])]),
            trig.rank_span[0],
        )
    ):
        return []  # "Viêng Chăn ở vị trí thứ 40, Hà Nội ...": the rank is an unknown city's
    if before:
        group = _group_before(before, text)
        if trig.program in _award_programs():
            # "Bình Dương lọt Top 7 ... cùng với Durham (Canada), Curitiba (Brazil) và Đài Nam (Đài Loan)"
            along = first_match("companions", ctx.lang, text, trig.end, hi)
            rest = [m for m in after_all if along is not None and m.start >= along.end()]
            if rest and re.fullmatch(r"\s*", text[along.end() if along else 0 : rest[0].start]):
                group += _group_after(rest, text)
        return group
    if after:
        gap = text[trig.end : after[0].start]
        if LIST_MARKER.search(gap):
            return after
        if trig.program in _award_programs() and len(gap) > AFTER_REACH:
            # "The Smart21 are selected by ICF based on ... data evaluated by analysts led by ... and Westchester
            # County (New York) CIO": a place far after an award, with no list between, is not its holder
            return []
        return _group_after(after, text)
    if ctx.main is not None and not [m for m in mentions if lo <= m.start < hi]:
        anaphor = first_match("anaphor", ctx.lang, text, lo, head if head > trig.start else trig.end)
        if anaphor and not re.search(
            r"(?<!\w)(?:một|các|những|mỗi|a|an|any|each|every)\s*$", text[: anaphor.start()], re.IGNORECASE
        ):
            m = ctx.main
            return [Mention(m.name, m.local, m.country, anaphor.start(), anaphor.end())]
    return []


def status_of(ctx: DocContext, text: str, lo: int, hi: int) -> str:
    window = text[lo:hi]
    neg = first_match("negation", ctx.lang, window)
    if neg is not None:
        exc = [m for m in all_matches("negation_exceptions", ctx.lang, window)]
        if not any(m.start() <= neg.start() < m.end() for m in exc):
            return "other"
    if first_match("aspiration", ctx.lang, window) is not None:
        return "aspiration"
    if first_match("candidate", ctx.lang, window) is not None:
        return "candidate"
    return "achieved"


@cache
def _award_programs() -> frozenset[str]:
    """Awards have no rank out of the provinces (ICF's, VINASA's, ASOCIO's)."""
    return frozenset(pr.program.code for pr in program_rules() if pr.program.kind == "award")


@cache
def _index_programs() -> frozenset[str]:
    return frozenset(pr.program.code for pr in program_rules() if pr.program.kind == "index")


def _first_entry(text: str, year_at: int, trig: Trigger) -> bool:
    """Whether the text before a year says a first entry into something other than the trigger's program ("since
    first entering the program in"; not "first entered the Smart21 in 2019"); the phrases of every language are
    tried, as the year reader works on the bare sentence."""
    lo = max(0, year_at - 70)
    before = text[lo:year_at]
    return any(
        not before[f.end() :].strip() and not (lo + f.start() <= trig.start and trig.end <= lo + f.end())
        for lang in ("vi", "en", "fr")
        for f in all_matches("first_entry", lang, before)
    )


def _years(text: str, trig: Trigger) -> tuple[list[int], list[int]]:
    """(award years attached to the program name, other usable years in the sentence, nearest first)."""
    attached: list[int] = []
    tail = text[trig.end :]
    stop = re.search(r"[.;]\s|\b(?:và|and) (?:lần|là|được)|\s(?:khi|while|when)\s", tail)
    tail = tail[: stop.start() if stop else len(tail)][:120]
    m = re.match(
        r"(?:[^\d]{0,100}?(?:năm|of|de|en|for|in|the years?|trong năm|Việt Nam|cả nước|toàn quốc|nationwide|country)\s*|\s*)"
        r"\(?\s*(?:năm\s*)?((?:19|20)\d{2})(?![\d/-])",
        tail,
    )
    if m and _first_entry(text, trig.end + m.start(1), trig):
        m = None
    if m:
        attached.append(int(m.group(1)))
        rest = tail[m.end() :]
        while True:
            more = re.match(r"\s*(?:,|và|and|et|&)\s*(?:năm\s*)?((?:19|20)\d{2})(?![\d/-])", rest)
            if not more:
                break
            attached.append(int(more.group(1)))
            rest = rest[more.end() :]
    others: list[tuple[int, int]] = []
    for ym in YEAR_RE.finditer(text):
        if trig.start <= ym.start() < trig.end:
            # a year inside a rank claim's span ("tăng so với năm 2021 và đứng thứ 2") is its own
            # unless it is the year compared with
            if not EXCLUDED_YEAR_BEFORE.search(text[max(0, ym.start() - 30) : ym.start()]):
                attached.append(int(ym.group()))
            continue
        if EXCLUDED_YEAR_BEFORE.search(text[max(0, ym.start() - 30) : ym.start()]):
            continue
        if _first_entry(text, ym.start(), trig):
            continue  # "since first entering the program in 2009": where its history starts
        if trig.program in _index_programs() and ANNOUNCED_BEFORE.search(
            text[max(0, ym.start() - 40) : ym.start()]
        ):
            # the announcement year of an index is the year after the one it measures
            y = int(ym.group()) - 1
            if y not in attached:
                others.append((min(abs(ym.start() - trig.start), abs(ym.start() - trig.end)), y))
            continue
        if re.match(r"\s*[-–—]\s*(?:19|20)\d{2}", text[ym.end() :]) or re.search(
            r"(?:19|20)\d{2}\s*[-–—]\s*$", text[: ym.start()]
        ):
            continue
        y = int(ym.group())
        if y not in attached:
            others.append((min(abs(ym.start() - trig.start), abs(ym.start() - trig.end)), y))
    return attached, [y for _, y in sorted(others)]


STREAK_RANGE = re.compile(
    r"((?:19|20)\d{2})\s*(?:[-–—]|to|through|until|đến|tới|à|au|jusqu'en)\s*(?:năm\s*)?((?:19|20)\d{2})",
    re.IGNORECASE,
)
STREAK_START_BEFORE = re.compile(
    r"(?:from|since|starting in|beginning in|từ|kể từ|bắt đầu từ|depuis|à partir de)\s*(?:năm\s*|the year\s*)?$",
    re.IGNORECASE,
)


def _range_years(text: str, trig: Trigger) -> list[int] | None:
    """The years of a range written in the trigger's clause ("from 2012 to 2014", "2019-2023"), oldest first."""
    for m in STREAK_RANGE.finditer(text):
        y1, y2 = int(m.group(1)), int(m.group(2))
        if 0 < y2 - y1 <= 30 and (m.start() >= trig.end or m.end() <= trig.start):
            return list(range(y1, y2 + 1))
    return None


def _relative_after(ctx: DocContext, text: str, trig: Trigger) -> int | None:
    """ "... is a Smart21 Community again this year": a relative year right after the program is its own."""
    rel = relative_year(text[trig.end : trig.end + 40], lang=ctx.lang, published=ctx.doc.published)
    return rel[0] if rel else None


def _streak(ctx: DocContext, text: str) -> int | None:
    """Length of a streak ("lần thứ 3 liên tiếp", "five consecutive years"), if the sentence states one."""
    m = first_match("streak", ctx.lang, text)
    if not m:
        return None
    n = small_number(m.groupdict().get("n")) or small_number(m.groupdict().get("ord"))
    return n if n and n >= 2 else None


def _streak_years(ctx: DocContext, text: str, explicit: list[int], n: int) -> list[int] | None:
    rng = STREAK_RANGE.search(text)
    if rng and int(rng.group(2)) - int(rng.group(1)) + 1 == n:
        return list(range(int(rng.group(1)), int(rng.group(2)) + 1))
    s = sorted(set(explicit))
    consecutive = bool(s) and s == list(range(s[0], s[0] + len(s)))
    if consecutive and len(s) == n:
        return s
    if consecutive and len(s) == n - 1 and len(s) >= 1:
        nxt = s[-1] + 1
        pub = ctx.doc.published
        if pub is None or pub.year >= nxt:
            return [*s, nxt]
        return None
    if len(s) == 1:
        # "since 2019, five years in a row" starts the streak; "in 2023, for the fifth year running" ends it.
        year_at = re.search(rf"(?<!\d){s[0]}(?!\d)", text)
        if year_at and STREAK_START_BEFORE.search(text[: year_at.start()]):
            last = s[0] + n - 1
            pub = ctx.doc.published
            return list(range(s[0], last + 1)) if pub is None or pub.year >= last else None
        # "named to the Top7 of 2024, the fourth consecutive year": the year named; earlier ones are not invented
        return [s[0]]
    return None


def extract_rankings(ctx: DocContext) -> list[RankingRecord]:
    records: list[RankingRecord] = []
    pending: list[PendingStreak] = []
    unheld: tuple[int, Trigger] | None = None
    # the document context: the program the previous sentence named or used, and its year
    carry: Carry | None = None
    carry_idx = -2
    doc_years: dict[str, int] = {}
    if _is_icf_document(ctx):
        ctx.notes["icf_doc"] = 1
    links: list[int | None] = []
    # non-ICF programs each sentence names, resolved to their years only if an undated record needs them
    named_spans: list[tuple[Sentence, tuple[int, int, str], list[RankingRecord]]] = []
    # the ranking whose table or numbered list may follow: (program, year, index of the last sentence naming it)
    table: tuple[str, int | None, int] | None = None
    for idx, sent in enumerate(ctx.sentences):
        row = row_rank(ctx, idx) if table is not None and idx - table[2] <= TABLE_REACH else None
        if row is not None and table is not None:
            place, rank = row
            code, year = table[0], table[1]
            trig = Trigger(code, place.start, place.end, rank)
            records.append(_record(ctx, sent, place, trig, year, "achieved", False, place.start, place.end))
            table = (code, year, idx)
            continue
        # another body's award stays the context until a sentence names some other program
        lasting = carry is not None and carry[0] in _award_programs() and carry[0] not in ICF_PROGRAMS
        triggers, named = find_triggers(ctx, idx, carry if carry_idx == idx - 1 or lasting else None)
        before = len(records)
        if (
            not triggers
            and unheld
            and unheld[0] == idx - 1
            and first_match("list_intro", ctx.lang, sent.text)
        ):
            # "ICF announced its Smart21 of 2020 today. They are:" + items
            records.extend(_list_records(ctx, idx, unheld[1], intro=ctx.sentences[idx - 1]))
        unheld = None
        for trig in triggers:
            preds = _predecessors(ctx, sent, trig)
            hs = holders(ctx, sent, trig, frozenset(p.start for p in preds))
            if trig.program == "icf_icoty" and _links_finalists(ctx, idx, trig):
                attached = _years(sent.text, trig)[0]
                # the seven of the document's Top7 year, else the award year the sentence names
                top7_year = doc_years.get("icf_top7")
                cycle = _icf_cycle(ctx, doc_years)
                links.append(top7_year or (attached[0] if attached else cycle if cycle is not None else None))
            if not hs:
                if trig.program in ICF_PROGRAMS and first_match("list_intro", ctx.lang, sent.text):
                    records.extend(_list_records(ctx, idx, trig))
                elif trig.program in ICF_PROGRAMS:
                    unheld = (idx, trig)
                if preds:
                    records.extend(_predecessor_records(ctx, sent, trig, preds, [], doc_years))
                continue
            mine: list[RankingRecord] = []
            for h in hs:
                mine.extend(_records_for(ctx, sent, trig, h, pending, doc_years, triggers))
            mine = _respectively(ctx, sent, trig, hs, mine)
            if len(hs) >= 3 and idx > 0:
                mine = [dataclasses.replace(r, year=_titled_year(ctx, r.program, r.year)) for r in mine]
            records.extend(mine)
            if preds:
                records.extend(_predecessor_records(ctx, sent, trig, preds, mine, doc_years))
        if len(records) > before or (records and records[-1].rank is not None):
            records.extend(_neighbours(ctx, sent, records[before:], records[:before]))
        new = records[before:]
        for r in new:
            if r.year is not None and not r.year_inferred:
                doc_years[r.program] = r.year
        named_spans.extend((sent, span, new) for span in named if span[2] not in ICF_PROGRAMS)
        if named:
            carry = _context_of(ctx, sent, named[-1], new)
            carry_idx = idx
            if carry[0] in _index_programs():
                code, year = carry
                if year is None and table is not None and table[0] == code:
                    year = table[1]
                table = (code, year if year is not None else ctx.notes.get(f"title_year:{code}"), idx)
            if idx == 0 and ctx.title_end and sent.end <= ctx.title_end:
                for s, e, code in named:
                    year = _context_of(ctx, sent, (s, e, code), new)[1]
                    if year is not None:
                        ctx.notes.setdefault(f"title_year:{code}", year)
        elif any(t.carried for t in triggers) and new:
            carry_idx = idx
        elif carry_idx == idx - 1 and not triggers and not sent.mentions and len(sent.text) <= CAPTION_MAX:
            # a photo credit or caption between a ranking's name and its holders ("Ảnh nguồn: Bộ Nội vụ |")
            # does not end the context
            carry_idx = idx
    records.extend(_resolve_pending(ctx, pending, records))
    records = _fill_cycle_year(ctx, records)
    if any(r.year is None and r.program not in ICF_PROGRAMS for r in records):
        for sent_, span, new_ in named_spans:
            named_year = _context_of(ctx, sent_, span, new_)[1]
            if named_year is not None:
                ctx.notes[f"named:{span[2]}:{named_year}"] = 1
        records = _fill_named_year(ctx, records)
    if links:
        records.extend(_finalist_records(records, links))
    return _finalise(records)


def _neighbours(
    ctx: DocContext, sent: Sentence, new: list[RankingRecord], earlier: list[RankingRecord]
) -> list[RankingRecord]:
    """Places a rank claim names around its holder: the ones it overtook ("vượt qua Đồng Tháp", status other), the
    one ahead of a second place ("đứng thứ 2 sau TP.HCM", first), and those "followed by" it (the next ranks)."""
    text = sent.text
    out: list[RankingRecord] = []
    ranked = [r for r in new if r.rank is not None and r.program not in ICF_PROGRAMS]
    holders_ = {r.entity for r in new}
    for r in ranked:
        for name in ("overtake", "behind"):
            for m in sent.mentions:
                if m.name in holders_ or not _right_after(ctx, name, text, m.start):
                    continue
                if name == "overtake":
                    out.append(
                        dataclasses.replace(r, entity=m.name, entity_local=m.local, status="other", rank=None)
                    )
                elif r.rank == 2:
                    out.append(dataclasses.replace(r, entity=m.name, entity_local=m.local, rank=1))
    fb = first_match("followed_by", ctx.lang, text)
    if fb is None:
        return out
    base = [r for r in ranked if r.start - sent.start < fb.start()] or [
        r for r in earlier[-3:] if r.rank is not None and r.program not in ICF_PROGRAMS
    ]
    if not base:
        return out
    anchor = base[-1]
    stop = re.search(r"[;.]\s", text[fb.end() :])
    hi = fb.end() + (stop.start() if stop else len(text))
    after = [m for m in sent.mentions if fb.end() <= m.start < hi and m.name not in holders_]
    rank = anchor.rank or 0
    for m in after:
        rank += 1
        out.append(
            dataclasses.replace(
                anchor,
                entity=m.name,
                entity_local=m.local,
                country=m.country,
                rank=rank,
                evidence=text,
                start=sent.start + m.start,
                end=sent.start + m.end,
            )
        )
    return out


def _right_after(ctx: DocContext, rule_name: str, text: str, pos: int) -> bool:
    pre = text[max(0, pos - 40) : pos]
    return any(
        re.fullmatch(r"\s*(?:cả |các |tỉnh |thành phố |TP\.? |the |la |le )?", pre[m.end() :], re.IGNORECASE)
        for m in all_matches(rule_name, ctx.lang, pre)
    )


def _fill_named_year(ctx: DocContext, records: list[RankingRecord]) -> list[RankingRecord]:
    """An undated national ranking or award in a document that names it with one year only is of that year
    ("Năm nay, Đà Nẵng ... dẫn đầu" under a "PCI 2016" headline); indices fall back on the one year the document
    gives all its indices ("also topped the 2022 PCI ... and the 2022 PAPI")."""
    named: dict[str, set[int]] = {}
    for key in ctx.notes:
        if key.startswith("named:"):
            _, code, year_text = key.split(":")
            named.setdefault(code, set()).add(int(year_text))
    for r in records:
        if r.year is not None and not r.year_inferred and r.program not in ICF_PROGRAMS:
            named.setdefault(r.program, set()).add(r.year)
    index_years = set().union(*(v for k, v in named.items() if k in _index_programs())) if named else set()
    dated = {(r.entity, r.program, r.status) for r in records if r.year is not None}
    out = []
    for r in records:
        if r.year is None and r.program not in ICF_PROGRAMS and (r.entity, r.program, r.status) not in dated:
            years = named.get(r.program) or (index_years if r.program in _index_programs() else set())
            if len(years) == 1:
                (year,) = years
                r = dataclasses.replace(r, year=year, year_inferred=True)
        out.append(r)
    return out


def _is_icf_document(ctx: DocContext) -> bool:
    return _icf_document_pattern(ctx.lang).search(ctx.doc.text) is not None


@cache
def _icf_document_pattern(lang: str) -> re.Pattern[str]:
    """One pass over a document for ICF's name or one of its awards named outright."""
    parts = [p.pattern for p in rule("icf_document", lang)]
    parts += [
        p.pattern for pr in program_rules() if pr.program.code in ICF_PROGRAMS for p in pr.triggers[lang]
    ]
    unnamed = [re.sub(r"\(\?P<\w+>", "(?:", p) for p in parts]
    return re.compile("|".join(f"(?:{p})" for p in unnamed), re.IGNORECASE)


def _icf_cycle(ctx: DocContext, doc_years: dict[str, int]) -> int | None:
    """The award year an ICF document is about: its title's, else the last one its records named, else its date's."""
    titled = [v for k, v in ctx.notes.items() if k.startswith("title_year:icf_")]
    if titled:
        return titled[0]
    for code in ("icf_icoty", "icf_top7", "icf_smart21"):
        if code in doc_years:
            return doc_years[code]
    return ctx.doc.published.year if ctx.doc.published else None


def _predecessors(ctx: DocContext, sent: Sentence, trig: Trigger) -> list[Mention]:
    """Communities the award passes from ("succeeds New Taipei City as Intelligent Community of the Year")."""
    if trig.program != "icf_icoty":
        return []
    out = []
    mentions = sent_mentions(ctx, sent, trig.program)
    for m in all_matches("succession", ctx.lang, sent.text):
        nxt = next((x for x in mentions if x.start >= m.end()), None)
        if nxt is not None and re.fullmatch(r"\s*(?:the\s+)?", sent.text[m.end() : nxt.start], re.IGNORECASE):
            out.append(nxt)
    return out


def _predecessor_records(
    ctx: DocContext,
    sent: Sentence,
    trig: Trigger,
    preds: list[Mention],
    successors: list[RankingRecord],
    doc_years: dict[str, int],
) -> list[RankingRecord]:
    dated = [r.year for r in successors if r.year is not None]
    cycle = dated[0] if dated else _icf_cycle(ctx, doc_years)
    if cycle is None:
        return []
    return [_record(ctx, sent, p, trig, cycle - 1, "achieved", True, p.start, p.end) for p in preds]


def _respectively(
    ctx: DocContext, sent: Sentence, trig: Trigger, hs: list[Mention], recs: list[RankingRecord]
) -> list[RankingRecord]:
    """ "A and B ... in 2006 and 2013, respectively": the n-th holder takes the n-th year only."""
    if len(hs) < 2 or not first_match("respectively", ctx.lang, sent.text):
        return recs
    attached = _years(sent.text, trig)[0]
    if len(attached) != len(hs):
        return recs
    names = [h.name for h in hs]
    return [r for r in recs if r.entity in names and r.year == attached[names.index(r.entity)]]


def _links_finalists(ctx: DocContext, idx: int, trig: Trigger) -> bool:
    """Whether the sentence says the Top7 are the finalists for this Intelligent Community of the Year."""
    text = ctx.sentences[idx].text
    if not first_match("finalist_link", ctx.lang, text):
        return False
    scope = text if idx == 0 else ctx.sentences[idx - 1].text + " " + text
    return bool(
        re.search(r"top\s?7|top seven|\bseven\b|\b(?:7|bảy) (?:cộng đồng|thành phố)|\bsept\b", scope, re.I)
    )


def _finalist_records(records: list[RankingRecord], links: list[int | None]) -> list[RankingRecord]:
    """Each Top7 member of the linked year is a candidate for that year's Intelligent Community of the Year."""
    top7_years = {
        r.year
        for r in records
        if r.program == "icf_top7" and not r.year_inferred and r.status == "achieved" and r.year is not None
    }
    years = {y for y in links if y is not None} or (
        {next(iter(top7_years))} if len(top7_years) == 1 else set()
    )
    decided = {(r.entity, r.year) for r in records if r.program == "icf_icoty" and r.status != "candidate"}
    top7 = {(r.entity, r.year) for r in records if r.program == "icf_top7" and r.status == "achieved"}
    out = []
    for r in records:
        if (
            r.program == "icf_top7"
            and r.status == "achieved"
            and r.year in years
            and (r.entity, r.year) not in decided
        ):
            out.append(dataclasses.replace(r, program="icf_icoty", status="candidate"))
        elif (
            r.program == "icf_icoty"
            and r.status == "candidate"
            and r.year in years
            and (r.entity, r.year) not in top7
        ):
            # "The seven are the finalists for the 2024 Intelligent Community of the Year:" + the list
            out.append(dataclasses.replace(r, program="icf_top7", status="achieved"))
    return out


def _fill_cycle_year(ctx: DocContext, records: list[RankingRecord]) -> list[RankingRecord]:
    """An undated ICF claim in a document whose dated ones all name one year is of that year (the Top7 and the
    award share theirs); in a document that dates none, it is of the award year its publication date falls in."""

    def one_year(programs: tuple[str, ...]) -> int | None:
        years = {
            r.year for r in records if r.program in programs and r.year is not None and not r.year_inferred
        }
        return next(iter(years)) if len(years) == 1 else None

    cycle = one_year(("icf_top7", "icf_icoty"))
    fill = {"icf_top7": cycle, "icf_icoty": cycle, "icf_smart21": one_year(("icf_smart21",))}
    pub = ctx.doc.published
    if pub is not None and not any(r.year is not None for r in records if r.program in ICF_PROGRAMS):
        # the Smart21 of award year N was announced in the autumn of N-1 up to the 2020 awards
        shifted = pub.year + 1 if pub.year <= SMART21_SHIFT_UNTIL and pub.month >= 9 else pub.year
        fill = {"icf_top7": pub.year, "icf_icoty": pub.year, "icf_smart21": shifted}
    dated = {(r.entity, r.program, r.status) for r in records if r.year is not None}
    return [
        dataclasses.replace(r, year=fill[r.program], year_inferred=True)
        if r.year is None
        and fill.get(r.program) is not None
        and r.status in ("achieved", "candidate")
        and (r.entity, r.program, r.status) not in dated
        and not first_match("count_times", ctx.lang, r.evidence)
        else r
        for r in records
    ]


def _context_of(
    ctx: DocContext, sent: Sentence, span: tuple[int, int, str], new: list[RankingRecord]
) -> Carry:
    """The program a sentence names last and its year: from its records, else the year next to the name."""
    s, e, code = span
    dated = [r.year for r in new if r.program == code and r.year is not None and not r.year_inferred]
    if dated:
        return code, dated[0]
    attached, others = _years(sent.text, Trigger(code, s, e))
    found = attached or others
    return code, found[0] if found else None


def _masked(text: str, lo: int, hi: int) -> str:
    """The sentence with everything outside one clause blanked (offsets kept)."""
    return " " * lo + text[lo:hi] + " " * (len(text) - hi)


def _records_for(
    ctx: DocContext,
    sent: Sentence,
    trig: Trigger,
    h: Mention,
    pending: list[PendingStreak],
    doc_years: dict[str, int] | None = None,
    siblings: list[Trigger] | None = None,
) -> list[RankingRecord]:
    full = sent.text
    spans = clauses(ctx, full, trig.program)
    rank_at = trig.rank_span[0] if trig.rank_span else trig.start
    c_lo = clause_of(spans, min(trig.start, rank_at))[0]
    c_hi = clause_of(spans, max(trig.start, rank_at))[1]
    # years, status and streaks are read in the trigger's own clause ("A ... last year, while B ... in 2006")
    text = full if (c_lo, c_hi) == (0, len(full)) else _masked(full, c_lo, c_hi)
    # a streak or a range belongs to the program of its own part of the sentence ("3 lần lọt Top 7 (2021, 2022,
    # 2023) và 5 lần liên tiếp lọt Smart21 (2019-2023)")
    seg_lo, seg_hi = _segment(full, trig, siblings or [])
    seg = text if (seg_lo, seg_hi) == (0, len(full)) else _masked(text, seg_lo, seg_hi)
    lo = h.end if h.end <= trig.start else 0
    if CAUSATIVE_BEFORE.search(text[: h.start]) or ASPIRATION_OWNER_BEFORE.search(text[: h.start]):
        lo = 0
    status = status_of(ctx, text, lo, trig.start if h.end <= trig.start else min(h.start, trig.start))
    if status == "achieved" and trig.rank_span and trig.rank_span[0] < trig.start:
        status = status_of(ctx, text, lo, trig.rank_span[0])
    window = full[max(0, trig.start - 15) : trig.start]
    if trig.program in ICF_PROGRAMS and any(
        c.end() >= len(window) - 3 for c in all_matches("count_times", ctx.lang, window)
    ):
        # "a three-time Top7 member, first listed in 2010": a count names no year
        return [_record(ctx, sent, h, trig, None, status, False, *_span(h, trig))]
    attached, others = _years(text, trig)
    years: list[int] = list(attached)
    span_years = _range_years(seg, trig) if trig.program in ICF_PROGRAMS and len(attached) < 2 else None
    if span_years and not _streak(ctx, seg):
        # "in the Top7 from 2012 to 2014", "từ năm 2019-2023 ... Smart21": every year of the range
        ends = {span_years[0], span_years[-1]}
        lo_, hi_ = (
            min(h.start, trig.start, *(trig.rank_span or (trig.start,))),
            max(h.end, trig.end, *(trig.rank_span or (trig.end,))),
        )
        return [_record(ctx, sent, h, trig, y, status, y not in ends, lo_, hi_) for y in span_years]
    relative = _relative_after(ctx, text, trig) if not years else None
    if relative is not None:
        years = [relative]
    if not years and others:
        y = others[0]
        if trig.program == "icf_smart21" and y <= SMART21_SHIFT_UNTIL:
            y += 1
        years = [y]
    if not years and trig.carried and trig.carried_year is not None:
        years = [trig.carried_year]
    if not years and trig.program in ICF_PROGRAMS and first_match("count_times", ctx.lang, text):
        # "named a Smart21 Community five times", "a former Intelligent Community of the Year": no year
        return [_record(ctx, sent, h, trig, None, status, False, *_span(h, trig))]
    if (
        not years
        and trig.program in ICF_PROGRAMS
        and idx_of(ctx, sent) > 0
        and not relative_year(text, lang=ctx.lang, published=ctx.doc.published)
    ):
        # an ICF story whose title names a program and its year is about that award cycle (a14)
        cycle = [v for k, v in ctx.notes.items() if k.startswith("title_year:icf_")]
        if cycle:
            years = [cycle[0]]
    if not years:
        rel = relative_year(text, lang=ctx.lang, published=ctx.doc.published)
        titled = ctx.notes.get(f"title_year:{trig.program}")
        pub_year = ctx.doc.published.year if ctx.doc.published else None
        this_year = rel is None or rel[0] == pub_year
        if trig.program in ICF_PROGRAMS and titled is not None and this_year and idx_of(ctx, sent) > 0:
            # an ICF release names its program by award year in the title; "this year's Smart21" in its body
            # is that award year, not the calendar year of the release (ho-a08)
            years = [titled]
        elif rel:
            years = [rel[0]]
    if not years and trig.program.endswith("_rank") and ctx.doc.published is not None:
        ytd = YTD_MONTHS.search(text)
        if ytd:
            months = int(ytd.group("n") or ytd.group("n2") or ytd.group("n3"))
            pub = ctx.doc.published
            years = [pub.year if pub.month > months else pub.year - 1]
    if not years and trig.program == "icf_icoty" and status == "candidate" and doc_years:
        # the Top7 of award year N compete for the Intelligent Community of the Year N (ho-a02)
        top7 = doc_years.get("icf_top7")
        if top7 is not None:
            years = [top7]
    span_lo = min(h.start, trig.start, *(trig.rank_span or (trig.start,)))
    span_hi = max(h.end, trig.end, *(trig.rank_span or (trig.end,)))
    n = _streak(ctx, seg)
    if n and trig.program in ICF_PROGRAMS:
        # Every year the sentence names bounds the streak ("the third straight year, after 2021 and 2022"),
        # not only the one attached to the program name.
        named = sorted({int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", seg)})
        expanded = _streak_years(ctx, seg, named or years, n)
        if expanded is None:
            if not years:
                pending.append(PendingStreak(sent, h, trig.program, status, n, span_lo, span_hi))
                return []
        else:
            literal = {int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", seg)}
            return [
                _record(ctx, sent, h, trig, y, status, y not in literal, span_lo, span_hi) for y in expanded
            ]
    if not years:
        return [_record(ctx, sent, h, trig, None, status, False, span_lo, span_hi)]
    return [_record(ctx, sent, h, trig, y, status, False, span_lo, span_hi) for y in years]


CONJUNCTION = re.compile(r"\s(?:và|and|et)\s|;\s")


def _segment(text: str, trig: Trigger, siblings: list[Trigger]) -> tuple[int, int]:
    """The part of the sentence an ICF program's streak belongs to: cut at the conjunction before the previous
    and before the next other ICF program of the sentence."""
    if trig.program not in ICF_PROGRAMS:
        return 0, len(text)
    lo, hi = 0, len(text)
    for t in siblings:
        if t.program not in ICF_PROGRAMS or t.program == trig.program:
            continue
        if t.end <= trig.start:
            cuts = [m.end() for m in CONJUNCTION.finditer(text, t.end, trig.start)]
            lo = max(lo, cuts[-1] if cuts else t.end)
        elif t.start >= trig.end:
            cuts = [m.start() for m in CONJUNCTION.finditer(text, trig.end, t.start)]
            hi = min(hi, cuts[-1] if cuts else t.start)
    return lo, hi


def _span(h: Mention, trig: Trigger) -> tuple[int, int]:
    return (
        min(h.start, trig.start, *(trig.rank_span or (trig.start,))),
        max(h.end, trig.end, *(trig.rank_span or (trig.end,))),
    )


def idx_of(ctx: DocContext, sent: Sentence) -> int:
    return next(i for i, s in enumerate(ctx.sentences) if s is sent)


def _record(
    ctx: DocContext,
    sent: Sentence,
    h: Mention,
    trig: Trigger,
    year: int | None,
    status: str,
    inferred: bool,
    lo: int,
    hi: int,
) -> RankingRecord:
    out_of: int | None = None
    rank = trig.rank
    if trig.program not in _award_programs():
        om = first_match("out_of_n", ctx.lang, sent.text)
        if om:
            out_of = int(om.group("n"))
        elif first_match("national_scope", ctx.lang, sent.text):
            out_of = ctx.provinces_at(year)
        if trig.rank_last:
            rank = out_of
    return RankingRecord(
        h.name,
        h.local,
        h.country,
        trig.program,
        year,
        status,
        rank,
        out_of,
        inferred,
        sent.text,
        sent.start + lo,
        sent.start + hi,
    )


def _list_records(
    ctx: DocContext, idx: int, trig: Trigger, *, intro: Sentence | None = None
) -> list[RankingRecord]:
    sent = intro or ctx.sentences[idx]
    status = status_of(ctx, sent.text, 0, len(sent.text))
    attached, others = _years(sent.text, trig)
    year = attached[0] if attached else (others[0] if others else None)
    if year is not None and trig.program == "icf_smart21" and not attached and year <= SMART21_SHIFT_UNTIL:
        year += 1
    year = _titled_year(ctx, trig.program, year)
    out = []
    for item in ctx.sentences[idx + 1 :]:
        ment = list_item_entity(item.text)
        if ment is None:
            break
        out.append(
            RankingRecord(
                ment.name,
                ment.local,
                ment.country,
                trig.program,
                year,
                status,
                None,
                None,
                False,
                item.text,
                item.start + ment.start,
                item.start + ment.end,
            )
        )
    return out


def _titled_year(ctx: DocContext, program: str, year: int | None) -> int | None:
    """A release titled and dated for award year T whose list line says another year lists the communities of T
    ("ICF names the Smart21 Communities of 2022", dated October 2021: "The Smart21 Communities of 2021 are:")."""
    titled = ctx.notes.get(f"title_year:{program}")
    if titled is None or titled == year or program not in ICF_PROGRAMS:
        return year
    pub = ctx.doc.published
    return titled if pub is None or pub.year in (titled - 1, titled) else year


def _resolve_pending(
    ctx: DocContext, pending: list[PendingStreak], records: list[RankingRecord]
) -> list[RankingRecord]:
    """A streak with a count and no year is the membership of the year the document is about; the earlier years
    of the streak are not invented."""
    out = []
    for p in pending:
        known = [
            r.year
            for r in records
            if r.entity == p.holder.name
            and r.program == p.program
            and r.year is not None
            and not r.year_inferred
        ]
        if known:
            continue
        year = ctx.notes.get(f"title_year:{p.program}")
        out.append(
            RankingRecord(
                p.holder.name,
                p.holder.local,
                p.holder.country,
                p.program,
                year,
                p.status,
                None,
                None,
                year is not None,
                p.sentence.text,
                p.sentence.start + p.start,
                p.sentence.start + p.end,
            )
        )
    return out


def _top7_finalists(records: list[RankingRecord]) -> list[RankingRecord]:
    """ "The Top7 finalists for 2020": a finalist of the Top7 is in the Top7 and a candidate for that year's award."""
    out = []
    for r in records:
        if r.program == "icf_top7" and r.status == "candidate":
            out.append(dataclasses.replace(r, status="achieved"))
            out.append(dataclasses.replace(r, program="icf_icoty"))
        else:
            out.append(r)
    return out


def _finalise(records: list[RankingRecord]) -> list[RankingRecord]:
    """Deduplicate on the natural key; drop year-less claims already covered by a dated one."""
    records = _top7_finalists(records)
    dated = {(r.entity, r.program, r.status) for r in records if r.year is not None}
    won = {(r.entity, r.year) for r in records if r.program == "icf_icoty" and r.status == "achieved"}
    ranked = {(r.entity, r.program, r.year, r.status) for r in records if r.rank is not None}
    best: dict[tuple[object, ...], RankingRecord] = {}
    for r in records:
        if r.year is None and (r.entity, r.program, r.status) in dated:
            continue
        if r.program == "icf_icoty" and r.status == "candidate" and (r.entity, r.year) in won:
            continue  # the named winner was a finalist; it is recorded as the winner
        if r.rank is None and (r.entity, r.program, r.year, r.status) in ranked:
            continue  # "trong Top 10 (thứ 3)": the rank says more than the group
        kept = best.get(r.key())
        if kept is None or (kept.out_of is None and r.out_of is not None):
            best[r.key()] = r
    return list(best.values())
