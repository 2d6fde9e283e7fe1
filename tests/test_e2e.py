"""Real end-to-end runs: real torch and shap wheels from the package index, through the real nox sessions.

One module-scoped run of ``nox -s matrix`` on a one-cell grid (torch 2.4.1 x
the newest shap, CPU), then checks that the raw JSON and the table exist and
agree with what the run produced.  Its virtualenv is then reused to inject
real faults (segfault, hang, sys.exit, garbage output) into the supervisor.
"""
import ast
import csv
import json
import subprocess
import time

import pytest

from packaging.version import Version

from harness.plan import reuse
from harness.publish import page as site
from harness.publish import reproducers
from harness.cell import additivity, supervisor
from harness.run.options import parse
from harness.plan.cells import plan
from harness.plan.suite import select as select_models
from harness.plan.index import PackageIndex
from harness.analysis.signatures import signature
from nox_runner import ROOT, nox, nox_in_background

pytestmark = pytest.mark.e2e
RAN = {"pass", "mismatch", "fail", "crash", "timeout"}
# A real constrained cell: numpy<2.3 is real (the newest shap accepts it) and needs no other torch download.
CONSTRAINT = ('[[constraints]]\ntorch = "==2.4.1"\nrequires = ["numpy<2.3"]\n'
              'reason = "e2e: a real constrained cell"\n')
GRID = '[torch]\nalways = ["2.4.1"]\n[grids.e2e]\ntorch = ["2.4.1"]\nshap = ["newest"]\n' + CONSTRAINT


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    grid = base / "grid.toml"
    grid.write_text(GRID)
    results = base / "results"
    args = ["-s", "matrix", "--", "--grid", "e2e", "--results", str(results)]
    first = nox_in_background(*args, envdir=base / ".nox", env={"MATRIX_GRID_FILE": str(grid)})
    for _ in range(600):  # a second run on the same results folder while the first holds it
        if (results / ".lock").exists() or first.poll() is not None:
            break
        time.sleep(0.1)
    second = nox(*args, envdir=base / ".nox-second", env={"MATRIX_GRID_FILE": str(grid)}, timeout=300)
    out, err = first.communicate(timeout=1800)
    process = subprocess.CompletedProcess(first.args, first.returncode, out, err)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    newest_shap = str(PackageIndex().releases("shap")[-1])
    cell_id = f"torch_2_4_1-shap_{newest_shap.replace('.', '_')}"
    return {"base": base, "results": results, "process": process, "shap": newest_shap, "cell": cell_id,
            "venv": base / ".nox" / f"cell-{cell_id}", "second": second, "grid": grid, "args": args}


def test_cell_json_records_every_case_with_evidence(run):
    document = json.loads((run["results"] / "raw" / f"{run['cell']}.json").read_text())
    assert document["schema"] == 1
    assert document["status"] == "ran"
    assert document["resolved"]["torch"] == "2.4.1"
    assert document["resolved"]["shap"] == run["shap"]
    assert document["resolved"]["numpy"]
    assert document["resolved"]["python"].startswith(document["cell"]["python"])
    assert document["run"]["harness_commit"]
    assert document["run"]["host"]["cpu_count"]
    cases = document["cases"]
    models = sorted(p.stem for p in (ROOT / "models").glob("*.py") if not p.stem.startswith("_"))
    assert len(models) >= 14
    assert len(cases) == len(models) * 2 * 2
    cuda = document["environment"]["cuda_available"]
    for case in cases:
        if case["device"] == "cuda" and not cuda:
            assert case["outcome"] == "skip"
            assert "cuda" in case["reason"]
            continue
        assert case["outcome"] in RAN
        if case["outcome"] in ("pass", "mismatch"):
            check = case["additivity"]
            assert check["criterion"]
            assert check["tolerance"] is not None
            within = check["error"] <= check["tolerance"] and \
                check.get("mean_residual", 0) <= check.get("mean_residual_tolerance", float("inf"))
            assert within == (case["outcome"] == "pass")
            repeats = document["settings"]["repeats"]  # GradientExplainer's repeats are its replicates too
            wanted = repeats if case["explainer"] == "deep" else max(repeats, additivity.GRADIENT_REPLICATES - 1)
            assert case["timing"]["warm"]["call"]["n"] == wanted
            assert case["timing"]["cold"]["call"] > 0
        if case["outcome"] == "fail":
            assert case["error"]["type"]
            assert case["error"]["traceback_tail"]
    # one worker import served every case: no crash, no per-case import
    assert document["worker_starts"] == 1
    assert any(c["outcome"] == "pass" for c in cases)


