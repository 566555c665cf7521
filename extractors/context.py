"""Per-document state shared by the ranking and indicator passes: sentences, mentions, main entity, rules."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from extractors.document import DocumentText, split_sentences
from extractors.entities import Mention, find_mentions
from extractors.numbers import Convention, detect_convention
from extractors.prefilter import canon_cached, rule_candidates

MERGER_DAY = date(2025, 7, 1)
PROVINCES_BEFORE, PROVINCES_AFTER = 63, 34


@dataclass
class Sentence:
    start: int
    end: int
    text: str
    mentions: list[Mention]


@dataclass
class DocContext:
    doc: DocumentText
    lang: str
    convention: Convention | None
    sentences: list[Sentence]
    main: Mention | None
    title_end: int
    notes: dict[str, int] = field(default_factory=dict)

    def provinces_at(self, year: int | None) -> int | None:
        """Number of provincial units a national ranking of `year` is out of (63 before the 2025 merger)."""
        if year is not None and year != MERGER_DAY.year:
            return PROVINCES_BEFORE if year < MERGER_DAY.year else PROVINCES_AFTER
        pub = self.doc.published
        if pub is None:
            return None
        return PROVINCES_BEFORE if pub.date() < MERGER_DAY else PROVINCES_AFTER


def first_match(
    name: str, lang: str, text: str, pos: int = 0, endpos: int | None = None
) -> re.Match[str] | None:
    """Earliest match of any pattern of rule `name` in text[pos:endpos]."""
    best: re.Match[str] | None = None
    end = len(text) if endpos is None else endpos
    for pat in rule_candidates(name, lang, text):
        m = pat.search(text, pos, end)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def all_matches(name: str, lang: str, text: str) -> list[re.Match[str]]:
    pats = rule_candidates(name, lang, text)
    if not pats:
        return []
    out = [m for pat in pats for m in pat.finditer(text)]
    return sorted(out, key=lambda m: (m.start(), -m.end())) if len(out) > 1 else out


def build_context(doc: DocumentText) -> DocContext:
    from extractors.document import guess_lang

    lang = doc.lang or guess_lang(doc.text) or "en"
    lang = lang if lang in ("vi", "en", "fr") else "en"
    # the lowercased sentences the prefilter keeps are this document's: text repeated across documents (a
    # benchmark's corpus) must not make extraction look faster than it is on real pages
    canon_cached.cache_clear()
    sentences = []
    for s, e in split_sentences(doc.text):
        text = doc.text[s:e]
        sentences.append(Sentence(s, e, text, find_mentions(text)))
    title_end = 0
    if doc.title and doc.text.startswith(doc.title):
        title_end = len(doc.title)
    elif doc.title is None:
        title_end = _headline_end(doc.text, sentences)
    main = _main_entity(sentences, title_end)
    return DocContext(doc, lang, detect_convention(doc.text, lang), sentences, main, title_end)


def _headline_end(text: str, sentences: list[Sentence]) -> int:
    """A plain text's first line is its headline when it is one short sentence followed by more text."""
    first = text.split("\n", 1)[0]
    if len(first) > 160 or len(first) == len(text) or not sentences or sentences[0].end < len(first):
        return 0
    return len(first)


def _main_entity(sentences: list[Sentence], title_end: int) -> Mention | None:
    """The place a document is about: the only one in its title, else a clearly dominant one."""
    title_names = {m.name for s in sentences if s.end <= title_end for m in s.mentions}
    counts = Counter(m.name for s in sentences for m in s.mentions)
    by_name = {m.name: m for s in sentences for m in s.mentions}
    if len(title_names) == 1:
        return by_name[next(iter(title_names))]
    if not counts:
        return None
    ranked = counts.most_common(2)
    top, n = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    if n >= 2 and n >= 2 * second:
        return by_name[top]
    if n == 1 and second == 0 and len(sentences) <= 2:
        return by_name[top]
    return None
