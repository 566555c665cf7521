"""The ingest flow: discover -> fetch -> parse -> store, then extract inline unless events will."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import events
from flows import progress as stages
from flows.extract import extract_one
from flows.extraction import DocumentExtraction, document_urls, extract_document, pending_documents
from flows.load import fetch_and_store, store_fetched
from flows.orchestration import (
    Runner,
    each,
    flow_run_id,
    publish_markdown,
    report_problems,
    thread_pool,
    transient,
)
from flows.parameters import SourceCodes
from flows.pipeline import day_range, pipeline
from flows.runs import begin_run, end_run, summary_markdown
from flows.state import DbFetchState
from models.store import RankingFact
from scrapers.crawl import (
    DiscoveryMode,
    DiscoveryResult,
    Fetched,
    FetchOutcome,
    discover,
    fresh_outcome,
    is_fresh,
)
from scrapers.crawl import fetch_page as fetch_one
from scrapers.discover import Candidate, canonical_url
from scrapers.registry import Source, server_of

# Threads mostly wait on the network and on per-host politeness; the client keeps one request per host.
FETCH_WORKERS = 8
# Pages per fetch task: few enough that a task's log and outcome stay readable, enough that Prefect's
# per-task cost (milliseconds) is spread; a host's next batch starts when its previous one ends.
FETCH_BATCH = 20
EXTRACT_BATCH = 20

Job = tuple[str, str]  # (source code, URL)


@task(name="discover", retries=1, retry_delay_seconds=5, retry_condition_fn=transient, cache_policy=NO_CACHE)
def discover_source(
    code: str, *, since: datetime, until: datetime, mode: DiscoveryMode, run_id: str | None = None
) -> DiscoveryResult:
    """Candidate URLs of one source in the window; each feed or sitemap fetch leaves its fetch_state."""
    p = pipeline()
    record = functools.partial(DbFetchState(p.engine).record, run_id=run_id)
    return discover(p.registry.get(code), p.client, since=since, until=until, mode=mode, record=record)


# Never cached: a fetch is worth doing again exactly when its inputs (the URL) are the same.
@task(name="fetch", cache_policy=NO_CACHE)
def fetch_page(job: tuple[str, str], *, run_id: str) -> FetchOutcome:
    """Fetch, archive, parse and store one page; the client does its own polite retries."""
    code, url = job
    p = pipeline()
    return fetch_and_store(url, source=p.registry.get(code), client=p.client, engine=p.engine, run_id=run_id)


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages(jobs: list[Job], *, run_id: str) -> list[FetchOutcome]:
    """Fetch one host's batch of pages in order and store each; storing a page overlaps fetching the next.

    A problem with one page is its failed outcome (one line), never the batch's.
    """
    p = pipeline()
    states = DbFetchState(p.engine).states(canonical_url(url) for _, url in jobs)
    # One loader thread: the politeness wait and the network of page n+1 overlap the parse and store of n.
    with ThreadPoolExecutor(max_workers=1) as loader:
        pending: list[Future[FetchOutcome]] = []
        for code, url in jobs:
            try:
                fetched = fetch_one(url, client=p.client, previous=states.get(canonical_url(url)))
            except Exception as exc:  # a bug on one page must not lose the batch
                pending.append(_failed_future(url, f"fetch failed: {type(exc).__name__}: {exc}"))
                continue
            pending.append(loader.submit(_load, fetched, source=p.registry.get(code), run_id=run_id))
        return [future.result() for future in pending]


def _load(fetched: Fetched, *, source: Source, run_id: str) -> FetchOutcome:
    try:
        return store_fetched(fetched, source=source, engine=pipeline().engine, run_id=run_id)
    except Exception as exc:  # a locked database or a bug on one page fails that page only
        return FetchOutcome(
            url=fetched.url, status="failed", reason=f"store failed: {type(exc).__name__}: {exc}"
        )


def _failed_future(url: str, reason: str) -> Future[FetchOutcome]:
    future: Future[FetchOutcome] = Future()
    future.set_result(FetchOutcome(url=url, status="failed", reason=reason[:500]))
    return future


@task(
    name="extract-documents",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def extract_documents(document_ids: list[int], *, run_id: str) -> list[DocumentExtraction | str]:
    """Extract a batch of stored documents; a document that fails is its one-line error, not the batch's.

    A transient database error (locked, unreachable) fails the batch so Prefect retries it; extraction
    replaces a document's records, so doing one again is harmless.
    """
    from sqlalchemy.exc import OperationalError

    engine = pipeline().engine
    out: list[DocumentExtraction | str] = []
    for document_id in document_ids:
        try:
            out.append(extract_document(engine, document_id, run_id=run_id))
        except OperationalError:
            raise
        except Exception as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out


@dataclass
class Tally:
    """Counts per source, new rankings and one line per problem, for the run row and the artifact."""

    per_source: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    new_rankings: list[RankingFact] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = (
            "discovered",
            "stored",
            "unchanged",
            "not_modified",
            "skipped",
            "failed",
            "rankings",
            "indicators",
        )
        totals = {k: sum(counts.get(k, 0) for counts in self.per_source.values()) for k in keys}
        return totals | {"new_rankings": len(self.new_rankings), "errors": len(self.errors)}

    def add(self, other: Tally) -> None:
        for code, counts in other.per_source.items():
            for key, value in counts.items():
                self.per_source[code][key] += value
        self.new_rankings += other.new_rankings
        self.errors += other.errors
        self.stored += other.stored

    def markdown(self, title: str) -> str:
        return summary_markdown(
            title=title,
            per_source={k: dict(v) for k, v in self.per_source.items()},
            totals=self.totals(),
            new_rankings=self.new_rankings,
            errors=self.errors,
        )


def host_queues(jobs: Sequence[Job], *, size: int) -> dict[str, list[list[Job]]]:
    """The jobs per host (server), in their order, cut into batches of `size`."""
    per_host: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        per_host[server_of(job[1])].append(job)
    return {
        host: [queue[i : i + size] for i in range(0, len(queue), size)] for host, queue in per_host.items()
    }


def discover_all(
    sources: Sequence[Source],
    *,
    since: datetime,
    until: datetime,
    mode: DiscoveryMode,
    tally: Tally,
    run_id: str | None = None,
) -> list[tuple[str, Candidate]]:
    """Every source's candidates in the window (one discovery per source); problems go to the tally."""
    codes = [s.code for s in sources]
    found = each(discover_source, codes, stage="discover", since=since, until=until, mode=mode, run_id=run_id)
    out: list[tuple[str, Candidate]] = []
    for code, result in zip(codes, found, strict=True):
        if isinstance(result, BaseException):
            tally.errors.append(f"{code}: discovery failed: {result}")
            continue
        tally.errors += [f"{code}: {problem}" for problem in result.problems]
        out += [(code, c) for c in result.candidates]
    return out


