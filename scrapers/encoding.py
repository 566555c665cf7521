"""Bytes to text: BOM, UTF-16 shape, valid UTF-8, HTTP header charset, XML/HTML declarations, in that order."""

from __future__ import annotations

import codecs
import re

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # Browsers (WHATWG) read latin-1 and ascii labels as windows-1252; so do we.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def header_charset(content_type: str | None) -> str | None:
    """The codec named by a Content-Type header's charset parameter, if Python knows it."""
    if not content_type:
        return None
    match = _CHARSET_RE.search(content_type.encode("latin-1", "replace"))
    return _codec(match.group(1).decode("ascii")) if match else None


def declared_charset(body: bytes) -> str | None:
    """The codec declared inside the document: XML declaration or HTML <meta> charset."""
    head = body[:4096]
    xml = _XML_DECL_RE.match(head)
    if xml:
        return _codec(xml.group(1).decode("ascii"))
    for tag in _META_RE.findall(head):
        match = _CHARSET_RE.search(tag)
        if match:
            return _codec(match.group(1).decode("ascii"))
    return None


def _sniff_wide(body: bytes) -> str | None:
    if len(body) < 4:
        return None
    if body[0] and not body[1] and body[2] and not body[3]:
        return "utf-16-le"
    if not body[0] and body[1] and not body[2] and body[3]:
        return "utf-16-be"
    return None


def is_textual(content_type: str | None, body: bytes) -> bool:
    """Whether the body is text worth decoding (HTML, XML, feeds, plain text), judged by type and magic."""
    if body.startswith(_GZIP_MAGIC):
        return False
    if not content_type:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or any(t in mime for t in ("xml", "html", "json", "rss", "atom"))


def decode_body(body: bytes, *, content_type: str | None) -> tuple[str, str]:
    """Text and the codec used, decided from the bytes: BOM, UTF-16 shape, valid UTF-8, header, meta.

    Valid UTF-8 wins over a contradicting declared charset: a page labelled iso-8859-1 whose bytes
    decode as UTF-8 is UTF-8 (multi-byte UTF-8 is practically never accidental), so Vietnamese stays intact.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace"), codec
    from_header = header_charset(content_type)
    from_document = declared_charset(body)
    wide = _sniff_wide(body)
    for declared in (from_header, from_document):
        if declared and declared.startswith(("utf_16", "utf_32", "utf-16", "utf-32")):
            wide = wide or ("utf-16-le" if declared in ("utf_16", "utf-16") else declared)
    if wide:
        return body.decode(wide, errors="replace"), wide
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if text.isascii() and (from_header or from_document):
            return text, from_header or from_document or "utf-8"
        return text, "utf-8"
    for declared in (from_header, from_document):
        if declared and declared != "utf-8":
            try:
                return body.decode(declared), declared
            except (UnicodeDecodeError, LookupError):
                continue
    guess = _guess_codec(body)
    if guess:
        return body.decode(guess, errors="replace"), guess
    return body.decode("cp1252", errors="replace"), "cp1252"


def _guess_codec(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - requests brings it
        return None
    best = from_bytes(body[:65536]).best()
    return _codec(best.encoding) if best is not None else None


def utf16_or_32(body: bytes) -> bool:
    """Whether the bytes are UTF-16/32 (a BOM or the shape of ASCII markup in UTF-16)."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return True
    return _sniff_wide(body) is not None
