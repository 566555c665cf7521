"""The backfill flow: a date range through the sources' sitemaps, one queue per host, resumable by chunk."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from prefect import flow
from sqlalchemy import select
from sqlalchemy.engine import Engine

from flows import progress as stages
from flows.errors import ChisoError
from flows.extraction import pending_of_sources
from flows.ingest import FETCH_WORKERS, Tally, discover_all, fetch_all
from flows.orchestration import Progress, flow_run_id, publish_markdown, report_problems, thread_pool
from flows.parameters import SourceCodes
from flows.pipeline import pipeline
from flows.runs import begin_run, end_run
from models.db import session_scope
from models.store import upsert
from models.tables import BackfillChunk
from scrapers.crawl import FetchOutcome
from scrapers.discover import Candidate

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


def mark_finished(engine: Engine, code: str, *, chunk: str, documents: int, run_id: str) -> None:
    """Record the source's chunk as done, with the documents it stored."""
    with session_scope(engine) as session:
        upsert(
            session,
            BackfillChunk,
            [{"source_code": code, "chunk": chunk, "documents": documents}],
            run_id=run_id,
        )


class ChunkBook:
    """Which pages each (source, chunk) still waits for; a chunk is marked done when all of them are.

    Chunks are resume bookkeeping only: the pages of the whole window are fetched in per-host queues,
    and a chunk with a failed page (or a source whose discovery had problems) stays to do.
    """

    def __init__(self, engine: Engine, *, plan: list[tuple[str, date, date]], run_id: str) -> None:
        self._engine = engine
        self._run_id = run_id
        self._plan = plan
        self._starts = [start for _, start, _ in plan]
        self._waiting: dict[tuple[str, str], int] = {}
        self._failed: set[tuple[str, str]] = set()
        self._stored: dict[tuple[str, str], int] = {}
        self._chunk_of: dict[tuple[str, str], tuple[str, str]] = {}
        self.total = 0
        self.marked = 0

    def label_for(self, when: datetime | None, todo: list[str]) -> str:
        """The chunk a publication date falls in (undated pages: the source's first chunk to do)."""
        if when is None:
            return todo[0]
        day = when.astimezone(UTC).date()
        index = max(0, bisect_right(self._starts, day) - 1)
        return self._plan[index][0]

    def plan_source(self, code: str, todo: list[str], pages: list[Candidate], *, ok: bool) -> list[Candidate]:
        """Register the source's pages under their chunks; returns the pages of chunks still to do."""
        wanted = set(todo)
        kept: list[Candidate] = []
        for label in todo:
            self._waiting[(code, label)] = 0
            self._stored[(code, label)] = 0
            if not ok:
                self._failed.add((code, label))
        for page in pages:
            label = self.label_for(page.published, todo)
            if label not in wanted:
                continue
            self._waiting[(code, label)] += 1
            self._chunk_of[(code, page.url)] = (code, label)
            kept.append(page)
        self.total += len(todo)
        return kept

    def finish_empty(self) -> None:
        """Mark the chunks no page belongs to (after discovery)."""
        for key, waiting in list(self._waiting.items()):
            if waiting == 0:
                self._close(key)

    def done(self, jobs: Sequence[tuple[str, str]], outcomes: Sequence[FetchOutcome | BaseException]) -> None:
        """Pages finished: count them off their chunks and mark the chunks that are complete."""
        for job, outcome in zip(jobs, outcomes, strict=True):
            key = self._chunk_of.get(job)
            if key is None:
                continue
            if isinstance(outcome, BaseException) or outcome.status == "failed":
                self._failed.add(key)
            elif outcome.changed:
                self._stored[key] += 1
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                self._close(key)

    def _close(self, key: tuple[str, str]) -> None:
        self._waiting.pop(key)
        if key not in self._failed:
            code, label = key
            mark_finished(self._engine, code, chunk=label, documents=self._stored[key], run_id=self._run_id)
        self.marked += 1
        stages.advance("chunks")