BatchDone = Callable[[Sequence[Job], Sequence[FetchOutcome | BaseException]], None]


def fetch_all(
    candidates: Sequence[tuple[str, Candidate]],
    *,
    run_id: str,
    extract: bool,
    refresh: bool,
    tally: Tally,
    on_batch: BatchDone | None = None,
    earlier: Sequence[tuple[int, str]] = (),
) -> None:
    """Fetch and store the candidates, one queue per host, extracting what changed as batches finish.

    A page that discovery dates at or before its last successful fetch is not requested (unless `refresh`).
    `on_batch(jobs, outcomes)` is told about every page once it is done (the backfill's chunk bookkeeping).
    `earlier` (document id, source code) are stored documents to extract as well (with `extract`).
    """
    p = pipeline()
    for code, _ in candidates:
        tally.per_source[code]["discovered"] += 1
    states = {} if refresh else DbFetchState(p.engine).states(canonical_url(c.url) for _, c in candidates)
    jobs: list[Job] = []
    fresh_jobs: list[Job] = []
    fresh: list[FetchOutcome | BaseException] = []
    for code, candidate in candidates:
        previous = states.get(canonical_url(candidate.url))
        if previous is not None and is_fresh(candidate, previous):
            fresh_jobs.append((code, candidate.url))
            fresh.append(fresh_outcome(candidate, previous))
        else:
            jobs.append((code, candidate.url))
    codes_by_id: dict[int, str] = {}
    codes_by_id.update(dict(earlier))
    left_over: list[int] = [document_id for document_id, _ in earlier]
    if fresh_jobs:
        left_over += _unextracted(fresh_jobs, fresh, extract=extract, codes_by_id=codes_by_id) + _count(
            fresh_jobs, fresh, tally=tally, codes_by_id=codes_by_id
        )
        if on_batch is not None:
            on_batch(fresh_jobs, fresh)
    queues = host_queues(jobs, size=FETCH_BATCH)
    stages.grow("fetch", len(jobs))
    extracting: list[list[int]] = []
    with Runner(max_workers=min(FETCH_WORKERS, max(1, len(queues)))) as runner:

        def extract_later(ids: list[int]) -> None:
            for start in range(0, len(ids), EXTRACT_BATCH):
                extracting.append(ids[start : start + EXTRACT_BATCH])
                stages.grow("extract", len(extracting[-1]))
                runner.submit(
                    extract_documents, extracting[-1], tag=("extract", "", len(extracting) - 1), run_id=run_id
                )

        if extract and left_over:
            extract_later(left_over)
        for host, batches in queues.items():
            runner.submit(fetch_pages, batches[0], tag=("fetch", host, 0), run_id=run_id)
        for tag, result in runner.completed():
            kind, host, index = tag
            if kind == "extract":
                ids = extracting[index]
                for _ in ids:
                    stages.advance("extract")
                tally.add(_extracted(ids, result, codes_by_id=codes_by_id))
                continue
            batch = queues[host][index]
            outcomes = result if isinstance(result, list) else [result] * len(batch)
            for _ in batch:
                stages.advance("fetch")
            changed = _unextracted(batch, outcomes, extract=extract, codes_by_id=codes_by_id) + _count(
                batch, outcomes, tally=tally, codes_by_id=codes_by_id
            )
            if on_batch is not None:
                on_batch(batch, outcomes)
            if index + 1 < len(queues[host]):
                runner.submit(
                    fetch_pages, queues[host][index + 1], tag=("fetch", host, index + 1), run_id=run_id
                )
            if extract and changed:
                extract_later(changed)


