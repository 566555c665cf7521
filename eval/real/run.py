"""Extraction of a cached text exactly as `chiso extract --format json` does it, in-process."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any


def extract_file(path: Path, *, url: str, lang: str | None, published: str | None) -> dict[str, Any]:
    """The JSON object `chiso extract --format json --url URL --lang LANG [--published DATE] PATH` prints.

    The command's own function is called (imported late, so that whichever `flows` and `extractors` come first
    on sys.path are the ones measured), and its standard output is read back.
    """
    from flows.cli_extract import extract_command

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        extract_command(str(path), format="json", url=url, published=published, lang=lang)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def extractor_version() -> str:
    from extractors import EXTRACTOR_VERSION

    return str(EXTRACTOR_VERSION)


def extractor_origin() -> str:
    """The checkout the measured extractor is imported from (its directory)."""
    import extractors

    return str(Path(extractors.__file__).resolve().parent.parent)
