"""`chiso extract`: rankings and indicators of one HTML page or text file, as JSON or tables (no Prefect)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.errors import ChisoError

MAX_BYTES = 50 * 1024 * 1024
LANGS = ("vi", "en", "fr")
FORMATS = ("json", "table")
VN_TZ = timezone(timedelta(hours=7))


def _read(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        p = Path(path)
        if not p.is_file():
            raise ChisoError(f"no such file: {path}")
        if p.stat().st_size > MAX_BYTES:
            raise ChisoError(f"input is larger than 50 MB: {path}")
        data = p.read_bytes()
    if len(data) > MAX_BYTES:
        raise ChisoError("input is larger than 50 MB")
    return data


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ChisoError("input is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        if b"\x00" in data[:8192]:
            raise ChisoError("input looks binary, not HTML or text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = _decode_declared(data, exc)
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > 0.01 * min(len(text), 8192):
        raise ChisoError("input looks binary, not HTML or text")
    return text


def _decode_declared(data: bytes, exc: UnicodeDecodeError) -> str:
    """Non-UTF-8 bytes are accepted only under an explicit HTML charset declaration."""
    import re

    m = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", data[:4096], re.IGNORECASE)
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    raise ChisoError(f"input is not valid UTF-8 (byte {exc.start}) and declares no usable charset")


def _looks_html(text: str) -> bool:
    head = text.lstrip()[:2048].lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or any(
        tag in head for tag in ("<head", "<body", "<article", "<p>", "<div", "<meta")
    )


def _published(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint="--published") from exc
    return datetime.combine(day, time(0, 0), tzinfo=VN_TZ)


def extract_command(
    path: Annotated[
        str | None, typer.Argument(help="HTML page or plain-text file to read; '-' reads standard input.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="Output: json (one object) or table.")] = "json",
    url: Annotated[str | None, typer.Option("--url", help="URL the page came from (reported as is).")] = None,
    published: Annotated[
        str | None, typer.Option("--published", help="Publication date YYYY-MM-DD (resolves 'this year').")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language: vi, en or fr (else detected).")
    ] = None,
    reextract: Annotated[
        bool,
        typer.Option("--reextract", help="Instead of PATH: extract stored documents on older rules again."),
    ] = False,
    all_documents: Annotated[
        bool,
        typer.Option("--all", help="With --reextract: every stored document, not only those on older rules."),
    ] = False,
) -> None:
    """Extract rankings and indicators from one page or text (PATH), or re-extract stored documents."""
    if reextract:
        if path is not None:
            raise typer.BadParameter("give either PATH or --reextract, not both", param_hint="PATH")
        typer.echo(reextract_stored(everything=all_documents))
        return
    if path is None:
        raise typer.BadParameter("missing PATH (a file, or '-' for standard input)", param_hint="PATH")
    if format not in FORMATS:
        raise typer.BadParameter(f"expected json or table, got {format!r}", param_hint="--format")
    if lang is not None and lang not in LANGS:
        raise typer.BadParameter(f"expected vi, en or fr, got {lang!r}", param_hint="--lang")
    pub = _published(published)
    text = _decode(_read(path))
    from extractors import document_from_html, document_from_text, extract

    if _looks_html(text):
        doc = document_from_html(text, url=url, lang=lang, fetched_at=datetime.now(UTC))
        if pub is not None:
            from dataclasses import replace

            doc = replace(doc, published=pub)
    else:
        doc = document_from_text(text, url=url, published=pub, lang=lang)
    result = extract(doc).to_json_dict()
    if format == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_tables(result)


def _print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    doc = result["document"]
    console.print(f"{doc['title'] or '(untitled)'} · {doc['lang'] or '?'} · {doc['published'] or 'undated'}")
    ranks = Table(title=f"Rankings ({len(result['rankings'])})")
    for col in ("entity", "program", "year", "status", "rank", "out_of", "evidence"):
        ranks.add_column(col, overflow="fold")
    for r in result["rankings"]:
        year = f"{r['year']}*" if r["year_inferred"] else str(r["year"] or "")
        ranks.add_row(
            r["entity"],
            r["program"],
            year,
            r["status"],
            str(r["rank"] or ""),
            str(r["out_of"] or ""),
            r["evidence"],
        )
    inds = Table(title=f"Indicators ({len(result['indicators'])})")
    for col in ("entity", "indicator", "value", "unit", "period", "qualifier", "status", "evidence"):
        inds.add_column(col, overflow="fold")
    for i in result["indicators"]:
        inds.add_row(
            str(i["entity"]),
            i["indicator"] or f"({i['label']})",
            f"{i['value']:,}",
            i["unit"],
            str(i["period"] or ""),
            str(i["qualifier"] or ""),
            i["status"],
            i["evidence"],
        )
    console.print(ranks)
    console.print(inds)


REEXTRACT_BATCH = 200  # documents per transaction


def reextract_stored(*, everything: bool) -> str:
    """Run the extract stage over stored documents (older rules, or all); returns a one-line summary."""
    from rich.progress import track

    from extractors import EXTRACTOR_VERSION
    from flows.database import current_engine
    from flows.extraction import extract_documents, pending_documents

    engine = current_engine()
    ids = pending_documents(engine, reextract=everything)
    rankings = indicators = new = 0
    # Batches of documents, each written in one transaction with batched statements.
    batches = [ids[start : start + REEXTRACT_BATCH] for start in range(0, len(ids), REEXTRACT_BATCH)]
    for batch in track(batches, description="re-extracting", transient=True, disable=not sys.stderr.isatty()):
        for result in extract_documents(engine, batch, run_id=f"reextract-{EXTRACTOR_VERSION}"):
            rankings += result.rankings
            indicators += result.indicators
            new += len(result.new_rankings)
    return (
        f"re-extracted {len(ids)} documents with rules {EXTRACTOR_VERSION}: "
        f"{rankings} rankings, {indicators} indicators, {new} new ranking facts"
    )
