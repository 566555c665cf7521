"""A real Prefect server (and process workers) on a free loopback port, for integration tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_group(proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGTERM the process group the child leads, then SIGKILL what is left after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # The leader may have exited while its children (uvicorn, flow-run processes) still run.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


class PrefectServer:
    """`prefect server start` with its own PREFECT_HOME, analytics off; stopped by process group.

    Its database is SQLite in PREFECT_HOME unless `database_url` (postgresql+asyncpg://...) names another;
    that setting goes to the server process only, as on a real deployment.
    """

    def __init__(
        self, *, startup_timeout: float = 90.0, ui: bool = False, database_url: str | None = None
    ) -> None:
        self.ui = ui
        self.database_url = database_url
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="chiso-prefect-"))
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.startup_timeout = startup_timeout
        self.log_path = self.home / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._children: list[subprocess.Popen[bytes]] = []

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for Prefect processes that talk to this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            # Children must not fall back to a temporary server if this one is unreachable.
            PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
            PREFECT_LOGGING_LEVEL="INFO",
        )
        env.update(extra or {})
        return env

    def start(self) -> PrefectServer:
        # A short scheduler loop so tests see scheduled runs within seconds (the default is 60 s).
        env = self.env({"PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"})
        if self.database_url:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.database_url
        if self.ui:
            # Unset, the UI calls the API on the default port 4200 and shows only "Something went wrong".
            env |= {"PREFECT_UI_ENABLED": "true", "PREFECT_UI_API_URL": self.api_url}
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so killpg reaches uvicorn's workers too
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {self._proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"prefect server did not answer /api/health in {self.startup_timeout}s")

    def log(self, tail: int = 4000) -> str:
        """The end of the server's output, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def run(
        self, *args: str, cwd: Path = REPO, timeout: float = 120, extra_env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a `prefect ...` CLI command against this server; raises with its output on failure."""
        result = subprocess.run(
            [PREFECT, *args],
            cwd=cwd,
            env=self.env(extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"prefect {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def spawn(
        self,
        args: list[str],
        *,
        cwd: Path = REPO,
        extra_env: Mapping[str, str] | None = None,
        log_name: str = "child.log",
    ) -> subprocess.Popen[bytes]:
        """Start a long-running child (a worker, `chiso serve`) in its own process group; stopped with the server."""
        log_path = self.home / log_name
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=self.env(extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._children.append(proc)
        return proc

    def worker(
        self,
        pool: str,
        *,
        cwd: Path = REPO,
        extra_env: Mapping[str, str] | None = None,
        name: str = "test-worker",
        limit: int | None = None,
    ) -> subprocess.Popen[bytes]:
        """`prefect worker start --pool POOL [--limit N]`; polls often so tests do not wait on the default 10 s."""
        env = {
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            **(extra_env or {}),
        }
        return self.spawn(
            [
                PREFECT,
                *("worker", "start", "--pool", pool, "--name", name, "--type", "process"),
                *(("--limit", str(limit)) if limit is not None else ()),
            ],
            cwd=cwd,
            extra_env=env,
            log_name=f"{name}.log",
        )

    def stop_child(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop one child started by spawn() or worker(), with everything it started."""
        _stop_group(proc)
        if proc in self._children:
            self._children.remove(proc)

    def stop(self) -> None:
        for proc in reversed(self._children):
            _stop_group(proc)
        self._children.clear()
        if self._proc is not None:
            _stop_group(self._proc)
            self._proc = None
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> PrefectServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def prefect_server(*, ui: bool = False, database_url: str | None = None) -> Iterator[PrefectServer]:
    """A started server whose settings this process uses too (Prefect reads settings from its context)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings

    with (
        PrefectServer(ui=ui, database_url=database_url) as server,
        temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}),
    ):
        try:
            yield server
        finally:
            # Events emitted from this process go through a background worker bound to this server: flush
            # it while the server still answers, or a later test harness waits forever draining it.
            from prefect.events.worker import EventsWorker

            EventsWorker.drain_all()
