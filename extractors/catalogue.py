"""Reference data (programs, indicators, entities) and trigger rules, loaded from catalogue/*.yaml once."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
LANGS = ("vi", "en", "fr")


@dataclass(frozen=True)
class Program:
    code: str
    name_en: str
    name_vi: str
    kind: str
    organiser: str | None
    official_source: str | None


@dataclass(frozen=True)
class Indicator:
    code: str
    name_en: str
    name_vi: str
    unit: str
    synonyms: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Alias:
    alias: str
    lang: str


@dataclass(frozen=True)
class Entity:
    name: str
    local_name: str | None
    country: str
    kind: str
    iso_code: str | None
    valid_from: date | None
    valid_to: date | None
    merged_into: str | None
    aliases: tuple[Alias, ...]


@dataclass(frozen=True)
class IndicatorRule:
    """Extraction-side view of an indicator: what figures it accepts and how text names it."""

    indicator: Indicator
    measure: str
    count_nouns: dict[str, tuple[str, ...]]
    rank_words: dict[str, tuple[str, ...]]
    growth: str | None
    follow_on: tuple[tuple[str, re.Pattern[str]], ...]


@dataclass(frozen=True)
class ProgramRule:
    program: Program
    triggers: dict[str, tuple[re.Pattern[str], ...]]
    generic_triggers: dict[str, tuple[re.Pattern[str], ...]]


def fold(text: str) -> str:
    """ASCII fold of a Vietnamese/French name ("Bình Dương" -> "Binh Duong")."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def trie_regex(words: list[str]) -> str:
    """A regular expression matching any of `words` (casefolded), factored by common prefixes so that
    Python's backtracking engine tries each prefix once instead of once per word."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w.casefold():
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items(), key=lambda kv: kv[0]) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


@cache
def _load(name: str) -> dict[str, Any]:
    with (CATALOGUE_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _per_lang(raw: dict[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    raw = raw or {}
    return {lang: tuple(raw.get("any", [])) + tuple(raw.get(lang, [])) for lang in LANGS}


def _bounded(pattern: str) -> str:
    """Phrases start and end on word boundaries ("ước" must not match inside "nước")."""
    starts_word = pattern[:1].isalnum() or pattern.startswith(("(?P<", "(?:"))
    ends_word = pattern[-1:].isalnum() or pattern.endswith((")", "?", "s?"))
    return (
        ("(?<![^\\W\\d_])" if starts_word else "") + "(?:" + pattern + ")" + ("(?!\\w)" if ends_word else "")
    )


def _compile_all(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(_bounded(p), re.IGNORECASE) for p in patterns)


@lru_cache(maxsize=1)
def program_rules() -> tuple[ProgramRule, ...]:
    out = []
    for raw in _load("programs")["programs"]:
        prog = Program(
            raw["code"],
            raw["name_en"],
            raw["name_vi"],
            raw["kind"],
            raw.get("organiser"),
            raw.get("official_source"),
        )
        trig = {lang: _compile_all(p) for lang, p in _per_lang(raw.get("triggers")).items()}
        generic = {lang: _compile_all(p) for lang, p in _per_lang(raw.get("generic_triggers")).items()}
        out.append(ProgramRule(prog, trig, generic))
    return tuple(out)


@lru_cache(maxsize=1)
def indicator_rules() -> tuple[IndicatorRule, ...]:
    out = []
    for raw in _load("indicators")["indicators"]:
        ind = Indicator(
            raw["code"],
            raw["name_en"],
            raw["name_vi"],
            raw["unit"],
            {k: tuple(v) for k, v in raw.get("synonyms", {}).items()},
        )
        follow = tuple((code, re.compile(p, re.IGNORECASE)) for code, p in raw.get("follow_on", {}).items())
        out.append(
            IndicatorRule(
                ind,
                raw["measure"],
                {k: tuple(v) for k, v in raw.get("count_nouns", {}).items()},
                {k: tuple(v) for k, v in raw.get("rank_words", {}).items()},
                raw.get("growth"),
                follow,
            )
        )
    return tuple(out)


def rank_program(indicator_code: str) -> str:
    """The program a rank claim about an indicator belongs to (`<indicator>_rank` unless renamed in programs.yaml)."""
    renamed: dict[str, str] = _load("programs").get("indicator_rank_codes") or {}
    return renamed.get(indicator_code, f"{indicator_code}_rank")


def programs() -> tuple[Program, ...]:
    """Award/index programs plus one `<indicator>_rank` program per indicator."""
    base = tuple(r.program for r in program_rules())
    ranks = tuple(
        Program(
            rank_program(i.code),
            f"Rank by {i.name_en}",
            f"Xếp hạng {i.name_vi}",
            "indicator_rank",
            None,
            None,
        )
        for i in indicators()
    )
    return base + ranks


def indicators() -> tuple[Indicator, ...]:
    return tuple(r.indicator for r in indicator_rules())


def _province_aliases(local: str, name: str, kind: str, extra: list[str]) -> tuple[Alias, ...]:
    seen: dict[str, Alias] = {}

    def add(alias: str, lang: str) -> None:
        seen.setdefault(alias.casefold(), Alias(alias, lang))

    short = local[len("Thành phố ") :] if local.startswith("Thành phố ") else local
    add(local, "vi")
    add(name, "en")
    if kind == "city":
        for prefix in ("thành phố ", "TP ", "TP. ", "TP."):
            add(prefix + short, "vi")
        add(f"{name} City" if not name.endswith("City") else name, "en")
        add(f"{fold(short)} City", "en")
    else:
        add(f"tỉnh {short}", "vi")
        add(f"{name} province", "en")
        add(f"province de {name}", "fr")
    for a in extra:
        lang = "vi" if fold(a) != a else "en"
        add(a, lang)
    return tuple(seen.values())


@lru_cache(maxsize=1)
def entities() -> tuple[Entity, ...]:
    data = _load("entities")
    merger = data["merger_date"]
    merger_day = merger if isinstance(merger, date) else date.fromisoformat(str(merger))
    out: list[Entity] = []
    for raw in data["vn_provinces"]:
        local = raw["local"]
        kind = raw.get("kind", "province")
        name = raw.get("name") or fold(local)
        merged = raw.get("merged_into")
        out.append(
            Entity(
                name,
                local,
                "VN",
                kind,
                raw["iso"],
                None,
                merger_day if merged else None,
                merged,
                _province_aliases(local, name, kind, raw.get("aliases", [])),
            )
        )
    for raw in data["communities"]:
        aliases = [Alias(raw["name"], "en")] + [Alias(a, "en") for a in raw.get("aliases", [])]
        if raw.get("local"):
            aliases.append(Alias(raw["local"], "local"))
        out.append(
            Entity(
                raw["name"],
                raw.get("local"),
                raw["country"],
                "community",
                None,
                None,
                None,
                None,
                tuple(aliases),
            )
        )
    for raw in data["reference_only"]:
        out.append(
            Entity(
                raw["name"],
                raw.get("local"),
                raw["country"],
                raw["kind"],
                raw.get("iso"),
                None,
                None,
                None,
                (Alias(raw["name"], "en"),),
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Country surface form (casefolded) -> ISO 3166-1 alpha-2."""
    return {name.casefold(): code for code, names in _load("entities")["countries"].items() for name in names}


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """State, province or region surface form (casefolded) -> ISO country code ("Paraná" -> "BR")."""
    return {name.casefold(): code for code, names in _load("entities")["regions"].items() for name in names}


