"""Flow parameter types whose JSON schema tells the Prefect UI what to offer (the registry's source codes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

from scrapers.registry import RegistryError, load_registry


def source_codes() -> list[str]:
    """The registry's source codes, or none when it cannot be read (the flow run then reports why)."""
    try:
        return [source.code for source in load_registry().sources]
    except RegistryError:
        return []


def _source_schema(codes: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "title": "source"}
    return schema | {"enum": codes} if codes else schema


# Validation stays the flow's own (an unknown code is a clear ChisoError naming the known ones); the schema
# only makes the deployment form a multi-select of the codes the registry had when the flow was loaded.
SourceCode = Annotated[str, WithJsonSchema(_source_schema(source_codes()))]
SourceCodes = list[SourceCode] | None
