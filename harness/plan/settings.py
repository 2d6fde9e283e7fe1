"""What each cell's suite is asked to run, as typed settings (built from the command line by harness/run/options.py).

Part of every result's reuse key: the plan compares them with an earlier
result's settings without knowing how they were parsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..records.outcomes import EXPLAINERS


@dataclass(frozen=True)
class SuiteSettings:
    """Explainers and devices (empty: all), repeats, per-case timeout, torch threads, worker memory cap in GB."""
    explainers: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    repeats: int = 3
    timeout: float = 120.0
    threads: int = 1
    memory_limit: float = 0.0

    def record(self, models: dict[str, Path]) -> dict:
        """The settings as a result records them (and its reuse key hashes them)."""
        chosen = {"models": sorted(models), "explainers": sorted(self.explainers or EXPLAINERS),
                  "repeats": int(self.repeats), "timeout": float(self.timeout), "threads": int(self.threads),
                  "memory_limit": float(self.memory_limit)}  # typed, so 0 and 0.0 hash alike
        if self.devices:  # only when narrowed, so earlier keys of both-device runs still hold
            chosen["devices"] = sorted(set(self.devices))
        return chosen
