"""One stage timer for every command: wall-clock seconds per named stage plus progress callbacks.

A :class:`StageTimer` replaces the three hand-rolled timers the stages used to carry. Each stage is
opened with :meth:`StageTimer.stage` (a context manager, or call :meth:`start` / :meth:`stop`),
reports progress as a fraction of that stage (0-1) through the optional ``progress(stage, fraction)``
callback, and records its wall time [s] in :attr:`StageTimer.timings`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[str, float], None]


class StageTimer:
    """Wall time per stage [s], in the order the stages ran, with progress reporting.

    Parameters
    ----------
    progress : optional callback ``progress(stage, fraction)``, fraction in [0, 1].
    prefix : prepended to every stage name in timings and progress (e.g. ``"optimize: "``).
    """

    def __init__(self, progress: Progress | None = None, prefix: str = "") -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress
        self._prefix = prefix
        self._stage: str | None = None
        self._t = time.perf_counter()

    def start(self, name: str) -> None:
        """Close the running stage (if any) and start ``name``."""
        self.stop()
        self._stage, self._t = self._prefix + name, time.perf_counter()
        self.tick(0.0)

    def tick(self, fraction: float) -> None:
        """Report progress within the running stage (clipped to [0, 1])."""
        if self._progress is not None and self._stage is not None:
            self._progress(self._stage, float(min(max(fraction, 0.0), 1.0)))

    def stop(self) -> None:
        """Close the running stage and record its wall time (seconds, 3 decimals)."""
        if self._stage is not None:
            self.tick(1.0)
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + round(time.perf_counter() - self._t, 3)
            self._stage = None

    @contextmanager
    def stage(self, name: str) -> Iterator["StageTimer"]:
        """``with timer.stage("write"): ...`` times the block as one stage."""
        self.start(name)
        try:
            yield self
        finally:
            self.stop()

    def merge(self, timings: dict[str, float], prefix: str = "") -> None:
        """Add another component's timings under ``prefix`` (e.g. the forecast's inner stages)."""
        for key, seconds in timings.items():
            self.timings[prefix + key] = round(float(seconds), 3)