def test_failing_cases_carry_their_remedy_verdicts(run):
    """The same cells re-ran each non-passing case once per applicable code remedy, with the same criteria."""
    from harness.cell import remedies

    document = json.loads((run["results"] / "raw" / f"{run['cell']}.json").read_text())
    cpu = {(c["model"], c["explainer"]): c for c in document["cases"] if c["device"] == "cpu"}
    for case in cpu.values():
        tried = [r["remedy"] for r in case.get("remedies", [])]
        assert tried == (remedies.applicable(case) if case["outcome"] in remedies.NEEDS_REMEDY else [])
        for r in case.get("remedies", []):
            assert r["outcome"] in RAN | {"n/a"}
            assert r["outcome"] != "n/a" or r["reason"]
            if r["outcome"] in ("pass", "mismatch"):
                assert r["additivity"]["tolerance"] is not None
    verdicts = {(m, e): {r["remedy"]: r for r in c.get("remedies", [])} for (m, e), c in cpu.items()}
    # shap >= 0.43 raises on an in-place ReLU: making it out-of-place is a real fix, GradientExplainer too
    assert cpu[("relu_inplace", "deep")]["outcome"] == "fail"
    assert verdicts[("relu_inplace", "deep")]["out_of_place"]["outcome"] == "pass"
    assert verdicts[("relu_inplace", "deep")]["gradient_explainer"]["explainer"] == "gradient"
    # a reused ReLU object: one module per call fixes it; nothing is in-place there (n/a, not a pass)
    assert verdicts[("reused_activation", "deep")]["module_per_call"]["outcome"] == "pass"
    assert verdicts[("reused_activation", "deep")]["out_of_place"]["outcome"] == "n/a"
    # `out += identity` in forward(): no module flag can fix that, and the table must not say it does
    assert verdicts[("resnet_basic_block", "deep")]["out_of_place_per_call"]["outcome"] == "fail"
    table = (run["results"] / "COMPATIBILITY.md").read_text()
    assert "## Remedies" in table
    assert "| `gradient_explainer` | GradientExplainer instead |" in table
    assert "Fix: Use GradientExplainer instead (verified: GradientExplainer: passed in" in table
    with open(run["results"] / "matrix.csv") as handle:
        rows = {(r["model"], r["explainer"], r["device"]): r for r in csv.DictReader(handle)}
    assert rows[("relu_inplace", "deep", "cpu")]["remedy_out_of_place"] == "pass"
    assert rows[("mlp", "deep", "cpu")]["remedy_out_of_place"] == ""  # passed: nothing tried


def test_table_and_tidy_files_agree_with_the_raw_result(run):
    document = json.loads((run["results"] / "raw" / f"{run['cell']}.json").read_text())
    table = (run["results"] / "COMPATIBILITY.md").read_text()
    for explainer, name in (("deep", "DeepExplainer"), ("gradient", "GradientExplainer")):  # a grid each
        ran = [c for c in document["cases"] if c["outcome"] != "skip" and c["device"] == "cpu"
               and c["explainer"] == explainer]
        passed = sum(c["outcome"] == "pass" for c in ran)
        grid = table[table.index(f"### {name} (cpu)"):].split("\n## ")[0].split("\n### ")[0]
        assert f"{passed}/{len(ran)} · py{document['cell']['python']}" in grid
    assert table.index("## Known problems") < table.index("## Summary (cpu)") < table.index("## Failure signatures")
    assert "## By model" not in table  # the per-model grids are on the page
    assert len(table.encode()) < 40_000
    with open(run["results"] / "matrix.csv") as handle:
        rows = list(csv.DictReader(handle))
    kept = [c for c in document["cases"] if c["device"] == "cpu" or document["environment"]["cuda_available"]]
    assert len(rows) == len(kept)  # without a GPU the cuda rows (all skip) are left out
    assert {r["outcome"] for r in rows} == {c["outcome"] for c in kept}
    matrix = json.loads((run["results"] / "matrix.json").read_text())
    assert len(matrix["cases"]) == len(rows)
    assert "table:" in run["process"].stdout + run["process"].stderr


