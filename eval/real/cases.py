"""Cases of the real-text set: loading cases.jsonl, the split rule and the schema check (no extraction here)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LANGS = frozenset({"vi", "en", "fr"})
SPLITS = ("dev", "test")
STATUSES = frozenset({"achieved", "candidate", "aspiration", "other"})
INDICATOR_STATUSES = frozenset({"estimate", "target", "actual"})
QUALIFIERS = frozenset({"approx", "approx_under", "over", "at_least"})
KINDS = frozenset({"ranking", "indicator"})

CASE_KEYS = frozenset(
    {
        "id",
        "split",
        "url",
        "outlet",
        "lang",
        "published",
        "query",
        "expected_rankings",
        "optional_rankings",
        "expected_indicators",
        "indicators_exhaustive",
        "must_not_extract",
        "notes",
    }
)
CASE_REQUIRED = CASE_KEYS - {"optional_rankings", "must_not_extract", "notes"}
RANKING_REQUIRED = frozenset({"entity", "program", "year", "status"})
RANKING_OPTIONAL = frozenset(
    {"rank", "out_of", "count", "consecutive_count", "year_inferred", "year_as_written", "note"}
)
INDICATOR_REQUIRED = frozenset({"entity", "indicator", "value", "unit", "period"})
INDICATOR_OPTIONAL = frozenset({"label", "raw", "status", "qualifier", "value_min", "value_max", "note"})

ID_RE = re.compile(r"^[a-z]+-\d{3,}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RANK_WORD_RE = re.compile(r"^(?:top\d+|last)$")
PERIOD_RE = re.compile(
    r"^(?:\d{4}|\d{4}-H[12]|\d{4}-Q[1-4]|\d{4}-\d{2}|\d{4}-01\.\.\d{4}-\d{2}"
    r"|cumulative@\d{4}(?:-\d{2}(?:-\d{2})?)?|\d{4}\.\.\d{4})$"
)
RAW_MAX_CHARS = 40


def split_of(url: str) -> str:
    """The split a URL belongs to: fixed by its SHA-256, about 40 % test (EVAL_SPEC.md), never chosen."""
    return "test" if int(hashlib.sha256(url.encode()).hexdigest()[:8], 16) % 10 < 4 else "dev"


def outlet_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class Case:
    """One labelled page; `data` is the line of cases.jsonl as read."""

    data: dict[str, Any]
    line: int

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def split(self) -> str:
        return str(self.data["split"])

    @property
    def url(self) -> str:
        return str(self.data["url"])


def read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank lines of cases.jsonl with their 1-based numbers (empty when the file does not exist)."""
    if not path.exists():
        return []
    return [
        (n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()
    ]


def load_cases(path: Path) -> list[Case]:
    """Every case that parses as a JSON object with an id; `check` reports the rest."""
    cases = []
    for n, line in read_lines(path):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            cases.append(Case(data, n))
    return cases


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _ranking_problems(r: object, where: str, *, full: bool) -> list[str]:
    if not isinstance(r, dict):
        return [f"{where}: not an object"]
    out = []
    missing = RANKING_REQUIRED - r.keys()
    if full and missing:
        out.append(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = r.keys() - RANKING_REQUIRED - RANKING_OPTIONAL - ({"kind"} if not full else set())
    if unknown:
        out.append(f"{where}: unknown field {', '.join(sorted(unknown))}")
    if "entity" in r and not (isinstance(r["entity"], str) and r["entity"].strip()):
        out.append(f"{where}: entity must be a non-empty string")
    if "program" in r and not (isinstance(r["program"], str) and CODE_RE.match(r["program"])):
        out.append(f"{where}: program must be a snake_case code")
    if "year" in r and not (r["year"] is None or (isinstance(r["year"], int) and 1990 <= r["year"] <= 2100)):
        out.append(f"{where}: year must be an integer year or null")
    if "status" in r and r["status"] not in STATUSES:
        out.append(f"{where}: status must be one of {', '.join(sorted(STATUSES))}")
    rank = r.get("rank")
    if rank is not None and not (
        (isinstance(rank, int) and not isinstance(rank, bool) and rank >= 1)
        or (isinstance(rank, str) and RANK_WORD_RE.match(rank))
    ):
        out.append(f"{where}: rank must be a positive integer, 'topN' or 'last'")
    for key in ("out_of", "count", "consecutive_count"):
        v = r.get(key)
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
            out.append(f"{where}: {key} must be a positive integer")
    if "year_inferred" in r and not isinstance(r["year_inferred"], bool):
        out.append(f"{where}: year_inferred must be true or false")
    return out


def _indicator_problems(i: object, where: str, *, full: bool) -> list[str]:
    if not isinstance(i, dict):
        return [f"{where}: not an object"]
    out = []
    missing = INDICATOR_REQUIRED - i.keys()
    if full and missing:
        out.append(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = i.keys() - INDICATOR_REQUIRED - INDICATOR_OPTIONAL - ({"kind"} if not full else set())
    if unknown:
        out.append(f"{where}: unknown field {', '.join(sorted(unknown))}")
    if "entity" in i and not (i["entity"] is None or (isinstance(i["entity"], str) and i["entity"].strip())):
        out.append(f"{where}: entity must be a non-empty string or null")
    if full:
        if i.get("indicator") is None:
            if not (isinstance(i.get("label"), str) and i["label"].strip()):
                out.append(f"{where}: indicator null needs a label")
        elif not (isinstance(i["indicator"], str) and CODE_RE.match(i["indicator"])):
            out.append(f"{where}: indicator must be a snake_case code or null")
        if i.get("value") is None:
            if not any(_is_number(i.get(k)) for k in ("value_min", "value_max")):
                out.append(f"{where}: value null needs value_min or value_max")
        elif not _is_number(i["value"]):
            out.append(f"{where}: value must be a number")
    for key in ("value_min", "value_max"):
        if i.get(key) is not None and not _is_number(i[key]):
            out.append(f"{where}: {key} must be a number")
    if "unit" in i and not (isinstance(i["unit"], str) and i["unit"].strip()):
        out.append(f"{where}: unit must be a non-empty string")
    period = i.get("period")
    if period is not None and not (isinstance(period, str) and PERIOD_RE.match(period)):
        out.append(f"{where}: period {period!r} is not one of the labelling.md forms")
    if i.get("status") is not None and i["status"] not in INDICATOR_STATUSES:
        out.append(f"{where}: status must be estimate or target (or left out)")
    if i.get("qualifier") is not None and i["qualifier"] not in QUALIFIERS:
        out.append(f"{where}: qualifier must be one of {', '.join(sorted(QUALIFIERS))}")
    raw = i.get("raw")
    if raw is not None and not (isinstance(raw, str) and len(raw) <= RAW_MAX_CHARS):
        out.append(f"{where}: raw must be the few words of the figure (at most {RAW_MAX_CHARS} characters)")
    return out


def case_problems(data: object) -> list[str]:
    """Everything wrong with one parsed line, as short phrases (empty when the case is valid)."""
    if not isinstance(data, dict):
        return ["not a JSON object"]
    out = []
    missing = CASE_REQUIRED - data.keys()
    if missing:
        out.append(f"missing {', '.join(sorted(missing))}")
    unknown = data.keys() - CASE_KEYS
    if unknown:
        out.append(f"unknown field {', '.join(sorted(unknown))}")
    if not (isinstance(data.get("id"), str) and ID_RE.match(data["id"])):
        out.append("id must be prefix-NNN")
    url = data.get("url")
    if not (isinstance(url, str) and urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname):
        out.append("url must be an http(s) URL")
    else:
        if data.get("split") != split_of(url):
            out.append(f"split is {data.get('split')!r}, the hash rule gives {split_of(url)!r}")
        if data.get("outlet") != outlet_of(url):
            out.append(f"outlet is {data.get('outlet')!r}, the URL's host gives {outlet_of(url)!r}")
    if data.get("lang") not in LANGS:
        out.append("lang must be vi, en or fr")
    published = data.get("published")
    if published is not None and not _is_iso_day(published):
        out.append("published must be YYYY-MM-DD or null")
    if not (isinstance(data.get("query"), str) and data["query"].strip()):
        out.append("query must be the non-empty search string")
    if "indicators_exhaustive" in data and not isinstance(data["indicators_exhaustive"], bool):
        out.append("indicators_exhaustive must be true or false")
    if "notes" in data and not isinstance(data["notes"], str):
        out.append("notes must be a string")
    for key in ("expected_rankings", "optional_rankings", "expected_indicators", "must_not_extract"):
        if key in data and not isinstance(data[key], list):
            out.append(f"{key} must be a list")
    for n, r in enumerate(_list(data, "expected_rankings")):
        out += _ranking_problems(r, f"expected_rankings[{n}]", full=True)
    for n, r in enumerate(_list(data, "optional_rankings")):
        out += _ranking_problems(r, f"optional_rankings[{n}]", full=True)
    for n, i in enumerate(_list(data, "expected_indicators")):
        out += _indicator_problems(i, f"expected_indicators[{n}]", full=True)
    for n, m in enumerate(_list(data, "must_not_extract")):
        out += _trap_problems(m, f"must_not_extract[{n}]")
    return out


def _trap_problems(m: object, where: str) -> list[str]:
    if not isinstance(m, dict):
        return [f"{where}: not an object"]
    if m.get("kind") not in KINDS:
        return [f"{where}: kind must be ranking or indicator"]
    fields = {k: v for k, v in m.items() if v != "*"}
    if len(m) < 2:
        return [f"{where}: needs at least one field besides kind"]
    check = _ranking_problems if m["kind"] == "ranking" else _indicator_problems
    return check(fields, where, full=False)


def _is_iso_day(v: object) -> bool:
    if not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _list(data: dict[str, Any], key: str) -> list[Any]:
    v = data.get(key)
    return v if isinstance(v, list) else []


def heldout_checker(start: Path) -> Callable[[str], bool] | None:
    """`is_held_out` of the shared held-out list (shared/eval/heldout.py in an ancestor directory), if present."""
    for parent in (start, *start.parents):
        script = parent / "shared" / "eval" / "heldout.py"
        if script.is_file():
            spec = importlib.util.spec_from_file_location("chiso_shared_heldout", script)
            if spec is None or spec.loader is None:
                return None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            is_held_out: Callable[[str], bool] = module.is_held_out
            return is_held_out
    return None


def check_lines(
    lines: Iterable[tuple[int, str]], is_held_out: Callable[[str], bool] | None
) -> list[tuple[int, str, str]]:
    """(line number, case id or '?', problem) for every invalid line, duplicate id or URL, or held-out URL."""
    problems: list[tuple[int, str, str]] = []
    ids: dict[str, int] = {}
    urls: dict[str, str] = {}
    for n, line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((n, "?", f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        cid = str(data["id"]) if isinstance(data, dict) and isinstance(data.get("id"), str) else "?"
        problems += [(n, cid, p) for p in case_problems(data)]
        if cid != "?":
            if cid in ids:
                problems.append((n, cid, f"duplicate id (first on line {ids[cid]})"))
            else:
                ids[cid] = n
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str):
            if url in urls:
                problems.append((n, cid, f"duplicate url (also {urls[url]})"))
            else:
                urls[url] = cid
            if is_held_out is not None and is_held_out(url):
                problems.append((n, cid, "url is held out: remove this case"))
    return problems
