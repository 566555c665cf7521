"""Run bookkeeping: one `run` row per flow run, and the markdown summary each run leaves."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from flows.redaction import redact, redact_value
from models.db import session_scope
from models.store import RankingFact
from models.tables import Run
from models.types import utcnow


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def begin_run(
    engine: Engine, *, kind: str, parameters: Mapping[str, Any], flow_run_id: str | None = None
) -> str:
    """Record the start of a run; returns its id (the Prefect flow-run id when there is one)."""
    run_id = flow_run_id or str(uuid.uuid4())
    with session_scope(engine) as session:
        existing = session.get(Run, run_id)
        if existing is None:
            session.add(
                Run(
                    id=run_id,
                    kind=kind,
                    parameters=redact_value(_jsonable(dict(parameters))),
                    flow_run_id=flow_run_id,
                )
            )
        else:  # a retried flow run keeps its id
            existing.status, existing.finished_at = "running", None
    return run_id


def end_run(engine: Engine, run_id: str, *, counts: Mapping[str, Any], errors: Iterable[str]) -> None:
    """Record the end of a run with its counts and errors."""
    errors = list(errors)
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise KeyError(f"no run {run_id}")
        run.counts = _jsonable(dict(counts))
        run.errors = [redact(e) for e in errors]
        run.finished_at = utcnow()
        # run.status is VARCHAR(16): "completed_with_errors" failed every run with errors on PostgreSQL.
        run.status = "with_errors" if errors else "completed"


def summary_markdown(
    *,
    title: str,
    per_source: Mapping[str, Mapping[str, int]],
    totals: Mapping[str, int],
    new_rankings: Iterable[RankingFact],
    errors: Iterable[str],
) -> str:
    """The markdown artifact a run leaves: counts per source and the new rankings."""
    lines = [f"# {title}", ""]
    lines += [", ".join(f"**{k}**: {v}" for k, v in totals.items()), ""]
    if per_source:
        keys = sorted({k for counts in per_source.values() for k in counts})
        lines += ["| source | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        lines += [
            f"| {code} | " + " | ".join(str(counts.get(k, 0)) for k in keys) + " |"
            for code, counts in sorted(per_source.items())
        ]
        lines.append("")
    facts = list(new_rankings)
    lines += [f"## New rankings ({len(facts)})", ""]
    if facts:
        lines += ["| entity | program | year | status |", "|---|---|---|---|"]
        lines += [f"| {f.entity} | {f.program} | {f.year or ''} | {f.status} |" for f in facts]
    else:
        lines.append("None.")
    errors = list(errors)
    if errors:
        lines += ["", f"## Errors ({len(errors)})", ""] + [f"- {e}" for e in errors]
    return "\n".join(lines) + "\n"
