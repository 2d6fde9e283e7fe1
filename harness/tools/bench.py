"""Benchmark the harness against the floor, side by side, in one run.

    nox -s bench [-- --torch 2.4.1 --shap 0.44.1 0.46.0 0.49.1 --rounds 1 --only row creation ...]

Sections (all by default):
- row: one row three ways, warm: the harness (``nox -s cell-...``, uv
  backend, fresh venvs, isolation, result files, report); the floor (``uv
  venv`` + ``uv pip install`` into fresh venvs, then one plain process per
  cell running the same suite); a plain nox session written the way nox's
  docs show (default virtualenv/pip backend) doing the same installs.
- creation: one cell's environment with an empty and a filled uv cache,
  harness vs floor.
- rerun: a first matrix run on the row vs the same run with nothing changed.
- isolation: per-case cost of supervisor + worker vs a plain loop.
- disk: peak extra disk of a three-row run without and with --disk-budget.
- parallel: the warm default grid at --jobs 1 and --jobs 2, side by side:
  wall time, whether the outcomes agree, and the per-case timing spread
  with and without a second cell running.

A benchmark, not a test: it asserts nothing and prints Markdown tables.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w
from tabulate import tabulate

from ..plan import hostinfo, suite
from ..plan.cells import plan
from ..records import store
from ..run import disk

ROOT = Path(__file__).resolve().parents[2]
FLOOR = ROOT / "harness" / "tools" / "floor.py"

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


def nox_command(envdir: Path, *args, noxfile: Path = ROOT / "noxfile.py") -> list[str]:
    """``nox`` on a noxfile with its own envdir, as every approach below runs it."""
    return [sys.executable, "-m", "nox", "-f", str(noxfile), "--envdir", str(envdir), *args]


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
    return timed(nox_command(envdir, "-s", *sessions, "--", "--results", str(results)), cwd=ROOT)


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
    return timed(nox_command(folder / ".nox", "-db", "virtualenv", noxfile=folder / "noxfile.py"), cwd=folder)


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


def table(title: str, rows: dict[str, float]) -> None:
    print()
    print(tabulate([[name, f"{value:.1f}"] for name, value in rows.items()], headers=[title, "seconds"],
                   tablefmt="github", disable_numparse=True))


def row_section(cells, work: Path, rounds: int, skip_pip: bool) -> None:
    """Harness vs floor vs nox's pip backend on one row, warm."""
    print("row: warm-up round (fills uv's and pip's caches) ...", flush=True)
    harness_round(cells, work)
    floor_round(cells, work)
    if not skip_pip:
        pip_round(cells, work)
    rows = {"harness": [], "floor": [], "floor installs": [], "pip backend installs": []}
    for i in range(rounds):
        print(f"row: timed round {i + 1}/{rounds} ...", flush=True)
        rows["harness"].append(harness_round(cells, work))
        total, installs = floor_round(cells, work)
        rows["floor"].append(total)
        rows["floor installs"].append(installs)
        if not skip_pip:
            rows["pip backend installs"].append(pip_round(cells, work))
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    table(f"approach (warm, {len(cells)} cells, median of {rounds})", med)
    print(f"harness / floor = {med['harness'] / med['floor']:.2f} (target <= 1.25)")
    if "pip backend installs" in med:
        print(f"pip-backend installs / harness = {med['pip backend installs'] / med['harness']:.2f} (target >= 5)")
        print(f"pip-backend installs / uv installs = {med['pip backend installs'] / med['floor installs']:.1f}")