def _unextracted(
    jobs: Sequence[Job],
    outcomes: Sequence[FetchOutcome | BaseException],
    *,
    extract: bool,
    codes_by_id: dict[int, str],
) -> list[int]:
    """Unchanged documents (304, or not requested) that were never extracted with the current rules.

    A run killed between storing and extracting leaves such documents; without this their records are lost.
    Their source codes go into `codes_by_id`, for the run's counts.
    """
    if not extract:
        return []
    unchanged = [
        (code, o)
        for (code, _), o in zip(jobs, outcomes, strict=True)
        if isinstance(o, FetchOutcome) and not o.changed and o.status != "failed"
    ]
    if not unchanged:
        return []
    ids = [o.document_id for _, o in unchanged if o.document_id is not None]
    by_url = {canonical_url(o.url): code for code, o in unchanged if o.document_id is None}
    engine = pipeline().engine
    pending = pending_documents(engine, among=ids, urls=list(by_url))
    for document_id, url in document_urls(engine, pending).items():
        if url in by_url:
            codes_by_id.setdefault(document_id, by_url[url])
    return pending


def _count(
    jobs: Sequence[Job],
    outcomes: Sequence[FetchOutcome | BaseException],
    *,
    tally: Tally,
    codes_by_id: dict[int, str],
) -> list[int]:
    """Count the batch's outcomes, announce stored documents; returns the ids of changed documents."""
    changed: list[int] = []
    for (code, url), outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            tally.per_source[code]["failed"] += 1
            tally.errors.append(f"{code}: {url}: {outcome}")
            continue
        tally.per_source[code][outcome.status] += 1
        if outcome.status == "failed":
            tally.errors.append(f"{code}: {url}: {outcome.reason}")
        if outcome.document_id is not None:
            codes_by_id[outcome.document_id] = code
        if outcome.changed and outcome.document_id is not None:
            tally.stored.append(outcome.document_id)
            changed.append(outcome.document_id)
            events.document_stored(
                document_id=outcome.document_id, source=code, url=outcome.document_url or url
            )
    return changed


