"""The supplied-environment mode (harness.run.supplied): a real existing virtualenv with real torch and shap,
run with no install, merged into a table beside the harness's own cells, rendered and diffed; and bad input."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.publish import diff
from harness.records import merge
from harness.plan import pythons
from harness.publish import report
from harness.plan import hostinfo, reuse
from harness.plan.resolution import parse_pins
from harness.plan.settings import SuiteSettings
from harness.publish import page as site
from harness.run import supplied
from harness.records import store
from harness.plan.cells import Cell
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = ROOT / "tests" / "fixtures" / "raw" / "torch_2_4_1-shap_0_46_0.json"
TORCH, SHAP = "2.4.1", "0.46.0"  # the pair of the baseline cell above, so both rows share a (torch, shap)


def run_supplied(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.run.supplied", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> Path:
    """A virtualenv made the ordinary way (uv venv + uv pip install), before the harness sees it."""
    python = pythons.available().get("3.12")
    if not python:
        pytest.skip("no Python 3.12 on this machine")
    venv = tmp_path_factory.mktemp("supplied") / "venv"
    subprocess.run(["uv", "venv", "-q", "--python", python, str(venv)], check=True)
    subprocess.run(["uv", "pip", "install", "-q", "-p", str(venv), f"torch=={TORCH}", f"shap=={SHAP}"], check=True,
                   timeout=900)
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def record(environment, tmp_path_factory) -> tuple[Path, dict, subprocess.CompletedProcess]:
    results = tmp_path_factory.mktemp("supplied-results")
    before = sorted(p.name for p in environment.parent.parent.rglob("*"))
    done = run_supplied("--python", environment, "--results", results, "--model", "mlp", "--label", "My Box!")
    assert done.returncode == 0, done.stdout + done.stderr
    after = sorted(p.name for p in environment.parent.parent.rglob("*"))
    [path] = store.raw_dir(results).glob("*.json")
    document = json.loads(path.read_text())
    document["_installed_nothing"] = [n for n in after if n not in before and not n.endswith(".pyc")
                                      and n != "__pycache__"]
    return path, document, done


@pytest.mark.e2e
def test_a_supplied_environment_is_recorded_with_what_is_installed_there(record, environment):
    path, document, done = record
    assert path.name == "torch_2_4_1-shap_0_46_0-supplied-my_box.json"
    assert document["provenance"] == supplied.PROVENANCE == "supplied environment"
    assert document["_installed_nothing"] == []  # the environment is exactly as it was
    packages = document["resolved"]["packages"]
    listed = subprocess.run(["uv", "pip", "freeze", "-p", str(environment)], capture_output=True, text=True,
                            check=True).stdout
    assert packages == parse_pins(listed)  # every distribution, as the environment's own tools list them
    assert packages["torch"] == TORCH
    assert packages["shap"] == SHAP
    assert "numpy" in packages
    assert document["cell"] == {"id": path.stem, "torch": TORCH, "shap": SHAP, "python": "3.12",
                                "python_reason": f"supplied environment: {environment}",
                                "notes": [f"supplied environment 'my_box': {environment}"], "grids": [],
                                "grid_axes": {}}
    assert document["supplied"]["interpreter"] == str(environment)
    assert document["supplied"]["devices"] == "cpu"
    assert document["environment"]["versions"]["torch"].startswith(TORCH)  # what the worker imported
    assert document["run"]["host"]["cpu_model"]
    assert document["worker_starts"] == 1
    outcomes = {(c["model"], c["explainer"], c["device"]): c["outcome"] for c in document["cases"]}
    assert outcomes == {("mlp", "deep", "cpu"): "pass", ("mlp", "gradient", "cpu"): "pass",
                        ("mlp", "deep", "cuda"): "skip", ("mlp", "gradient", "cuda"): "skip"}
    assert "2 cpu pass, 2 cuda skip" in done.stdout
    assert str(path) in done.stdout


@pytest.mark.e2e
def test_it_merges_renders_and_diffs_as_a_row_of_its_own(record, tmp_path):
    path, document, _ = record
    results = tmp_path / "results"
    store.write_atomic(store.raw_dir(results) / INSTALLED.name, INSTALLED.read_text())
    before = diff.snapshot(results)
    report.write(results)
    installed_table = (results / "COMPATIBILITY.md").read_text()

    artifacts = tmp_path / "artifacts"
    (artifacts / "cpu" / "raw").mkdir(parents=True)
    shutil.copy(path, artifacts / "cpu" / "raw" / path.name)
    done = merge.merge(artifacts, results)
    assert done["added"] == [("cpu", path.stem)]
    assert done["kept"] == [("cpu", INSTALLED.stem)]
    report.write(results)
    table = (results / "COMPATIBILITY.md").read_text()
    row = "2.4.1 · supplied: my_box"
    assert f"| **{row}** |" in table
    assert "supplied environment `my_box`" in table
    # the installed cell's row is unchanged: the supplied environment's cases are not counted in it
    def cells_of(text, label):
        return [[c.strip() for c in line.split("|")] for line in text.splitlines() if line.startswith(f"| **{label}**")]

    assert cells_of(table, TORCH) == cells_of(installed_table, TORCH)
    # the summary (cpu) is split by explainer: DeepExplainer's grid, then GradientExplainer's
    assert [c[2] for c in cells_of(table, TORCH)[:2]] == ["⚠️ 6/15 · py3.12", "⚠️ 14/15 · py3.12"]
    assert cells_of(table, row)[:2] == [["", f"**{row}**", "✅ 1/1 · py3.12", ""]] * 2
    rows = json.loads((results / "matrix.json").read_text())["cases"]
    mine = [r for r in rows if r["cell"] == path.stem]
    assert len(mine) == 2
    assert {r["row"] for r in mine} == {row}  # no case ran on cuda: its skip rows are left out
    assert {r["provenance"] for r in mine} == {"supplied environment"}
    assert {r["provenance"] for r in rows if r["cell"] != path.stem} == {"installed by the harness"}

    page = site.write_site(results, results / "site").read_text()
    for explainer in ("deep", "gradient"):  # one heatmap per explainer, each with the supplied row of its own
        assert f'data-key="{explainer}|cpu|{row}|{SHAP}"' in page
        assert f'data-key="{explainer}|cpu|{TORCH}|{SHAP}"' in page

    result = diff.compare(before, diff.snapshot(results, "with the supplied environment"))
    assert result["added_cells"] == [path.stem]
    assert result["removed_cells"] == []
    assert result["newly_broken"] == []
    assert result["newly_fixed"] == []


@pytest.mark.e2e
def test_reuse_never_takes_a_supplied_record_for_an_installed_cell(record, tmp_path):
    """Even written under the installed cell's own file name, a supplied record is never reused as that cell."""
    path, document, _ = record
    results = tmp_path / "results"
    cell = Cell(Version(TORCH), Version(SHAP), "3.12", "", pythons.available().get("3.12"))
    disguised = dict(document, cell=dict(document["cell"], id=cell.id),
                     reuse={"key": "x", "parts": {"devices": hostinfo.host_devices()}})
    store.write_atomic(store.raw_dir(results) / f"{cell.id}.json", json.dumps(disguised))
    assert reuse.previous(results, cell).provenance == "supplied environment"
    models = {"mlp": ROOT / "models" / "mlp.py"}
    reused, to_run = reuse.plan_reuse([cell], results, SuiteSettings(), models)
    assert reused == []
    assert to_run == [cell]
    assert supplied.cell_id(TORCH, SHAP, "x") != cell.id  # and its own id can never be a cell's


@pytest.mark.parametrize("args, message", [
    (["--python", "/no/such/python"], "no Python interpreter at /no/such/python"),
    (["--python", str(ROOT / "README.md")], "is not an executable file"),
    (["--python", "/bin/false"], "is not a working Python interpreter"),
    (["--python", sys.executable], "has no torch and no shap installed"),
    (["--python", sys.executable, "--model", "nope"], "unknown model 'nope'"),
    (["--python", sys.executable, "--grid", "full"], "--grid is for nox -s matrix"),
    ([], "the following arguments are required: --python"),
    (["--python", sys.executable, "--label", "!!!"], "has no letters or digits"),
])
def test_bad_input_is_one_line(args, message, tmp_path):
    done = run_supplied(*args, "--results", tmp_path / "results")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ")
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "results" / "raw").exists()
