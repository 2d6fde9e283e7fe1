"""Disk budget: run row by row on a private uv cache that is emptied after each torch release.

One torch release with its CUDA libraries is 3-5 GB in uv's cache, plus 1-2 GB
per extra Python, so a hosted CI runner (about 14 GB free) cannot hold a
whole grid.  With a budget, cells install from a cache of their own beside the
virtualenvs (same filesystem, so uv still hardlinks), and after each torch
row that cache and the row's virtualenvs are deleted.  A sampler records the
peak of extra disk the run used on the filesystem.
"""
from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import HarnessError

GB = 1024 ** 3


class PeakSampler:
    """The most disk the filesystem had in use above its level at the start."""

    def __init__(self, path: Path, every: float = 1.0):
        self.path, self.every = Path(path), every
        self.start = shutil.disk_usage(self.path).used
        self.peak = 0
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, shutil.disk_usage(self.path).used - self.start)
            time.sleep(self.every)

    def stop(self) -> int:
        self._stop.set()
        self.peak = max(self.peak, shutil.disk_usage(self.path).used - self.start)
        return self.peak


def check_free(path: Path, budget_gb: float) -> None:
    free = shutil.disk_usage(path).free / GB
    if free < budget_gb:
        raise HarnessError(f"--disk-budget {budget_gb:g} GB but only {free:.1f} GB is free on {path}")


def free_row(venvs: list[Path], cache: Path) -> int:
    """Delete a finished row's virtualenvs and the private cache; returns bytes freed."""
    before = shutil.disk_usage(cache.parent).used
    for venv in venvs:
        shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return max(0, before - shutil.disk_usage(cache.parent).used)


@dataclass
class Budget:
    """The disk-budget state of one matrix run: the limit, the private uv cache emptied after each row, the sampler."""
    limit: float
    cache: Path
    sampler: PeakSampler
