"""Small sessions that measure what ``nox -j`` does (docs/parallelism.md); nothing here is part of the harness.

    cd docs/measurements && nox -f nox-parallel-noxfile.py -j 2 -s locker_0 locker_1
"""
import os
import sys
import time

import nox

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))  # the checkout


def trivial(session):
    """Scheduling overhead: a session that does nothing but log."""
    session.log("hello")


def sleeper(session):
    """SIGTERM: a session whose child process runs for 30 s."""
    session.log(f"started at {time.time():.2f}")
    session.run("sleep", "30", external=True)


def locker(session):
    """The results lock: each session takes it, as every cell does, and holds it for 3 s."""
    from harness.errors import HarnessError
    from harness.records.lock import hold_lock

    try:
        hold_lock(os.environ.get("LOCKDIR", "/tmp/nox-parallel-lock"))
    except HarnessError as problem:
        session.error(str(problem))
    session.log("holds the lock")
    time.sleep(3)


for i in range(8):
    nox.session(name=f"trivial_{i}", python=False, default=False, allow_parallel=True)(trivial)
for i in range(2):
    nox.session(name=f"sleeper_{i}", python=False, default=False, allow_parallel=True)(sleeper)
    nox.session(name=f"locker_{i}", python=False, default=False, allow_parallel=True)(locker)


@nox.session(python=False, default=False, allow_parallel=True)
def first(session):
    """requires=: a row's first cell, failing (a harness bug; an install-error is data and succeeds)."""
    session.error("the first cell of the row failed")


@nox.session(python=False, default=False, allow_parallel=True, requires=["first"])
def neighbour(session):
    session.log("neighbour ran")


@nox.session(python=False, default=False, allow_parallel=True)
def chatty(session):
    """Output: one line a second for 5 s."""
    for k in range(5):
        print(f"line {k} at {time.time():.2f}", flush=True)
        time.sleep(1)
