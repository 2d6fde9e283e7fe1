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
with nox's uv backend so that one torch download in uv's cache serves a whole row.  Versions come only from
grid.toml.  Each session parses its options and calls one harness function: the work lives in harness/.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.errors import HarnessError  # noqa: E402
from harness.plan import pythons  # noqa: E402
from harness.run import matrix as grid_run  # noqa: E402
from harness.run import options as harness_options  # noqa: E402

nox.needs_version = ">=2026.8.17"  # allow_parallel= (nox -j, docs/parallelism.md)
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["matrix"]
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

# Keep uv's cache on the same filesystem as the virtualenvs, or uv copies
# every torch file (gigabytes) instead of hardlinking it.
if "UV_CACHE_DIR" not in os.environ and Path.home().stat().st_dev != ROOT.stat().st_dev:
    os.environ["UV_CACHE_DIR"] = str(ROOT / ".cache" / "uv")

INTERPRETERS = pythons.available()
PLANNED = grid_run.load(Path(os.environ.get("MATRIX_GRID_FILE", ROOT / "grid.toml")), INTERPRETERS)


def call_harness(session: nox.Session, function, *args, from_user=False):
    """Call a harness function (from where nox was run if ``from_user``); a HarnessError is the session's one line."""
    try:
        os.chdir(session.invoked_from if from_user else ROOT)
        return function(*args)
    except HarnessError as problem:
        session.error(str(problem))
    finally:
        os.chdir(ROOT)


def options_for(session: nox.Session, parse=harness_options.parse):
    """Parse the session's posargs (paths relative to where nox was run); a bad option is a one-line error."""
    return call_harness(session, parse, session.posargs, from_user=True)


def in_user_folder(session: nox.Session, module: str, groups: tuple[str, ...]) -> None:
    """Install the dependency groups and run ``python -m module`` with the posargs, from where nox was run."""
    session.install(*nox.project.dependency_groups(PYPROJECT, *groups))
    with session.chdir(session.invoked_from):  # the user's paths, then back: later sessions run from the root
        session.run("python", "-m", module, *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False)
@nox.parametrize("python,torch,shap,python_version", [
    nox.param(c.interpreter or False, str(c.torch), str(c.shap), c.python or "", id=c.id, tags=c.tags)
    for c in PLANNED.cells])
def cell(session: nox.Session, torch: str, shap: str, python_version: str) -> None:
    """One cell: torch x shap on the Python chosen for it (tag na: no Python has wheels of both; it records why).

    A virtualenv of its own (.nox/cell-<id>); nox -l --json carries torch, shap and python_version as its call_spec.
    """
    call_harness(session, grid_run.run_cell, session, PLANNED.cell(torch, shap), options_for(session))


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Run a named grid (default: 'default'), --jobs cells at a time, then the report."""
    call_harness(session, grid_run.run, session, PLANNED, options_for(session))


if PLANNED.error:
    matrix.__doc__ += f" (no cell sessions: {PLANNED.error})"


@nox.session(default=False)
def report(session: nox.Session) -> None:
    """Aggregate results/raw into COMPATIBILITY.md, matrix.csv and matrix.json."""
    options = options_for(session)
    session.install(*nox.project.dependency_groups(PYPROJECT, "report"))
    session.run("python", "-m", "harness.publish.report", "--results", str(options.results))


@nox.session(default=False)
def site(session: nox.Session) -> None:
    """Build the web page and its reproducers into results/site/ (-- --help for options)."""
    in_user_folder(session, "harness.publish.page", ("report", "site"))  # matrix.json is built if missing


@nox.session(default=False)
def lookup(session: nox.Session) -> None:
    """Paste your error: which recorded problem it is, where, and what works instead (-- "ERROR" [--results PATH])."""
    in_user_folder(session, "harness.publish.lookup", ("report",))


@nox.session(default=False)
def reproduce(session: nox.Session) -> None:
    """Write one case's standalone reproducer: reproduce -- MODEL/EXPLAINER/DEVICE [--torch X] [--shap Y] [--cell ID]."""
    in_user_folder(session, "harness.publish.reproducers", ("site",))


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

    options = options_for(session, bisection.parse)  # bad input: one line, before anything is installed
    in_user_folder(session, "harness.tools.bisection", ("bisect",))  # its probes are nested nox cell sessions
    if any((options.results / "raw").glob("*.json")):  # show the boundary in the grid's catalogue
        session.notify("report", ["--results", str(options.results)])


# The cell side must work with every interpreter and numpy of the grid: check its unit tests at both ends,
# where this machine has those interpreters.  They may run side by side under nox -j (docs/parallelism.md).
CELL_SIDE_ENDS = [("3.8", "numpy<2"), ("3.13", "numpy>=2")]
CELL_SIDE_SESSIONS = [f"cell_side-{version}" for version, _ in CELL_SIDE_ENDS if version in INTERPRETERS]


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
        nox.session(name=f"cell_side-{_version}", python=INTERPRETERS[_version], default=False,
                    allow_parallel=True)(make_cell_side_session(_version, _numpy))


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmark one row: the harness vs the uv floor vs nox's pip backend."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "bench"))
    session.run("python", "-m", "harness.tools.bench", *session.posargs)


# --- The scheduled fleet (.github/workflows/matrix.yml): its job matrix, and the publish of its shards' results.


@nox.session(name="plan", python=False, default=False)
def fleet_plan(session: nox.Session) -> None:
    """Fleet: the GitHub Actions job matrix of a grid, one shard per torch release and runner kind."""
    session.run(sys.executable, "-m", "harness.tools.fleet_plan", *session.posargs, external=True)


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Fleet: merge downloaded shard results into results/, report, diff against the last publish, build the page."""
    from harness.run import fleet

    call_harness(session, fleet.publish, session, options_for(session, harness_options.parse_publish),
                 nox.project.dependency_groups(PYPROJECT, "report", "site"))


@nox.session(python=False, default=False)
def supplied(session: nox.Session) -> None:
    """Run the suite in an existing interpreter with torch and shap, installing nothing: supplied -- --python PATH."""
    from harness.run import supplied as mode

    options = options_for(session, mode.parse)
    session.log(mode.summary(call_harness(session, mode.run, options, from_user=True)))
    session.notify("report", ["--results", str(options.results)])