def _extracted(ids: Sequence[int], result: Any, *, codes_by_id: dict[int, str]) -> Tally:
    results = result if isinstance(result, list) else [result] * len(ids)
    return _extraction_tally(ids, results, codes_by_id=codes_by_id)


def crawl(
    sources: Sequence[Source],
    *,
    since: datetime,
    until: datetime,
    mode: DiscoveryMode,
    run_id: str,
    extract: bool,
    refresh: bool = False,
) -> Tally:
    """Discover, fetch and store the sources' pages in the window; extract the changed ones if asked."""
    tally = Tally()
    found = discover_all(sources, since=since, until=until, mode=mode, tally=tally, run_id=run_id)
    fetch_all(found, run_id=run_id, extract=extract, refresh=refresh, tally=tally)
    return tally


def _codes_by_id(jobs: Sequence[tuple[str, str]], outcomes: Sequence[Any]) -> dict[int, str]:
    return {
        o.document_id: code
        for (code, _), o in zip(jobs, outcomes, strict=True)
        if isinstance(o, FetchOutcome) and o.document_id is not None
    }


def extract_stored(document_ids: Sequence[int], *, codes_by_id: dict[int, str], run_id: str) -> Tally:
    """Extract the documents a crawl stored; new ranking facts become events."""
    results = each(extract_one, list(document_ids), stage="extract", run_id=run_id)
    return _extraction_tally(document_ids, results, codes_by_id=codes_by_id)


def _extraction_tally(
    document_ids: Sequence[int], results: Sequence[Any], *, codes_by_id: dict[int, str]
) -> Tally:
    """Rankings and indicators per source from extraction results; new ranking facts become events."""
    tally = Tally()
    for document_id, result in zip(document_ids, results, strict=True):
        code = codes_by_id.get(document_id, "?")
        if not isinstance(result, DocumentExtraction):
            tally.errors.append(f"{code}: extracting document {document_id} failed: {result}")
            continue
        tally.per_source[code]["rankings"] += result.rankings
        tally.per_source[code]["indicators"] += result.indicators
        tally.new_rankings += result.new_rankings
        for fact in result.new_rankings:
            events.ranking_detected(
                entity=fact.entity,
                country=fact.country,
                program=fact.program,
                year=fact.year,
                status=fact.status,
            )
    return tally


@flow(name="ingest", task_runner=thread_pool(FETCH_WORKERS), log_prints=True)
def ingest(
    sources: SourceCodes = None,
    since: date | None = None,
    until: date | None = None,
    extract: bool = True,
    refresh: bool = False,
) -> dict[str, int]:
    """Fetch what the sources published recently, store it, and extract it.

    Args:
        sources: Source codes from the registry (`chiso sources`); empty means all.
        since: First publication day to keep; default three days before `until`.
        until: Last publication day to keep; default today.
        extract: Extract inline; deployed runs set this false and let `chiso.document.stored` events trigger extraction.
        refresh: Request every page again, even those the feeds date before their last successful fetch.
    """
    p = pipeline()
    selected = p.select(sources)
    start, end = day_range(since, until)
    run_id = begin_run(
        p.engine,
        kind="ingest",
        parameters={
            "sources": sources,
            "since": since,
            "until": until,
            "extract": extract,
            "refresh": refresh,
        },
        flow_run_id=flow_run_id(),
    )
    tally = crawl(
        selected, since=start, until=end, mode="recent", run_id=run_id, extract=extract, refresh=refresh
    )
    publish_markdown(
        tally.markdown("chiso ingest"), key="chiso-ingest", description="Pages per source, new rankings"
    )
    report_problems(tally.errors)
    end_run(p.engine, run_id, counts=tally.totals(), errors=tally.errors)
    return tally.totals()
