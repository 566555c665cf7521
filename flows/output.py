"""Rows to the terminal: a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class OutputFormat(StrEnum):
    """How query commands print their rows."""

    table = "table"
    csv = "csv"
    json = "json"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit(rows: Sequence[dict[str, Any]], *, columns: Sequence[str], fmt: OutputFormat, title: str) -> None:
    """Print rows in the chosen format to stdout."""
    if fmt is OutputFormat.json:
        json.dump(
            [{c: _plain(r.get(c)) for c in columns} for r in rows], sys.stdout, ensure_ascii=False, indent=2
        )
        sys.stdout.write("\n")
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_plain(r.get(c)) for c in columns] for r in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(_plain(row.get(c))) for c in columns])
    # a pipe or a file has no width: do not fold every column to 80 characters
    Console(width=None if sys.stdout.isatty() else 200).print(table)