def test_nox_lists_the_cell_with_identifier_tags(run):
    process = nox("-l", "-t", "torch_2_4", envdir=run["base"] / ".nox",
                  env={"MATRIX_GRID_FILE": str(run["base"] / "grid.toml")}, timeout=120)
    assert f"cell({run['cell']})" in process.stdout


def test_a_fresh_worker_takes_over_after_crash_hang_exit_and_memory(run, tmp_path):
    python = run["venv"] / "bin" / "python"
    faults = ROOT / "tests" / "fault_models"
    mlp = ROOT / "models" / "mlp.py"
    out = tmp_path / "cases.json"
    models = [("mlp", mlp), ("segfault", faults / "segfault.py"), ("hang", faults / "hang.py"),
              ("exits", faults / "exits.py"), ("garbage", faults / "garbage.py"), ("hog", faults / "hog.py"),
              ("leaky", faults / "leaky.py"), ("mlp_again", mlp)]
    args = [str(python), supervisor.__file__, "--out", str(out), "--explainer", "deep", "--timeout", "15",
            "--repeats", "1", "--memory-limit", "6"]
    for name, path in models:
        args += ["--model", f"{name}={path}"]
    subprocess.run(args, check=True, timeout=600)
    result = json.loads(out.read_text())
    cpu = {c["model"]: c for c in result["cases"] if c["device"] == "cpu"}
    assert cpu["mlp"]["outcome"] == "pass"
    assert cpu["segfault"]["outcome"] == "crash"
    assert "SIGSEGV" in cpu["segfault"]["crash"]["exit"]
    assert cpu["hang"]["outcome"] == "timeout"
    assert cpu["exits"]["outcome"] == "crash"
    assert cpu["exits"]["crash"]["exit"] == "exited with code 3"
    assert cpu["garbage"]["outcome"] == "pass"
    assert any("not json" in n["message"] or "broken json" in n["message"] for n in cpu["garbage"]["notes"])
    assert cpu["hog"]["outcome"] == "fail"  # the capped address space turns 16 GB into an error
    assert "can't allocate memory" in cpu["hog"]["error"]["message"]
    leaks = cpu["leaky"]["side_effects"]
    assert any("fc (Linear): 1 forward_hooks left registered" in line for line in leaks), leaks
    assert any("attributes added: seen" in line for line in leaks), leaks
    assert cpu["mlp"]["side_effects"] == []
    assert cpu["mlp_again"]["outcome"] == "pass"
    # a remedy re-runs the crashing case in the same isolation: it crashes too, is recorded, and costs a worker
    segfault_remedies = {r["remedy"]: r for r in cpu["segfault"]["remedies"]}
    assert segfault_remedies["gradient_explainer"]["outcome"] == "crash"
    assert "SIGSEGV" in segfault_remedies["gradient_explainer"]["crash"]["exit"]
    assert "remedies" not in cpu["hang"]  # a timeout gets no remedy: each would cost the timeout again
    # the first worker, then one after each death: the segfault, the hang, the exit, and each remedy that died
    deaths = [r for c in result["cases"] for r in [c] + c.get("remedies", []) if r["outcome"] in ("crash", "timeout")]
    assert len(deaths) >= 3 + 1
    assert result["worker_starts"] == 1 + len(deaths)


