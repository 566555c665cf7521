"""The extract flow: stored documents -> records; its deployment runs on `chiso.document.stored` events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import events
from flows.extraction import DocumentExtraction, extract_document, pending_documents
from flows.orchestration import each, flow_run_id, publish_markdown, report_problems, thread_pool, transient
from flows.pipeline import pipeline
from flows.runs import begin_run, end_run, summary_markdown


@task(
    name="extract-document",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def extract_one(document_id: int, *, run_id: str) -> DocumentExtraction:
    """Extract one stored document (ids, not sessions, cross the task boundary)."""
    return extract_document(pipeline().engine, document_id, run_id=run_id)


@flow(name="extract", task_runner=thread_pool(2), log_prints=True)
def extract(
    document_ids: list[int] | None = None,
    since: datetime | None = None,
    reextract: bool = False,
) -> dict[str, Any]:
    """Extract rankings and indicators from stored documents.

    Args:
        document_ids: Documents to extract; empty means every document not yet extracted with the current rules.
        since: Only documents fetched at or after this time.
        reextract: Extract again even documents already extracted with the current rules.
    """
    engine = pipeline().engine
    run_id = begin_run(
        engine,
        kind="extract",
        parameters={"document_ids": document_ids, "since": since, "reextract": reextract},
        flow_run_id=flow_run_id(),
    )
    ids = document_ids or pending_documents(engine, since=since, reextract=reextract)
    outcomes = each(extract_one, ids, stage="extract", run_id=run_id)
    done = [o for o in outcomes if isinstance(o, DocumentExtraction)]
    errors = [
        f"document {i}: {o}" for i, o in zip(ids, outcomes, strict=True) if isinstance(o, BaseException)
    ]
    new_rankings = [fact for o in done for fact in o.new_rankings]
    for fact in new_rankings:
        events.ranking_detected(
            entity=fact.entity, country=fact.country, program=fact.program, year=fact.year, status=fact.status
        )
    totals = {
        "documents": len(done),
        "rankings": sum(o.rankings for o in done),
        "indicators": sum(o.indicators for o in done),
        "new_rankings": len(new_rankings),
        "errors": len(errors),
    }
    publish_markdown(
        summary_markdown(
            title="chiso extract", per_source={}, totals=totals, new_rankings=new_rankings, errors=errors
        ),
        key="chiso-extract",
        description="Documents extracted and new rankings",
    )
    report_problems(errors)
    end_run(engine, run_id, counts=totals, errors=errors)
    return totals
