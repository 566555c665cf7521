"""Literal prefilter for catalogue patterns: the words a pattern cannot match without, checked with `in` first.

Most sentences hold none of a rule's words, and a substring test on the lowercased sentence costs far less than
a regular-expression search (Python's engine tries every alternative of a rule at every character). The
words are derived from the compiled patterns themselves, so rules stay data in extractors/catalogue/ and the
prefilter never changes a result: a pattern is skipped only when no match of it is possible.
"""

from __future__ import annotations

import importlib
import re
from functools import cache, lru_cache
from itertools import product
from typing import Any

try:  # the parser and case-folding tables of the `re` module itself (Python 3.11+; private, hence the fallback)
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
    _EXTRA_CASES: dict[int, tuple[int, ...]] | None = importlib.import_module("re._casefix")._EXTRA_CASES
    LITERAL, SUBPATTERN, BRANCH, ASSERT = _c.LITERAL, _c.SUBPATTERN, _c.BRANCH, _c.ASSERT
    _ZERO_WIDTH: tuple[Any, ...] = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)
    _REPEATS: tuple[Any, ...] = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
except (ImportError, AttributeError):  # another Python: no prefilter, every pattern is searched
    _EXTRA_CASES = None
    LITERAL = SUBPATTERN = BRANCH = ASSERT = None
    _ZERO_WIDTH = _REPEATS = ()

MAX_ALTERNATIVES = 32  # literal alternatives kept per position before giving up on a longer word


def _canon_table() -> dict[int, str]:
    """Characters IGNORECASE treats as one ("s" and "ſ", "σ" and "ς") mapped to one of them."""
    out: dict[int, str] = {}
    for lo, extra in (_EXTRA_CASES or {}).items():
        cls = sorted({lo, *extra})
        for c in cls:
            out[c] = chr(cls[0])
    return out


_CANON = _canon_table()
_NEEDS_CANON = re.compile("[" + "".join(map(re.escape, map(chr, _CANON))) + "]") if _CANON else None


def canon(text: str) -> str:
    """The text as IGNORECASE compares it: lowercase one character at a time, case variants made one.

    "İ" is the one character whose full lowercase (str.lower) is two characters; the engine lowers it to "i".
    """
    low = text.replace("İ", "i").lower() if "İ" in text else text.lower()
    if _NEEDS_CANON is not None and _NEEDS_CANON.search(low):
        low = low.translate(_CANON)
    return low


@lru_cache(maxsize=4096)
def canon_cached(text: str) -> str:
    """`canon` of a sentence, computed once however many rules look at it."""
    return canon(text)


def _literal_strings(items: Any) -> set[str] | None:
    """Every string a pattern piece can match when it is made of literals only, else None."""
    out = {""}
    for op, av in items:
        if op == LITERAL:
            alts: set[str] | None = {chr(av)}
        elif op in _ZERO_WIDTH:
            continue
        elif op == SUBPATTERN:
            alts = _literal_strings(av[-1])
        elif op == BRANCH:
            alts = set()
            for alt in av[1]:
                sub = _literal_strings(alt)
                if sub is None:
                    return None
                alts |= sub
        elif op in _REPEATS and av[0] == 0 and av[1] == 1:
            sub = _literal_strings(av[2])
            alts = None if sub is None else {"", *sub}
        else:
            return None
        if alts is None or len(out) * len(alts) > MAX_ALTERNATIVES:
            return None
        out = {a + b for a, b in product(out, alts)}
    return out


def _best(cands: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective requirement: its shortest word longest, then the fewest words."""
    usable = [c for c in cands if c and "" not in c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(map(len, c)), -len(c)))


def _required(items: Any) -> frozenset[str] | None:
    """Words one of which every match of the sequence `items` contains, or None when there is no such set."""
    cands: list[frozenset[str]] = []
    run: set[str] | None = None  # the literal strings the match can have just read, contiguously
    for op, av in items:
        if op in _ZERO_WIDTH:
            if op == ASSERT and (look := _required(av[1])) is not None:
                cands.append(look)  # a lookaround that must hold reads text the match needs around it
            continue  # a boundary or lookaround consumes nothing: the run goes on
        lits = _literal_strings([(op, av)])
        if lits is not None and (run is None or len(run) * len(lits) <= MAX_ALTERNATIVES):
            run = lits if run is None else {a + b for a, b in product(run, lits)}
            continue
        if run is not None:
            cands.append(frozenset(run))
            if lits is not None:
                run = lits  # too many combinations: start a new run here
                continue
            run = None
        inner: frozenset[str] | None = None
        if op == SUBPATTERN:
            inner = _required(av[-1])
        elif op == BRANCH:
            subs = [_required(alt) for alt in av[1]]
            if all(s is not None for s in subs):
                inner = frozenset().union(*(s for s in subs if s is not None))
        elif op in _REPEATS and av[0] >= 1:
            inner = _required(av[2])
        if inner is not None:
            cands.append(inner)
    if run is not None:
        cands.append(frozenset(run))
    return _best(cands)


@cache
def needles(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Canonical words one of which is in the text of every match of `pattern`; None: no cheap test exists."""
    if _EXTRA_CASES is None:
        return None
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except re.error:  # a pattern the parser of this Python reads differently: never skip it
        return None
    req = _required(list(parsed))
    return None if req is None else tuple(sorted({canon(w) for w in req}))


class Prefilter:
    """A group of patterns (a rule, a trigger family) with the words each needs and one search for all words."""

    def __init__(self, patterns: tuple[re.Pattern[str], ...]) -> None:
        self.patterns = patterns
        self.words = tuple(needles(p) for p in patterns)
        # the words are canonical lowercase text: case-sensitive searches over the lowercased sentence, with
        # alternatives shared by prefix (Python's engine has no multi-string search of its own)
        self._tests = tuple(
            (p, None if ws is None else re.compile(trie_words(list(ws))).search)
            for p, ws in zip(patterns, self.words, strict=True)
        )
        every = sorted({w for ws in self.words if ws is not None for w in ws})
        self._any_word = re.compile(trie_words(every)).search if every and None not in self.words else None
        # with one pattern, or with every pattern needing the same words, the one search decides for all
        self._all_or_none = len({ws for ws in self.words}) == 1

    def candidates(self, text: str) -> list[re.Pattern[str]]:
        """The patterns that can match `text`, in their order; a pattern left out has no match in it."""
        if not self.patterns:
            return []
        low = canon_cached(text)
        if self._any_word is not None and self._any_word(low) is None:
            return []
        if self._all_or_none:
            return list(self.patterns)
        return [p for p, test in self._tests if test is None or test(low) is not None]


def trie_words(words: list[str]) -> str:
    """A case-sensitive regular expression matching any of `words`, factored by common prefixes."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts or "" in node:
            return ""  # a word ends here: its prefix is enough to tell that some word is present
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(trie)


@cache
def rule_prefilter(name: str, lang: str) -> Prefilter:
    """The patterns of catalogue rule `name` for `lang` with the words each needs."""
    from extractors.catalogue import rule

    return Prefilter(rule(name, lang))


def rule_candidates(name: str, lang: str, text: str) -> list[re.Pattern[str]]:
    """The patterns of rule `name` that can match `text` (the others lack a word they need), in rule order."""
    return rule_prefilter(name, lang).candidates(text)
