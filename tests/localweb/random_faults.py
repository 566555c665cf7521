"""Seeded random faults for the local web, chosen from (seed, URL, attempt) alone, with a log of each one."""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass

from .faults import Fault
from .generated import GeneratedSite

#: The fault classes injected, and the word a failure reason must contain to name each.
FAULT_CLASSES: tuple[str, ...] = ("reset", "status", "truncated", "timeout", "retry_after")
STATUS_CODES: tuple[int, ...] = (500, 502, 503, 504)


@dataclass(frozen=True)
class Injected:
    """One fault the injector answered with: the request (host, target, 0-based attempt) and its class."""

    host: str
    target: str
    attempt: int
    cls: str
    code: int | None = None

    @property
    def url(self) -> str:
        """The real https URL the request was for."""
        return f"https://{self.host}{self.target}"


def expected_words(injected: Injected) -> tuple[str, ...]:
    """Words a failure reason left by this fault must contain: its class, and the status code if any."""
    if injected.cls in ("status", "retry_after"):
        return (f"HTTP {injected.code}",)
    return (injected.cls,)


class RandomFaults:
    """`web.injector = RandomFaults(seed)`: faults at about `rate` of requests, reproducible for a seed.

    Request n (0-based) of a URL is faulty when hash(seed, URL, n) < `rate`, with a class also drawn from
    the hash; and the URLs with hash(seed, URL) < `outage_rate` fail their first `outage_attempts` requests
    with one class, so that some faults outlast the client's retries. Nothing depends on timing or on the
    order in which hosts are crawled, only on how many times each URL was asked for. `enabled` off serves
    everything cleanly (and counts nothing).
    """

    def __init__(
        self,
        seed: int,
        *,
        rate: float = 0.06,
        outage_rate: float = 0.012,
        outage_attempts: int = 4,
        slow_seconds: float = 3.0,
        retry_after_seconds: int = 1,
    ) -> None:
        self.seed = seed
        self.rate = rate
        self.outage_rate = outage_rate
        self.outage_attempts = outage_attempts
        self.slow_seconds = slow_seconds
        self.retry_after_seconds = retry_after_seconds
        self.enabled = True
        self._lock = threading.Lock()
        self._history: dict[str, list[Injected | None]] = defaultdict(list)
        self._log: list[Injected] = []

    # -- what was injected ------------------------------------------------------------------------
    @property
    def log(self) -> list[Injected]:
        """Every fault injected so far, in arrival order."""
        with self._lock:
            return list(self._log)

    def requested(self) -> dict[str, int]:
        """Requests per URL while enabled."""
        with self._lock:
            return {url: len(history) for url, history in self._history.items()}

    def exhausted(self, max_attempts: int) -> list[Injected]:
        """The faults that ended a fetch: its `max_attempts`-th faulty request in a row.

        A client tries a URL up to `max_attempts` times and stops at the first good answer, so each URL's
        requests split into fetches that way; a fetch whose every attempt met a fault failed with the last.
        """
        with self._lock:
            histories = [list(h) for h in self._history.values()]
        out: list[Injected] = []
        for history in histories:
            run = 0
            for answer in history:
                run = run + 1 if answer is not None else 0
                if answer is not None and run == max_attempts:
                    out.append(answer)
                    run = 0
        return out

    # -- deciding ---------------------------------------------------------------------------------
    def _unit(self, *parts: object) -> float:
        digest = hashlib.sha256("|".join(str(p) for p in (self.seed, *parts)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def choose(self, url: str, attempt: int) -> Injected | None:
        """The fault for request `attempt` (0-based) of `url`, or None: a pure function of seed, URL, attempt."""
        host, target = _split(url)
        if self._unit(url, "outage") < self.outage_rate and attempt < self.outage_attempts:
            return self._injected(host, target, attempt, self._unit(url, "outage-class"))
        if self._unit(url, attempt) < self.rate:
            return self._injected(host, target, attempt, self._unit(url, attempt, "class"))
        return None

    def _injected(self, host: str, target: str, attempt: int, draw: float) -> Injected:
        cls = FAULT_CLASSES[int(draw * len(FAULT_CLASSES))]
        code = None
        if cls == "status":
            code = STATUS_CODES[int(self._unit(host, target, "code") * len(STATUS_CODES))]
        elif cls == "retry_after":
            code = 429
        return Injected(host=host, target=target, attempt=attempt, cls=cls, code=code)

    def __call__(self, host: str, target: str) -> Fault | None:
        """The server's hook: count the request, pick its fault, log it, and say how to act it out."""
        if not self.enabled:
            return None
        url = f"https://{host}{target}"
        with self._lock:
            history = self._history[url]
            injected = self.choose(url, len(history))
            history.append(injected)
            if injected is not None:
                self._log.append(injected)
        return None if injected is None else self._fault(injected)

    def _fault(self, injected: Injected) -> Fault:
        host, target = injected.host, injected.target
        if injected.cls == "status":
            return Fault(host, target, "status", {"code": injected.code})
        if injected.cls == "retry_after":
            return Fault(host, target, "retry_after", {"seconds": self.retry_after_seconds})
        if injected.cls == "timeout":
            return Fault(host, target, "slow", {"delay": self.slow_seconds})
        if injected.cls == "truncated":
            return Fault(host, target, "truncated", {"fraction": 0.5})
        return Fault(host, target, "reset")


def _split(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1]
    host, _, target = rest.partition("/")
    return host, "/" + target


# Provinces of the seeded entity table, so that every article yields a ranking and indicator values.
PROVINCES: tuple[str, ...] = ("Bình Dương", "Đà Nẵng", "Hải Phòng", "Bắc Ninh", "Quảng Ninh", "Đồng Nai")


class FactsSite(GeneratedSite):
    """A generated site whose articles each state a DTI rank, an FDI figure and an occupancy rate of a province."""

    def paragraphs(self, i: int) -> list[str]:
        when = self.published(i)
        province = PROVINCES[i % len(PROVINCES)]
        return [
            f"Trong tháng {when.month}/{when.year}, {province} thu hút khoảng {i % 900 + 100},{i % 10} "
            "triệu USD vốn FDI.",
            f"Tỷ lệ lấp đầy các khu công nghiệp của {province} đạt {80 + i % 20}%.",
            f"Năm {when.year - 1}, {province} đứng thứ {i % 63 + 1}/63 về chỉ số chuyển đổi số DTI.",
        ]
