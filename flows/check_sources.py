"""The check_sources flow: `chiso sources check` weekly, one chiso.source.degraded event per degraded source."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow

from flows import events
from flows.pipeline import check_selected
from scrapers.check import SourceCheck, format_report
from scrapers.registry import Registry, load_registry


def check_and_report(registry: Registry, codes: Sequence[str] | None, *, articles: int) -> list[SourceCheck]:
    """Check the sources (all when `codes` is empty), print the report, emit an event per degraded one."""
    checks = check_selected(registry, codes, articles=articles)
    print(format_report(checks))
    for check in checks:
        if check.degraded:
            events.source_degraded(source=check.code, problems=check.problems, report=format_report([check]))
    return checks


@flow(name="check-sources", log_prints=True)
def check_sources(sources: list[str] | None = None, articles: int = 3) -> dict[str, bool]:
    """Check each source's feeds, sitemaps and a few articles; report which are degraded.

    Args:
        sources: Source codes to check; empty means every source.
        articles: Article pages to fetch and parse per source.
    """
    checks = check_and_report(load_registry(), sources, articles=articles)
    return {check.code: check.degraded for check in checks}
