"""The backfill flow: walk a date range through the sources' sitemaps, month by month, resumably."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from prefect import flow
from sqlalchemy import select
from sqlalchemy.engine import Engine

from flows import progress as stages
from flows.errors import ChisoError
from flows.ingest import FETCH_WORKERS, Tally, crawl
from flows.orchestration import Progress, flow_run_id, publish_markdown, report_problems, thread_pool
from flows.parameters import SourceCodes
from flows.pipeline import pipeline
from flows.runs import begin_run, end_run
from models.db import session_scope
from models.store import upsert
from models.tables import BackfillChunk

ChunkSize = Literal["month", "week"]


def chunks(since: date, until: date, *, size: ChunkSize) -> list[tuple[str, date, date]]:
    """Consecutive [start, end] day ranges covering [since, until], labelled 2023-05 or 2023-W19."""
    if since > until:
        raise ChisoError(f"since ({since}) is after until ({until})")
    out: list[tuple[str, date, date]] = []
    day = since
    while day <= until:
        if size == "month":
            next_start = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            label = f"{day.year:04d}-{day.month:02d}"
        else:
            next_start = day + timedelta(days=7 - day.weekday())
            iso = day.isocalendar()
            label = f"{iso.year:04d}-W{iso.week:02d}"
        end = min(until, next_start - timedelta(days=1))
        out.append((label, day, end))
        day = next_start
    return out


def finished_chunks(engine: Engine, codes: list[str]) -> set[tuple[str, str]]:
    """(source, chunk) pairs that earlier backfills finished."""
    table = BackfillChunk.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.source_code, table.c.chunk).where(table.c.source_code.in_(codes))
        )
        return {(r.source_code, r.chunk) for r in rows}


def mark_finished(engine: Engine, codes: list[str], *, chunk: str, tally: Tally, run_id: str) -> None:
    """Record the chunk as done for these sources."""
    rows = [
        {"source_code": code, "chunk": chunk, "documents": tally.per_source.get(code, {}).get("stored", 0)}
        for code in codes
    ]
    with session_scope(engine) as session:
        upsert(session, BackfillChunk, rows, run_id=run_id)


@flow(name="backfill", task_runner=thread_pool(FETCH_WORKERS), log_prints=True)
def backfill(
    since: date,
    until: date | None = None,
    sources: SourceCodes = None,
    chunk: ChunkSize = "month",
    extract: bool = True,
    redo: bool = False,
) -> dict[str, int]:
    """Fetch and store what the sources published over a date range, walking their sitemaps chunk by chunk.

    A chunk finished by any earlier backfill is skipped, so a crashed backfill resumes where it stopped.

    Args:
        since: First publication day of the range (inclusive).
        until: Last publication day (inclusive); default today.
        sources: Source codes from the registry (`chiso sources`); empty means all.
        chunk: Slice of the range done (and resumed) as one unit: month or week.
        extract: Extract inline; false when `chiso.document.stored` events trigger extraction.
        redo: Do again the chunks an earlier backfill finished.
    """
    p = pipeline()
    selected = p.select(sources)
    codes = [s.code for s in selected]
    last = until or datetime.now(UTC).date()
    run_id = begin_run(
        p.engine,
        kind="backfill",
        parameters={"since": since, "until": last, "sources": sources, "chunk": chunk, "redo": redo},
        flow_run_id=flow_run_id(),
    )
    plan = chunks(since, last, size=chunk)
    done = set() if redo else finished_chunks(p.engine, codes)
    progress = Progress(description=f"backfill {since}..{last}: chunks finished")
    tally = Tally()
    stages.grow("chunks", len(plan))
    for index, (label, start, end) in enumerate(plan, start=1):
        todo = [s for s in selected if (s.code, label) not in done]
        if todo:
            part = crawl(
                todo,
                since=datetime.combine(start, time.min, tzinfo=UTC),
                until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
                mode="backfill",
                run_id=run_id,
                extract=extract,
            )
            # A source with a failure in this chunk stays to do: a resumed backfill tries it again.
            failed = {error.split(":", 1)[0] for error in part.errors}
            finished = [s.code for s in todo if s.code not in failed]
            mark_finished(p.engine, finished, chunk=label, tally=part, run_id=run_id)
            tally.add(part)
        progress.update(100.0 * index / len(plan))
        stages.advance("chunks")
    publish_markdown(
        tally.markdown("chiso backfill"), key="chiso-backfill", description="Pages per source, new rankings"
    )
    report_problems(tally.errors)
    end_run(p.engine, run_id, counts=tally.totals(), errors=tally.errors)
    return tally.totals()
