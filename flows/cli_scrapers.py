"""`chiso sources` and `chiso fetch URL`: the registry as a table, and one polite fetch stored in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flows.errors import ChisoError

if TYPE_CHECKING:
    from scrapers.registry import Registry

SourcesFileOption = Annotated[
    str | None,
    typer.Option(
        "--sources", help="Sources file (default: CHISO_SOURCES, else the shipped scrapers/sources.yaml)."
    ),
]


def _registry(sources: str | None) -> Registry:
    from scrapers.registry import RegistryError, load_registry

    try:
        return load_registry(sources)
    except RegistryError as exc:
        raise ChisoError(str(exc)) from None


def sources_command(sources: SourcesFileOption = None) -> None:
    """List the configured sources: code, name, language, base URL and how many feeds, sitemaps, listings."""
    from rich.console import Console
    from rich.table import Table

    registry = _registry(sources)
    table = Table(title=f"Sources ({registry.path})")
    for column in ("code", "name", "lang", "base URL", "feeds", "sitemaps", "listings"):
        table.add_column(column, justify="right" if column in ("feeds", "sitemaps", "listings") else "left")
    for source in registry.sources:
        table.add_row(
            source.code,
            source.name,
            source.lang,
            source.base_url,
            str(len(source.feeds)),
            str(len(source.sitemaps)),
            str(len(source.listings)),
        )
    Console(width=160).print(table)


def fetch_command(
    url: Annotated[str, typer.Argument(help="Page URL on a declared source's host.")],
    sources: SourcesFileOption = None,
) -> None:
    """Fetch one page politely (robots.txt, delays, retries, limits), store it, and print the outcome.

    The database is CHISO_DATABASE_URL (default data/chiso.db); the host's delay is kept across calls.
    """
    from flows.database import current_engine
    from flows.load import fetch_and_store
    from flows.pipeline import host_map_from_env
    from flows.state import DbPoliteness
    from scrapers.crawl import make_client

    registry = _registry(sources)
    source = registry.source_for_url(url)
    if source is None:
        raise ChisoError(f"no source declares the host of {url}; see `chiso sources`")
    engine = current_engine()
    with make_client(registry, host_map=host_map_from_env(), politeness=DbPoliteness(engine)) as client:
        outcome = fetch_and_store(url, source=source, client=client, engine=engine, run_id="cli-fetch")
    if outcome.status == "failed":
        raise ChisoError(f"fetch failed: {url}: {outcome.reason}")
    document = f" -> document {outcome.document_id}" if outcome.document_id is not None else ""
    typer.echo(f"{outcome.status}: {url}{document} ({outcome.reason})")


def sources_check_command(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Source code to check (repeatable); default every source."),
    ] = None,
    articles: Annotated[
        int, typer.Option("--articles", min=1, help="Article pages to check per source.")
    ] = 3,
    sources: SourcesFileOption = None,
) -> None:
    """Check each source: feeds and sitemaps reachable, articles found, title/date/lead/body found by its markup.

    Fetches politely (robots.txt, the sources' delays). Exits 1 when a source is degraded: no article found,
    none fetched, or its markup matched nothing on an article (the site changed its layout).
    """
    from flows.pipeline import check_selected
    from scrapers.check import format_report

    checks = check_selected(_registry(sources), source, articles=articles)
    typer.echo(format_report(checks))
    if any(check.degraded for check in checks):
        raise typer.Exit(1)


def sources_app() -> typer.Typer:
    """`chiso sources` (the table) with its `check` subcommand."""
    group = typer.Typer(help="The configured sources.", rich_markup_mode=None)

    @group.callback(invoke_without_command=True)
    def sources_group(ctx: typer.Context, sources: SourcesFileOption = None) -> None:
        """List the configured sources; `chiso sources check` checks them against the live sites."""
        if ctx.invoked_subcommand is None:
            sources_command(sources)

    group.command("check")(sources_check_command)
    return group
