"""Reproducers on demand (python -m harness.publish.reproducers / nox -s reproduce) from recorded raw results.

The page's deduplicated reproducers are tested with the page (tests/test_site.py); running one in a real cell's
environment is tests/test_e2e.py.
"""
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.publish import reproducers

ROOT = Path(__file__).resolve().parent.parent
RAW = Path(__file__).parent / "fixtures" / "raw"


@pytest.fixture
def results(tmp_path):
    shutil.copytree(RAW, tmp_path / "results" / "raw")
    return tmp_path / "results"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "harness.publish.reproducers", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def imports(source: str) -> set:
    return {alias.name.split(".")[0] for node in ast.parse(source).body
            if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}


def test_one_case_is_written_for_the_newest_cell_where_it_fails(results):
    done = cli("relu_inplace/deep/cpu", "--results", str(results))
    assert done.returncode == 0, done.stderr
    script = results / "reproducers" / "torch_2_4_1-shap_0_46_0" / "relu_inplace-deep-cpu.py"
    assert done.stdout.splitlines() == [
        f"reproducer: {script} (recorded: fail)",
        f"run: cd {script.parent.as_posix()} && uv venv --python 3.12 && uv pip install -r requirements.txt "
        "&& .venv/bin/python relu_inplace-deep-cpu.py"]
    source = script.read_text()
    assert imports(source) <= {"sys", "types", "numpy", "shap", "torch"}  # nothing of the harness
    assert "Recorded outcome: fail: RuntimeError: Output 0 of BackwardHookFunctionBackward is a view" in source
    assert "torch==2.4.1" in (script.parent / "requirements.txt").read_text()
    assert sorted(p.name for p in (results / "reproducers").rglob("*") if p.is_file()) == [
        "relu_inplace-deep-cpu.py", "requirements.txt"]  # that case only


def test_a_cell_can_be_chosen_by_versions_or_id(results, tmp_path):
    path, command, outcome = reproducers.write_one(results, "gru/deep/cpu", tmp_path / "out", torch="1.13.1",
                                                   shap="0.44.1")
    assert outcome == "fail"
    assert path == tmp_path / "out" / "gru-deep-cpu.py"
    assert "torch==1.13.1" in (tmp_path / "out" / "requirements.txt").read_text()
    assert "Recorded outcome: fail:" in path.read_text()
    assert command.startswith(f"cd {tmp_path / 'out'} && ")
    path, _, outcome = reproducers.write_one(results, "gru/deep/cpu", cell="torch_2_4_1-shap_0_46_0")
    assert outcome == "mismatch"
    assert "ADDITIVITY_SOURCE" in path.read_text()  # it carries the harness's checks
    compile(path.read_text(), str(path), "exec")


@pytest.mark.parametrize("args, message", [
    (["nope/deep/cpu"], "no case nope/deep/cpu ran in these results (cases that ran:"),
    (["relu_inplace/deep"], "is not MODEL/EXPLAINER/DEVICE"),
    (["relu_inplace/lime/cpu"], "is not MODEL/EXPLAINER/DEVICE"),
    (["relu_inplace/deep/cpu", "--torch", "9.9"], "no case relu_inplace/deep/cpu in torch 9.9 ran"),
    (["relu_inplace/deep/cuda"], "no case relu_inplace/deep/cuda ran"),
    (["relu_inplace/deep/cpu", "--bogus"], "bad option"),
])
def test_bad_input_is_one_line_and_exit_2(results, args, message):
    done = cli(*args, "--results", str(results))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (results / "reproducers").exists()


def test_a_missing_or_stale_matrix_json_is_built_from_the_raw_results(results):
    """matrix.json is generated, not kept in git: readers build it when it is missing or older than a raw file."""
    from harness.publish import page as site
    from harness.publish.matrix_file import read_matrix
    assert not (results / "matrix.json").exists()
    cells = {c["cell"] for c in read_matrix(results)["cases"]}
    assert (results / "matrix.json").exists()
    assert cells == {p.stem for p in (results / "raw").glob("*.json")}
    (results / "raw" / "torch_2_4_1-shap_0_54_1.json").unlink()  # as if a pull removed a cell: touch the rest
    for path in (results / "raw").glob("*.json"):
        path.touch()
    page = site.write_site(results, results / "site").read_text()
    assert "torch_2_4_1-shap_0_54_1" not in {c["cell"] for c in read_matrix(results)["cases"]}
    assert re.search(r'data-key="deep\|cpu\|2\.4\.1\|0\.54\.1"[^>]*data-outcome-class="empty"', page)  # no cases now