def creation_section(cell, work: Path) -> None:
    """Creating one cell's environment with an empty and with a filled uv cache: harness vs floor."""
    harness_cache, floor_cache = work / "uv-harness", work / "uv-floor"
    rows = {}
    for temperature in ("cold", "warm"):
        print(f"creation: {temperature} ...", flush=True)
        results, envdir = work / f"creation-{temperature}", work / f"creation-envs-{temperature}"
        started = time.perf_counter()
        quiet(nox_command(envdir, "-s", cell.session, "--", "--results", str(results), "--model", "mlp",
                          "--explainer", "deep"), cwd=ROOT, env=dict(os.environ, UV_CACHE_DIR=str(harness_cache)))
        session = time.perf_counter() - started
        document = store.read_cell(store.raw_dir(results) / f"{cell.id}.json")
        rows[f"{temperature}: harness install step (venv by nox + uv pip install)"] = document.install.seconds
        rows[f"{temperature}: harness whole cell session (2 cases)"] = session
        venv = work / f"creation-floor-{temperature}"
        env = dict(os.environ, UV_CACHE_DIR=str(floor_cache))
        started = time.perf_counter()
        quiet(["uv", "venv", "-q", "-p", cell.interpreter, str(venv)], env=env)
        quiet(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"torch=={cell.torch}",
               f"shap=={cell.shap}"], env=env)
        rows[f"{temperature}: floor uv venv + uv pip install"] = time.perf_counter() - started
    shutil.rmtree(harness_cache, ignore_errors=True)
    shutil.rmtree(floor_cache, ignore_errors=True)
    table(f"cell creation, torch {cell.torch} x shap {cell.shap}", rows)


def rerun_section(cells, work: Path) -> None:
    """The row as a grid: a first matrix run, then the same run again with nothing changed."""
    grid = work / "bench-grid.toml"
    grid.write_text(tomli_w.dumps({"grids": {"bench": {"torch": [str(cells[0].torch)],
                                                       "shap": [str(c.shap) for c in cells]}}}))
    env = dict(os.environ, MATRIX_GRID_FILE=str(grid))
    command = nox_command(work / "rerun-envs", "-s", "matrix", "--", "--grid", "bench", "--results",
                          str(work / "rerun-results"))
    print("rerun: first run, then nothing changed ...", flush=True)
    first = timed(command, cwd=ROOT, env=env)
    again = timed(command, cwd=ROOT, env=env)
    table(f"matrix on {len(cells)} cells (warm uv cache)", {"first run": first, "re-run, nothing changed": again})
    print(f"re-run / first run = {again / first:.3f} (target <= 0.05 of a cold run)")


def isolation_section(cell, work: Path, rounds: int) -> None:
    """Per-case cost of the supervisor + worker scheme vs a plain loop, in the same environment."""
    venv = work / "isolation"
    python = venv / "bin" / "python"
    quiet(["uv", "venv", "-q", "-p", cell.interpreter, str(venv)])
    quiet(["uv", "pip", "install", "-q", "--python", str(python), f"torch=={cell.torch}", f"shap=={cell.shap}"])
    models = suite.discover()
    cases = len(models) * 2  # CPU cases: every model with both explainers
    supervised, plain = [], []
    for i in range(rounds):
        print(f"isolation: round {i + 1}/{rounds} ...", flush=True)
        args = ["--out", str(work / "isolation.json")] + [a for n, p in models.items() for a in ("--model", f"{n}={p}")]
        supervised.append(timed([str(python), str(ROOT / "harness" / "cell" / "supervisor.py"), *args]))
        plain.append(timed([str(python), str(FLOOR), *(f"{n}={p}" for n, p in models.items())]))
    s, p = statistics.median(supervised), statistics.median(plain)
    table(f"{cases} CPU cases in one environment (median of {rounds})",
          {"supervisor + worker (crash isolation)": s, "plain loop in one process": p})
    print(f"isolation overhead per case = {(s - p) / cases * 1000:.0f} ms")


