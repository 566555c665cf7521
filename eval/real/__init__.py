"""Real-text evaluation set: labelled cases, a text cache refilled by search, and the scorer `python -m eval.real`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Paths:
    """Where the cases, the text cache and the score log live (beside this file unless a test says otherwise)."""

    cases: Path = HERE / "cases.jsonl"
    cache: Path = HERE / "cache"
    scores: Path = HERE / "scores.jsonl"


DEFAULT_PATHS = Paths()
