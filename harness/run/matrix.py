"""The matrix and cell sessions' work: which cells run, reuse, re-timing, the disk budget row by row, the report.

The noxfile only parses options and calls ``run`` (the matrix) or ``run_cell``
(one cell); everything a run decides and logs is here, so it can be read and
tested without nox's own machinery.  Problems are HarnessErrors: the noxfile
shows them as one line.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HarnessError
from ..plan import reuse
from ..plan.cells import Cell, plan
from ..plan.grid import GridFile
from ..plan.suite import select as select_models
from ..records.lock import hold_lock
from . import cell_session, disk, parallel
from .options import Options, forward

ROOT = parallel.ROOT


@dataclass
class Planned:
    """The grid's cells as planned when the noxfile loads (nox needs them to list the cell sessions)."""
    grid: GridFile | None
    cells: list[Cell] = field(default_factory=list)
    error: str | None = None  # why there are no cells: said once, by `nox -s matrix` and beside it in `nox -l`

    def cell(self, torch: str, shap: str) -> Cell:
        return next(c for c in self.cells if (str(c.torch), str(c.shap)) == (torch, shap))


def load(grid_file: Path, interpreters: dict) -> Planned:
    try:
        grid, cells = plan(grid_file, on_machine=interpreters)
    except HarnessError as problem:
        return Planned(None, [], str(problem))
    return Planned(grid, cells)


def run_cell(session, cell: Cell, options: Options) -> None:
    """One cell session: its virtualenv noted for the matrix's disk budget, its result written.

    Run alone (not by the matrix), it queues the report so the tables include it.
    """
    if cell.python:
        parallel.note_venv(cell.id, session.virtualenv.location)
    cell_session.run(session, cell, options)
    if not parallel.under_matrix():  # the matrix reports once, after all its cells
        session.notify("report", forward(options))


def run(session, planned: Planned, options: Options) -> None:
    """Run a named grid, --jobs cells at a time, then the report; the table's path and a summary come last."""
    if planned.error:
        raise HarnessError(planned.error)
    planned.grid.require(options.grid)
    models = select_models(options.model, extra=options.models)
    hold_lock(options.results)
    chosen = [c for c in planned.cells if options.grid in c.grids]
    runnable = [c for c in chosen if c.python]
    if options.force:
        reused, to_run = [], runnable
    else:
        reused, to_run = reuse.plan_reuse(runnable, options.results, options.suite, models)
    if options.timing == "exclusive":
        reused, to_run = parallel.retime(reused, to_run, options.results)
    jobs, why = parallel.choose_jobs(options.jobs, options.threads)
    rows, columns = len({c.torch for c in chosen}), len({c.shap for c in chosen})
    session.log(f"grid {options.grid!r}: {rows} torch x {columns} shap = {len(chosen)} cells, "
                f"{len(chosen) - len(runnable)} n/a; {len(reused)} reused (results still hold), "
                f"{len(to_run)} to run{' (--force)' if options.force else ''}; results in {options.results}")
    session.log(reuse.provenance_line(runnable, options.results, reused))
    budget = start_disk_budget(session, options) if options.disk_budget else None
    cells = parallel.Run(session, options, jobs, len(to_run), len(reused))
    session.log(f"--jobs {jobs} ({why}), {options.timing} timing; each cell's output: {cells.logs}")
    try:
        for cell in chosen:
            if not cell.python:  # n/a: a document and no environment, written here
                cell_session.run(session, cell, options)
        if budget:
            by_rows(session, cells, to_run, budget)
        else:
            cells.cells(to_run)
        code, lines = cells.report()
    finally:
        cells.close()
    if budget:
        peak = budget.sampler.stop() / disk.GB
        over = f" (over the {budget.limit:g} GB budget)" if peak > budget.limit else ""
        session.log(f"peak disk used by this run: {peak:.1f} GB{over}")
    cells.finish(code, lines)  # the table's path and the summary, last; an error if the report or a cell failed
    quiet_nox_epilogue()


def by_rows(session, cells: parallel.Run, to_run: list[Cell], budget: disk.Budget) -> None:
    """Row by row: each torch release's files are deleted after its row."""
    for torch in sorted({c.torch for c in to_run}):
        row = [c for c in to_run if c.torch == torch]
        cells.cells(row)
        freed = disk.free_row(cells.venvs(row), budget.cache)
        session.log(f"freed {freed / disk.GB:.1f} GB after the torch {torch} row; "
                    f"peak so far {budget.sampler.peak / disk.GB:.1f} GB")


def start_disk_budget(session, options: Options) -> disk.Budget:
    """Send cells to a private uv cache that is emptied after each row."""
    disk.check_free(ROOT, options.disk_budget)
    budget = disk.Budget(options.disk_budget, ROOT / ".cache" / "uv-row", disk.PeakSampler(ROOT))
    os.environ["UV_CACHE_DIR"] = str(budget.cache)
    session.log(f"disk budget {options.disk_budget:g} GB: row by row, private uv cache {budget.cache}")
    return budget


def quiet_nox_epilogue() -> None:
    """Leave the table and the summary as the run's last lines: nox's "Session matrix was successful" repeats them."""
    logging.getLogger("nox").setLevel(logging.WARNING)
