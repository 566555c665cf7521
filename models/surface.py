"""The analysts' surface as data: what each view and column means, and the example queries (models/views.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SURFACE = Path(__file__).with_name("views.yaml")


@dataclass(frozen=True)
class Example:
    """An example query from the README, also a canned query in `chiso browse`."""

    name: str
    title: str
    description: str
    sql: str


@cache
def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SURFACE.read_text(encoding="utf-8"))
    return loaded


def views() -> dict[str, str]:
    """View name -> what one row of it is."""
    return dict(_load()["views"])


def column_descriptions() -> dict[str, str]:
    """Column name -> meaning; a name means the same in every view that has it."""
    return dict(_load()["columns"])


def examples() -> list[Example]:
    """The README's example queries, in its order."""
    return [Example(**item) for item in _load()["examples"]]
