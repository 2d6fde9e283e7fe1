"""The torch x shap version matrix, as nox sessions.

    nox -s matrix                 run the default grid and write results/
    nox -s matrix -- --grid full  run every minor release of both
    nox -s matrix -- --help       every option
    nox -l                        list every cell session
    nox -s report                 rebuild the tables from results/raw
    nox -s site                   the web page, results/site/index.html, with its reproducers
    nox -s reproduce -- CASE      one case's standalone reproducer (CASE: MODEL/EXPLAINER/DEVICE)
    nox -s lookup -- "ERROR"      is a pasted error among the results' failures?
    nox -s tests                  the harness's own tests
    nox -s bench                  harness vs the uv floor vs nox's pip backend
    nox -s bisect -- relu_inplace/deep/cpu --axis shap   first release where a case changes

Each cell (one torch x shap pair) is a parametrization of the session `cell`, with its own virtualenv built
with nox's uv backend so that one torch download in uv's cache serves a
whole row.  Versions come only from grid.toml.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.run import options as harness_options  # noqa: E402
from harness.run import disk  # noqa: E402
from harness.run import parallel  # noqa: E402
from harness.plan import pythons  # noqa: E402
from harness.plan import reuse  # noqa: E402
from harness.errors import HarnessError  # noqa: E402
from harness.plan.cells import plan  # noqa: E402
from harness.plan.suite import select as select_models  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["matrix"]
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

# Keep uv's cache on the same filesystem as the virtualenvs, or uv copies
# every torch file (gigabytes) instead of hardlinking it.
if "UV_CACHE_DIR" not in os.environ and Path.home().stat().st_dev != ROOT.stat().st_dev:
    os.environ["UV_CACHE_DIR"] = str(ROOT / ".cache" / "uv")

GRID_FILE = Path(os.environ.get("MATRIX_GRID_FILE", ROOT / "grid.toml"))
INTERPRETERS = pythons.available()
try:
    GRID, CELLS = plan(GRID_FILE, on_machine=INTERPRETERS)
    PLAN_ERROR = None
except HarnessError as problem:  # said once: by `nox -s matrix`, and in `nox -l` beside matrix
    GRID, CELLS, PLAN_ERROR = None, [], str(problem)


def options_for(session: nox.Session):
    """Parse the session's posargs; a bad option is a one-line error."""
    try:
        os.chdir(session.invoked_from)
        return harness_options.parse(session.posargs)
    except HarnessError as problem:
        session.error(str(problem))
    finally:
        os.chdir(ROOT)


CELL_OF = {(str(c.torch), str(c.shap)): c for c in CELLS}


@nox.session(default=False)
@nox.parametrize("python,torch,shap,python_version", [
    nox.param(c.interpreter or False, str(c.torch), str(c.shap), c.python or "", id=c.id, tags=c.tags) for c in CELLS])
