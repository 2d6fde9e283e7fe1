"""The fleet's workflow run as written (tests/workflow_runner.py): plan -> a CPU shard that installs its cell and
a GPU shard that tests a supplied environment -> publish -> commit and regressions in dry-run; and the expression
evaluator it uses, which fails loudly on anything it does not know."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
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
    ("format('{0}-{1} {{x}}', 'a', 1)", "a-1 {x}"),
    ("join(fromJSON('[\"a\", \"b\"]'), '+')", "a+b"),
    ("endsWith('raw-gpu-x', 'GPU-X') && !endsWith('a', 'b')", True),
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


def test_two_expressions_in_one_value_are_joined_as_text():
    from workflow_runner import interpolate
    values = scope(inputs={"a": "x", "b": 2})
    assert interpolate("${{ inputs.a }}-${{ inputs.b }}", values) == "x-2"
    assert interpolate("${{ inputs.b }}", values) == 2  # one whole expression keeps its type


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
    try:
        jobs = run.run()
    finally:
        run.api.close()
    failures = [entry for entry in run.log if entry[2] != "success"]
    assert not failures, "\n\n".join(f"{job} / {step}: {outcome}\n{tail}" for job, step, outcome, tail in failures)
    assert {name: job["result"] for name, job in jobs.items()} == {
        "plan": "success", "cells": "success", "gpu-cells": "success", "publish": "success", "commit": "success",
        "deploy": "skipped", "regressions": "success", "gpu-commit": "success", "gpu-deploy": "skipped",
        "failures": "success"}

    # plan: the matrix as the plan step wrote it to GITHUB_OUTPUT, through the job's outputs
    outputs = jobs["plan"]["outputs"]
    matrix = json.loads(outputs["matrix"])["include"] + json.loads(outputs["gpu_matrix"])["include"]
    assert (outputs["shards"], outputs["gpu_shards"]) == ("1", "1")
    assert [(s["kind"], s["sessions"], s["supplied_python"]) for s in matrix] == [
        ("cpu", f"cell({CPU_CELL})", ""), ("gpu", "", str(environment))]

    # cells: one job per shard, named by the matrix; artifacts named as the upload steps name them
    [cpu_job], [gpu_job] = jobs["cells"]["instances"], jobs["gpu-cells"]["instances"]
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

    # uv's cache, cold: the CPU shard misses, then saves its pruned cache under its kind, release and a digest of
    # what it resolved
    restores = [c for c in run.caches if c[0] == "restore"]
    saves = [c for c in run.caches if c[0] == "save"]
    assert restores == [("restore", "uv-Linux-X64-cpu-torch_2_4_1-py3.12-", "")]
    [(_, key, _)] = saves
    assert re.fullmatch(r"uv-Linux-X64-cpu-torch_2_4_1-py3\.12-[0-9a-f]{16}", key)

    # publish: merged, reported, diffed and paged; the diff is in the step summary
    published = artifacts / "published-results"
    rows = json.loads((published / "matrix.json").read_text())["cases"]
    assert CPU_CELL in {r["cell"] for r in rows}
    # the CPU table never waits for a GPU runner: GPU rows are merged by gpu-commit (checked below), not here
    assert gpu_id not in {r["cell"] for r in rows}
    assert not (published / "site").exists()
    assert not list(artifacts.glob("github-pages*"))  # a dry run uploads no page: nothing can be deployed
    assert "## Summary (cpu)" in jobs["publish"]["instances"][0]["summary"]

    # commit, dry run: a real commit of results/ in the job's clone, nothing pushed, nothing deployed
    commit = jobs["commit"]["instances"][0]
    assert (commit["workspace"] / "results" / "site" / "index.html").exists()  # the page, built on the merged tip
    assert "dry run, not pushed: Matrix results (cpu) of workflow run 4242" in commit["summary"]
    changed = subprocess.run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=commit["workspace"],
                             capture_output=True, text=True, check=True).stdout.split()
    gpu_commit = jobs["gpu-commit"]["instances"][0]
    changed += subprocess.run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=gpu_commit["workspace"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert f"results/raw/gpu/{gpu_id}.json" in changed and not any(n.startswith("results/site/") for n in changed)
    origin = subprocess.run(["git", "log", "--format=%s", "main"], cwd=run.origin, capture_output=True, text=True,
                            check=True).stdout.split("\n")
    assert origin[0] == "the checkout under test" and run.deployments == []
    regressions = [tail for job, step, _, tail in run.log if step.startswith("Open, update or close")]
    assert regressions  # a dry run prints the planned actions
    assert [method for method, _, _ in run.api.calls] == ["GET", "GET"]  # issues listed, none changed


# --- GitHub's job rules, on a small workflow of run: steps (no network) ------------------------------------------


RULES = """
on: workflow_dispatch
defaults:
  run:
    shell: bash
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
  test:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  report:
    needs: test
    if: github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  summary:
    needs: test
    if: ${{ !cancelled() && needs.test.result == 'skipped' }}
    runs-on: ubuntu-latest
    steps:
      - run: echo "saw ${{ needs.test.result }}"
  alarm:
    needs: test
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "an ancestor failed"
  shards:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        include: [{n: 1}, {n: 2}]
    steps:
      - run: test ${{ matrix.n }} != 1
  loose:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        include: [{n: 1}, {n: 2}]
    steps:
      - run: test ${{ matrix.n }} != 1
  gpu:
    runs-on: [self-hosted, gpu]
    steps:
      - run: echo never
  where:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: sub
    steps:
      - run: mkdir sub
        working-directory: .
      - id: here
        run: |
          echo "dir=$(basename "$PWD")" >> "$GITHUB_OUTPUT"
          echo "home=$HOME" >> "$GITHUB_OUTPUT"
          echo "token=${{ github.token != '' }}" >> "$GITHUB_OUTPUT"
    outputs:
      dir: ${{ steps.here.outputs.dir }}
      home: ${{ steps.here.outputs.home }}
      token: ${{ steps.here.outputs.token }}
  after:
    needs: where
    runs-on: ubuntu-latest
    steps:
      - id: home
        run: echo "home=$HOME" >> "$GITHUB_OUTPUT"
    outputs:
      home: ${{ steps.home.outputs.home }}
