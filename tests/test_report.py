"""Aggregation and rendering on recorded fixtures (raw cell files from real runs)."""
import csv
import json
import shutil
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.publish import report

FIXTURES = Path(__file__).parent / "fixtures" / "raw"


@pytest.fixture
def results(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "raw")
    return tmp_path


def fixture(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def summary_table(markdown, explainer="DeepExplainer"):
    """One explainer's summary grid: the summary is split by explainer so that a cell says something."""
    summary = markdown[markdown.index("## Summary (cpu)"):markdown.index("## Legend")]
    start = summary.index(f"### {explainer} (cpu)")
    return summary[start:].split("\n### ")[0]


def test_summary_grid_counts_each_cell_from_its_cases(results):
    report.write(results)
    text = (results / "COMPATIBILITY.md").read_text()
    mixed = fixture("torch_2_4_1-shap_0_46_0")
    for explainer, name in report.EXPLAINER_NAMES.items():
        table = summary_table(text, name)
        ran = [c for c in mixed["cases"] if c["device"] == "cpu" and c["explainer"] == explainer]
        passed = sum(c["outcome"] == "pass" for c in ran)
        assert 0 < passed < len(ran)
        row_241 = next(line for line in table.splitlines() if "**2.4.1**" in line)
        assert f"⚠️ {passed}/{len(ran)} · py3.12" in row_241
    row_241 = next(line for line in summary_table(text).splitlines() if "**2.4.1**" in line)
    assert "⚠️ 1/4 · py3.12" in row_241  # the fault fixture: one pass, two crashes, one timeout (all deep)
    row_113 = next(line for line in summary_table(text).splitlines() if "**1.13.1**" in line)
    assert "❌ 0/15 · py3.11" in row_113 and "n/a" in row_113
    row_215 = next(line for line in summary_table(text, "GradientExplainer").splitlines() if "**2.15.0**" in line)
    assert "❌ install" in row_215


def test_known_problems_group_normalized_errors_across_cells(results):
    report.write(results)
    text = (results / "COMPATIBILITY.md").read_text()
    problems = text[text.index("## Known problems"):text.index("## By kind of model")]
    for error in ("`RuntimeError: Numpy is not available`", "`killed by signal SIGSEGV (N)`", "`exited with code N`",
                  "`no result within the case timeout`", "Request failed after N retries"):
        assert error in problems
    numpy_row = next(line for line in problems.splitlines() if "Numpy is not available" in line)
    where = numpy_row.split(" | ")[2]
    assert where.startswith("torch 1.13.1 ") and "2.4.1" not in where and "0.46.0" not in where
    card = numpy_row.split("](#")[1].split(")")[0]
    assert f"\n### {card.upper()}\n" in text  # each row links to its card


def test_tidy_files_have_one_row_per_case(results):
    summary = report.write(results)
    # every case, less the cuda ones: no case ran on cuda in these CPU-only fixtures, so those rows are left out
    total = sum(len([c for c in fixture(p.stem)["cases"] if c["device"] != "cuda"]) for p in FIXTURES.glob("*.json"))
    with open(results / "matrix.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == total
    payload = json.loads((results / "matrix.json").read_text())
    assert len(payload["cases"]) == total and payload["schema"] == 1
    assert summary["cells"] == len(list(FIXTURES.glob("*.json")))
    passing = [r for r in rows if r["outcome"] == "pass"]
    assert all(float(r["additivity_error"]) <= float(r["additivity_tolerance"]) for r in passing)
    assert all(r["call_warm_median_s"] and r["warm_n"] for r in passing)
    assert {"resolved_numpy", "error_frame", "warnings", "signature", "host", "harness_commit"} <= set(rows[0])


def test_header_names_host_date_and_commit(results):
    report.write(results)
    text = (results / "COMPATIBILITY.md").read_text()
    run = fixture("torch_2_4_1-shap_0_46_0")["run"]
    assert run["host"]["cpu_model"] in text and run["harness_commit"] in text and run["date"][:10] in text


def test_no_results_is_a_one_line_error(tmp_path, capsys):
    assert report.main(["--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no raw results in") and "\n" not in err


def test_corrupt_and_foreign_files_are_named(results):
    (results / "raw" / "zz-broken.json").write_text('{"schema": 1, "cell": ')
    with pytest.raises(HarnessError, match="zz-broken.json is not a valid result file"):
        report.write(results)
    (results / "raw" / "zz-broken.json").write_text('{"schema": 99}')
    with pytest.raises(HarnessError, match="zz-broken.json has result schema 99"):
        report.write(results)