def cell(session: nox.Session, torch: str, shap: str, python_version: str) -> None:
    """One cell: torch x shap on the Python chosen for it (tag na: no Python has wheels of both; it records why).

    A virtualenv of its own (.nox/cell-<id>); nox -l --json carries torch, shap and python_version as its call_spec.
    """
    from harness.run import cell_session as runner

    planned = CELL_OF[(torch, shap)]
    options = options_for(session)
    if planned.python:
        parallel.note_venv(planned.id, session.virtualenv.location)  # for the matrix's disk budget
    try:
        runner.run(session, planned, options)
    except HarnessError as problem:
        session.error(str(problem))
    if not parallel.under_matrix():  # the matrix reports once, after all its cells
        session.notify("report", harness_options.forward(options))


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Run a named grid (default: 'default'), --jobs cells at a time, then the report."""
    from harness.run import cell_session as runner

    options = options_for(session)
    if PLAN_ERROR:
        session.error(PLAN_ERROR)
    try:
        GRID.require(options.grid)
        models = select_models(options.model, extra=options.models)
        reuse.hold_lock(options.results)
    except HarnessError as problem:
        session.error(str(problem))
    chosen = [c for c in CELLS if options.grid in c.grids]
    runnable = [c for c in chosen if c.python]
    reused, to_run = ([], runnable) if options.force else reuse.plan_reuse(runnable, options.results, options, models)
    if options.timing == "exclusive":
        reused, to_run = parallel.retime(reused, to_run, options.results)
    jobs, why = parallel.choose_jobs(options.jobs, options.threads)
    rows, columns = len({c.torch for c in chosen}), len({c.shap for c in chosen})
    session.log(f"grid {options.grid!r}: {rows} torch x {columns} shap = {len(chosen)} cells, "
                f"{len(chosen) - len(runnable)} n/a; {len(reused)} reused (results still hold), "
                f"{len(to_run)} to run{' (--force)' if options.force else ''}; results in {options.results}")
    session.log(reuse.provenance_line(runnable, options.results, reused))
    budget = start_disk_budget(session, options) if options.disk_budget else None
    run = parallel.Run(session, options, jobs, len(to_run), len(reused))
    session.log(f"--jobs {jobs} ({why}), {options.timing} timing; each cell's output: {run.logs}")
    try:
        for cell in chosen:
            if not cell.python:  # n/a: a document and no environment, written here
                runner.run(session, cell, options)
        if budget:  # row by row: each torch release's files are deleted after its row
            for torch in sorted({c.torch for c in to_run}):
                row = [c for c in to_run if c.torch == torch]
                run.cells(row)
                freed = disk.free_row(run.venvs(row), budget.cache)
                session.log(f"freed {freed / disk.GB:.1f} GB after the torch {torch} row; "
                            f"peak so far {budget.sampler.peak / disk.GB:.1f} GB")
        else:
            run.cells(to_run)
        code, lines = run.report()
    finally:
        run.close()
    if budget:
        peak = budget.sampler.stop() / disk.GB
        over = f" (over the {budget.limit:g} GB budget)" if peak > budget.limit else ""
        session.log(f"peak disk used by this run: {peak:.1f} GB{over}")
    run.finish(code, lines)  # the table's path and the summary, last; an error if the report or a cell failed
    quiet_nox_epilogue()


if PLAN_ERROR:
    matrix.__doc__ += f" (no cell sessions: {PLAN_ERROR})"


def quiet_nox_epilogue() -> None:
    """Leave the table and the summary as the run's last lines: nox's "Session matrix was successful" repeats them."""
    import logging

    logging.getLogger("nox").setLevel(logging.WARNING)


def start_disk_budget(session: nox.Session, options) -> disk.Budget:
    """Send cells to a private uv cache that is emptied after each row."""
    try:
        disk.check_free(ROOT, options.disk_budget)
    except HarnessError as problem:
        session.error(str(problem))
    budget = disk.Budget(options.disk_budget, ROOT / ".cache" / "uv-row", disk.PeakSampler(ROOT))
    os.environ["UV_CACHE_DIR"] = str(budget.cache)
    session.log(f"disk budget {options.disk_budget:g} GB: row by row, private uv cache {budget.cache}")
    return budget


@nox.session(default=False)
def report(session: nox.Session) -> None:
    """Aggregate results/raw into COMPATIBILITY.md, matrix.csv and matrix.json."""
    options = options_for(session)
    session.install(*nox.project.dependency_groups(PYPROJECT, "report"))
    session.run("python", "-m", "harness.publish.report", "--results", str(options.results))


@nox.session(default=False)
def site(session: nox.Session) -> None:
    """Build the web page and its reproducers into results/site/ (-- --help for options)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "report", "site"))  # matrix.json is built if missing
    with session.chdir(session.invoked_from):  # the user's paths, then back: later sessions run from the root
        session.run("python", "-m", "harness.publish.page", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False)
def lookup(session: nox.Session) -> None:
    """Paste your error: which recorded problem it is, where, and what works instead (-- "ERROR" [--results PATH])."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "report"))
    with session.chdir(session.invoked_from):
        session.run("python", "-m", "harness.publish.lookup", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False)
def reproduce(session: nox.Session) -> None:
    """Write one case's standalone reproducer: reproduce -- MODEL/EXPLAINER/DEVICE [--torch X] [--shap Y] [--cell ID]."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "site"))
    os.chdir(session.invoked_from)
    session.run("python", "-m", "harness.publish.reproducers", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False)
def tests(session: nox.Session) -> None:
    """The harness's own tests: unit tests on fixtures and real end-to-end cells."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)
    for name in CELL_SIDE_SESSIONS:
        session.notify(name)


@nox.session(default=False)
def bisect(session: nox.Session) -> None:
    """Find the first release where one case's outcome changes: bisect -- MODEL/EXPLAINER/DEVICE --axis torch|shap."""
    from harness.tools import bisection

    os.chdir(session.invoked_from)
    try:
        options = bisection.parse(session.posargs)  # bad input: one line, before anything is installed
    except HarnessError as problem:
        session.error(str(problem))
    finally:
        os.chdir(ROOT)
    session.install(*nox.project.dependency_groups(PYPROJECT, "bisect"))  # its probes are nested nox cell sessions
    with session.chdir(session.invoked_from):
        session.run("python", "-m", "harness.tools.bisection", *session.posargs, env={"PYTHONPATH": str(ROOT)})
    if any((options.results / "raw").glob("*.json")):  # show the boundary in the grid's catalogue
        session.notify("report", ["--results", str(options.results)])


