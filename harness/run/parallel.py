"""Cells N at a time: each cell is its own ``nox -s cell-...`` process, started by the matrix.

nox runs the sessions of one process one after another, so the matrix starts
the cell sessions as child nox processes, ``--jobs`` at a time.  The parent
(the matrix session) keeps the results lock and hands it down (see
``harness.records.lock.inherited_lock``), so cells write under it and a second run still
stops.  The first cell of each torch row, and of each (torch, Python) pair,
finishes before its neighbours start: it fills uv's cache, so a torch wheel is
still downloaded once.  Each child's output goes to a log file; the parent
prints one line per finished cell (harness/run/progress.py).

Timings stay honest: the parent writes when each cell starts and ends to an
activity log, and each cell records, with its cases, the most cells that ran
at once while its suite (every timed call) ran.  With ``--timing exclusive``
a cell's suite holds an exclusive lock that every other cell's install and
suite need too, so timings are taken with no other cell doing anything.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..errors import HarnessError
from ..plan import reuse
from ..records import lock, outcomes, store
from . import options as harness_options
from . import progress

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = "MATRIX_RUN_DIR"  # the matrix's run folder: activity log, timing lock, venv notes
JOBS = "MATRIX_JOBS"
TIMING = "MATRIX_TIMING"
CELL_GB = 3.0  # memory budgeted per running cell: nox, uv, the supervisor and a worker with torch and shap
LOG_TAIL = 8


# --- how many at once ---------------------------------------------------------------------

def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_gb() -> float | None:
    """MemAvailable from /proc/meminfo (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 ** 2
    except (OSError, ValueError, IndexError):
        pass
    return None


def choose_jobs(asked: int | None, threads: int = 1) -> tuple[int, str]:
    """(jobs, why): what was asked, or one cell per free core that memory allows."""
    if asked:
        return asked, "asked"
    n, memory = max(1, cores() // max(1, threads)), available_gb()
    if memory is None:
        return n, f"{cores()} cores"
    by_memory = max(1, int(memory // CELL_GB))
    return min(n, by_memory), f"{cores()} cores, {memory:.0f} GB available at {CELL_GB:g} GB a cell"


# --- the cell side of the protocol (runs in the child nox process) --------------------------

def under_matrix() -> bool:
    return bool(os.environ.get(RUN_DIR))


def note_venv(cell_id: str, location: str) -> None:
    """Tell the matrix where this cell's virtualenv is (the disk budget deletes it after the row)."""
    if under_matrix():
        folder = Path(os.environ[RUN_DIR]) / "venvs"
        folder.mkdir(exist_ok=True)
        (folder / cell_id).write_text(str(location))


class Slot:
    """With --timing exclusive: installs share a lock that a suite takes alone; otherwise nothing."""

    def __init__(self):
        self.fd = None
        if under_matrix() and os.environ.get(TIMING) == "exclusive":
            self.fd = os.open(Path(os.environ[RUN_DIR]) / "timing.lock", os.O_RDWR | os.O_CREAT, 0o644)

    def share(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def exclusive(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


def concurrency(cell_id: str, started: float, ended: float) -> dict:
    """What ran beside this cell's suite: recorded with the cell and each of its cases."""
    timing = os.environ.get(TIMING, "shared") if under_matrix() else "shared"
    record = {"jobs": int(os.environ.get(JOBS, "1")) if under_matrix() else 1, "timing": timing,
              "cells_at_once": 1, "load_average": [round(x, 2) for x in os.getloadavg()]}
    if under_matrix() and timing == "shared":
        record["cells_at_once"] = cells_at_once(Path(os.environ[RUN_DIR]) / "activity", cell_id, started, ended)
    return record


def cells_at_once(log: Path, cell_id: str, started: float, ended: float) -> int:
    """The most cells of the run alive at one moment of [started, ended], this one included."""
    spans = {}
    try:
        lines = log.read_text().splitlines()
    except OSError:
        return 1
    for line in lines:
        try:
            event, cell, moment = line.split()
            moment = float(moment)
        except ValueError:
            continue
        span = spans.setdefault(cell, [moment, float("inf")])
        if event == "end":
            span[1] = moment
    others = [(s, e) for cell, (s, e) in spans.items() if cell != cell_id and s < ended and e > started]
    moments = [started] + [s for s, _ in others if s > started]
    return 1 + max((sum(s <= m < e for s, e in others) for m in moments), default=0)


# --- the parent: start, watch and stop the cell processes ---------------------------------

def order(cells) -> list[tuple]:
    """(cell, ids it waits for), the cells that fill uv's cache for others first."""
    row_first, pair_first = {}, {}
    for cell in cells:
        row_first.setdefault(cell.torch, cell.id)
        pair_first.setdefault((cell.torch, cell.python), cell.id)
    firsts = set(row_first.values()) | set(pair_first.values())
    planned = [(cell, {row_first[cell.torch], pair_first[(cell.torch, cell.python)]} - {cell.id}) for cell in cells]
    return sorted(planned, key=lambda pair: pair[0].id not in firsts)  # stable: plan order otherwise


VALUED = {"--envdir", "--reuse-venv", "-db", "--default-venv-backend", "-fb", "--force-venv-backend"}
SWITCHES = {"-r", "-R", "--reuse-existing-virtualenvs", "--no-reuse-existing-virtualenvs", "--no-install", "--no-venv"}


def nox_flags(envdir: Path, argv: list[str]) -> list[str]:
    """The parent's options that decide where and how a cell's virtualenv is made: ``--envdir`` and the rest.

    ``envdir`` comes from the session (``session.env_dir``'s folder); the reuse options, --no-install, --no-venv
    and the venv backends are picked from the parent's command line as typed (nox's parsed configuration is
    private).
    """
    words = argv[:argv.index("--")] if "--" in argv else list(argv)
    flags = []
    for at, word in enumerate(words):
        option, _, value = word.partition("=")
        if option in VALUED and option != "--envdir" and (value or at + 1 < len(words)):
            flags += [option, value or words[at + 1]]
        elif word in SWITCHES:
            flags.append(word)
    return ["--envdir", str(envdir), *flags]


class Child:
    """One running cell session: its process group and its log file (and, with -v, a thread echoing it)."""

    def __init__(self, cell, command, env, lock_fd, log: Path, echo):
        self.cell, self.log, self.started = cell, log, time.time()
        # straight into a file, not a pipe: a cell outliving a killed matrix must not die writing its output
        with log.open("w") as handle:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, pass_fds=(lock_fd,), start_new_session=True)
        self.echo = threading.Thread(target=self._echo, daemon=True) if echo else None
        if self.echo:
            self.echo.start()

    def _echo(self):
        """Print the log's lines as they come, prefixed by the cell, until the process has ended."""
        with self.log.open("rb") as handle:
            pending, ended = b"", False
            while True:
                ended = self.process.poll() is not None  # checked before reading: nothing written after is lost
                pending += handle.read()
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    print(f"[{self.cell.id}] {line.decode(errors='replace')}", flush=True)
                if ended:
                    if pending:
                        print(f"[{self.cell.id}] {pending.decode(errors='replace')}", flush=True)
                    return
                time.sleep(0.2)

    def stop(self):
        """SIGTERM the cell's whole process group (nox, supervisor, worker), SIGKILL if it lingers."""
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


class Run:
    """One matrix run's cells, started ``jobs`` at a time, with a progress line for each."""

    def __init__(self, session, options, jobs: int, to_run: int, reused: int):
        self.session, self.options, self.jobs = session, options, jobs
        envdir = Path(session.env_dir).parent.resolve()  # the parent's --envdir (nox's default: .nox)
        self.flags = nox_flags(envdir, sys.argv[1:])
        self.logs = envdir / "matrix-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="matrix-run-", dir=self.logs))
        self.activity = self.folder / "activity"
        self.activity.touch()
        self.lock_fd = lock.held_lock(options.results)
        self.env = dict(os.environ, **{RUN_DIR: str(self.folder), JOBS: str(jobs), TIMING: options.timing,
                                       lock.LOCK_FD: str(self.lock_fd)})
        self.progress = progress.Progress(to_run, reused)
        self.failed = []

    def command(self, cell) -> list[str]:
        return [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), *self.flags, "-s", cell.session,
                "--", *harness_options.forward(self.options)]

    def note(self, event: str, cell) -> None:
        with self.activity.open("a") as handle:
            handle.write(f"{event} {cell.id} {time.time():.3f}\n")

    def cells(self, cells) -> None:
        """Run these cells to the end; Ctrl-C or SIGTERM stops every running cell before leaving."""
        pending, running, finished = order(cells), {}, set()
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            while pending or running:
                while len(running) < self.jobs:
                    ready = next((p for p in pending if p[1] <= finished), None)
                    if ready is None:
                        break
                    pending.remove(ready)
                    cell = ready[0]
                    self.note("start", cell)
                    running[cell.id] = Child(cell, self.command(cell), self.env, self.lock_fd,
                                             self.logs / f"{cell.id}.log", self.options.verbose)
                for cell_id, child in list(running.items()):
                    if child.process.poll() is not None:
                        self.note("end", child.cell)
                        if child.echo:
                            child.echo.join(5)
                        del running[cell_id]
                        finished.add(cell_id)
                        self.finished(child)
                time.sleep(0.1)
        finally:
            for child in running.values():
                child.stop()
                self.note("end", child.cell)
            signal.signal(signal.SIGTERM, previous)

    def finished(self, child: Child) -> None:
        seconds = time.time() - child.started
        if child.process.returncode == 0:
            summary = outcome_summary(self.options.results, child.cell, child.started)
        else:
            self.failed.append(child.cell.id)
            tail = [line for line in child.log.read_text(errors="replace").splitlines() if line.strip()][-LOG_TAIL:]
            summary = f"session failed (exit {child.process.returncode}), log {child.log}"
            for line in tail:
                self.session.log(f"    {line[:300]}")
        self.session.log(self.progress.finished(child.cell.id, summary, seconds))

    def report(self) -> tuple[int, list[str]]:
        """``nox -s report`` in a process of its own: (exit code, its output lines); output kept in the logs."""
        command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), *self.flags, "-s", "report",
                   "--", *harness_options.forward(self.options)]
        done = subprocess.run(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        (self.logs / "report.log").write_text(done.stdout)
        if self.options.verbose:
            print("".join(f"[report] {line}\n" for line in done.stdout.splitlines()), end="", flush=True)
        return done.returncode, done.stdout.splitlines()

    def finish(self, code: int, lines: list[str]) -> None:
        """The table's path and the one-line summary; then an error if the report or a cell session failed."""
        if code != 0:
            raise HarnessError(f"the report failed: {' | '.join(lines[-5:])} (all of it: {self.logs / 'report.log'})")
        table = next((line for line in lines if line.startswith("table: ")), "table: (not written)")
        counts = next((line for line in lines if " cells: " in line and "failure signatures" in line), "")
        failed = f", {len(self.failed)} failed ({', '.join(self.failed)})" if self.failed else ""
        self.session.log(table)
        self.session.log(f"done: {self.progress.total} cells run{failed}, {self.progress.reused} reused in "
                         f"{progress.clock(self.progress.elapsed())} with --jobs {self.jobs}; {counts}")
        if self.failed:
            raise HarnessError(f"{len(self.failed)} cell sessions failed; their logs are in {self.logs}")

    def venvs(self, cells) -> list[Path]:
        notes = [self.folder / "venvs" / cell.id for cell in cells]
        return [Path(note.read_text()) for note in notes if note.exists()]

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def outcome_summary(results: Path, cell, since: float) -> str:
    """'28 pass, 4 fail' from the result the cell just wrote."""
    path = store.raw_dir(results) / f"{cell.id}.json"
    try:
        if path.stat().st_mtime < since - 1:
            return "no new result written"
    except OSError:
        return "no result written"
    document = store.earlier_cell(path)
    if document is None:
        return "no result written"
    if document.status != "ran":
        return f"{document.status} ({len(document.cases)} cases)"
    return outcomes.tally(document.cases)


def retime(reused, to_run, results: Path):
    """Under --timing exclusive, results timed beside other cells are not reused: their cells run again."""
    records = {c: reuse.previous(results, c) for c in reused}
    shared = [c for c, record in records.items() if record and (record.concurrency.cells_at_once or 1) > 1]
    return [c for c in reused if c not in shared], sorted(to_run + shared, key=lambda c: (c.torch, c.shap))
