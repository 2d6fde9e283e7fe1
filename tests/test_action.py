"""action.yml (issue 22 item 4): another repository's workflow runs its own model across a torch x shap grid with
`uses: ./` and gets the table in its job summary.  Run as written through tests/workflow_runner.py, whose
`uses: ./` goes to tests/composite_action.py; the cells install real wheels (e2e)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from composite_action import run_composite
from workflow_runner import Run, WorkflowError, make_tools

from harness.plan import pythons

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "tests" / "fixtures" / "action" / "workflow.yml"


def test_the_action_is_composite_and_every_run_step_names_its_shell():
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    assert spec["runs"]["using"] == "composite" and spec["inputs"]["models"]["required"] is True
    assert all(step.get("shell") == "bash" for step in spec["runs"]["steps"] if "run" in step)


def test_a_missing_required_input_is_an_error(tmp_path):
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "action.yml").write_text((ROOT / "action.yml").read_text())

    class NoRun:
        def github(self, workspace):
            return {}
    with pytest.raises(WorkflowError, match="required input 'models' missing"):
        run_composite(NoRun(), {"workspace": tmp_path / "workspace"}, "./", {}, {})


@pytest.mark.e2e
def test_the_action_runs_a_two_cell_grid_on_a_callers_model(tmp_path):
    available = pythons.available()
    if "3.12" not in available:
        pytest.skip("setup-python asks for 3.12, which this machine does not have")
    tools = make_tools(tmp_path / "tools", available["3.12"], available)
    run = Run(WORKFLOW, tmp_path / "run", tools, inputs={}, variables={}, source=ROOT)
    jobs = run.run()
    failures = [entry for entry in run.log if entry[2] != "success"]
    assert not failures, "\n\n".join(f"{job} / {step}: {outcome}\n{tail}" for job, step, outcome, tail in failures)
    assert jobs["matrix"]["result"] == "success"
    job, = jobs["matrix"]["instances"]
    results = job["workspace"] / "torch-shap-matrix-results"
    cells = sorted(p.stem for p in (results / "raw").glob("*.json"))
    assert cells == ["torch_2_4_1-shap_0_44_1", "torch_2_4_1-shap_0_46_0"]
    for cell in cells:
        record = json.loads((results / "raw" / f"{cell}.json").read_text())
        assert {c["model"] for c in record["cases"]} == {"tiny_regressor"}  # the caller's model only
        assert {c["outcome"] for c in record["cases"] if c["device"] == "cpu"} == {"pass"}
    summary = job["summary"]
    assert summary.startswith("## torch x shap: your models")
    assert "0.44.1" in summary and "0.46.0" in summary and "2.4.1" in summary
