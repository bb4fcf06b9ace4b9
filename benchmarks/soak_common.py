"""Shared parts of the soak paths: the stub process, resource sampling, percentiles, and the
report (criteria with pass/fail, figures) that ``soak.py`` prints and ``tests/soak`` asserts."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import table

HERE = Path(__file__).parent


@contextlib.contextmanager
def soak_stub(*args: str) -> Iterator[str]:
    """``soak_stub.py`` in its own process (so its CPU is not the client's); yields its URL."""
    proc = subprocess.Popen([sys.executable, str(HERE / "soak_stub.py"), *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.terminate()
        proc.wait(10)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Histogram:
    """Latencies in 1 %-wide bins, allocated once: the list of every latency would itself grow
    the RSS the soak measures (~3 MiB per 100,000 calls)."""

    GROWTH, FLOOR = 1.01, 1e-6  # bins from 1 µs up, 1 % wide; 2,000 bins reach ~7 min

    def __init__(self) -> None:
        self.bins = [0] * 2000
        self.count = 0

    def add(self, seconds: float) -> None:
        index = 0 if seconds <= self.FLOOR else int(math.log(seconds / self.FLOOR, self.GROWTH))
        self.bins[min(index, len(self.bins) - 1)] += 1
        self.count += 1

    def percentile(self, q: float) -> float:
        """The upper edge of the bin holding the q-th percentile (within 1 %)."""
        if not self.count:
            return float("nan")
        rank, seen = q / 100 * self.count, 0
        for index, n in enumerate(self.bins):
            seen += n
            if seen >= rank and n:
                return self.FLOOR * self.GROWTH ** (index + 1)
        return float("nan")

    def __len__(self) -> int:
        return self.count


def percentile(values: list[float] | Histogram, q: float) -> float:
    if isinstance(values, Histogram):
        return values.percentile(q)
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


@dataclass
class Sampler:
    """Samples RSS, open fds and ``extra`` (e.g. the pool's connections) every ``every`` s."""

    extra: Callable[[], Awaitable[int]] | None = None
    every: float = 1.0
    samples: list[tuple[float, int, int, int, int]] = field(default_factory=list)  # t, rss, fds, extra, fds - extra

    async def run(self, stop: asyncio.Event) -> None:
        started = time.perf_counter()
        while not stop.is_set():
            extra = await self.extra() if self.extra else 0
            fds = open_fds()
            self.samples.append((time.perf_counter() - started, rss_bytes(), fds, extra, fds - extra))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

    def after(self, warm_up: float) -> list[tuple[float, int, int, int, int]]:
        return [s for s in self.samples if s[0] >= warm_up] or self.samples[-1:]

    def growth(self, column: int, warm_up: float) -> float:
        """Median of the last 5 samples less the median of the first 5 after warm-up."""
        kept = [s[column] for s in self.after(warm_up)]
        return statistics.median(kept[-5:]) - statistics.median(kept[:5])

    def span(self, column: int, warm_up: float) -> tuple[int, int]:
        kept = [s[column] for s in self.after(warm_up)]
        return min(kept), max(kept)


@dataclass
class Report:
    path: str
    checks: list[tuple[str, str, str, bool]] = field(default_factory=list)  # criterion, measured, limit, ok
    figures: list[tuple[str, str]] = field(default_factory=list)

    def check(self, name: str, measured: str, limit: str, ok: bool) -> None:
        self.checks.append((name, measured, limit, ok))

    def figure(self, name: str, value: str) -> None:
        self.figures.append((name, value))

    @property
    def ok(self) -> bool:
        return all(c[3] for c in self.checks)

    def render(self) -> str:
        rows = [("criterion", "measured", "limit", "result")]
        rows += [(n, m, lim, "PASS" if ok else "FAIL") for n, m, lim, ok in self.checks]
        text = f"== {self.path} ==\n{table(rows)}"
        if self.figures:
            text += "\n" + table([("figure", "value"), *self.figures])
        return text

    def failures(self) -> list[str]:
        return [f"{n}: {m} (limit {lim})" for n, m, lim, ok in self.checks if not ok]


def mib(value: float) -> str:
    return f"{value / 2**20:+.1f} MiB"


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"
