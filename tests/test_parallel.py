"""Cells in parallel (--jobs): scheduling, the inherited lock, progress lines, and real concurrent runs with faults."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.version import Version

from harness.run import options
from harness.run import parallel
from harness.run import progress
from harness.records import lock
from harness.errors import HarnessError
from nox_runner import ROOT, nox, nox_in_background

LINE = re.compile(r"^nox > \[ ?(\d+)/(\d+)\] (torch_\S+): (.+) \((\d+) s\) \| (\d+) done, (\d+) to run, (\d+) reused \| "
                  r"(\d+:\d\d) elapsed, ~(\d+:\d\d) left$")


# --- units ------------------------------------------------------------------------------

def test_a_progress_line_per_cell_with_counts_elapsed_and_time_left():
    now = [100.0]
    bar = progress.Progress(to_run=4, reused=3, now=lambda: now[0])
    now[0] += 60
    first = bar.finished("torch_2_4_1-shap_0_46_0", "28 pass, 2 fail", 58.4)
    assert first == ("[1/4] torch_2_4_1-shap_0_46_0: 28 pass, 2 fail (58 s) | 1 done, 3 to run, 3 reused | "
                     "1:00 elapsed, ~3:00 left")
    now[0] += 3600
    last = [bar.finished(f"cell{i}", "ok", 1) for i in range(3)][-1]
    assert last.endswith("4 done, 0 to run, 3 reused | 1:01:00 elapsed, ~0:00 left")
    assert "\r" not in first + last
    assert progress.clock(59.6) == "1:00"
    assert progress.clock(3725) == "1:02:05"


def cell(torch, shap, python):
    return SimpleNamespace(torch=Version(torch), shap=Version(shap), python=python, id=f"{torch}-{shap}")


def test_a_rows_first_cell_and_each_new_python_fill_the_cache_before_their_neighbours():
    cells = [cell("2.4.1", "0.42.1", "3.11"), cell("2.4.1", "0.44.1", "3.11"), cell("2.4.1", "0.46.0", "3.12"),
             cell("2.4.1", "0.49.1", "3.12"), cell("2.15.0", "0.46.0", "3.12")]
    planned = parallel.order(cells)
    waits = {c.id: deps for c, deps in planned}
    assert waits == {"2.4.1-0.42.1": set(), "2.4.1-0.44.1": {"2.4.1-0.42.1"},
                     "2.4.1-0.46.0": {"2.4.1-0.42.1"}, "2.4.1-0.49.1": {"2.4.1-0.42.1", "2.4.1-0.46.0"},
                     "2.15.0-0.46.0": set()}
    # the cells others wait for come first, so their neighbours are unblocked early
    assert [c.id for c, _ in planned][:3] == ["2.4.1-0.42.1", "2.4.1-0.46.0", "2.15.0-0.46.0"]


def test_cells_at_once_counts_the_most_cells_alive_together_during_a_suite(tmp_path):
    log = tmp_path / "activity"
    log.write_text("start a 0\nstart b 1\nend b 5\nstart c 6\nstart d 7\nend d 8\nend a 20\nstart e 30\n")
    assert parallel.cells_at_once(log, "a", 2, 10) == 3  # a, c and d between 7 and 8
    assert parallel.cells_at_once(log, "a", 2, 5.5) == 2
    assert parallel.cells_at_once(log, "c", 9, 29) == 2  # c and a; e starts after
    assert parallel.cells_at_once(log, "e", 31, 40) == 2  # c never ended: still alive
    assert parallel.cells_at_once(tmp_path / "missing", "a", 0, 1) == 1


def test_jobs_default_to_cores_and_memory_and_must_be_positive():
    jobs, why = parallel.choose_jobs(None)
    assert 1 <= jobs <= parallel.cores()
    assert "cores" in why
    assert parallel.choose_jobs(3) == (3, "asked")
    assert options.parse(["--jobs", "2"]).jobs == 2
    for bad in ("0", "-1", "two"):
        with pytest.raises(HarnessError, match="--jobs: expected a whole number of at least 1"):
            options.parse(["--jobs", bad])


def try_lock(results, fd=None):
    """A fresh process taking the lock (through an inherited descriptor when fd is given); its return code."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from harness.records import lock; "
            f"lock.hold_lock({str(results)!r}); print('held')")
    env = dict(os.environ)
    env.pop(lock.LOCK_FD, None)
    if fd is not None:
        env[lock.LOCK_FD] = str(fd)
    return subprocess.run([sys.executable, "-c", code], env=env, pass_fds=(fd,) if fd is not None else (),
                          capture_output=True, text=True)


def test_cells_started_by_the_matrix_share_its_lock_and_nobody_else_does(tmp_path):
    results = tmp_path / "results"
    lock.hold_lock(results)
    fd = lock.held_lock(results)
    assert try_lock(results, fd).stdout == "held\n"  # a cell process given the matrix's descriptor
    refused = try_lock(results)
    assert refused.returncode != 0
    assert "another matrix run (pid" in refused.stderr
    with open(tmp_path / "other", "w") as other:  # a stray variable naming some other file's descriptor
        assert try_lock(results, other.fileno()).returncode != 0