def test_a_planted_gradient_bias_is_caught_while_the_honest_suite_passes(run, tmp_path):
    """GradientExplainer's noise-aware verdict, for real: a 1.2x gradient scale is a mismatch for both explainers,
    and every reference model that GradientExplainer runs without raising passes (in the e2e cell itself)."""
    python = run["venv"] / "bin" / "python"
    out = tmp_path / "cases.json"
    subprocess.run([str(python), supervisor.__file__, "--out", str(out), "--repeats", "3",
                    "--model", f"biased={ROOT / 'tests' / 'fault_models' / 'biased_gradients.py'}",
                    "--model", f"mlp={ROOT / 'models' / 'mlp.py'}"], check=True, timeout=600)
    cpu = {(c["model"], c["explainer"]): c for c in json.loads(out.read_text())["cases"] if c["device"] == "cpu"}
    biased = cpu[("biased", "gradient")]["additivity"]
    assert cpu[("biased", "gradient")]["outcome"] == "mismatch", biased
    assert biased["replicates"] == 8
    assert 0.15 < biased["bias"] < 0.25
    assert biased["error"] > biased["tolerance"]
    assert cpu[("biased", "deep")]["outcome"] == "mismatch"
    assert cpu[("mlp", "gradient")]["outcome"] == "pass"
    assert abs(cpu[("mlp", "gradient")]["additivity"]["bias"]) < 0.1
    cell = json.loads((run["results"] / "raw" / f"{run['cell']}.json").read_text())
    gradient = [c for c in cell["cases"] if c["explainer"] == "gradient" and c["device"] == "cpu"
                and c["outcome"] in ("pass", "mismatch")]
    assert gradient
    assert all(c["outcome"] == "pass" for c in gradient), [
        (c["model"], c["additivity"]) for c in gradient if c["outcome"] != "pass"]
    assert all(c["additivity"]["replicates"] == 8 and c["additivity"]["bias_se"] > 0 for c in gradient)


def test_a_second_run_on_the_same_results_stops_with_one_line(run):
    second = run["second"]
    assert second.returncode != 0
    lines = [line for line in (second.stdout + second.stderr).splitlines() if "aborted:" in line]
    assert len(lines) == 1
    assert "another matrix run (pid " in lines[0]
    assert "is writing" in lines[0]


def test_a_rerun_with_nothing_changed_reuses_the_cell(run):
    raw = run["results"] / "raw" / f"{run['cell']}.json"
    before = raw.read_text()
    started = time.perf_counter()
    again = nox(*run["args"], envdir=run["base"] / ".nox", env={"MATRIX_GRID_FILE": str(run["grid"])}, timeout=600)
    seconds = time.perf_counter() - started
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "1 reused (results still hold), 0 to run" in again.stdout + again.stderr
    assert "Running session cell(" not in again.stdout + again.stderr
    assert raw.read_text() == before
    assert seconds < 60  # the cold run took minutes; a reuse is a resolve and a report


