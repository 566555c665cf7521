"""Stage progress: flows report how far each stage (discover, fetch, extract...) is; the terminal listens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class StageListener(Protocol):
    """Something that shows stages: a terminal's progress bars, a test's recorder."""

    def grow(self, stage: str, items: int) -> None:
        """`items` more items are to be done in `stage` (a backfill's chunks add to the same stages)."""

    def advance(self, stage: str) -> None:
        """One more item of `stage` is done."""


# A flow parameter cannot carry a callable, and flows run in this process when the command line starts
# them, so the listener is process-wide.
_listener: StageListener | None = None


@contextmanager
def listening(listener: StageListener) -> Iterator[StageListener]:
    """Send the stages of the flows run inside this block to `listener`."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield listener
    finally:
        _listener = previous


def grow(stage: str, items: int) -> None:
    """Announce `items` more items of `stage` (nothing happens when no one listens)."""
    if _listener is not None:
        _listener.grow(stage, items)


def advance(stage: str) -> None:
    """Mark one item of `stage` done."""
    if _listener is not None:
        _listener.advance(stage)