def test_the_lock_outlives_the_matrix_while_its_cells_still_write(tmp_path):
    """Killed without a chance to stop its cells, the matrix's lock stays held by them until they end."""
    results = tmp_path / "results"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import sys, subprocess, os; sys.path.insert(0, {str(ROOT)!r}); "
                               f"from harness.records import lock; lock.hold_lock({str(results)!r}); "
                               f"fd = lock.held_lock({str(results)!r}); "
                               "cell = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(8)'], "
                               "pass_fds=(fd,)); print(cell.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    cell_pid = int(holder.stdout.readline())
    holder.kill()  # SIGKILL: no handler runs
    holder.wait()
    assert try_lock(results).returncode != 0  # the orphaned cell still holds it
    while Path(f"/proc/{cell_pid}").exists() and "Z" not in Path(f"/proc/{cell_pid}/stat").read_text().split()[2]:
        time.sleep(0.2)
    assert try_lock(results).returncode == 0


# --- real concurrent runs ---------------------------------------------------------------

GRID = '[torch]\nalways = ["2.4.1"]\n[grids.two]\ntorch = ["2.4.1", "2.15.0"]\nshap = ["0.46.0"]\n'
CELLS = ("torch_2_4_1-shap_0_46_0", "torch_2_15_0-shap_0_46_0")  # two torch rows: they start together


def matrix_args(results, *extra):
    return ["-s", "matrix", "--", "--grid", "two", "--results", str(results), "--models",
            str(ROOT / "tests" / "fault_models"), "--explainer", "deep", "--repeats", "1", *extra]


@pytest.fixture
def grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return {"MATRIX_GRID_FILE": str(path)}


def wait_for_suites(envdir, cells=CELLS, timeout=600):
    """Until every named cell's own log shows its suite running."""
    logs = [envdir / "matrix-logs" / f"{c}.log" for c in cells]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(log.exists() and "supervisor.py" in log.read_text() for log in logs):
            return
        time.sleep(0.2)
    raise AssertionError("the cells' suites did not start")


def processes_mentioning(text):
    """Live processes whose command line contains text (zombies left out)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace") \
                    and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.e2e
def test_two_cells_at_once_record_a_crash_and_a_hang_and_report_progress(tmp_path, grid):
    results, envdir = tmp_path / "results", tmp_path / ".nox"
    process = nox(*matrix_args(results, "--model", "mlp", "--model", "segfault", "--model", "hang", "--timeout", "10",
                               "--jobs", "2"), envdir=envdir, env=grid, timeout=900)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-3000:]
    for cell_id in CELLS:
        document = json.loads((results / "raw" / f"{cell_id}.json").read_text())
        cpu = {c["model"]: c for c in document["cases"] if c["device"] == "cpu"}
        assert cpu["mlp"]["outcome"] == "pass"
        assert cpu["segfault"]["outcome"] == "crash"
        assert "SIGSEGV" in cpu["segfault"]["crash"]["exit"]
        assert cpu["hang"]["outcome"] == "timeout"
        # both cells ran side by side, and each case says so
        assert document["concurrency"]["jobs"] == 2
        assert document["concurrency"]["cells_at_once"] == 2
        assert {c["concurrent_cells"] for c in document["cases"]} == {2}
    progress_lines = [line for line in output.splitlines() if line.startswith("nox > [")]
    assert len(progress_lines) == 2, progress_lines
    assert all(LINE.match(line) for line in progress_lines), progress_lines
    assert [LINE.match(line).group(1, 2, 6, 7) for line in progress_lines] == [("1", "2", "1", "1"),
                                                                                ("2", "2", "2", "0")]
    assert "\r" not in output
    assert "supervisor.py" not in output
    assert "uv pip install" not in output  # cell internals stay in the logs
    assert "supervisor.py" in (envdir / "matrix-logs" / f"{CELLS[0]}.log").read_text()
    last = [line for line in output.splitlines() if line.strip()][-2:]
    assert last[0].startswith("nox > table: ")
    assert "COMPATIBILITY.md" in last[0]
    assert re.match(r"nox > done: 2 cells run, 0 reused in \d+:\d\d with --jobs 2; 2 cells: ", last[1]), last


@pytest.mark.e2e
def test_a_killed_cell_fails_alone_and_runs_again_next_time(tmp_path, grid):
    results, envdir = tmp_path / "results", tmp_path / ".nox"
    args = matrix_args(results, "--model", "mlp", "--model", "hang", "--timeout", "15", "--jobs", "2")
    run = nox_in_background(*args, envdir=envdir, env=grid)
    wait_for_suites(envdir)
    victim = [p for p in processes_mentioning(f"cell({CELLS[1]})") if os.getpgid(p) == p]
    assert len(victim) == 1
    os.killpg(victim[0], signal.SIGKILL)  # the cell's nox, supervisor and worker, as an OOM killer might
    out, err = run.communicate(timeout=900)
    output = out + err
    assert run.returncode != 0
    assert re.search(rf"\] {CELLS[1]}: session failed \(exit -9\), log \S+{CELLS[1]}.log \(\d+ s\)", output), output
    assert json.loads((results / "raw" / f"{CELLS[0]}.json").read_text())["status"] == "ran"
    assert not (results / "raw" / f"{CELLS[1]}.json").exists()
    assert f"1 cell sessions failed; their logs are in {envdir / 'matrix-logs'}" in output
    again = nox(*args, envdir=envdir, env=grid, timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert "1 reused (results still hold), 1 to run" in again.stdout + again.stderr
    assert json.loads((results / "raw" / f"{CELLS[1]}.json").read_text())["status"] == "ran"


def matrix_with_a_hang_running(tmp_path, grid):
    """A --jobs 2 matrix in its own process group, returned once both cells' suites run (one hangs)."""
    results, envdir = tmp_path / "results", tmp_path / ".nox"
    args = matrix_args(results, "--model", "mlp", "--model", "hang", "--timeout", "15", "--jobs", "2")
    run = nox_in_background(*args, envdir=envdir, env=grid, new_session=True)
    wait_for_suites(envdir)
    return results, envdir, args, run