def disk_section(work: Path, budget: float) -> None:
    """Peak extra disk of a three-row run (the newest three torch minors), without and with --disk-budget."""
    _, cells = plan()
    torches = sorted({c.torch for c in cells})[-3:]
    shap = max(c.shap for c in cells)
    grid = work / "disk-grid.toml"
    grid.write_text(tomli_w.dumps({"grids": {"disk": {"torch": [str(t) for t in torches], "shap": [str(shap)]}}}))
    rows = {}
    for label, extra, cache in (("without budget", [], work / "uv-disk"),
                                (f"with --disk-budget {budget:g}", ["--disk-budget", str(budget)], None)):
        print(f"disk: {label} ...", flush=True)
        env = dict(os.environ, MATRIX_GRID_FILE=str(grid))
        if cache:
            env["UV_CACHE_DIR"] = str(cache)
        envdir = work / "disk-envs"
        sampler = disk.PeakSampler(ROOT)
        seconds = timed(nox_command(envdir, "-s", "matrix", "--", "--grid", "disk", "--results",
                                    str(work / f"disk-{len(rows)}"), "--model", "mlp", "--explainer", "deep", *extra),
                        cwd=ROOT, env=env)
        rows[f"{label}: peak GB"] = sampler.stop() / disk.GB
        rows[f"{label}: seconds"] = seconds
        shutil.rmtree(envdir, ignore_errors=True)
        if cache:
            shutil.rmtree(cache, ignore_errors=True)
    table(f"rows torch {', '.join(map(str, torches))} x shap {shap}, mlp/deep, cold", rows)


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, since boot), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def own_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (the matrix and everything it started)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grid_run(work: Path, jobs: int, label: str) -> dict:
    """One warm default-grid run (--force) at --jobs N: seconds, load, every case, and the CPU others used meanwhile."""
    results = work / f"parallel-{label}"
    shutil.rmtree(results, ignore_errors=True)
    load, busy, own = os.getloadavg()[0], busy_seconds(), own_cpu_seconds()
    seconds = timed(nox_command(work / "parallel-envs", "-s", "matrix", "--", "--force", "--jobs", str(jobs),
                                "--results", str(results)), cwd=ROOT)
    others = max(0.0, (busy_seconds() - busy) - (own_cpu_seconds() - own)) / seconds  # cores busy with others' work
    cases = {}
    documents = store.read_cells(results)
    for document in documents:
        for case in document.cases:
            cases[(document.id, case.model, case.explainer, case.device)] = case
    ran = sum(document.status == "ran" for document in documents)
    return {"seconds": seconds, "load": load, "cases": cases, "ran": ran, "others": others}


def warm_call(case) -> tuple[float, float] | None:
    """(median, IQR) of a case's warm shap_values() calls, where it has them."""
    call = case.timing.warm.call
    return (call.median, call.iqr or 0.0) if call.median else None


