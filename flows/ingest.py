"""The ingest flow: discover -> fetch -> parse -> store, then extract inline unless events will."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, zip_longest
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import events
from flows.extract import extract_one
from flows.extraction import DocumentExtraction, pending_documents
from flows.orchestration import each, flow_run_id, publish_markdown, report_problems, thread_pool, transient
from flows.parameters import SourceCodes
from flows.pipeline import day_range, pipeline
from flows.runs import begin_run, end_run, summary_markdown
from models.store import RankingFact
from scrapers.crawl import DiscoveryMode, DiscoveryResult, FetchOutcome, discover, fetch_and_store
from scrapers.registry import Source

# Threads mostly wait on the network and on per-host politeness; the client keeps one request per host.
FETCH_WORKERS = 8


@task(name="discover", retries=1, retry_delay_seconds=5, retry_condition_fn=transient, cache_policy=NO_CACHE)
def discover_source(
    code: str, *, since: datetime, until: datetime, mode: DiscoveryMode, run_id: str | None = None
) -> DiscoveryResult:
    """Candidate URLs of one source in the window; each feed or sitemap fetch leaves its fetch_state."""
    p = pipeline()
    return discover(
        p.registry.get(code), p.client, since=since, until=until, mode=mode, engine=p.engine, run_id=run_id
    )


# Never cached: a fetch is worth doing again exactly when its inputs (the URL) are the same.
@task(name="fetch", cache_policy=NO_CACHE)
def fetch_page(job: tuple[str, str], *, run_id: str) -> FetchOutcome:
    """Fetch, archive, parse and store one page; the client does its own polite retries."""
    code, url = job
    p = pipeline()
    return fetch_and_store(url, source=p.registry.get(code), client=p.client, engine=p.engine, run_id=run_id)


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


def _by_host_round_robin(jobs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    # Interleaving hosts keeps the bounded pool busy on different hosts instead of queueing on one.
    per_host: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for job in jobs:
        per_host[urlsplit(job[1]).hostname or ""].append(job)
    return [job for job in chain.from_iterable(zip_longest(*per_host.values())) if job is not None]


def crawl(
    sources: Sequence[Source],
    *,
    since: datetime,
    until: datetime,
    mode: DiscoveryMode,
    run_id: str,
    extract: bool,
) -> Tally:
    """Discover, fetch and store the sources' pages in the window; extract the changed ones if asked."""
    tally = Tally()
    codes = [s.code for s in sources]
    found = each(discover_source, codes, stage="discover", since=since, until=until, mode=mode, run_id=run_id)
    jobs: list[tuple[str, str]] = []
    for code, result in zip(codes, found, strict=True):
        if isinstance(result, BaseException):
            tally.errors.append(f"{code}: discovery failed: {result}")
            continue
        tally.per_source[code]["discovered"] += len(result.candidates)
        tally.errors += [f"{code}: {problem}" for problem in result.problems]
        jobs += [(code, c.url) for c in result.candidates]
    jobs = _by_host_round_robin(jobs)
    outcomes = each(fetch_page, jobs, stage="fetch", run_id=run_id)
    for (code, url), outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            tally.per_source[code]["failed"] += 1
            tally.errors.append(f"{code}: {url}: {outcome}")
            continue
        tally.per_source[code][outcome.status] += 1
        if outcome.status == "failed":
            tally.errors.append(f"{code}: {url}: {outcome.reason}")
        if outcome.changed and outcome.document_id is not None:
            tally.stored.append(outcome.document_id)
            events.document_stored(
                document_id=outcome.document_id, source=code, url=outcome.document_url or url
            )
    if extract:
        # A run killed between storing and extracting leaves documents that now answer 304: extract them too.
        seen = [
            o.document_id for o in outcomes if isinstance(o, FetchOutcome) and o.document_id and not o.changed
        ]
        todo = tally.stored + (pending_documents(pipeline().engine, among=seen) if seen else [])
        tally.add(extract_stored(todo, codes_by_id=_codes_by_id(jobs, outcomes), run_id=run_id))
    return tally


def _codes_by_id(jobs: Sequence[tuple[str, str]], outcomes: Sequence[Any]) -> dict[int, str]:
    return {
        o.document_id: code
        for (code, _), o in zip(jobs, outcomes, strict=True)
        if isinstance(o, FetchOutcome) and o.document_id is not None
    }


def extract_stored(document_ids: Sequence[int], *, codes_by_id: dict[int, str], run_id: str) -> Tally:
    """Extract the documents a crawl stored; new ranking facts become events."""
    tally = Tally()
    results = each(extract_one, list(document_ids), stage="extract", run_id=run_id)
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
) -> dict[str, int]:
    """Fetch what the sources published recently, store it, and extract it.

    Args:
        sources: Source codes from the registry (`chiso sources`); empty means all.
        since: First publication day to keep; default three days before `until`.
        until: Last publication day to keep; default today.
        extract: Extract inline; deployed runs set this false and let `chiso.document.stored` events trigger extraction.
    """
    p = pipeline()
    selected = p.select(sources)
    start, end = day_range(since, until)
    run_id = begin_run(
        p.engine,
        kind="ingest",
        parameters={"sources": sources, "since": since, "until": until, "extract": extract},
        flow_run_id=flow_run_id(),
    )
    tally = crawl(selected, since=start, until=end, mode="recent", run_id=run_id, extract=extract)
    publish_markdown(
        tally.markdown("chiso ingest"), key="chiso-ingest", description="Pages per source, new rankings"
    )
    report_problems(tally.errors)
    end_run(p.engine, run_id, counts=tally.totals(), errors=tally.errors)
    return tally.totals()
