"""The fleet's workflow run as written (tests/workflow_runner.py): plan -> a CPU shard that installs its cell and
a GPU shard that tests a supplied environment -> publish -> commit and regressions in dry-run; and the expression
evaluator it uses, which fails loudly on anything it does not know."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from test_supplied import environment  # noqa: F401 (a fixture: a real virtualenv with torch and shap)
from workflow_runner import EMBEDDED, Expression, Run, Scope, WorkflowError, condition, make_tools

from harness.plan import pythons

from harness.run import supplied
ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "matrix.yml"
INPUTS = {"grid": "default", "select": "torch_2_4_1 and shap_0_46_0", "models": "mlp", "publish": True,
          "dry_run": True}
CPU_CELL = "torch_2_4_1-shap_0_46_0"


# --- the evaluator -------------------------------------------------------------------------------------------


def scope(**contexts):
    base = {"github": {"event_name": "schedule"}, "inputs": {}, "needs": {}, "steps": {}, "matrix": {}}
    return Scope(dict(base, **contexts))


@pytest.mark.parametrize("text, expected", [
    ("inputs.grid || 'default'", "default"),
    ("fromJSON(needs.plan.outputs.shards || '0') > 0", False),
    ("fromJSON('{\"include\": [1, 2]}').include[1]", 2),
    ("github.event_name == 'SCHEDULE'", True),  # strings compare case-insensitively
    ("'1' == 1 && !('' || null)", True),  # mixed types compare as numbers; '' and null are falsy
    ("contains('abc', 'B') && startsWith('gpu-x', 'gpu')", True),
    ("steps.absent.outputs.key != ''", False),  # an absent output is null, which equals ''
])
def test_expressions(text, expected):
    assert Expression(text).evaluate(scope()) == expected


@pytest.mark.parametrize("text, message", [
    ("secretz.TOKEN", "unknown context 'secretz'"),
    ("toUpper('x')", "unknown function toUpper()"),
    ("github.no_such_thing", "has no 'no_such_thing'"),
    ("inputs.grid = 'x'", "cannot read the expression"),
    ("(inputs.grid", "expected ')'"),
])
def test_unknown_expressions_fail_loudly(text, message):
    with pytest.raises(WorkflowError, match=re.escape(message)):
        Expression(text).evaluate(scope())


def test_conditions_carry_the_implicit_success():
    failed = scope()
    failed.failed = True
    assert not condition("github.event_name == 'schedule'", failed)
    assert condition("always() && github.event_name == 'schedule'", failed)
    assert condition("${{ !cancelled() }}", failed) and not condition(None, failed)


def test_every_expression_of_the_workflow_parses():
    found = []

    def walk(value):
        if isinstance(value, dict):
            [walk(v) for v in value.values()]
        elif isinstance(value, list):
            [walk(v) for v in value]
        elif isinstance(value, str):
            found.extend(EMBEDDED.findall(value))

    spec = yaml.safe_load(WORKFLOW.read_text())
    walk(spec)
    for job in spec["jobs"].values():
        found.extend(str(step["if"]) for step in job["steps"] if "if" in step)
        found.extend([str(job["if"])] if "if" in job else [])
    assert len(found) > 40
    for text in found:
        Expression(EMBEDDED.fullmatch(text.strip()).group(1) if EMBEDDED.fullmatch(text.strip()) else text)


# --- the run -------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_workflow_runs_as_written(tmp_path, environment):  # noqa: F811
    available = pythons.available()
    if "3.12" not in available:
        pytest.skip("setup-python asks for 3.12, which this machine does not have")
    tools = make_tools(tmp_path / "tools", available["3.12"], available)
    run = Run(WORKFLOW, tmp_path / "run", tools, inputs=INPUTS, source=ROOT,
              variables={"GPU_RUNNER": '["self-hosted", "gpu"]', "GPU_PYTHON": str(environment)})
    jobs = run.run()
    failures = [entry for entry in run.log if entry[2] != "success"]
    assert not failures, "\n\n".join(f"{job} / {step}: {outcome}\n{tail}" for job, step, outcome, tail in failures)
    assert {name: job["result"] for name, job in jobs.items()} == {
        "plan": "success", "cells": "success", "publish": "success", "commit": "success", "deploy": "skipped",
        "regressions": "success"}

    # plan: the matrix as the plan step wrote it to GITHUB_OUTPUT, through the job's outputs
    matrix = json.loads(jobs["plan"]["outputs"]["matrix"])["include"]
    assert jobs["plan"]["outputs"]["shards"] == "2"
    assert [(s["kind"], s["sessions"], s["supplied_python"]) for s in matrix] == [
        ("cpu", f"cell({CPU_CELL})", ""), ("gpu", "", str(environment))]

    # cells: one job per shard, named by the matrix; artifacts named as the upload steps name them
    cpu_job, gpu_job = jobs["cells"]["instances"]
    assert (cpu_job["name"], gpu_job["name"]) == (matrix[0]["name"], matrix[1]["name"])
    label = supplied.label_of(None)
    gpu_id = f"{CPU_CELL}-supplied-{label}"
    artifacts = run.artifacts
    cpu_record = json.loads((artifacts / "raw-cpu-torch_2_4_1" / "cpu" / "raw" / f"{CPU_CELL}.json").read_text())
    gpu_record = json.loads((artifacts / "raw-gpu-supplied" / "gpu" / "raw" / f"{gpu_id}.json").read_text())
    assert cpu_record["provenance"] == "installed by the harness" and cpu_record["settings"]["models"] == ["mlp"]
    assert {c["outcome"] for c in cpu_record["cases"] if c["device"] == "cpu"} == {"pass"}
    assert gpu_record["provenance"] == "supplied environment" and gpu_record["settings"]["devices"] == ["cuda"]
    assert {c["device"] for c in gpu_record["cases"]} == {"cuda"}  # a GPU shard runs only the cuda cases
    assert (artifacts / "index-cache").is_dir()

    # uv's cache: the CPU shard restores and saves under its kind, release and a digest of what it resolved
    restores = [c for c in run.caches if c[0] == "restore"]
    saves = [c for c in run.caches if c[0] == "save"]
    assert [c[1] for c in restores] == ["uv-Linux-X64-cpu-torch_2_4_1-py3.12-"]
    [(_, key, _)] = saves
    assert re.fullmatch(r"uv-Linux-X64-cpu-torch_2_4_1-py3\.12-[0-9a-f]{16}", key)

    # publish: merged, reported, diffed and paged; the diff is in the step summary
    published = artifacts / "published-results"
    rows = json.loads((published / "matrix.json").read_text())["cases"]
    assert {r["cell"] for r in rows} >= {CPU_CELL, gpu_id}
    assert (published / "raw" / "gpu" / f"{gpu_id}.json").exists() and not (published / "site").exists()
    assert (artifacts / "github-pages" / "index.html").exists()
    assert "## Summary (cpu)" in jobs["publish"]["instances"][0]["summary"]

    # commit, dry run: a real commit of results/ in the job's clone, nothing pushed, nothing deployed
    commit = jobs["commit"]["instances"][0]
    assert "dry run, not pushed: Matrix results of workflow run 4242" in commit["summary"]
    changed = subprocess.run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=commit["workspace"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert f"results/raw/gpu/{gpu_id}.json" in changed and not any(n.startswith("results/site/") for n in changed)
    origin = subprocess.run(["git", "log", "--format=%s", "main"], cwd=run.origin, capture_output=True, text=True,
                            check=True).stdout.split("\n")
    assert origin[0] == "the checkout under test" and run.deployments == []
    regressions = [tail for job, step, _, tail in run.log if step.startswith("Open, update or close")]
    assert regressions and "planning as if no regression issue existed" in regressions[0]
