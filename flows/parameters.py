"""Flow parameters: their JSON schema for the Prefect UI, and the checks the CLI runs before Prefect starts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import WithJsonSchema

from flows.errors import ChisoError
from scrapers.registry import RegistryError, load_registry


def source_codes() -> list[str]:
    """The registry's source codes; a broken sources file is the one-line ChisoError naming file and key."""
    try:
        return [source.code for source in load_registry().sources]
    except RegistryError as exc:
        raise ChisoError(str(exc)) from exc


def _source_schema(codes: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "title": "source"}
    return schema | {"enum": codes} if codes else schema


def parse_day(value: str | None, *, name: str) -> date | None:
    """A YYYY-MM-DD option as a date (None stays None); anything else is a one-line error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ChisoError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def check_sources(codes: Sequence[str] | None) -> None:
    """Refuse an unknown source code (naming the known ones) or a broken sources file, in one line."""
    known = source_codes()
    unknown = [code for code in codes or () if code not in known]
    if unknown:
        raise ChisoError(f"unknown source {unknown[0]!r} (known: {', '.join(known)})")


def check_window(since: date | None, until: date | None) -> None:
    """Refuse a window whose first day is after its last (until defaults to today, as in the flows)."""
    # flows.pipeline.day_range applies the same rule; importing it here would cost a second of imports.
    end = until or datetime.now(UTC).date()
    if since is not None and since > end:
        raise ChisoError(f"since ({since}) is after until ({end})")


# Validation stays the flow's own (an unknown code is a clear ChisoError naming the known ones); the schema
# only makes the deployment form a multi-select of the codes the registry had when the flow was loaded.
# A broken sources file fails the import with its one-line error rather than offering an empty form.
SourceCode = Annotated[str, WithJsonSchema(_source_schema(source_codes()))]
SourceCodes = list[SourceCode] | None
