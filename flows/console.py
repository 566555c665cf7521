"""The terminal during a run: one progress bar per stage, Prefect's per-task lines only when asked."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flows import progress

# Prefect's run loggers (flow and task run lines, the temporary server's notices) are children of this one.
PREFECT_LOGGER = "prefect"


class StageBars:
    """A rich progress bar per stage, created when the stage first reports; thread-safe."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._tasks: dict[str, Any] = {}
        self._totals: dict[str, int] = {}
        self._lock = threading.Lock()

    def _task(self, stage: str) -> Any:
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=0)
        return self._tasks[stage]

    def grow(self, stage: str, items: int) -> None:
        with self._lock:
            self._totals[stage] = self._totals.get(stage, 0) + items
            self._bar.update(self._task(stage), total=self._totals[stage])

    def advance(self, stage: str) -> None:
        with self._lock:
            self._bar.advance(self._task(stage))


@contextmanager
def quiet_prefect(verbose: bool) -> Iterator[None]:
    """Unless verbose, Prefect says only warnings and errors (run problems are warnings, so they still show)."""
    if verbose:
        yield
        return
    # Read when Prefect configures its logging on first import; the level below covers an earlier import.
    previous_env = os.environ.get("PREFECT_LOGGING_LEVEL")
    if previous_env is None:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    logger = logging.getLogger(PREFECT_LOGGER)
    previous_level = logger.level
    import prefect  # noqa: F401  (configures Prefect's loggers now, so the level set next is not overwritten)

    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous_level)
        if previous_env is None:
            os.environ.pop("PREFECT_LOGGING_LEVEL", None)


@contextmanager
def run_console(*, verbose: bool) -> Iterator[None]:
    """Progress bars for the stages of the flows run inside, with Prefect quiet unless verbose."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with quiet_prefect(verbose):
        columns = (
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        # stderr: stdout stays for the summary and tables, which scripts read
        with Progress(*columns, console=Console(stderr=True)) as bar, progress.listening(StageBars(bar)):
            yield
