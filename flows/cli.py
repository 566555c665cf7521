"""The `chiso` command line; commands that need no orchestration never import Prefect."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.errors import ChisoError
from flows.output import OutputFormat, emit
from flows.redaction import redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(
    help="chiso: smart-city rankings and indicators from the web, into SQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain click errors: the error is one line, not a framed panel
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True, rich_markup_mode=None)
query_app = typer.Typer(help="Read the analysts' views.", no_args_is_help=True, rich_markup_mode=None)
indicators_app = typer.Typer(
    help="Curate the indicator catalogue from what the press states.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")
app.add_typer(query_app, name="query")
app.add_typer(indicators_app, name="indicators")

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
EntityOption = Annotated[
    str | None, typer.Option(help="Entity: canonical name, local name or alias (e.g. 'Bình Dương').")
]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """chiso: smart-city rankings and indicators from the web, into SQL."""


def _engine() -> Engine:
    from flows.database import current_engine

    return current_engine()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (CHISO_DATABASE_URL, default data/chiso.db) to the newest schema and load reference data."""
    from flows.database import upgrade_and_seed

    summary = upgrade_and_seed()
    typer.echo(summary)


@db_app.command("seed")
def db_seed() -> None:
    """Load the reference data (programs, indicators, entities, sources) into a migrated database."""
    from flows.database import seed

    typer.echo(seed(_engine()))


@db_app.command("grant-reader")
def db_grant_reader(
    role: Annotated[str, typer.Argument(help="The login role to create or update, e.g. analyst.")],
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", help="Environment variable holding the password (default: prompt)."),
    ] = None,
) -> None:
    """PostgreSQL: a login role that can SELECT every chiso table and view and change nothing (re-run: new password)."""
    from models.db import get_engine
    from models.roles import grant_reader

    engine = get_engine()
    if engine.dialect.name == "sqlite":
        raise ChisoError(
            f"grant-reader is for PostgreSQL; SQLite has no roles: open {engine.url.database} read-only instead, "
            f"sqlite3 'file:{engine.url.database}?mode=ro' (README: Read-only access for analysts)"
        )
    if password_env is not None:
        password = os.environ.get(password_env, "")
        if not password:
            raise ChisoError(f"--password-env: {password_env} is not set or empty")
    else:
        password = typer.prompt(f"password for {role}", hide_input=True, confirmation_prompt=True)
    grant = grant_reader(_engine(), role=role, password=password)
    typer.echo(
        f"{'created' if grant.created else 'updated'} role {grant.role}: SELECT on the {grant.tables} tables "
        f"and views of schema {grant.schema}, and on tables later migrations add; nothing else"
    )