"""


@pytest.fixture
def small_origin(tmp_path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    (source / "README").write_text("a small repository\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=source, check=True)
    return source


DISPATCHED = "on: workflow_dispatch\njobs:\n"


def small_run(tmp_path, source, text, **options) -> Run:
    """A run of a small workflow (its jobs under ``jobs:``), finished, its fake API closed."""
    workflow = tmp_path / "rules.yml"
    workflow.write_text(text)
    available = pythons.available()
    tools = make_tools(tmp_path / "tools", available.get("3.12", sys.executable), available)
    run = Run(workflow, tmp_path / "run", tools, inputs={}, variables={}, source=source,
              missing_runners={"gpu"}, **options)
    try:
        run.run()
    finally:
        run.api.close()
    return run


def test_job_rules_are_githubs(tmp_path, small_origin):
    run = small_run(tmp_path, small_origin, RULES)
    jobs = run.jobs
    results = {name: job["result"] for name, job in jobs.items()}
    assert results == {
        "build": "failure", "test": "skipped",
        "report": "skipped",  # implicit success() covers the whole chain: test was skipped because build failed
        "summary": "success",  # explicit: !cancelled() and the direct need's result
        "alarm": "success",  # failure() sees the failed ancestor two jobs up
        "shards": "failure", "loose": "failure", "gpu": "failure",  # gpu: no runner with those labels
        "where": "success", "after": "success"}
    assert [i["result"] for i in jobs["shards"]["instances"]] == ["failure", "cancelled"]  # fail-fast
    assert [i["result"] for i in jobs["loose"]["instances"]] == ["failure", "success"]
    assert ("gpu", "waiting for a runner", "failure") in [entry[:3] for entry in run.log]
    where = jobs["where"]["outputs"]
    assert where["dir"] == "sub" and where["token"] == "true"  # defaults.run.working-directory; a real token
    assert where["home"] != jobs["after"]["outputs"]["home"]  # a fresh HOME per job


def test_a_cancelled_run_runs_only_what_asks_to(tmp_path, small_origin):
    text = DISPATCHED + """
  first:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  next:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  cleanup:
    needs: first
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  noticed:
    needs: first
    if: cancelled()
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  publish:
    needs: first
    if: ${{ !cancelled() }}
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"""
    run = small_run(tmp_path, small_origin, text, cancel_after="first")
    assert {name: job["result"] for name, job in run.jobs.items()} == {
        "first": "success", "next": "cancelled", "cleanup": "success", "noticed": "success", "publish": "cancelled"}


def test_checkout_gives_the_triggering_commit_or_the_branch_tip(tmp_path, small_origin):
    text = DISPATCHED + """
  look:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          persist-credentials: false
      - id: trigger
        run: echo "sha=$(git rev-parse HEAD)" >> "$GITHUB_OUTPUT"
      - run: rm -rf ./* ./.git
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          ref: ${{ github.ref_name }}
          persist-credentials: false
      - id: tip
        run: echo "sha=$(git rev-parse HEAD)" >> "$GITHUB_OUTPUT"
    outputs:
      trigger: ${{ steps.trigger.outputs.sha }}
      tip: ${{ steps.tip.outputs.sha }}
"""
    moved = []

    def move_the_branch(run, job, step):
        if step == "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8" and not moved:
            moved.append(push_a_commit(run.origin, tmp_path / "elsewhere", "NEWS", "landed after the trigger\n"))

    run = small_run(tmp_path, small_origin, text, before_step=move_the_branch)
    outputs = run.jobs["look"]["outputs"]
    assert outputs["trigger"] == run.sha and outputs["tip"] == moved[0] != run.sha


def push_a_commit(origin: Path, clone: Path, name: str, text: str) -> str:
    """Another writer: clone the origin, commit one file on main, push; returns the new tip."""
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    (clone / name).parent.mkdir(parents=True, exist_ok=True)
    (clone / name).write_text(text)
    git = ["git", "-c", "user.name=other", "-c", "user.email=other@example.invalid"]
    subprocess.run(git + ["add", name], cwd=clone, check=True)
    subprocess.run(git + ["commit", "-q", "-m", f"another writer: {name}"], cwd=clone, check=True)
    subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=clone, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_run_from_a_tag_refuses_to_publish_in_one_line(tmp_path):
    """The commit job's own first step, as the workflow has it."""
    spec = yaml.safe_load(WORKFLOW.read_text())
    refuse = "Refuse to publish from a tag or a detached ref"
    [step] = [s for s in spec["jobs"]["commit"]["steps"] if s.get("name") == refuse]
    said = {}
    for ref_type, ref in (("tag", "refs/tags/v1"), ("branch", "refs/heads/main")):
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], capture_output=True, text=True,
                              env=dict(os.environ, REF_TYPE=ref_type, REF=ref))
        said[ref_type] = (done.returncode, done.stdout.strip().splitlines())
    assert said["branch"] == (0, [])
    assert said["tag"] == (1, ["::error::not publishing: refs/tags/v1 is a tag, not a branch; dispatch the workflow "
                               "from a branch"])


def test_publishing_jobs_never_wait_for_a_gpu_runner_and_state_their_conditions():
    spec = yaml.safe_load(WORKFLOW.read_text())
    jobs = spec["jobs"]

    def chain(job):
        needs = jobs[job].get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*[chain(n) for n in needs]) if needs else set()

    for job in ("publish", "commit", "deploy", "regressions"):
        assert "gpu-cells" not in chain(job), job
        assert "!cancelled()" in str(jobs[job]["if"]), job  # an explicit status function: no implicit success()
    assert "concurrency" not in spec  # no workflow-wide group: a dispatch never cancels a pending scheduled run
    assert jobs["deploy"]["concurrency"]["cancel-in-progress"] is False


# --- a week of the scheduled fleet: the workflow's own steps, cells stubbed by recorded records ------------------
# Three scheduled runs on one repository (one origin, one cache store, one issues API): a CPU shard fails while the
# GPU runner is missing (cold cache); the next run is clean (warm cache); a third meets a commit that landed on the
# branch after it was triggered. Each cell job copies the real records the repository already has for its cells
# (results/raw), instead of installing torch: what is under test is what GitHub does around them.

CELL_STEP = "Run the shard's cells (a failing case is data; a harness error fails the job)"
FAILING_ROW = "torch_1_13_1-"
MOVED_RECORD = "results/raw/gpu/torch_2_4_1-shap_0_46_0.json"


def recorded_cells(failing_prefix: str = "") -> str:
    """A stand-in for the cell step: this shard's recorded results, or a harness error for one torch row."""
    return f'''read -ra sessions <<< "$SESSIONS"
mkdir -p "fleet-results/$KIND/raw" "$UV_CACHE_DIR/built-wheels"
echo "a wheel uv built from source" > "$UV_CACHE_DIR/built-wheels/one.whl"
for session in "${{sessions[@]}}"; do
  cell=${{session#cell(}}; cell=${{cell%)}}
  if [ -n "{failing_prefix}" ] && [[ "$cell" == {failing_prefix}* ]]; then
    echo "error: harness error in $cell" >&2
    exit 1
  fi
  cp "results/raw/$cell.json" "fleet-results/$KIND/raw/"
done
'''


def tip_file(run, path: str) -> str:
    """A file as the branch held it when this run ended (later runs of the week move the branch on)."""
    return subprocess.run(["git", "show", f"{run.after}:{path}"], cwd=run.origin, capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def fleet_week(tmp_path_factory):
    available = pythons.available()
    if "3.12" not in available:
        pytest.skip("setup-python asks for 3.12, which this machine does not have")
    root = tmp_path_factory.mktemp("fleet-week")
    wheelhouse = root / "wheelhouse"  # what the jobs pip-install, fetched once: each job's venv starts empty
    subprocess.run([available["3.12"], "-m", "pip", "download", "-q", "-d", str(wheelhouse), "nox>=2025.2.9",
                    "packaging>=23", "tabulate>=0.9"], check=True, capture_output=True)
    tools = make_tools(root / "tools", available["3.12"], available, wheelhouse)
    shared = {"cache_store": [], "api": None, "origin": None}
    runs = {}

    def scheduled(name, run_id, **options):
        run = Run(WORKFLOW, root / name, tools, inputs={}, source=ROOT, event="schedule", run_id=run_id,
                  origin=shared["origin"], api=shared["api"], cache_store=shared["cache_store"], **options)
        shared.update(origin=run.origin, api=run.api)
        run.before = {"tip": subprocess.run(["git", "rev-parse", "main"], cwd=run.origin, capture_output=True,
                                            text=True, check=True).stdout.strip()}
        run.run()
        run.after = subprocess.run(["git", "rev-parse", "main"], cwd=run.origin, capture_output=True, text=True,
                                   check=True).stdout.strip()
        run.issues_after = copy.deepcopy(run.api.issues)  # the issues as this run left them
        runs[name] = run
        return run

    try:
        scheduled("failed-shard", "4242", variables={"GPU_RUNNER": "gpu-runner", "GPU_PYTHON": ""},
                  missing_runners={"gpu-runner"}, stubs={CELL_STEP: recorded_cells(FAILING_ROW)})
        scheduled("clean", "4243", variables={"GPU_RUNNER": "", "GPU_PYTHON": ""},
                  stubs={CELL_STEP: recorded_cells()})
        landed = []

        def another_writer(run, job, step):
            if job == "commit" and step.startswith("Commit this run's cells") and not landed:
                clone = root / "other-writer"
                subprocess.run(["git", "clone", "-q", str(run.origin), str(clone)], check=True)
                (clone / MOVED_RECORD).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(clone / "results" / "raw" / Path(MOVED_RECORD).name, clone / MOVED_RECORD)
                git = ["git", "-c", "user.name=other", "-c", "user.email=other@example.invalid"]
                subprocess.run(git + ["add", "-A"], cwd=clone, check=True)
                subprocess.run(git + ["commit", "-q", "-m", "a GPU record lands"], cwd=clone, check=True)
                subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=clone, check=True)
                landed.append(subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True,
                                             check=True).stdout.strip())

        run = scheduled("moved-branch", "4244", variables={"GPU_RUNNER": "", "GPU_PYTHON": ""},
                        stubs={CELL_STEP: recorded_cells()}, before_step=another_writer)
        run.landed = landed
        yield runs
    finally:
        if shared["api"]:
            shared["api"].close()


def results_of(run) -> dict:
    return {name: job["result"] for name, job in run.jobs.items()}


def failed_steps(run) -> list:
    return [(job, step) for job, step, outcome, _ in run.log if outcome != "success"]


@pytest.mark.e2e
def test_one_failed_cpu_shard_still_publishes_marks_its_cells_and_opens_one_issue(fleet_week):
    run = fleet_week["failed-shard"]
    assert results_of(run) == {
        "plan": "success", "cells": "failure", "gpu-cells": "failure", "publish": "success", "commit": "success",
        "deploy": "success", "regressions": "success", "gpu-commit": "success", "gpu-deploy": "success",
        "failures": "success"}
    [failed] = [i["name"] for i in run.jobs["cells"]["instances"] if i["result"] == "failure"]
    [shard] = [s for s in json.loads(run.jobs["plan"]["outputs"]["matrix"])["include"] if s["name"] == failed]
    assert shard["torch"] == "1.13.1"
    cells = re.findall(r"cell\(([^)]+)\)", shard["sessions"])
    # the failed shard's cells keep their previous records, marked with the run; the others are this run's
    status = json.loads(tip_file(run, "results/fleet-status.json"))
    run_link = "https://github.invalid/example/torch-shap-matrix/actions/runs/4242"
    assert {(m["kind"], m["cell"]) for m in status["not_rerun"]} == {("cpu", cell) for cell in cells}
    assert {m["note"] for m in status["not_rerun"]} == {f"not re-run this week (shard failed: {run_link})"}
    for mark in status["not_rerun"]:
        path = f"results/raw/{mark['cell']}.json"
        assert tip_file(run, path) == (ROOT / path).read_text()
    table = tip_file(run, "results/COMPATIBILITY.md")
    assert f"- {cells[0]}: not re-run this week (shard failed: {run_link}) [cpu]" in table
    assert "not re-run this week" in (run.artifacts / "github-pages-cpu" / "index.html").read_text()
    # one failure issue, naming the failed job and the marked cells
    [issue] = [i for i in run.issues_after if i["title"] == "Scheduled matrix run failed"]
    assert issue["state"] == "open" and "`cells`: failure" in issue["body"] and cells[0] in issue["body"]


@pytest.mark.e2e
def test_a_missing_gpu_runner_never_delays_the_cpu_table(fleet_week):
    run = fleet_week["failed-shard"]
    gpu = run.jobs["gpu-cells"]["instances"]
    assert gpu and all(i["result"] == "failure" and not i["steps"] for i in gpu)  # queued, never started
    assert all("gpu-cells" not in run.ancestors(job) for job in ("publish", "commit", "deploy", "regressions"))
    assert "deploy" in run.deployments  # the CPU page went out in the same run
    # no GPU record arrived, and no cell had one before: nothing is marked for the GPU
    status = json.loads(tip_file(run, "results/fleet-status.json"))
    assert {m["kind"] for m in status["not_rerun"]} == {"cpu"}


@pytest.mark.e2e
def test_the_next_clean_run_closes_the_issue_and_clears_the_marks(fleet_week):
    run = fleet_week["clean"]
    assert failed_steps(run) == []
    assert results_of(run)["gpu-cells"] == "skipped" and results_of(run)["deploy"] == "success"
    assert json.loads(tip_file(run, "results/fleet-status.json"))["not_rerun"] == []
    [issue] = [i for i in run.issues_after if i["title"] == "Scheduled matrix run failed"]
    assert issue["state"] == "closed" and "runs/4243 finished cleanly" in issue["comments"][-1]


@pytest.mark.e2e
def test_a_cold_cache_is_saved_once_pruned_and_a_warm_one_is_restored_not_saved_again(fleet_week):
    cold, warm = fleet_week["failed-shard"], fleet_week["clean"]
    cold_restores = [c for c in cold.caches if c[0] == "restore"]
    assert len(cold_restores) == 4 and all(matched == "" for _, _, matched in cold_restores)  # a cold cache
    saved = [key for kind, key, _ in cold.caches if kind == "save"]
    assert len(saved) == 3 and not any("torch_1_13_1" in key for key in saved)  # never by the failed shard
    warm_restores = {key: matched for kind, key, matched in warm.caches if kind == "restore"}
    assert sorted(m for m in warm_restores.values() if m) == sorted(saved)  # the newest entry of each prefix
    assert [key for kind, key, _ in warm.caches if kind == "save"] == [
        k for k in (c[0] for c in warm.cache_store) if "torch_1_13_1" in k]  # only the row that was cold


@pytest.mark.e2e
def test_a_commit_landing_after_the_trigger_is_kept_and_the_rejected_push_retried(fleet_week):
    run = fleet_week["moved-branch"]
    assert failed_steps(run) == [] and run.landed
    [tail] = [tail for job, step, _, tail in run.log if job == "commit" and step.startswith("Commit this run's")]
    assert "push rejected: main moved; merging this run's cells onto its new tip" in tail
    log = subprocess.run(["git", "log", "--format=%H %s", "main"], cwd=run.origin, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert log[0].endswith("Matrix results (cpu) of workflow run 4244") and log[1].split()[0] == run.landed[0]
    assert tip_file(run, MOVED_RECORD) == (ROOT / "results" / "raw" / Path(MOVED_RECORD).name).read_text()
    assert run.before["tip"] in subprocess.run(["git", "rev-list", "main"], cwd=run.origin, capture_output=True,
                                               text=True, check=True).stdout
