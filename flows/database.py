"""The database as the command line and flows use it: checked schema, migrations plus reference data."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from flows.errors import ChisoError
from models import migrate
from models.db import DatabaseError, database_url, get_engine, redacted, session_scope
from models.store import upsert_reference


def current_engine(url: str | None = None) -> Engine:
    """The engine for a database at the newest migration; a clear error otherwise."""
    engine = get_engine(url)
    revision = migrate.current_revision(engine)
    head = migrate.head_revision()
    if revision != head:
        where = redacted(database_url(url))
        state = "has no chiso schema" if revision is None else f"is at migration {revision}, newest is {head}"
        raise ChisoError(f"database {where} {state}: run `chiso db upgrade`")
    return engine


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    """Programs, indicators and entities from the extractors' catalogue, as table rows."""
    from extractors import catalogue

    indicators = [dataclasses.asdict(i) for i in catalogue.indicators()]
    for row in indicators:
        row["synonyms"] = {lang: list(words) for lang, words in row["synonyms"].items()}
    programs = [dataclasses.asdict(p) for p in catalogue.programs()]
    entities = []
    for entity in catalogue.entities():
        row = dataclasses.asdict(entity)
        row["aliases"] = [(a.alias, a.lang) for a in entity.aliases]
        entities.append(row)
    return {"programs": programs, "indicators": indicators, "entities": entities}


def seed(engine: Engine, *, run_id: str | None = "seed") -> str:
    """Load reference data and sources (idempotent upserts); returns a one-line summary."""
    from flows.load import store_sources
    from scrapers.registry import load_registry

    rows = reference_rows()
    with session_scope(engine) as session:
        upsert_reference(session, run_id=run_id, **rows)
    sources = store_sources(engine, load_registry().sources, run_id=run_id)
    return (
        f"reference data: {len(rows['programs'])} programs, {len(rows['indicators'])} indicators, "
        f"{len(rows['entities'])} entities, {sources} sources"
    )


def upgrade_and_seed(url: str | None = None) -> str:
    """Migrate to head and load reference data; returns what was done, in one line."""
    before = migrate.current_revision(get_engine(url))
    migrate.upgrade(url)
    head = migrate.head_revision()
    moved = f"migrated {before or 'empty'} -> {head}" if before != head else f"already at {head}"
    return f"{redacted(database_url(url))}: {moved}; {seed(get_engine(url))}"


def prepare_empty(url: str | None = None) -> str | None:
    """Create the schema and reference data in a database that has none yet (a first `chiso run`).

    A database at an older migration is left alone: upgrading it is the operator's explicit `chiso db upgrade`.
    """
    if migrate.current_revision(get_engine(url)) is not None:
        return None
    return upgrade_and_seed(url)


def describe_database_error(exc: BaseException) -> str | None:
    """One line for a database failure, or None when the error is not the database's."""
    url = redacted(database_url())
    if isinstance(exc, DatabaseError):
        return str(exc)
    if isinstance(exc, OperationalError):
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "readonly" in message or "read-only" in message:
            return f"database {url} is read-only: {message}"
        if "unable to open" in message:
            return f"cannot open database {url}: {message}"
        return f"cannot use database {url}: {message}"
    if isinstance(exc, DBAPIError | SQLAlchemyError):
        return f"database {url}: {exc.__class__.__name__}: {str(exc).strip().splitlines()[0]}"
    return None