@query_app.command("rankings")
def query_rankings(
    entity: EntityOption = None,
    program: Annotated[str | None, typer.Option(help="Program code, e.g. icf_top7.")] = None,
    year: Annotated[int | None, typer.Option(help="Award or ranking year.")] = None,
    status: Annotated[str | None, typer.Option(help="achieved, candidate, aspiration or other.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Who was ranked what, when, according to whom (the v_rankings view)."""
    from models import query

    rows = query.rankings(_engine(), entity=entity, program=program, year=year, status=status)
    emit(rows, columns=query.RANKING_COLUMNS, fmt=fmt, title="Rankings")


@query_app.command("indicators")
def query_indicators(
    entity: EntityOption = None,
    indicator: Annotated[str | None, typer.Option(help="Indicator code, e.g. fdi_registered.")] = None,
    period: Annotated[str | None, typer.Option(help="Period, e.g. 2023, 2023-H1, 2023-01..2023-09.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Only the most recent figure per period.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Indicator figures quoted in the press, each with its source (v_indicator_values)."""
    from models import query

    rows = query.indicators(_engine(), entity=entity, indicator=indicator, period=period, latest=latest)
    emit(rows, columns=query.INDICATOR_COLUMNS, fmt=fmt, title="Indicator values")


@indicators_app.command("unmatched")
def indicators_unmatched(
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most N labels.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open indicator labels (figures no catalogue code names) by frequency, with an example sentence, so a
    curator can promote the frequent ones into extractors/catalogue/indicators.yaml."""
    from models import query

    rows = query.unmatched(_engine(), limit=limit)
    emit(rows, columns=query.UNMATCHED_COLUMNS, fmt=fmt, title="Unmatched indicator labels")


VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show Prefect's flow and task run lines (warnings always show)."),
]


RefreshOption = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="Request every page again, even those the sitemaps or feeds date before their last successful fetch.",
    ),
]
SourcesOption = Annotated[
    list[str] | None,
    typer.Option("--source", "-s", help="Source code (repeatable); default all. See `chiso sources`."),
]


def _checked(
    sources: list[str] | None, *, since: str | None, until: str | None
) -> tuple[date | None, date | None]:
    """The run's days, refused in one line (bad date, since after until, unknown source, broken sources
    file) before the database is touched or Prefect imported: its temporary server takes seconds to start."""
    from flows.parameters import check_sources, check_window, parse_day

    first, last = parse_day(since, name="--since"), parse_day(until, name="--until")
    check_window(first, last)
    check_sources(sources)
    return first, last


def _prepare_database() -> None:
    from flows.database import prepare_empty

    created = prepare_empty()
    if created:
        typer.echo(f"new database: {created}")


def _summarise(kind: str, totals: dict[str, int]) -> None:
    """Print a run's counts; a run that reached no page at all is an error (the problems were logged above)."""
    typer.echo(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    reached = sum(totals.get(k, 0) for k in ("stored", "unchanged", "not_modified"))
    if totals.get("errors") and not reached:
        raise ChisoError(f"{kind} reached no page: {totals['errors']} problems, see the warnings above")


@app.command("run")
def run(
    sources: SourcesOption = None,
    since: Annotated[
        str | None, typer.Option(help="First publication day (YYYY-MM-DD); default 3 days ago.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last publication day (YYYY-MM-DD); default today.")
    ] = None,
    extract: Annotated[bool, typer.Option("--extract/--no-extract", help="Extract inline.")] = True,
    refresh: RefreshOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ingest once, live: discover, fetch, store and extract what the sources published recently."""
    first, last = _checked(sources, since=since, until=until)
    _prepare_database()
    from flows.console import run_console

    with run_console(verbose=verbose):
        from flows.ingest import ingest

        totals = ingest(sources=sources, since=first, until=last, extract=extract, refresh=refresh)
    _summarise("ingest", totals)


@app.command("backfill")
def backfill(
    since: Annotated[str, typer.Option(help="First publication day (YYYY-MM-DD).")],
    until: Annotated[
        str | None, typer.Option(help="Last publication day (YYYY-MM-DD); default today.")
    ] = None,
    sources: SourcesOption = None,
    chunk: Annotated[str, typer.Option(help="month or week: the unit done and resumed at once.")] = "month",
    redo: Annotated[bool, typer.Option("--redo", help="Redo chunks an earlier backfill finished.")] = False,
    refresh: RefreshOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Fetch a date range through the sources' sitemaps, chunk by chunk; resumes where a crashed one stopped."""
    if chunk not in ("month", "week"):
        raise ChisoError(f"--chunk: {chunk!r} is not month or week")
    first, last = _checked(sources, since=since, until=until)
    assert first is not None  # --since is a required option
    _prepare_database()
    from flows.console import run_console

    with run_console(verbose=verbose):
        from flows.backfill import backfill as backfill_flow

        totals = backfill_flow(
            since=first,
            until=last,
            sources=sources,
            chunk="week" if chunk == "week" else "month",
            redo=redo,
            refresh=refresh,
        )
    _summarise("backfill", totals)


@app.command("sync-icf")
def sync_icf(
    years: Annotated[
        list[int] | None, typer.Option("--year", help="Award year (repeatable); default all.")
    ] = None,
) -> None:
    """Read the ICF's Smart21, Top7 and Intelligent Community of the Year pages: the official rankings."""
    _prepare_database()
    from flows.sync_icf import sync_icf as sync

    _summarise("sync-icf", sync(years=years))


@app.command("demo")
def demo(verbose: VerboseOption = False) -> None:
    """Run the whole pipeline against the bundled sample web (offline) into data/demo.db, show the rankings, write a report."""
    from flows.console import run_console
    from flows.demo import run_demo, write_demo_report
    from models import query
    from models.db import get_engine

    with run_console(verbose=verbose):
        url, lines = run_demo()
    for line in lines:
        typer.echo(line)
    typer.echo(
        f"\nStored in {url}. Next: `CHISO_DATABASE_URL={url} chiso query indicators --latest`, "
        f"`CHISO_DATABASE_URL={url} chiso browse`, "
        "or any SQL client on the views v_rankings, v_ranking_evidence, v_indicator_values, v_indicator_latest, "
        "v_indicator_conflicts (README.md, 'The database', has example queries).\n"
    )
    rows = query.rankings(get_engine(url))
    emit(
        rows, columns=query.SUMMARY_COLUMNS, fmt=OutputFormat.table, title="Rankings found in the sample web"
    )
    written = write_demo_report(url)
    typer.echo(f"Report: {written.html} (open it in a browser; PNGs in {written.html.with_suffix('')}/)")


@app.command("report")
def report(
    entity: Annotated[
        str, typer.Option(help="Entity: canonical name, local name or alias (e.g. 'Bình Dương').")
    ],
    programs: Annotated[
        list[str] | None, typer.Option("--program", help="Program code (repeatable); default all.")
    ] = None,
    indicators: Annotated[
        list[str] | None, typer.Option("--indicator", help="Indicator code (repeatable); default all.")
    ] = None,
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    png: Annotated[
        Path | None, typer.Option("--png", help="Also write each picture as a PNG into this directory.")
    ] = None,
) -> None:
    """One self-contained HTML page (offline) of an entity's ranking timeline and indicator figures, with evidence."""
    from flows.report import write_report
    from models.db import database_url, redacted

    written = write_report(
        _engine(),
        entity,
        out=out,
        png_dir=png,
        programs=programs,
        indicators=indicators,
        database=redacted(database_url()),
    )
    typer.echo(f"report: {written.html} ({written.pictures} pictures)")
    for path in written.pngs:
        typer.echo(f"png: {path}")


def _register_commands() -> None:
    # These modules import nothing heavy at load time; Prefect is imported inside the commands that need it.
    from flows.automations import automations_install_command
    from flows.browse import browse_command
    from flows.cli_extract import extract_command
    from flows.cli_scrapers import fetch_command, sources_app
    from flows.deploy import serve_command

    app.command("extract")(extract_command)
    app.add_typer(sources_app(), name="sources")
    app.command("fetch")(fetch_command)
    app.command("serve")(serve_command)
    app.command("browse")(browse_command)
    automations_app = typer.Typer(help="Prefect automations.", no_args_is_help=True, rich_markup_mode=None)
    automations_app.command("install")(automations_install_command)
    app.add_typer(automations_app, name="automations")


_register_commands()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; errors become one line on stderr and a non-zero exit."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="chiso")
    except Exception as exc:
        if "--debug" in args:
            traceback.print_exc()
        typer.echo(f"chiso: error: {redact(_describe(exc))}", err=True)
        sys.exit(1)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ChisoError):
        return _one_line(exc)
    from flows.database import describe_database_error

    described = describe_database_error(exc)
    if described:
        return described
    return f"{exc.__class__.__name__}: {_one_line(exc)} (run with --debug for the traceback)"


if __name__ == "__main__":
    main()