def test_a_constrained_cell_records_its_constraint_and_the_unconstrained_truth(run, tmp_path):
    document = json.loads((run["results"] / "raw" / f"{run['cell']}.json").read_text())
    assert document["cell"]["constraints"] == [{"applies_to": "torch==2.4.1", "requires": ["numpy<2.3"],
                                                "reason": "e2e: a real constrained cell"}]
    assert Version(document["resolved"]["numpy"]) < Version("2.3")
    assert document["reuse"]["parts"]["constraints"] == ["numpy<2.3"]
    probe = document["unconstrained"]
    assert probe["status"] == "ran"
    assert probe["without"] == ["numpy<2.3"]
    assert probe["case"] == "mlp/deep/cpu"
    assert Version(probe["differs"]["numpy"]["unconstrained"]) >= Version("2.3")
    assert probe["outcome"] == "pass"
    table = (run["results"] / "COMPATIBILITY.md").read_text()
    assert "## Constraints: environments as their users have them" in table
    assert "· numpy<2.3" in table
    assert f"torch 2.4.1 with shap {run['shap']}, without `numpy<2.3`: gets numpy" in table
    script, _, _ = reproducers.write_one(run["results"], "mlp/deep/cpu", tmp_path / "reproducer")
    assert "under the grid's constraint numpy<2.3" in (script.parent / "requirements.txt").read_text()
    # a changed constraint re-runs the cell it selects (a real resolve against the index)
    changed = tmp_path / "grid.toml"
    changed.write_text(GRID.replace("numpy<2.3", "numpy<2.2"))
    _, cells = plan(changed)
    options = parse(run["args"][3:])
    reused, to_run = reuse.plan_reuse(cells, run["results"], options.suite, select_models(None))
    assert [c.id for c in to_run] == [run["cell"]]
    assert not reused
    _, cells = plan(run["grid"])
    reused, to_run = reuse.plan_reuse(cells, run["results"], options.suite, select_models(None))
    assert [c.id for c in reused] == [run["cell"]]
    assert not to_run


def test_your_own_models_run_like_the_reference_suite(run, tmp_path):
    user = ROOT / "tests" / "fixtures" / "user_models"
    results = tmp_path / "results"
    process = nox("-s", "matrix", "--", "--grid", "e2e", "--results", str(results), "--models", str(user),
                  "--model", "tabular_regressor", "--model", "mlp", envdir=run["base"] / ".nox-user",
                  env={"MATRIX_GRID_FILE": str(run["grid"])}, timeout=900)
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
    document = json.loads((results / "raw" / f"{run['cell']}.json").read_text())
    cpu = {(c["model"], c["explainer"]): c for c in document["cases"] if c["device"] == "cpu"}
    assert set(cpu) == {(m, e) for m in ("tabular_regressor", "mlp") for e in ("deep", "gradient")}
    assert cpu[("tabular_regressor", "gradient")]["outcome"] in ("pass", "mismatch", "fail")
    matrix = json.loads((results / "matrix.json").read_text())
    assert {r["model"] for r in matrix["cases"]} == {"tabular_regressor", "mlp"}
    assert "<option>tabular_regressor</option>" in site.build_page(matrix, None)  # its cases are on the page


def cpu_rows(run):
    matrix = json.loads((run["results"] / "matrix.json").read_text())
    return [r for r in matrix["cases"] if r["device"] == "cpu"], matrix


def test_oracles_side_effects_and_catalogue_are_recorded(run):
    rows, matrix = cpu_rows(run)
    by_case = {(r["model"], r["explainer"]): r for r in rows}
    linear = by_case[("linear", "deep")]
    assert linear["outcome"] == "pass"  # DeepLIFT is exact on an affine model
    assert linear["analytic_ok"] is True
    assert linear["analytic_deviation"] < 1e-3
    assert linear["exact_deviation"] < 1e-3  # brute force agrees with the closed form
    assert by_case[("linear", "gradient")]["analytic_tolerance"] == 0.35
    mlp = by_case[("mlp", "deep")]
    assert mlp["exact_deviation"] is not None
    assert mlp["exact_ok"] is None  # measured, not a verdict
    assert by_case[("two_inputs", "deep")]["exact_deviation"] is None  # 22 features: too many to enumerate
    clean = [r for r in rows if r["outcome"] == "pass" and r["model"] != "nested_custom_blocks"]
    assert clean
    assert all(r["side_effects"] is None for r in clean)
    # shap's cleanup of its x/y buffers recurses only into nn containers, so the activations inside
    # custom blocks keep them even when the explanation passes (a finding on every shap tested)
    assert "state_dict keys changed" in by_case[("nested_custom_blocks", "deep")]["side_effects"]
    # a DeepExplainer that raises half-way leaves its hooks on the model (a finding on every shap tested)
    assert "forward_hooks on" in by_case[("relu_inplace", "deep")]["side_effects"]
    failing = {r["signature"] for r in rows if r["signature"]}
    assert {e["signature"] for e in matrix["catalogue"]["signatures"]} == failing
    table = (run["results"] / "COMPATIBILITY.md").read_text()
    for section in ("## Oracles", "## Side effects", "## CPU and CUDA agreement", "## Transitions"):
        assert section in table