def quantile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def parallel_section(work: Path, rounds: int) -> None:
    """The warm default grid at --jobs 1 and --jobs 2 in one run, alternating, and what concurrency does to timings."""
    runs = {1: [], 2: []}
    for i in range(rounds):
        for jobs in (1, 2):
            print(f"parallel: round {i + 1}/{rounds}, --jobs {jobs} (load average {os.getloadavg()[0]:.1f}) ...",
                  flush=True)
            runs[jobs].append(grid_run(work, jobs, f"{jobs}-{i}"))
    seconds = {jobs: statistics.median(r["seconds"] for r in done) for jobs, done in runs.items()}
    one, two = runs[1][-1], runs[2][-1]
    table(f"warm default grid, {one['ran']} cells run (--force, median of {rounds})",
          {"--jobs 1": seconds[1], "--jobs 2": seconds[2]})
    each = {jobs: ", ".join(f"{r['seconds']:.1f}" for r in done) for jobs, done in runs.items()}
    print(f"each run (seconds, in the order run, alternating): --jobs 1: {each[1]}; --jobs 2: {each[2]}")
    loads = {jobs: ", ".join(f"{r['load']:.1f}" for r in done) for jobs, done in runs.items()}
    print(f"load average (1 min) before each run: --jobs 1: {loads[1]}; --jobs 2: {loads[2]}")
    others = {jobs: ", ".join(f"{r['others']:.2f}" for r in done) for jobs, done in runs.items()}
    print(f"cores busy with other processes' work during each run (of {os.cpu_count()}): --jobs 1: {others[1]}; "
          f"--jobs 2: {others[2]}")
    print(f"--jobs 2 / --jobs 1 = {seconds[2] / seconds[1]:.2f} (target <= 0.6)")
    outcomes = [{key: case["outcome"] for key, case in r["cases"].items()} for done in runs.values() for r in done]
    first = outcomes[0]
    differ = sorted({key for other in outcomes[1:] for key in first.keys() | other.keys()
                     if first.get(key) != other.get(key)})
    print(f"outcomes identical across the {len(outcomes)} runs: {'yes' if not differ else 'NO'} ({len(first)} cases"
          f"{'' if not differ else f'; {len(differ)} differ, e.g. ' + ', '.join('/'.join(k) for k in differ[:3])})")
    pairs = [(warm_call(one["cases"][key]), warm_call(two["cases"][key])) for key in one["cases"]
             if key in two["cases"]]
    pairs = [(a, b) for a, b in pairs if a and b]
    if not pairs:
        return
    ratios = [b[0] / a[0] for a, b in pairs]
    spread = {jobs: statistics.median(t[i][1] / t[i][0] for t in pairs) for i, jobs in enumerate((1, 2))}
    at_once = {jobs: ", ".join(map(str, sorted({c.get("concurrent_cells") for c in r["cases"].values()} - {None})))
               for jobs, r in ((1, one), (2, two))}
    print()
    print(tabulate([["median of the per-case medians (ms)", f"{statistics.median(a[0] for a, _ in pairs) * 1000:.1f}",
                     f"{statistics.median(b[0] for _, b in pairs) * 1000:.1f}"],
                    ["median IQR / median within a case", f"{spread[1]:.3f}", f"{spread[2]:.3f}"],
                    ["cells at once recorded with the cases", at_once[1], at_once[2]]],
                   headers=[f"warm shap_values() per case ({len(pairs)} cases with warm timings)", "--jobs 1", "--jobs 2"],
                   tablefmt="github", disable_numparse=True))
    print(f"per case, --jobs 2 time / --jobs 1 time: p10 {quantile(ratios, 0.1):.2f}, median "
          f"{statistics.median(ratios):.2f}, p90 {quantile(ratios, 0.9):.2f}")


SECTIONS = ("row", "creation", "rerun", "isolation", "disk", "parallel")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch", default="2.4.1")
    parser.add_argument("--shap", nargs="+", help="shap versions (default: the row's first three default-grid cells)")
    parser.add_argument("--rounds", type=int, default=1, help="timed warm rounds (default: %(default)s)")
    parser.add_argument("--skip-pip", action="store_true", help="leave out the (slow) pip-backend approach")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="sections to run (default: all)")
    parser.add_argument("--disk-budget", type=float, default=14.0, help="budget for the disk section (GB)")
    args = parser.parse_args(argv)
    cells = choose_cells(args.torch, args.shap)
    print(f"row: torch {args.torch} x shap {', '.join(str(c.shap) for c in cells)} "
          f"(Pythons {', '.join(c.python for c in cells)})")
    host = hostinfo.host()
    print(f"host: {host['cpu_model']}, {host['cpu_count']} cores, {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=ROOT / ".nox" if (ROOT / ".nox").exists() else None) as tmp:
        work = Path(tmp)
        if "row" in args.only:
            row_section(cells, work, args.rounds, args.skip_pip)
        if "creation" in args.only:
            creation_section(cells[0], work)
        if "rerun" in args.only:
            rerun_section(cells, work)
        if "isolation" in args.only:
            isolation_section(cells[0], work, max(args.rounds, 2))
        if "disk" in args.only:
            disk_section(work, args.disk_budget)
        if "parallel" in args.only:
            parallel_section(work, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