@flow(name="backfill", task_runner=thread_pool(FETCH_WORKERS), log_prints=True)
def backfill(
    since: date,
    until: date | None = None,
    sources: SourceCodes = None,
    chunk: ChunkSize = "month",
    extract: bool = True,
    redo: bool = False,
    refresh: bool = False,
) -> dict[str, int]:
    """Fetch and store what the sources published over a date range through their sitemaps, resumably.

    Each sitemap index is read once for the whole range and the pages are fetched in one queue per host;
    a chunk (month or week) is recorded as finished when all its pages are, and a chunk finished by any
    earlier backfill is skipped, so a crashed backfill resumes where it stopped.

    Args:
        since: First publication day of the range (inclusive).
        until: Last publication day (inclusive); default today.
        sources: Source codes from the registry (`chiso sources`); empty means all.
        chunk: Slice of the range recorded (and resumed) as one unit: month or week.
        extract: Extract inline; false when `chiso.document.stored` events trigger extraction.
        redo: Do again the chunks an earlier backfill finished.
        refresh: Request every page again, even those the sitemaps date before their last successful fetch.
    """
    p = pipeline()
    selected = p.select(sources)
    codes = [s.code for s in selected]
    last = until or datetime.now(UTC).date()
    run_id = begin_run(
        p.engine,
        kind="backfill",
        parameters={
            "since": since,
            "until": last,
            "sources": sources,
            "chunk": chunk,
            "redo": redo,
            "refresh": refresh,
        },
        flow_run_id=flow_run_id(),
    )
    plan = chunks(since, last, size=chunk)
    done = set() if redo else finished_chunks(p.engine, codes)
    todo = {s.code: [label for label, _, _ in plan if (s.code, label) not in done] for s in selected}
    active = [s for s in selected if todo[s.code]]
    tally = Tally()
    book = ChunkBook(p.engine, plan=plan, run_id=run_id)
    progress = Progress(description=f"backfill {since}..{last}: chunks finished")
    if active:
        todo_days = [(start, end) for label, start, end in plan if any(label in todo[s.code] for s in active)]
        found = discover_all(
            active,
            since=datetime.combine(todo_days[0][0], time.min, tzinfo=UTC),
            until=datetime.combine(todo_days[-1][1] + timedelta(days=1), time.min, tzinfo=UTC),
            mode="backfill",
            tally=tally,
            run_id=run_id,
        )
        # A source with a discovery problem keeps all its chunks to do: a resumed backfill reads it again.
        troubled = {error.split(":", 1)[0] for error in tally.errors}
        pages: dict[str, list[Candidate]] = {s.code: [] for s in active}
        for code, candidate in found:
            pages[code].append(candidate)
        kept: list[tuple[str, Candidate]] = []
        for s in active:
            kept += [
                (s.code, c)
                for c in book.plan_source(s.code, todo[s.code], pages[s.code], ok=s.code not in troubled)
            ]
        stages.grow("chunks", book.total)
        book.finish_empty()

        def on_batch(
            jobs: Sequence[tuple[str, str]], outcomes: Sequence[FetchOutcome | BaseException]
        ) -> None:
            book.done(jobs, outcomes)
            progress.update(100.0 * book.marked / max(1, book.total))

        # A backfill killed after marking a chunk done but before extracting its pages left them unextracted,
        # and the chunk is not read again: extract every such document of the sources too.
        earlier = pending_of_sources(p.engine, [s.code for s in selected]) if extract else []
        fetch_all(
            kept,
            run_id=run_id,
            extract=extract,
            refresh=refresh,
            tally=tally,
            on_batch=on_batch,
            earlier=earlier,
        )
    progress.update(100.0)
    publish_markdown(
        tally.markdown("chiso backfill"), key="chiso-backfill", description="Pages per source, new rankings"
    )
    report_problems(tally.errors)
    end_run(p.engine, run_id, counts=tally.totals(), errors=tally.errors)
    return tally.totals()
