"""`chiso browse`: Datasette on the SQLite database, with the views described and the README's queries canned."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from flows.errors import ChisoError
from models import surface


def metadata(engine: Engine, database_name: str) -> dict[str, Any]:
    """Datasette metadata: a description of every view and of each of its columns, and the canned queries."""
    descriptions = surface.column_descriptions()
    present = set(inspect(engine).get_view_names())
    tables = {
        view: {
            "description": about,
            "columns": {
                c["name"]: descriptions.get(c["name"], "") for c in inspect(engine).get_columns(view)
            },
        }
        for view, about in surface.views().items()
        if view in present
    }
    queries = {
        e.name: {"title": e.title, "description": e.description, "sql": e.sql} for e in surface.examples()
    }
    return {
        "title": "chiso",
        "description": "Smart-city rankings and indicator figures read from the web, each with its sentence. "
        "Start with the views (v_...) or the example queries.",
        "databases": {database_name: {"tables": tables, "queries": queries}},
    }


def browse_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
) -> None:
    """Browse the database in Datasette (pip install 'chiso[browse]'): views described, example queries canned."""
    from flows.database import current_engine

    engine = current_engine()
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ChisoError("chiso browse reads a SQLite database file; set CHISO_DATABASE_URL=sqlite:///PATH")
    try:
        import datasette  # noqa: F401
    except ImportError as exc:
        raise ChisoError("chiso browse needs Datasette: pip install 'chiso[browse]'") from exc
    path = Path(url.database)
    with tempfile.TemporaryDirectory(prefix="chiso-browse-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(metadata(engine, path.stem), ensure_ascii=False), encoding="utf-8")
        typer.echo(f"Datasette on http://{host}:{port}/{path.stem} (Ctrl-C stops it)")
        command = [sys.executable, "-m", "datasette", "serve", str(path), "--metadata", str(meta)]
        try:
            subprocess.run([*command, "--host", host, "--port", str(port)], check=True)
        except KeyboardInterrupt:
            return
        except subprocess.CalledProcessError as exc:
            raise ChisoError(f"datasette stopped with exit code {exc.returncode}") from exc
