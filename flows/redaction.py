"""Passwords out of every line chiso writes: URLs' userinfo, DSN passwords and the configured secrets."""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
# The URLs whose passwords are secrets; their values are also hidden where they appear on their own.
SECRET_URL_VARIABLES = ("CHISO_DATABASE_URL", "PREFECT_API_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")

# scheme://user:password@ in any text (also an unparsable URL); the user name stays, it says who failed.
# Also with one slash or none: a mistyped URL is exactly the one an error line quotes.
_USERINFO_RE = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*:/*[^\s:/@'\"]*:)(?P<password>[^\s@'\"]+)@")
# libpq's key=value form (password=... in a DSN or an error quoting it).
_DSN_RE = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<password>'[^']*'|[^\s'\"]+)", re.IGNORECASE)


def _secrets() -> list[str]:
    """The passwords of the secret URLs in the environment, raw and percent-decoded, longest first."""
    found: set[str] = set()
    for name in SECRET_URL_VARIABLES:
        value = os.environ.get(name, "")
        match = _USERINFO_RE.search(value)
        password = match["password"] if match else None
        if password is None:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
        if password:
            found |= {password, unquote(password)}
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def redact(text: str) -> str:
    """The text with every URL password, DSN password and configured secret replaced by ***."""
    if not text:
        return text
    text = _USERINFO_RE.sub(lambda m: f"{m['head']}{MASK}@", text)
    text = _DSN_RE.sub(lambda m: f"{m['head']}{MASK}", text)
    for secret in _secrets():
        text = text.replace(secret, MASK)
    return text


def redact_value(value: Any) -> Any:
    """Strings inside JSON-like data (run parameters, errors) redacted; everything else unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


_installed = False


def install() -> None:
    """Redact every log record this process creates, whatever logger or handler (chiso's, Prefect's, the
    API log handler that ships records to the server): at record creation, so no handler sees a password."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's own error to report
            return record
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and record.exc_info[1] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            hidden_trace = redact(trace)
            if hidden_trace != trace:
                record.exc_text = hidden_trace
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