@lru_cache(maxsize=1)
def location_tail() -> re.Pattern[str]:
    """The ", State, Country" or " (Country)" that follows a community's name in a list."""
    places = trie_regex([*countries(), *regions()])
    return re.compile(
        rf"(?:\s*,\s*(?:{places})(?!\w))+|\s*\((?:[^()]{{0,40}},\s*)?(?:{places})\)", re.IGNORECASE
    )


@lru_cache(maxsize=1)
def club_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(before, after) patterns: an organisation name around a place alias."""
    raw = _load("entities")["club_patterns"]
    before = re.compile(
        r"(?:^|(?<=[\s(\"'“]))(?:" + "|".join(raw["before"]) + r")(?:\s+[A-ZĐÀ-Ỹ][\w.-]*){0,3}\s+$"
    )
    after = re.compile(r"\s+(?:" + "|".join(raw["after"]) + r")(?!\w)")
    return before, after


@cache
def rule(name: str, lang: str) -> tuple[re.Pattern[str], ...]:
    """Compiled trigger patterns of rule `name` for `lang` (plus the language-independent ones)."""
    raw = _load("rules")["rules"][name]
    return _compile_all(_per_lang(raw)[lang if lang in LANGS else "en"])


def rule_names() -> tuple[str, ...]:
    return tuple(_load("rules")["rules"])


def rule_patterns(name: str) -> dict[str, tuple[str, ...]]:
    return _per_lang(_load("rules")["rules"][name])


@lru_cache(maxsize=1)
def icf_context() -> dict[str, tuple[re.Pattern[str], ...]]:
    return {lang: _compile_all(p) for lang, p in _per_lang(_load("programs")["icf_context"]).items()}


@cache
def indicator_phrases(lang: str, *, for_rank: bool) -> tuple[re.Pattern[str], dict[str, str]]:
    """One longest-first pattern over every indicator phrase of `lang` and a phrase -> indicator code map.

    With `for_rank`, the short nouns of rank claims ("thu hút FDI") are included as well as the synonyms.
    """
    table: dict[str, str] = {}
    for r in indicator_rules():
        if for_rank and r.measure == "points":
            continue  # "đứng thứ 7 PCI" ranks the index program itself, not its score
        phrases = list(r.indicator.synonyms.get(lang, ()))
        if for_rank:
            phrases = list(r.rank_words.get(lang, ())) + phrases
        for p in phrases:
            table.setdefault(p.casefold(), r.indicator.code)
    pattern = re.compile(r"(?<!\w)(" + trie_regex(list(table)) + r")(?!\w)", re.IGNORECASE)
    return pattern, table


@dataclass(frozen=True)
class OpenFigures:
    """What makes a figure a record without a catalogue phrase (indicators.yaml: count_units, open_units)."""

    units: frozenset[str]
    count_units: dict[str, re.Pattern[str]]
    score_context: dict[str, re.Pattern[str]]
    points_context: dict[str, re.Pattern[str]]


@lru_cache(maxsize=1)
def open_figures() -> OpenFigures:
    data = _load("indicators")
    counts: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGS}
    for unit, per_lang in data["count_units"].items():
        for lang, nouns in _per_lang(per_lang).items():
            counts[lang] += [(n, unit) for n in nouns]
    count_res = {}
    for lang, pairs in counts.items():
        # up to two words ("new", "existing", "mới") between the number and its noun; the group says the unit
        alts = "|".join(
            f"(?P<u{i}>{re.escape(n)})" for i, (n, _) in enumerate(sorted(pairs, key=lambda p: -len(p[0])))
        )
        count_res[lang] = re.compile(r"\s*(?:[^\W\d][\w-]*\s+){0,2}?(?:" + alts + r")(?!\w)", re.IGNORECASE)

    def words(key: str) -> dict[str, re.Pattern[str]]:
        return {
            lang: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in ps) + r")(?!\w)", re.IGNORECASE)
            for lang, ps in _per_lang(data[key]).items()
        }

    return OpenFigures(
        frozenset(data["open_units"]), count_res, words("score_context"), words("points_context")
    )


@cache
def count_nouns(lang: str) -> list[tuple[str, str]]:
    """(noun, unit) pairs of indicators.yaml `count_units` for `lang`."""
    data = _load("indicators")
    return [
        (n, unit)
        for unit, per_lang in data["count_units"].items()
        for n in _per_lang(per_lang)[lang if lang in LANGS else "en"]
    ]


@cache
def count_unit_names(lang: str) -> tuple[str, ...]:
    """The unit of each alternative of `open_figures().count_units[lang]`, by group index."""
    data = _load("indicators")
    pairs = [
        (n, unit)
        for unit, per_lang in data["count_units"].items()
        for n in _per_lang(per_lang)[lang if lang in LANGS else "en"]
    ]
    return tuple(u for _, u in sorted(pairs, key=lambda p: -len(p[0])))
