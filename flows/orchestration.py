"""What flows need from Prefect, in a form that also works with the decorators removed."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from flows import progress

T = TypeVar("T")
logger = logging.getLogger(__name__)

MAX_WORKERS = 4


def each(
    fn: Callable[..., T], items: Iterable[Any], /, *, stage: str, **constants: Any
) -> list[T | BaseException]:
    """fn(item, **constants) for every item, concurrently; a failure is returned in place, not raised.

    A Prefect task is mapped (bounded by the flow's task runner); a plain function runs in a bounded pool.
    Each finished item advances `stage` (the terminal's progress bar of that stage).
    """
    items = list(items)
    progress.grow(stage, len(items))
    if hasattr(fn, "map"):
        from prefect import unmapped

        futures = fn.map(items, **{k: unmapped(v) for k, v in constants.items()})
        return [_outcome(f.result, stage, raise_on_failure=True) for f in futures]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        futures = [pool.submit(fn, item, **constants) for item in items]
        return [_outcome(f.result, stage) for f in futures]


class Runner:
    """Tasks submitted as earlier ones finish (a queue per host: its next batch when the last is done).

    A Prefect task is submitted to the flow's task runner; a plain function (benchmarks, `.fn` calls) to a
    bounded thread pool of `max_workers`. `completed()` yields (tag, result or exception) in finishing order
    until nothing is pending, including what was submitted while iterating.
    """

    def __init__(self, *, max_workers: int) -> None:
        self._done: queue.SimpleQueue[tuple[Hashable, Any, bool]] = queue.SimpleQueue()
        self._pending = 0
        self._max_workers = max(1, max_workers)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, fn: Callable[..., Any], item: Any, /, *, tag: Hashable, **constants: Any) -> None:
        """Start fn(item, **constants); its result comes out of `completed()` under `tag`."""
        self._pending += 1
        if hasattr(fn, "submit"):
            future: Any = fn.submit(item, **constants)
            future.add_done_callback(lambda f: self._done.put((tag, f, True)))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._max_workers)
        plain = self._pool.submit(fn, item, **constants)
        plain.add_done_callback(lambda f: self._done.put((tag, f, False)))

    def completed(self) -> Iterator[tuple[Any, Any]]:
        """(tag, result) as each submitted call ends; a failure is the exception, not raised."""
        while self._pending:
            tag, future, prefect = self._done.get()
            self._pending -= 1
            try:
                value = future.result(raise_on_failure=True) if prefect else future.result()
            except Exception as exc:
                value = exc
            yield tag, value


def _outcome(result: Callable[..., T], stage: str, **kwargs: Any) -> T | BaseException:
    try:
        return result(**kwargs)
    except Exception as exc:
        return exc
    finally:
        progress.advance(stage)


def thread_pool(max_workers: int) -> Any:
    """A bounded thread pool task runner (Prefect's default pool is unbounded)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    # Typed Any: Prefect 3.8's flow decorator stubs reject its own ThreadPoolTaskRunner.
    return ThreadPoolTaskRunner(max_workers=max_workers)


def transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry what may pass (a locked or unreachable database, a network blip), not bugs."""
    from sqlalchemy.exc import OperationalError

    return isinstance(getattr(state, "data", None), OperationalError | ConnectionError | TimeoutError)


def flow_run_id() -> str | None:
    """The current Prefect flow run's id, or None outside a flow run."""
    from prefect.runtime import flow_run

    value = flow_run.id
    return str(value) if value else None


def in_flow_run() -> bool:
    """Whether a Prefect flow run is active (artifacts and events have somewhere to go)."""
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def report_problems(problems: list[str]) -> None:
    """One warning line per problem, in the terminal and the Prefect UI."""
    if not problems:
        return
    if in_flow_run():
        from prefect.logging import get_run_logger

        log: Any = get_run_logger()
    else:
        log = logger
    for problem in problems:
        log.warning("%s", problem)


def publish_markdown(markdown: str, *, key: str, description: str) -> None:
    """Leave the run's summary as a Prefect markdown artifact (logged when there is no flow run)."""
    if not in_flow_run():
        logger.info("%s", markdown)
        return
    from prefect.artifacts import create_markdown_artifact

    from flows.redaction import redact

    # Artifacts are stored on the server, outside the log pipeline the redaction filter guards.
    create_markdown_artifact(markdown=redact(markdown), key=key, description=description)


class Progress:
    """A Prefect progress artifact for long runs (a no-op outside a flow run)."""

    def __init__(self, *, description: str) -> None:
        self.artifact_id: Any = None
        if in_flow_run():
            from prefect.artifacts import create_progress_artifact

            self.artifact_id = create_progress_artifact(progress=0.0, description=description)

    def update(self, percent: float) -> None:
        if self.artifact_id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(artifact_id=self.artifact_id, progress=min(100.0, max(0.0, percent)))
