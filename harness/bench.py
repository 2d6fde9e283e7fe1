"""Benchmark one row of the matrix three ways, side by side, in one run.

    nox -s bench [-- --torch 2.4.1 --shap 0.44.1 0.46.0 0.49.1 --rounds 1]

1. the harness: ``nox -s cell-...`` for each cell (uv backend, fresh venvs,
   isolation, result files, report);
2. the floor: ``uv venv`` + ``uv pip install`` into fresh venvs, then one
   plain Python process per cell running the same suite in-process;
3. a plain nox session written the way nox's docs show (default
   virtualenv/pip backend) doing the same installs.

A warm-up round fills uv's and pip's caches first; the timed rounds are
warm.  Prints seconds per approach and the ratios harness/floor and
pip-backend/harness.  A benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import hostinfo, suite
from harness.plan import plan

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "harness" / "cell" / "floor.py"

PIP_NOXFILE = '''
import nox

CELLS = {cells!r}


@nox.session
@nox.parametrize("python,shap", [(python, shap) for shap, python in CELLS], ids=[s for s, _ in CELLS])
def cell(session, shap):
    session.install("torch=={torch}", f"shap=={{shap}}")
'''


def quiet(command, **kwargs) -> None:
    """Run a command; on failure, stop the benchmark with the command's last output lines."""
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-15:])
        raise SystemExit(f"error: benchmark step failed ({done.returncode}): {' '.join(map(str, command[:4]))} ...\n{tail}")


def timed(command, **kwargs) -> float:
    started = time.perf_counter()
    quiet(command, **kwargs)
    return time.perf_counter() - started


def harness_round(cells, work: Path) -> float:
    """All cells through the real noxfile, fresh envdir and results folder."""
    envdir, results = work / "harness-envs", work / "harness-results"
    shutil.rmtree(envdir, ignore_errors=True)
    shutil.rmtree(results, ignore_errors=True)
    sessions = [c.session for c in cells]
    return timed([sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--envdir", str(envdir),
                  "-s", *sessions, "--", "--results", str(results)], cwd=ROOT)


def floor_round(cells, work: Path) -> tuple[float, float]:
    """(total, installs only): uv venv + uv pip install + one plain process per cell."""
    models = [f"{n}={p}" for n, p in suite.discover().items()]
    total = installs = 0.0
    for cell in cells:
        venv = work / "floor" / cell.id
        shutil.rmtree(venv, ignore_errors=True)
        python = venv / "bin" / "python"
        started = time.perf_counter()
        quiet(["uv", "venv", "-q", "-p", cell.interpreter, str(venv)])
        quiet(["uv", "pip", "install", "-q", "--python", str(python), f"torch=={cell.torch}", f"shap=={cell.shap}"])
        installs += time.perf_counter() - started
        quiet([str(python), str(FLOOR), *models])
        total += time.perf_counter() - started
    return total, installs


def pip_round(cells, work: Path) -> float:
    """A nox session as nox's docs write it: default backend, session.install."""
    folder = work / "pip-nox"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [(str(c.shap), c.interpreter) for c in cells]
    (folder / "noxfile.py").write_text(PIP_NOXFILE.format(cells=pairs, torch=cells[0].torch))
    shutil.rmtree(folder / ".nox", ignore_errors=True)
    return timed([sys.executable, "-m", "nox", "-f", str(folder / "noxfile.py"), "--envdir", str(folder / ".nox"),
                  "-db", "virtualenv"], cwd=folder)


def choose_cells(torch: str, shaps: list[str] | None):
    _, cells = plan()
    row = [c for c in cells if str(c.torch) == torch and c.python]
    if shaps:
        row = [c for c in row if str(c.shap) in shaps]
    else:
        default = [c for c in row if "default" in c.grids]
        row = (default or row)[:3]
    if not row:
        raise SystemExit(f"error: no runnable cell for torch {torch} and shap {shaps}")
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch", default="2.4.1")
    parser.add_argument("--shap", nargs="+", help="shap versions (default: the row's first three default-grid cells)")
    parser.add_argument("--rounds", type=int, default=1, help="timed warm rounds (default: %(default)s)")
    parser.add_argument("--skip-pip", action="store_true", help="leave out the (slow) pip-backend approach")
    args = parser.parse_args(argv)
    cells = choose_cells(args.torch, args.shap)
    print(f"row: torch {args.torch} x shap {', '.join(str(c.shap) for c in cells)} "
          f"(Pythons {', '.join(c.python for c in cells)})")
    host = hostinfo.host()
    print(f"host: {host['cpu_model']}, {host['cpu_count']} cores, {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=ROOT / ".nox" if (ROOT / ".nox").exists() else None) as tmp:
        work = Path(tmp)
        print("warm-up round (fills uv's and pip's caches) ...", flush=True)
        harness_round(cells, work)
        floor_round(cells, work)
        if not args.skip_pip:
            pip_round(cells, work)
        rows = {"harness": [], "floor": [], "floor installs": [], "pip backend installs": []}
        for i in range(args.rounds):
            print(f"timed round {i + 1}/{args.rounds} ...", flush=True)
            rows["harness"].append(harness_round(cells, work))
            total, installs = floor_round(cells, work)
            rows["floor"].append(total)
            rows["floor installs"].append(installs)
            if not args.skip_pip:
                rows["pip backend installs"].append(pip_round(cells, work))
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    print()
    print("| approach (warm, %d cells) | seconds (median of %d) |" % (len(cells), args.rounds))
    print("|---|---|")
    for name, value in med.items():
        print(f"| {name} | {value:.1f} |")
    print()
    print(f"harness / floor = {med['harness'] / med['floor']:.2f} (target <= 1.25)")
    if "pip backend installs" in med:
        print(f"pip-backend installs / harness = {med['pip backend installs'] / med['harness']:.2f} (target >= 5)")
        print(f"pip-backend installs / uv installs = {med['pip backend installs'] / med['floor installs']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
