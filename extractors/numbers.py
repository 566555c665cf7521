"""Numbers, scale words and units in vi/en/fr text, converted to base units with exact decimal arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Literal

from extractors.prefilter import Prefilter

Convention = Literal["vi", "en"]
"""`vi`: dot groups thousands, comma is the decimal mark (also French, which groups with spaces); `en`: the reverse."""

SCALES: dict[str, dict[str, int]] = {
    "vi": {
        "nghìn tỷ": 10**12,
        "ngàn tỷ": 10**12,
        "nghìn tỉ": 10**12,
        "ngàn tỉ": 10**12,
        "triệu tỷ": 10**15,
        "nghìn": 10**3,
        "ngàn": 10**3,
        "triệu": 10**6,
        "tỷ": 10**9,
        "tỉ": 10**9,
    },
    "en": {
        "thousand": 10**3,
        "million": 10**6,
        "mln": 10**6,
        "mn": 10**6,
        "billion": 10**9,
        "bn": 10**9,
        "trillion": 10**12,
        "tn": 10**12,
    },
    "fr": {
        "mille": 10**3,
        "millions": 10**6,
        "million": 10**6,
        "milliards": 10**9,
        "milliard": 10**9,
        "mds": 10**9,
        "md": 10**9,
        "billions": 10**12,
        "billion": 10**12,
    },
}

# Units as written after (or, for currencies, before) a figure -> canonical unit.
UNIT_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "vi": (
        ("đô la Mỹ", "USD"),
        ("đô la", "USD"),
        ("đô", "USD"),
        ("USD", "USD"),
        ("US$", "USD"),
        ("đồng", "VND"),
        ("VNĐ", "VND"),
        ("VND", "VND"),
        ("điểm phần trăm", "percentage points"),
        ("phần trăm", "%"),
        ("%", "%"),
        ("héc-ta", "ha"),
        ("hecta", "ha"),
        ("ha", "ha"),
        ("km²", "km2"),
        ("km2", "km2"),
        ("ki-lô-mét vuông", "km2"),
        ("người/km²", "persons/km2"),
        ("người/km2", "persons/km2"),
        ("m²/người", "m2/person"),
        ("m2/người", "m2/person"),
        ("m²", "m2"),
        ("m2", "m2"),
        ("người", "persons"),
        ("dân", "persons"),
        ("nhân khẩu", "persons"),
        ("dự án", "projects"),
        ("khu công nghiệp", "parks"),
        ("KCN", "parks"),
        ("điểm", "points"),
        ("doanh nghiệp", "enterprises"),
    ),
    "en": (
        ("US dollars", "USD"),
        ("dollars", "USD"),
        ("USD", "USD"),
        ("VND", "VND"),
        ("dong", "VND"),
        ("percentage points", "percentage points"),
        ("percentage point", "percentage points"),
        ("per cent", "%"),
        ("percent", "%"),
        ("%", "%"),
        ("hectares", "ha"),
        ("hectare", "ha"),
        ("ha", "ha"),
        ("square kilometres", "km2"),
        ("square kilometers", "km2"),
        ("sq km", "km2"),
        ("km²", "km2"),
        ("km2", "km2"),
        ("people/km²", "persons/km2"),
        ("people/km2", "persons/km2"),
        ("square metres", "m2"),
        ("square meters", "m2"),
        ("sq.m", "m2"),
        ("sq m", "m2"),
        ("m2/person", "m2/person"),
        ("m2", "m2"),
        ("people", "persons"),
        ("inhabitants", "persons"),
        ("residents", "persons"),
        ("projects", "projects"),
        ("industrial parks", "parks"),
        ("industrial zones", "parks"),
        ("points", "points"),
        ("enterprises", "enterprises"),
        ("businesses", "enterprises"),
    ),
    "fr": (
        ("de dollars américains", "USD"),
        ("de dollars", "USD"),
        ("dollars", "USD"),
        ("d'USD", "USD"),
        ("USD", "USD"),
        ("de dongs", "VND"),
        ("dongs", "VND"),
        ("de dôngs", "VND"),
        ("dôngs", "VND"),
        ("de VND", "VND"),
        ("VND", "VND"),
        ("pour cent", "%"),
        ("%", "%"),
        ("hectares", "ha"),
        ("ha", "ha"),
        ("km²", "km2"),
        ("km2", "km2"),
        ("habitants", "persons"),
        ("personnes", "persons"),
        ("projets", "projects"),
        ("parcs industriels", "parks"),
        ("points", "points"),
        ("entreprises", "enterprises"),
    ),
}
CURRENCY_PREFIX = (("US$", "USD"), ("USD", "USD"), ("VNĐ", "VND"), ("VND", "VND"), ("$", "USD"))
# Some pages lose the space at a line wrap ("2.9 percentyear on year"): "percent" glued to the next word.
GLUED_PERCENT = re.compile(r"\s*(?:percent|per cent)(?=[a-z])(?!age|ile)")
PER_PERSON: dict[str, tuple[tuple[str, str], ...]] = {
    "vi": (
        ("/người/năm", "/person/year"),
        ("/người/tháng", "/person/month"),
        ("/người", "/person"),
        ("/năm", "/year"),
        ("/tháng", "/month"),
        ("/ha", "/ha"),
    ),
    "en": (
        ("per capita per year", "/person/year"),
        ("per capita per month", "/person/month"),
        ("per person per year", "/person/year"),
        ("per person per month", "/person/month"),
        ("per capita", "/person"),
        ("per person", "/person"),
        ("/person/year", "/person/year"),
        ("/person/month", "/person/month"),
        ("a month", "/month"),
        ("per month", "/month"),
        ("a year", "/year"),
        ("per year", "/year"),
        ("/ha", "/ha"),
        ("per hectare", "/ha"),
    ),
    "fr": (
        ("par habitant et par an", "/person/year"),
        ("par habitant et par mois", "/person/month"),
        ("par habitant", "/person"),
        ("par mois", "/month"),
        ("par an", "/year"),
    ),
}

SPELLED: dict[str, dict[str, int]] = {
    "vi": {
        "không": 0,
        "một": 1,
        "mốt": 1,
        "hai": 2,
        "ba": 3,
        "bốn": 4,
        "tư": 4,
        "năm": 5,
        "lăm": 5,
        "sáu": 6,
        "bảy": 7,
        "bẩy": 7,
        "tám": 8,
        "chín": 9,
        "mười": 10,
    },
    "en": {
        "a": 1,
        "an": 1,
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
        "thirteen": 13,
        "fourteen": 14,
        "fifteen": 15,
        "sixteen": 16,
        "seventeen": 17,
        "eighteen": 18,
        "nineteen": 19,
        "twenty": 20,
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
    },
    "fr": {
        "un": 1,
        "une": 1,
        "deux": 2,
        "trois": 3,
        "quatre": 4,
        "cinq": 5,
        "six": 6,
        "sept": 7,
        "huit": 8,
        "neuf": 9,
        "dix": 10,
        "onze": 11,
        "douze": 12,
        "treize": 13,
        "quatorze": 14,
        "quinze": 15,
        "seize": 16,
        "vingt": 20,
        "trente": 30,
        "quarante": 40,
        "cinquante": 50,
        "soixante": 60,
    },
}
MULTIPLIERS = {"mươi": 10, "trăm": 100, "hundred": 100, "cent": 100, "cents": 100}
HALF_WORDS = {"rưỡi": Decimal("0.5"), "and a half": Decimal("0.5"), "et demi": Decimal("0.5")}

_DIGITS = (
    # a currency code written against the figure ("VND7.12 million", "VNĐ55.6 trillion") does not glue it to a word
    r"(?:(?<![\w.,/])|(?<=VND)|(?<=VNĐ)|(?<=USD))(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)(?!\d|[.,]\d)"
)
DIGITS_RE = re.compile(_DIGITS)
_UNAMBIGUOUS_VI = re.compile(
    r"(?<![\w.,])\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}\.\d{3}\.\d{3}|\d,\d{1,2}(?!\d)|\d,\d{4,}"
)
_UNAMBIGUOUS_EN = re.compile(
    r"(?<![\w.,])\d{1,3}(?:,\d{3})+\.\d+|\d{1,3},\d{3},\d{3}|\d\.\d{1,2}(?!\d)|\d\.\d{4,}"
)


def _words_re(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class Quantity:
    """A figure found in text: value in base units, canonical unit (None if bare), span in the searched text."""

    value: Decimal
    unit: str | None
    start: int
    end: int
    scaled: bool


def detect_convention(text: str, lang: str | None) -> Convention | None:
    """Decimal-mark convention of a document: from unambiguous numbers in it, else from its language."""
    vi_votes = len(_UNAMBIGUOUS_VI.findall(text))
    en_votes = len(_UNAMBIGUOUS_EN.findall(text))
    if vi_votes > en_votes:
        return "vi"
    if en_votes > vi_votes:
        return "en"
    if lang in ("vi", "fr"):
        return "vi"
    if lang == "en":
        return "en"
    return None


def parse_number(token: str, convention: Convention | None) -> Decimal | None:
    """Digits with separators -> Decimal; None when the token is malformed or ambiguous without a convention."""
    token = re.sub(r"[ \u00a0\u202f](?=\d{3})", "", token)
    dots, commas = token.count("."), token.count(",")
    try:
        if dots and commas:
            dec = "." if token.rfind(".") > token.rfind(",") else ","
            grp = "," if dec == "." else "."
            whole, frac = token.rsplit(dec, 1)
            if not re.fullmatch(r"\d{1,3}(?:" + re.escape(grp) + r"\d{3})+", whole):
                return None
            return Decimal(whole.replace(grp, "") + "." + frac)
        sep = "." if dots else "," if commas else ""
        if not sep:
            return Decimal(token)
        parts = token.split(sep)
        if len(parts) > 2:
            if all(len(p) == 3 for p in parts[1:]) and len(parts[0]) <= 3:
                return Decimal("".join(parts))
            return None
        if len(parts[1]) != 3:
            return Decimal(parts[0] + "." + parts[1])
        if convention is None:
            return None
        is_group = (sep == ".") == (convention == "vi")
        return Decimal("".join(parts)) if is_group else Decimal(parts[0] + "." + parts[1])
    except InvalidOperation:
        return None


def format_number(value: Decimal, convention: Convention, *, decimals: int) -> str:
    """Inverse of parse_number for tests and synthetic text: group thousands, fixed decimals."""
    text = f"{value:,.{decimals}f}"
    if convention == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def parse_spelled(words: list[str], lang: str) -> Decimal | None:
    """Spelled-out number words (already split) -> value; None if any word is not a number word."""
    table = SPELLED.get(lang, {})
    scales = SCALES.get(lang, {})
    total = Decimal(0)
    current = Decimal(0)
    last_unit = Decimal(1)
    seen = False
    i = 0
    while i < len(words):
        w = words[i].lower()
        two = f"{w} {words[i + 1].lower()}" if i + 1 < len(words) else ""
        if two in scales:
            w = two
            i += 1
        if w in table:
            current += table[w]
        elif w in MULTIPLIERS:
            current = (current or Decimal(1)) * MULTIPLIERS[w]
            last_unit = Decimal(MULTIPLIERS[w]) / 10 if w == "mươi" else Decimal(MULTIPLIERS[w])
        elif w in scales:
            total += (current or Decimal(1)) * scales[w]
            current = Decimal(0)
            last_unit = Decimal(scales[w])
        elif w in HALF_WORDS:
            total += HALF_WORDS[w] * last_unit
        elif w in ("và", "and", "et", "linh", "lẻ") or "-" in w:
            if "-" in w:
                sub = parse_spelled(w.split("-"), lang)
                if sub is None:
                    return None
                current += sub
        else:
            return None
        seen = True
        i += 1
    return total + current if seen else None


@dataclass(frozen=True)
class _Grammar:
    scale: re.Pattern[str]
    unit: re.Pattern[str]
    per: re.Pattern[str]
    spelled: re.Pattern[str]
    prefix: re.Pattern[str]


_GRAMMARS: dict[str, _Grammar] = {}


def _grammar(lang: str) -> _Grammar:
    lang = lang if lang in SCALES else "en"
    g = _GRAMMARS.get(lang)
    if g is None:
        units = dict(UNIT_WORDS[lang])
        number_words = list(SPELLED[lang]) + [w for w in MULTIPLIERS if w not in ("cent",) or lang == "fr"]
        g = _Grammar(
            scale=re.compile(r"\s*(" + _words_re(list(SCALES[lang])) + r")(?!\w)", re.IGNORECASE),
            unit=re.compile(r"\s*(" + _words_re(list(units)) + r")(?![\w$])"),
            per=re.compile(r"\s*(" + _words_re([p for p, _ in PER_PERSON[lang]]) + r")(?!\w)"),
            spelled=re.compile(
                r"(?<!\w)((?:(?:" + _words_re(number_words + list(HALF_WORDS)) + r")[\s-]+)+)"
                r"(?=(?:" + _words_re(list(SCALES[lang])) + r")(?!\w))",
                re.IGNORECASE,
            ),
            prefix=re.compile(r"(" + _words_re([p for p, _ in CURRENCY_PREFIX]) + r")\s?$"),
        )
        _GRAMMARS[lang] = g
    return g


def _unit_of(lang: str, surface: str) -> str:
    for word, unit in UNIT_WORDS[lang if lang in UNIT_WORDS else "en"]:
        if word.lower() == surface.lower():
            return unit
    return surface


@cache
def _spelled_filter(lang: str) -> Prefilter:
    """Spelled numbers need a scale word after them: most sentences have none, so the search is skipped."""
    return Prefilter((_grammar(lang).spelled,))


def find_quantities(text: str, *, lang: str, convention: Convention | None) -> list[Quantity]:
    """Every figure in `text`: digits or spelled numbers, mixed scales ("40 tỷ 541 triệu"), unit and rate."""
    g = _grammar(lang)
    lang = lang if lang in SCALES else "en"
    scales = {k.lower(): v for k, v in SCALES[lang].items()}
    out: list[Quantity] = []
    starts: list[tuple[int, int, Decimal | None]] = []
    for m in DIGITS_RE.finditer(text):
        starts.append((m.start(), m.end(), parse_number(m.group(), convention)))
    for m in g.spelled.finditer(text) if _spelled_filter(lang).candidates(text) else ():
        words = m.group(1).split()
        val = parse_spelled(words, lang)
        if val is not None and val > 0:
            starts.append((m.start(1), m.start(1) + len(m.group(1).rstrip()), val))
    starts.sort(key=lambda s: s[0])
    consumed_to = -1
    for start, end, base in starts:
        if start < consumed_to:
            continue
        if base is None:
            consumed_to = end
            continue
        value = base
        pos = end
        scaled = False
        last_scale: int | None = None
        while True:
            sm = g.scale.match(text, pos)
            if not sm:
                break
            factor = scales[sm.group(1).lower()]
            if last_scale is not None and factor >= last_scale:
                break
            value = value * factor
            scaled = True
            last_scale = factor
            pos = sm.end()
            # "40 tỷ 541 triệu": a further number with a smaller scale continues the same figure
            nm = re.compile(r"\s+(\d{1,3})").match(text, pos)
            if nm:
                sm2 = g.scale.match(text, nm.end())
                if sm2 and scales[sm2.group(1).lower()] < factor:
                    part = Decimal(nm.group(1)) * scales[sm2.group(1).lower()]
                    value += part
                    last_scale = scales[sm2.group(1).lower()]
                    pos = sm2.end()
            half = re.compile(r"\s+(rưỡi)(?!\w)").match(text, pos)
            if half and last_scale:
                value += Decimal("0.5") * last_scale
                pos = half.end()
        unit: str | None = None
        um = g.unit.match(text, pos)
        # "ha" before a letter and "đô" of "đô thị" (a town) are words, not units
        if um and not (
            (um.group(1) == "ha" and lang == "vi" and text[um.end() : um.end() + 1].isalpha())
            or (um.group(1) == "đô" and text[um.end() : um.end() + 4] == " thị")
        ):
            unit = _unit_of(lang, um.group(1))
            pos = um.end()
        elif lang == "en" and (gm := GLUED_PERCENT.match(text, pos)):
            unit = "%"
            pos = gm.end()
        else:
            pm = g.prefix.search(text, max(0, start - 5), start)
            if pm:
                unit = dict(CURRENCY_PREFIX)[pm.group(1)]
                start = pm.start()
        if unit in ("VND", "USD"):
            per = g.per.match(text, pos)
            if per:
                unit += dict(PER_PERSON[lang]).get(per.group(1), "")
                pos = per.end()
        out.append(Quantity(value, unit, start, pos, scaled))
        consumed_to = pos
    return out


_SPELLED_WORDS: dict[str, re.Pattern[str]] = {}


def spelled_words(lang: str) -> re.Pattern[str]:
    """A run of spelled-out number words ("thirty-eight", "hai mươi"), for counts written in words."""
    lang = lang if lang in SPELLED else "en"
    pat = _SPELLED_WORDS.get(lang)
    if pat is None:
        words = _words_re(list(SPELLED[lang]) + [w for w in MULTIPLIERS if w != "cent" or lang == "fr"])
        pat = re.compile(r"(?<!\w)(?:" + words + r")(?:[\s-]+(?:" + words + r"))*(?!\w)", re.IGNORECASE)
        _SPELLED_WORDS[lang] = pat
    return pat


def to_number(value: Decimal) -> int | float:
    """JSON-friendly value: int when integral."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
