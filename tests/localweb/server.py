"""A threaded HTTP server on 127.0.0.1 that serves the sample sites by Host header and injects faults."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from .faults import FAULT_KINDS, Fault, FaultTable, path_matches
from .generated import GeneratedSite, Rendered

SITES_DIR = Path(__file__).resolve().parent / "sites"

#: The real hostnames of the shipped sources (scrapers/sources.yaml); each has a directory under sites/.
REAL_HOSTS: tuple[str, ...] = (
    "vov.vn",
    "vovworld.vn",
    "baobinhduong.vn",
    "www.vietnamplus.vn",
    "en.vietnamplus.vn",
    "fr.vietnamplus.vn",
    "nhandan.vn",
    "en.nhandan.vn",
    "vnexpress.net",
    "tuoitre.vn",
    "thanhnien.vn",
    "www.intelligentcommunity.org",
)

HTML = "text/html; charset=utf-8"
_BY_SUFFIX: dict[str, str] = {
    ".html": HTML,
    ".htm": HTML,
    ".vov": HTML,
    ".vnp": HTML,
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
    ".json": "application/json",
}
_XML_SUFFIXES = {".xml", ".rss", ".atom", ""}
# query keys that select another page of a listing; an unknown page must 404 so crawlers stop paginating
_PAGINATION_KEYS = {"page", "p", "trang"}
_CHUNK = 64 * 1024


def sniff_xml_type(data: bytes) -> str | None:
    """Content type for feed and sitemap bytes (any BOM or UTF-16), or None when they are not XML."""
    head = data[:2048]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    text = text.lstrip()
    if "<rss" in text:
        return "application/rss+xml"
    if "<feed" in text:
        return "application/atom+xml"
    if text.startswith(("<?xml", "<urlset", "<sitemapindex")):
        return "application/xml"
    return None


def content_type_for(path: Path, data: bytes) -> str:
    """Content type from the file suffix, sniffing XML for feeds, sitemaps and extension-less paths."""
    suffix = path.suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in _XML_SUFFIXES:
        return sniff_xml_type(data) or HTML
    return "application/octet-stream"


def resolve_file(root: Path, path: str, query: str) -> Path | None:
    """Map a URL path (and query) to a file under a site's directory, or None.

    `/a/` -> a/index.html; `/a` -> a, a.html, a.xml or a/index.html; a query selects `name@query.ext`
    (e.g. `/kinh-te?page=2` -> kinh-te@page=2.html); other queries (tracking parameters) fall back to the
    plain file, as real sites ignore them.
    """
    rel = unquote(path).lstrip("/")
    if ".." in PurePosixPath(rel).parts or "\\" in rel:
        return None
    if rel == "" or rel.endswith("/"):
        candidates = [rel + "index.html"]
    else:
        candidates = [rel, rel + ".html", rel + ".xml", rel + "/index.html"]
    if query:
        qname = query.replace("/", "_")
        for cand in candidates:
            pure = PurePosixPath(cand)
            named = pure.with_name(f"{pure.stem}@{qname}{pure.suffix}")
            if (root / named).is_file():
                return root / named
        if _PAGINATION_KEYS & set(parse_qs(query)):
            return None
    for cand in candidates:
        if (root / cand).is_file():
            return root / cand
    return None


@dataclass
class RequestRecord:
    """One request as the server saw it; `status` is None when the connection was reset.

    `t` is time.monotonic() when the request line and headers were read, `done` when the response was
    written (or the connection dropped): [t, done] is the time the request was in flight at the server.
    """

    t: float
    wall: float
    host: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    status: int | None = None
    fault: str | None = None
    bytes_sent: int = 0
    done: float | None = None

    @property
    def target(self) -> str:
        """Path plus query string, as requested."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)

    @property
    def if_none_match(self) -> str | None:
        """The If-None-Match header sent."""
        return self.header("If-None-Match")

    @property
    def if_modified_since(self) -> str | None:
        """The If-Modified-Since header sent."""
        return self.header("If-Modified-Since")

    @property
    def user_agent(self) -> str | None:
        """The User-Agent header sent."""
        return self.header("User-Agent")