@pytest.mark.e2e
def test_a_terminated_matrix_stops_its_cells_frees_the_lock_and_resumes(tmp_path, grid):
    results, envdir, args, run = matrix_with_a_hang_running(tmp_path, grid)
    os.killpg(run.pid, signal.SIGTERM)  # as a CI runner's cancel or `kill` would
    run.communicate(timeout=120)
    time.sleep(1)
    assert processes_mentioning(str(envdir)) == []  # no cell, supervisor or worker left behind
    assert not list((results / "raw").glob("*.json"))
    assert not list((results / "raw").glob("*.part"))
    again = nox(*args, envdir=envdir, env=grid, timeout=900)  # the lock is free: it runs
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-3000:]
    assert "0 reused (results still hold), 2 to run" in output
    assert all(json.loads((results / "raw" / f"{c}.json").read_text())["status"] == "ran" for c in CELLS)


@pytest.mark.e2e
def test_a_matrix_killed_outright_keeps_the_lock_until_its_cells_finish(tmp_path, grid):
    results, envdir, args, run = matrix_with_a_hang_running(tmp_path, grid)
    run.kill()  # SIGKILL to the matrix alone: its cells go on, orphaned, and must keep others out
    run.communicate(timeout=60)
    second = nox(*args, envdir=tmp_path / ".nox-second", env=grid, timeout=300)
    lines = [line for line in (second.stdout + second.stderr).splitlines() if "aborted:" in line]
    assert second.returncode != 0
    assert len(lines) == 1
    assert "another matrix run (pid" in lines[0]
    deadline = time.time() + 600
    while processes_mentioning(str(envdir)) and time.time() < deadline:
        time.sleep(0.5)
    again = nox(*args, envdir=envdir, env=grid, timeout=900)  # what the orphans wrote is whole and reused
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-3000:]
    assert "2 reused (results still hold), 0 to run" in output


@pytest.mark.e2e
def test_the_disk_budget_runs_a_row_in_parallel_then_deletes_it(tmp_path):
    """Cold on a private cache: two cells of one row (two Pythons), then the row's venvs and cache are gone."""
    import shutil

    if shutil.disk_usage(ROOT).free < 12 * 1024 ** 3:
        pytest.skip("needs 12 GB free for a cold torch row")
    grid = tmp_path / "grid.toml"
    grid.write_text('[torch]\nalways = ["2.4.1"]\n[grids.budget]\ntorch = ["2.4.1"]\nshap = ["0.44.1", "0.46.0"]\n')
    results, envdir = tmp_path / "results", tmp_path / ".nox"
    process = nox("-s", "matrix", "--", "--grid", "budget", "--results", str(results), "--model", "mlp",
                  "--explainer", "deep", "--jobs", "2", "--disk-budget", "10", envdir=envdir,
                  env={"MATRIX_GRID_FILE": str(grid)}, timeout=1200)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-3000:]
    assert re.search(r"freed \d+\.\d GB after the torch 2\.4\.1 row", output)
    assert "peak disk used by this run" in output
    for cell_id in ("torch_2_4_1-shap_0_44_1", "torch_2_4_1-shap_0_46_0"):
        assert json.loads((results / "raw" / f"{cell_id}.json").read_text())["status"] == "ran"
        assert not (envdir / f"cell-{cell_id}").exists()
    torch_wheels = ROOT / ".cache" / "uv-row"
    assert not any(torch_wheels.glob("wheels-*/pypi/torch/*"))  # only the report's small packages came back


def test_cells_are_started_with_the_parents_venv_options_read_from_its_command_line():
    envdir = Path("/tmp/envs")
    argv = ["-f", "noxfile.py", "--envdir", "elsewhere", "-s", "matrix", "-db", "uv", "-R", "--", "-fb", "x"]
    assert parallel.nox_flags(envdir, argv) == ["--envdir", "/tmp/envs", "-db", "uv", "-R"]
    assert parallel.nox_flags(envdir, ["-s", "matrix", "--reuse-venv=yes", "--no-install"]) == [
        "--envdir", "/tmp/envs", "--reuse-venv", "yes", "--no-install"]
