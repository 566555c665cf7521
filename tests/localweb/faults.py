"""Fault rules the local web injects on demand, matched per host and path or path prefix."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS: frozenset[str] = frozenset(
    {
        "slow",
        "status",
        "retry_after",
        "reset",
        "truncated",
        "wrong_charset",
        "huge",
        "redirect_loop",
        "redirect_offlist",
        "robots",
        "latency",
    }
)


def path_matches(pattern: str | None, path: str, target: str) -> bool:
    """True when `pattern` (None = any, trailing '*' = prefix, '?' = exact target) covers a request."""
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return target.startswith(pattern[:-1])
    if "?" in pattern:
        return target == pattern
    return path == pattern


@dataclass
class Fault:
    """One injected misbehaviour; `times` limits it to the first N matching requests."""

    host: str
    path: str | None
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    times: int | None = None
    hits: int = 0

    def covers(self, host: str, path: str, target: str) -> bool:
        """True when this rule applies to the request, ignoring the `times` budget."""
        if host != self.host:
            return False
        if self.kind == "robots":
            return path == "/robots.txt"
        if self.kind == "redirect_loop" and target == self.params.get("other"):
            return True
        return path_matches(self.path, path, target)

    @property
    def exhausted(self) -> bool:
        """True once the rule has fired `times` times."""
        return self.times is not None and self.hits >= self.times


class FaultTable:
    """Thread-safe set of fault rules; request handlers claim at most one response fault each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Register a rule; the most recent rule wins when several match."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, host: str | None = None) -> None:
        """Drop every rule, or only those of one host."""
        with self._lock:
            self._faults = [f for f in self._faults if host is not None and f.host != host]

    def snapshot(self) -> list[Fault]:
        """A copy of the current rules."""
        with self._lock:
            return list(self._faults)

    def latency_for(self, host: str) -> float:
        """Sum of `latency` rules for a host (they never run out)."""
        with self._lock:
            return sum(
                float(f.params.get("seconds", 0.0))
                for f in self._faults
                if f.kind == "latency" and f.host == host
            )

    def claim(self, host: str, path: str, target: str) -> Fault | None:
        """Pick the newest live response fault for a request and count the hit atomically."""
        with self._lock:
            for fault in reversed(self._faults):
                if fault.kind == "latency" or fault.exhausted:
                    continue
                if fault.covers(host, path, target):
                    fault.hits += 1
                    return fault
        return None
