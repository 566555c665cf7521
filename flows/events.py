"""Prefect events chiso emits, through one function that tests replace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

DOCUMENT_STORED = "chiso.document.stored"
RANKING_DETECTED = "chiso.ranking.detected"
SOURCE_DEGRADED = "chiso.source.degraded"

logger = logging.getLogger(__name__)

Emitter = Callable[[str, str, dict[str, Any]], None]


def prefect_emitter(event: str, resource_id: str, payload: dict[str, Any]) -> None:
    """Send the event to the Prefect API this process talks to."""
    from prefect.events import emit_event

    emit_event(event=event, resource={"prefect.resource.id": resource_id}, payload=payload)


_emitter: Emitter = prefect_emitter


def set_emitter(emitter: Emitter) -> Emitter:
    """Replace the emitter (tests record events instead of sending them); returns the previous one."""
    global _emitter
    previous, _emitter = _emitter, emitter
    return previous


def emit(event: str, resource_id: str, payload: dict[str, Any]) -> None:
    """Emit one chiso event; a failure to emit is logged, never fatal to the run."""
    try:
        _emitter(event, resource_id, payload)
    except Exception as exc:  # an unreachable event stream must not lose stored documents
        logger.warning("could not emit %s for %s: %s", event, resource_id, exc)


def document_stored(*, document_id: int, source: str | None, url: str) -> None:
    """A new or changed document is stored: the extract deployment listens for this."""
    emit(
        DOCUMENT_STORED,
        f"chiso.document.{document_id}",
        {"document_id": document_id, "source": source, "url": url},
    )


def ranking_detected(*, entity: str, country: str, program: str, year: int | None, status: str) -> None:
    """An entity × program × year fact appeared for the first time."""
    resource = f"chiso.ranking.{program}.{year or 'unknown'}.{entity.lower().replace(' ', '-')}"
    emit(
        RANKING_DETECTED,
        resource,
        {"entity": entity, "country": country, "program": program, "year": year, "status": status},
    )


def source_degraded(*, source: str, problems: list[str], report: str) -> None:
    """A source's feeds, sitemaps or article markup no longer work (`chiso sources check`)."""
    emit(
        SOURCE_DEGRADED, f"chiso.source.{source}", {"source": source, "problems": problems, "report": report}
    )