def test_a_reproducer_prints_the_recorded_outcome_in_the_cells_environment(run, tmp_path):
    rows, matrix = cpu_rows(run)
    site.write_site(run["results"], tmp_path / "site")  # the page ships the reproducers its rows link to
    wanted = {}
    for row in rows:
        if row["reproducer"] and row["outcome"] in ("fail", "mismatch"):
            wanted.setdefault(row["outcome"], row)
    assert set(wanted) == {"fail", "mismatch"}, "the suite should give a failing and a mismatching case"
    for outcome, row in wanted.items():
        path = tmp_path / "site" / row["reproducer"]
        source = path.read_text()
        imported = {alias.name.split(".")[0] for node in ast.parse(source).body
                    if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        assert imported <= {"sys", "types", "numpy", "shap", "torch"}, imported  # nothing of the harness
        assert (path.parent / "requirements.txt").read_text().count("==") > 5
        assert matrix["reproducers"][row["reproducer"]]["command"].endswith(f"{path.name}")
        done = subprocess.run([str(run["venv"] / "bin" / "python"), str(path)], capture_output=True, text=True,
                              timeout=600)
        verdict = [line for line in done.stdout.splitlines() if line.startswith(("pass", "fail", "mismatch"))]
        assert verdict, done.stdout + done.stderr[-2000:]
        assert verdict[-1].startswith(outcome + ":"), done.stdout + done.stderr[-2000:]
        if outcome == "fail":
            assert signature({"outcome": "fail", "error": {"type": verdict[-1].split(": ")[1],
                                                           "message": verdict[-1].split(": ", 2)[2]}}) == row["signature"]
            assert done.returncode != 0
        else:
            assert done.returncode == 1
            fired = "shap's own additivity check fired" in done.stdout
            assert fired == ("shap's own additivity check fired" in row["signature"])


def test_bisect_finds_where_gradient_explainer_was_fixed(tmp_path):
    """A real bisect over four shap releases (each probe a real cell), then the same again from results on disk."""
    args = ["-s", "bisect", "--", "mlp/gradient/cpu", "--axis", "shap", "--torch", "2.4.1", "--good", "0.42.0",
            "--bad", "0.44.0", "--results", str(tmp_path)]
    first = nox(*args, envdir=tmp_path / ".nox", timeout=1800)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    record = json.loads((tmp_path / "bisect" / "mlp-gradient-cpu--shap--torch_2_4_1.json").read_text())
    assert record["versions"] == ["0.42.0", "0.42.1", "0.43.0", "0.44.0"]
    boundary = record["boundary"]
    assert (boundary["last"]["version"], boundary["first"]["version"]) == ("0.42.1", "0.43.0")
    assert boundary["last"]["label"].startswith("fail: IndexError")
    assert boundary["first"]["label"] == "pass"
    assert len(record["probes"]) == 4
    assert {p["source"] for p in record["probes"]} == {"probe run now"}
    # probes run under the grid file's constraints, as a grid cell would (shap < 0.46: numpy<2)
    probe = json.loads((tmp_path / "bisect" / "mlp-gradient-cpu" / "raw" / "torch_2_4_1-shap_0_42_1.json").read_text())
    assert [c["requires"] for c in probe["cell"]["constraints"]] == [["numpy<2"]]
    assert Version(probe["resolved"]["numpy"]) < Version("2")
    started = time.perf_counter()
    again = nox(*args, envdir=tmp_path / ".nox", timeout=600)
    assert again.returncode == 0
    record = json.loads((tmp_path / "bisect" / "mlp-gradient-cpu--shap--torch_2_4_1.json").read_text())
    assert {p["source"] for p in record["probes"]} == {"earlier probe"}
    assert time.perf_counter() - started < 60
