"""The literal prefilter skips a pattern only when it cannot match: words derived from patterns, case variants."""

from __future__ import annotations

import re

import pytest

from extractors.catalogue import LANGS, program_rules, rule, rule_names
from extractors.indicators import _count_noun_words
from extractors.numbers import _grammar
from extractors.prefilter import Prefilter, canon, needles
from tests.extractors.gold import load_articles, load_sentences


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(?<![^\W\d_])(?:smart\s?21)(?!\w)", ("smart",)),
        (r"(?:\bPCI\b)(?!\w)", ("pci",)),
        (r"top\s?7 intelligent communit(?:y|ies)", ("7 intelligent communities", "7 intelligent community")),
        (r"[A-Z]\w+ (?:City|County)", (" city", " county")),
        (r"(?:đứng|xếp) (?:thứ|hạng) (?P<n>\d{1,2})", ("xếp hạng ", "xếp thứ ", "đứng hạng ", "đứng thứ ")),
        (r"(?P<y>(?:19|20)\d{2})", ("19", "20")),
        (r"\d+\s*%", ("%",)),
        (r"\d{1,2}/\d{4}", ("/",)),
        (r"\d+\s(?=triệu|tỷ đồng)", ("triệu", "tỷ đồng")),  # a lookahead that must hold reads its words
        (r"x(?!abc)", ("x",)),  # a negative one does not
    ],
)
def test_needles_are_the_words_every_match_contains(pattern: str, words: tuple[str, ...]) -> None:
    assert needles(re.compile(pattern, re.IGNORECASE)) == tuple(sorted(words))


@pytest.mark.parametrize(
    "pattern",
    [r"\d{1,2}", r"[A-Z]\w+", r"(?:ab|\d)", r"(?:a|b|\w)x?"],
)
def test_pattern_without_a_required_word_has_no_needles(pattern: str) -> None:
    assert needles(re.compile(pattern, re.IGNORECASE)) is None


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"smart\s?21", "ſMART 21"),  # long s: IGNORECASE's "s"
        (r"\bPCI\b", "chỉ số PCİ"),  # dotted capital I: lowercased by the engine to "i", by str.lower to two
        (r"\bPCI\b", "pcı"),  # dotless i is IGNORECASE's "i"
        (r"ΣΑΣ", "σας"),  # final sigma
        (r"micro µ", "MICRO Μ"),  # micro sign and mu
        (r"kelvin", "\u212aelvin"),  # Kelvin sign
        (r"ĐỨNG ĐẦU", "đứng đầu"),
    ],
)
def test_case_variant_the_engine_matches_is_never_filtered_out(pattern: str, text: str) -> None:
    pat = re.compile(pattern, re.IGNORECASE)
    assert pat.search(text) is not None
    assert Prefilter((pat,)).candidates(text) == [pat]


def test_canon_lowercases_like_the_engine() -> None:
    assert canon("TOP 7 Đà Nẵng İ ſ") == "top 7 đà nẵng i s"


def _catalogue_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    pats = [p for pr in program_rules() for p in (*pr.triggers[lang], *pr.generic_triggers[lang])]
    # and the grammar patterns built from catalogue words that the extractor prefilters the same way
    pats += [_grammar(lang).spelled, _count_noun_words(lang)]
    return (*pats, *(p for name in rule_names() for p in rule(name, lang)))


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalogue_pattern_matching_a_gold_text_is_a_candidate(lang: str) -> None:
    texts = [c.doc.text for c in [*load_sentences(), *load_articles()]]
    lines = [line for t in texts for line in t.split("\n")]
    pats = _catalogue_patterns(lang)
    prefilter = Prefilter(pats)
    matched = 0
    for text in lines:
        cands = set(prefilter.candidates(text))
        hits = [p for p in pats if p.search(text)]
        assert [p.pattern for p in hits if p not in cands] == [], text
        matched += len(hits)
    assert matched > 100  # the check ran on matching text, not only on misses


def test_prefilter_skips_patterns_whose_words_are_absent() -> None:
    pci, top = re.compile(r"\bPCI\b", re.IGNORECASE), re.compile(r"top\s?7", re.IGNORECASE)
    assert Prefilter((pci, top)).candidates("Đà Nẵng lọt Top 7") == [top]
    assert Prefilter((pci, top)).candidates("Lãnh đạo tỉnh cho biết") == []
