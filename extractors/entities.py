"""Entity mentions: catalogue aliases (case-checked, organisations excluded) and communities from lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from extractors.catalogue import (
    Entity,
    club_patterns,
    countries,
    entities,
    fold,
    location_tail,
    regions,
    trie_regex,
)


@dataclass(frozen=True)
class Mention:
    name: str
    local: str | None
    country: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _matcher() -> tuple[re.Pattern[str], dict[str, tuple[Entity, str]]]:
    table: dict[str, tuple[Entity, str]] = {}
    for ent in entities():
        if ent.kind in ("country", "region"):
            continue
        for alias in ent.aliases:
            table.setdefault(alias.alias.casefold(), (ent, alias.alias))
    pattern = re.compile(r"(?<![^\W\d_])(?<!\.)(" + trie_regex(list(table)) + r")(?!\w)", re.IGNORECASE)
    return pattern, table


def _case_ok(alias: str, surface: str) -> bool:
    """Proper-name words of the alias must be capitalised in the text ("hòa bình" is peace, not Hòa Bình)."""
    a_words, s_words = alias.split(), surface.split()
    if len(a_words) != len(s_words):
        return False
    return all(not a[:1].isupper() or s[:1].isupper() for a, s in zip(a_words, s_words, strict=True))


def find_mentions(text: str) -> list[Mention]:
    """Catalogue entities named in `text`, skipping clubs, companies and newspapers named after a place."""
    pattern, table = _matcher()
    before, after = club_patterns()
    out: list[Mention] = []
    for m in pattern.finditer(text):
        ent, alias = table[m.group(1).casefold()]
        if not _case_ok(alias, m.group(1)):
            continue
        if before.search(text, max(0, m.start() - 60), m.start()) or after.match(text, m.end()):
            continue
        out.append(Mention(ent.name, ent.local_name, ent.country, m.start(), m.end()))
    return out


_ITEM_SPLIT = re.compile(r"\s*[,(–—]\s*|\)\s*")


def list_item_entity(line: str) -> Mention | None:
    """A list line such as "Coral Gables, Florida, USA" -> the community it names (offsets into `line`)."""
    stripped = line.strip().lstrip("-*•·–").strip().rstrip(".;")
    if not stripped or len(stripped) > 80 or re.search(r"\d", stripped):
        return None
    offset = line.find(stripped)
    known = find_mentions(stripped)
    first_part = re.split(r"\s*[,(–—]", stripped, maxsplit=1)[0]
    if known and known[0].start == 0 and known[0].end >= len(first_part):
        k = known[0]
        return Mention(k.name, k.local, k.country, k.start + offset, k.end + offset)
    parts = [p for p in _ITEM_SPLIT.split(stripped) if p]
    if len(parts) < 2 or len(parts) > 4:
        return None
    last = parts[-1].strip().casefold()
    country = countries().get(last) or regions().get(last)
    name = parts[0].strip()
    words = name.split()
    if country is None or not 1 <= len(words) <= 5 or not all(w[:1].isupper() for w in words if len(w) > 3):
        return None
    ascii_name = fold(name)
    return Mention(ascii_name, name if ascii_name != name else None, country, offset, offset + len(name))


# A word of a community's name: capitalised, or a connector inside the name ("Juiz de Fora", "City of Greater
# Geelong", "Township of Langley").
_NAME_WORD = re.compile(r"[A-ZĐÀ-ỸÁ-Ý][\w'’.-]*|de|da|do|dos|das|du|of|la|le|les|del|upon", re.UNICODE)
_CONNECTORS = frozenset({"de", "da", "do", "dos", "das", "du", "of", "la", "le", "les", "del", "upon"})
_NOT_A_NAME = frozenset({"The", "A", "An", "In", "And", "Và", "Et", "Les", "La", "Le", "Its", "Their"})


def _name_before(text: str, end: int) -> tuple[int, str] | None:
    """The capitalised name that ends at `end` ("... are Ponta Grossa" -> "Ponta Grossa")."""
    words = list(re.finditer(r"\S+", text[max(0, end - 80) : end]))
    base = max(0, end - 80)
    start: int | None = None
    n = 0
    for w in reversed(words):
        token = w.group()
        if token[-1] in ",;:(" or not _NAME_WORD.fullmatch(token):
            break
        if token in _CONNECTORS:
            n += 1
            continue
        if token in _NOT_A_NAME:
            break
        start, n = base + w.start(), n + 1
        if n >= 6:
            return None
    if start is None:
        return None
    name = text[start:end]
    first = name.split()[0]
    if first in _CONNECTORS or name.isupper() or re.search(r"\d", name):
        return None
    return start, name


def community_mentions(text: str, known: list[Mention]) -> list[Mention]:
    """Communities written with their state and country ("Assaí, Paraná, Brazil", "Kaohsiung (Taiwan)") that the
    catalogue does not know, as mentions of their name (offsets into `text`)."""
    out: list[Mention] = []
    for m in location_tail().finditer(text):
        if any(k.start < m.start() <= k.end for k in known) or any(
            k.start <= m.start() < k.end for k in known
        ):
            continue
        found = _name_before(text, m.start())
        if found is None:
            continue
        start, name = found
        if any(k.start < m.start() and start < k.end for k in known):
            continue
        if name.casefold() in countries() or name.casefold() in regions():
            continue
        last = re.split(r"[,()]", m.group())[-2 if m.group().endswith(")") else -1].strip().casefold()
        country = countries().get(last) or regions().get(last) or "??"
        ascii_name = fold(name)
        out.append(Mention(ascii_name, name if ascii_name != name else None, country, start, m.start()))
    return out


def location_tail_end(text: str, pos: int) -> int:
    """Where the ", State, Country" tail of a community named up to `pos` ends (pos when there is none)."""
    m = location_tail().match(text, pos)
    return m.end() if m else pos
