"""The results lock: one run writes a results folder at a time.

It lives beside the store because it guards what the store writes: every
session that writes records takes it first, and a second run on the same
folder stops with who holds it instead of mixing its cells in.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import HarnessError

LOCK_FD = "MATRIX_LOCK_FD"  # set by the matrix for the cell processes it starts (harness/run/parallel.py)
_LOCKS: dict[Path, int] = {}


def hold_lock(results: Path) -> None:
    """Take this process's exclusive lock on a results folder, or stop with who holds it.

    The lock lives as long as the nox process, so every session of one run
    shares it and a second run on the same folder stops instead of mixing in.
    The matrix's cell processes inherit the same lock (see ``inherited_lock``).
    """
    results = Path(results).resolve()
    if results in _LOCKS:
        return
    results.mkdir(parents=True, exist_ok=True)
    inherited = inherited_lock(results)
    if inherited is not None:
        _LOCKS[results] = inherited
        return
    fd = os.open(results / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 100).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise HarnessError(f"another matrix run ({holder}) is writing {results}; wait for it to finish "
                           "or use --results elsewhere") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}".encode())
    _LOCKS[results] = fd


def held_lock(results: Path) -> int:
    """The descriptor of the lock this process holds on ``results`` (hold_lock first)."""
    return _LOCKS[Path(results).resolve()]


def inherited_lock(results: Path) -> int | None:
    """The lock's descriptor, when this process inherited the matrix's own hold on ``results/.lock``.

    flock belongs to an open file description, which a child shares with the
    parent that passed it the descriptor: the lock is then held until the last of
    them exits, so cells started by the matrix write under its lock, and cells
    left running after the matrix is killed still keep a second run out.  A
    stray variable cannot open the lock: the descriptor must be that very file
    and re-taking the lock through it must succeed.
    """
    try:
        fd = int(os.environ[LOCK_FD])
        mine, lock = os.fstat(fd), os.stat(results / ".lock")
    except (KeyError, ValueError, OSError):
        return None
    if (mine.st_dev, mine.st_ino) != (lock.st_dev, lock.st_ino):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    return fd