# The cell side must work with every interpreter and numpy of the grid: check
# its unit tests at both ends, where this machine has those interpreters.
CELL_SIDE_ENDS = [("3.8", "numpy<2"), ("3.13", "numpy>=2")]
CELL_SIDE_SESSIONS = []


def make_cell_side_session(version: str, numpy: str):
    def cell_side(session: nox.Session) -> None:
        session.install("pytest", numpy)
        session.run("python", "-m", "compileall", "-q", "harness/cell", "models")
        session.run("pytest", "-p", "no:cacheprovider", "tests/test_additivity.py", "tests/test_oracles.py",
                    "tests/test_protocol.py", "tests/test_remedies.py")

    cell_side.__doc__ = f"Cell-side unit tests on Python {version} with {numpy} (run by the tests session)"
    return cell_side


for _version, _numpy in CELL_SIDE_ENDS:
    if _version in INTERPRETERS:
        CELL_SIDE_SESSIONS.append(f"cell_side-{_version}")
        nox.session(name=CELL_SIDE_SESSIONS[-1], python=INTERPRETERS[_version], default=False)(
            make_cell_side_session(_version, _numpy))


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmark one row: the harness vs the uv floor vs nox's pip backend."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "bench"))
    session.run("python", "-m", "harness.tools.bench", *session.posargs)


# --- The scheduled fleet (.github/workflows/matrix.yml) ---------------------------------
# Owned by the fleet work: `plan` turns `nox -l --json` into the workflow's job matrix;
# `publish` merges the shards' downloaded results into results/, rebuilds the table,
# diffs it against the last publish and builds the web page. The logic lives in
# harness/tools/fleet_plan.py, records/merge.py, publish/diff.py and publish/regressions.py.


@nox.session(python=False, default=False)
def plan(session: nox.Session) -> None:
    """Fleet: the GitHub Actions job matrix of a grid, one shard per torch release and runner kind."""
    session.run(sys.executable, "-m", "harness.tools.fleet_plan", *session.posargs, external=True)


def publish_options(session: nox.Session):
    """--artifacts, --results and --description of the publish session; a bad option is one line."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            session.error(f"bad option: {message} (see nox -s publish -- --help)")

    parser = Parser(prog="nox -s publish --", description="Merge a fleet run's shard results into a results "
                    "folder, rebuild the table, diff it against the last publish and build the web page.")
    parser.add_argument("--artifacts", type=Path, default=Path("fleet-artifacts"),
                        help="the downloaded raw-* artifacts: <cpu|gpu>/raw/<cell-id>.json (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=ROOT / "results",
                        help="results folder to publish into (default: results/)")
    parser.add_argument("--description", help="how diff.json names this run (default: the workflow run)")
    options = parser.parse_args(session.posargs)
    base = Path(session.invoked_from)
    options.artifacts, options.results = base / options.artifacts, base / options.results
    return options


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Fleet: merge downloaded shard results into results/, report, diff against the last publish, build the page."""
    options = publish_options(session)
    results = options.results.resolve()
    try:
        reuse.hold_lock(results)
    except HarnessError as problem:
        session.error(str(problem))
    session.install(*nox.project.dependency_groups(PYPROJECT, "report", "site"))
    previous = Path(session.create_tmp()) / "previous-snapshot.json"
    session.run("python", "-m", "harness.publish.diff", "snapshot", "--results", str(results), "--out", str(previous))
    session.run("python", "-m", "harness.records.merge", "--artifacts", str(options.artifacts.resolve()),
                "--results", str(results))
    session.run("python", "-m", "harness.publish.report", "--results", str(results))
    described = ["--description", options.description] if options.description else []
    session.run("python", "-m", "harness.publish.diff", "compare", "--previous", str(previous),
                "--results", str(results), *described)
    session.run("python", "-m", "harness.publish.page", "--results", str(results), "--diff", str(results / "diff.json"),
                "--out", str(results / "site"))


@nox.session(python=False, default=False)
def supplied(session: nox.Session) -> None:
    """Run the suite in an existing interpreter with torch and shap, installing nothing: supplied -- --python PATH."""
    from harness.run import supplied as mode

    os.chdir(session.invoked_from)
    try:
        options = mode.parse(session.posargs)
        path = mode.run(options)
    except HarnessError as problem:
        session.error(str(problem))
    finally:
        os.chdir(ROOT)
    session.log(mode.summary(path))
    session.notify("report", ["--results", str(options.results)])