class RequestLog:
    """Thread-safe, append-only list of RequestRecord (iterate, index, len, clear)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        """Add a record."""
        with self._lock:
            self._items.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._items[index]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], web: LocalWeb) -> None:
        self.web = web
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout, size cap) leaves a broken pipe behind: expected, not a server bug
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chiso-localweb/1.0"
    # idle keep-alive connections must not pin handler threads forever
    timeout = 60

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def _srv(self) -> _Server:
        return cast(_Server, self.server)

    def setup(self) -> None:
        super().setup()
        with self._srv.sockets_lock:
            self._srv.open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self._srv.sockets_lock:
                self._srv.open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the RequestLog is the log; stderr noise would drown test output

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _other_method(self) -> None:
        self._record = self._new_record()
        self._send(
            405, {"Allow": "GET, HEAD", "Content-Type": HTML}, b"<h1>405 Method Not Allowed</h1>\n", False
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other_method

    def _new_record(self) -> RequestRecord:
        split = urlsplit(self.path)
        # absolute-form targets (proxy style) name the host themselves
        host = split.hostname or self.headers.get("Host", "").rsplit(":", 1)[0]
        if host.startswith("[") or not host:
            host = self.headers.get("Host", "")
        record = RequestRecord(
            t=time.monotonic(),
            wall=time.time(),
            host=host.lower().strip(),
            method=self.command,
            path=split.path or "/",
            query=split.query,
            headers=dict(self.headers.items()),
        )
        self._srv.web.log.append(record)
        return record

    def _send(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        self._record.status = status
        self.send_response(status)
        if "Content-Length" not in headers and status != 304:
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body and not head and status != 304:
            self.wfile.write(body)
            self._record.bytes_sent += len(body)

    # -- serving --------------------------------------------------------------------------------
    def _serve(self, head: bool) -> None:
        self._record = self._new_record()
        try:
            self._respond(head)
        finally:
            self._record.done = time.monotonic()

    def _respond(self, head: bool) -> None:
        web = self._srv.web
        rec = self._record
        delay = web.latency + web.faults.latency_for(rec.host)
        if delay > 0:
            time.sleep(delay)
        fault = web.faults.claim(rec.host, rec.path, rec.target)
        if fault is None and web.injector is not None:
            fault = web.injector(rec.host, rec.target)
        if fault is not None:
            rec.fault = fault.kind
            if self._apply_fault(fault, head):
                return
        content = web.content(rec.host, rec.path, rec.query)
        if content is None:
            self._send(404, {"Content-Type": HTML}, b"<!DOCTYPE html><h1>404 Not Found</h1>\n", head)
            return
        self._send_content(content, head)

    def _send_content(self, content: Rendered, head: bool, content_type: str | None = None) -> None:
        etag = '"' + hashlib.sha1(content.body).hexdigest()[:20] + '"'
        modified = content.modified.astimezone(UTC).replace(microsecond=0)
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if self._not_modified(etag, modified):
            self._send(304, headers, b"", head)
            return
        headers["Content-Type"] = content_type or content.content_type
        self._send(200, headers, content.body, head)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return modified <= since
        return False

    # -- faults ---------------------------------------------------------------------------------
    def _apply_fault(self, fault: Fault, head: bool) -> bool:
        """Act out a fault; False means 'now serve normally' (slow)."""
        p = fault.params
        rec = self._record
        kind = fault.kind
        if kind == "slow":
            time.sleep(float(p.get("delay", 5.0)))
            return False
        if kind == "status":
            code = int(p.get("code", 500))
            headers = {"Content-Type": HTML}
            if "retry_after" in p:
                headers["Retry-After"] = str(p["retry_after"])
            self._send(code, headers, f"<h1>{code} injected by localweb</h1>\n".encode(), head)
            return True
        if kind == "retry_after":
            seconds = float(p.get("seconds", 1))
            if "value" in p:
                value = str(p["value"])
            elif p.get("http_date"):
                value = formatdate(time.time() + seconds, usegmt=True)
            else:
                value = str(int(seconds)) if seconds == int(seconds) else str(seconds)
            code = int(p.get("code", 429))
            self._send(
                code, {"Retry-After": value, "Content-Type": HTML}, b"<h1>Too Many Requests</h1>\n", head
            )
            return True
        if kind == "reset":
            rec.status = None
            self.close_connection = True
            # SO_LINGER 0 turns close() into an RST instead of a polite FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
            return True
        if kind == "truncated":
            content = self._srv.web.content(rec.host, rec.path, rec.query)
            body = content.body if content else ("<p>" + "Bình Dương " * 200 + "</p>").encode()
            ctype = content.content_type if content else HTML
            sent = body[: int(len(body) * float(p.get("fraction", 0.5)))]
            self.close_connection = True
            rec.status = 200
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) + int(p.get("missing", 1024))))
            self.end_headers()
            if not head:
                self.wfile.write(sent)
                rec.bytes_sent = len(sent)
            return True
        if kind == "wrong_charset":
            content = self._srv.web.content(rec.host, rec.path, rec.query) or Rendered(
                _VI_SAMPLE.encode("utf-8"), HTML, datetime(2024, 1, 1, tzinfo=UTC)
            )
            charset = str(p.get("charset", "iso-8859-1"))
            self._send_content(content, head, content_type=f"text/html; charset={charset}")
            return True
        if kind == "huge":
            self._send_huge(float(p.get("size_mb", 20)), bool(p.get("declare_length", True)), head)
            return True
        if kind == "redirect_loop":
            other = str(p["other"])
            location = fault.path if rec.target == other else other
            self._send(int(p.get("code", 302)), {"Location": str(location), "Content-Type": HTML}, b"", head)
            return True
        if kind == "redirect_offlist":
            location = str(p.get("location", "https://evil.example.com/phishing"))
            self._send(int(p.get("code", 302)), {"Location": location, "Content-Type": HTML}, b"", head)
            return True
        if kind == "robots":
            text = str(p.get("text", "User-agent: *\nDisallow: /\n"))
            self._send(200, {"Content-Type": "text/plain; charset=utf-8"}, text.encode("utf-8"), head)
            return True
        raise AssertionError(f"unhandled fault kind {kind}")

    def _send_huge(self, size_mb: float, declare_length: bool, head: bool) -> None:
        total = int(size_mb * 1024 * 1024)
        rec = self._record
        rec.status = 200
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        if declare_length:
            self.send_header("Content-Length", str(total))
        else:
            # without a length the body ends at close, the case a size cap must stop while streaming
            self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if head:
            return
        chunk = (b"<p>" + "Dữ liệu rất lớn. ".encode() * 4000 + b"</p>\n")[:_CHUNK]
        sent = 0
        try:
            while sent < total:
                part = chunk[: min(_CHUNK, total - sent)]
                self.wfile.write(part)
                sent += len(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its size cap worked)
        rec.bytes_sent = sent


_VI_SAMPLE = (
    '<!DOCTYPE html><html lang="vi"><head><title>Bình Dương thu hút đầu tư</title></head>'
    "<body><h1>Bình Dương thu hút đầu tư</h1><p>Tỉnh Bình Dương đứng đầu cả nước về tỷ lệ lấp đầy "
    "khu công nghiệp; người dân hưởng lợi từ chuyển đổi số.</p></body></html>\n"
)


@dataclass
class LocalWeb:
    """The local web: `with LocalWeb() as web:` serves tests/localweb/sites on 127.0.0.1:<free port>."""

    latency: float = 0.0
    port: int = 0
    sites_dir: Path = SITES_DIR
    # More roots laid out like sites/ (host/path), searched after it: real captures kept outside the repo.
    extra_dirs: tuple[Path, ...] = ()
    bind: str = "127.0.0.1"
    log: RequestLog = field(default_factory=RequestLog)
    faults: FaultTable = field(default_factory=FaultTable)
    generated: dict[str, GeneratedSite] = field(default_factory=dict)
    # Asked (host, target) for every request no fault rule claimed; returns a fault to act out, or None.
    injector: Callable[[str, str], Fault | None] | None = None

    def __post_init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalWeb:
        """Bind (port 0 = a free port) and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = _Server((self.bind, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="localweb", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.sockets_lock:
            for sock in list(server.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (for the CLI)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def __enter__(self) -> LocalWeb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addressing -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (no trailing slash)."""
        return f"http://{self.bind}:{self.port}"

    @property
    def hosts(self) -> list[str]:
        """Every hostname served: the sample sites on disk plus generated ones."""
        on_disk = (
            sorted(p.name for p in self.sites_dir.iterdir() if p.is_dir()) if self.sites_dir.is_dir() else []
        )
        return sorted(set(on_disk) | set(self.generated))

    def host_map(self) -> dict[str, str]:
        """Real hostname -> "127.0.0.1:PORT" for every served host."""
        return {host: f"{self.bind}:{self.port}" for host in self.hosts}

    def local(self, url: str) -> tuple[str, dict[str, str]]:
        """A real URL as (local URL, headers with the real Host), for plain `requests` calls."""
        split = urlsplit(url)
        target = split.path or "/"
        if split.query:
            target += "?" + split.query
        return self.base_url + target, {"Host": split.hostname or ""}

    # -- content --------------------------------------------------------------------------------
    def content(self, host: str, path: str, query: str = "") -> Rendered | None:
        """What the server returns for a request without faults, or None for a 404."""
        site = self.generated.get(host)
        if site is not None:
            return site.render(path)
        if not host:
            return None
        roots = [d / host for d in (self.sites_dir, *self.extra_dirs) if (d / host).is_dir()]
        found = next((f for f in (resolve_file(root, path, query) for root in roots) if f is not None), None)
        if found is None:
            return None
        data = found.read_bytes()
        modified = datetime.fromtimestamp(int(found.stat().st_mtime), tz=UTC)
        return Rendered(data, content_type_for(found, data), modified)

    def add_generated_site(self, host: str, n_articles: int, **options: Any) -> GeneratedSite:
        """Serve N synthetic articles, a monthly sitemap index and /rss.xml for `host`, from memory."""
        site = GeneratedSite(host=host.lower(), n_articles=n_articles, **options)
        self.generated[site.host] = site
        return site

    # -- faults ---------------------------------------------------------------------------------
    def fault(
        self, host: str, path: str | None, kind: str, *, times: int | None = None, **params: Any
    ) -> Fault:
        """Inject a fault for requests to `host` at `path` (None = any path, trailing '*' = prefix).

        `times` limits it to the first N matching requests. Parameters per kind: slow(delay=5.0);
        status(code=500, retry_after=None); retry_after(seconds=1, http_date=False, value=None, code=429);
        reset(); truncated(fraction=0.5, missing=1024); wrong_charset(charset="iso-8859-1");
        huge(size_mb=20, declare_length=True); redirect_loop(other=path+"?loop=b", code=302);
        redirect_offlist(location="https://evil.example.com/phishing", code=302);
        robots(text=...) (always /robots.txt); latency(seconds) (added to every request to the host).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        host = host.lower()
        if kind == "robots":
            path = "/robots.txt"
        if kind == "redirect_loop":
            if path is None or path.endswith("*"):
                raise ValueError("redirect_loop needs an exact path")
            params.setdefault("other", path + ("&" if "?" in path else "?") + "loop=b")
        if kind == "latency":
            params.setdefault("seconds", 0.0)
        return self.faults.add(Fault(host=host, path=path, kind=kind, params=params, times=times))

    def clear_faults(self, host: str | None = None) -> None:
        """Remove every fault (or those of one host), latency rules included."""
        self.faults.clear(None if host is None else host.lower())

    # -- log ------------------------------------------------------------------------------------
    def requests_for(self, host: str, path: str | None = None) -> list[RequestRecord]:
        """Logged requests for a host, optionally one path (trailing '*' = prefix, '?' = exact target)."""
        host = host.lower()
        return [r for r in self.log if r.host == host and path_matches(path, r.path, r.target)]
