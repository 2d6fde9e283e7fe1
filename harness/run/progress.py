"""The matrix's progress lines: one plain line per finished cell, the same in a terminal and a CI log.

No carriage returns or spinners: every line is final, so a log shows exactly
what a terminal showed.  The time left is estimated from the cells finished
so far (elapsed / done x still to run), which already counts how many ran at once.
"""
from __future__ import annotations

import time


def clock(seconds: float) -> str:
    """0:42, 3:05, 1:02:03."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    def __init__(self, to_run: int, reused: int, now=time.monotonic):
        self.total, self.reused, self.done, self.now = to_run, reused, 0, now
        self.started = now()

    def elapsed(self) -> float:
        return self.now() - self.started

    def finished(self, cell_id: str, summary: str, seconds: float) -> str:
        """The line for one more finished cell."""
        self.done += 1
        elapsed, left = self.elapsed(), self.total - self.done
        estimate = elapsed / self.done * left
        width = len(str(self.total))
        return (f"[{self.done:>{width}}/{self.total}] {cell_id}: {summary} ({seconds:.0f} s) | "
                f"{self.done} done, {left} to run, {self.reused} reused | "
                f"{clock(elapsed)} elapsed, ~{clock(estimate)} left")
