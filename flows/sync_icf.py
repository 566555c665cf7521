"""The sync_icf flow: the ICF's own Smart21, Top7 and Intelligent Community of the Year lists."""

from __future__ import annotations

from prefect import flow

from flows.ingest import FETCH_WORKERS, Tally, extract_stored, fetch_page
from flows.orchestration import each, flow_run_id, publish_markdown, report_problems, thread_pool
from flows.pipeline import pipeline
from flows.runs import begin_run, end_run
from scrapers.crawl import FetchOutcome
from scrapers.parsers.icf import listing_links

ICF = "icf"


def icf_pages(years: list[int] | None) -> tuple[list[str], list[str]]:
    """The ICF programme pages and the announcements they link to (only `years` when given); and problems."""
    p = pipeline()
    source = p.registry.get(ICF)
    pages: list[str] = []
    problems: list[str] = []
    for listing in source.listings:
        result = p.client.fetch(listing.url)
        if not result.ok:
            problems.append(f"{listing.url}: {result.reason}")
            continue
        pages.append(listing.url)
        links = listing_links(result.body, page_url=result.final_url, years=set(years) if years else None)
        pages += [link.url for link in links if link.url not in pages]
    return pages, problems


@flow(name="sync-icf", task_runner=thread_pool(FETCH_WORKERS), log_prints=True)
def sync_icf(years: list[int] | None = None) -> dict[str, int]:
    """Read the ICF's programme pages and announcements: the official rankings of every named community.

    Args:
        years: Award years to read (e.g. [2023]); empty means every year the pages list.
    """
    p = pipeline()
    run_id = begin_run(p.engine, kind="sync_icf", parameters={"years": years}, flow_run_id=flow_run_id())
    pages, problems = icf_pages(years)
    tally = Tally(errors=[f"{ICF}: {problem}" for problem in problems])
    jobs = [(ICF, url) for url in pages]
    outcomes = each(fetch_page, jobs, stage="fetch", run_id=run_id)
    documents: list[int] = []
    for (_, url), outcome in zip(jobs, outcomes, strict=True):
        if not isinstance(outcome, FetchOutcome) or outcome.status == "failed":
            tally.errors.append(
                f"{ICF}: {url}: {outcome if isinstance(outcome, BaseException) else outcome.reason}"
            )
            tally.per_source[ICF]["failed"] += 1
            continue
        tally.per_source[ICF][outcome.status] += 1
        if outcome.document_id is not None:
            documents.append(outcome.document_id)
    # Official lists are few pages: extract them all, changed or not, so the rankings always reflect them.
    tally.add(
        extract_stored(sorted(set(documents)), codes_by_id=dict.fromkeys(documents, ICF), run_id=run_id)
    )
    publish_markdown(
        tally.markdown("chiso sync-icf"), key="chiso-sync-icf", description="ICF pages and rankings"
    )
    report_problems(tally.errors)
    end_run(p.engine, run_id, counts=tally.totals(), errors=tally.errors)
    return tally.totals()
