"""matrix.csv / matrix.json against their published data dictionary (harness/publish/matrix.schema.json, generated
from harness.records.row.Row, and the datapackage.json the report derives from it for CSV readers).

The schema is what a reader loads the data with, so these tests hold it to the real files: the committed schema is
the generated one; every column the report writes is documented, in order; the (frozen) shipped results and the
fixtures validate; a broken row does not; and matrix.csv reads as it looks with a plain pandas.read_csv: versions
stay text ("3.10" is not 3.1), no column is empty in every row, and reproducer paths resolve from the CSV's own folder.
"""
import csv
import json
import shutil
from pathlib import Path

import frictionless
import jsonschema
import pandas as pd
import pytest

from harness.publish import matrix_file, report, reproducers
from harness.records import store
from harness.records.row import REMEDIES, Row, rows

RAW = Path(__file__).parent / "fixtures" / "raw"
SCHEMA = json.loads(report.SCHEMA.read_text())
COLUMNS = SCHEMA["$defs"]["case"]["properties"]
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def text_columns(schema: dict) -> dict:
    """pandas dtypes from the schema: every column whose type is only string (and null) is read as text."""
    columns = schema["$defs"]["case"]["properties"]
    return {name: str for name, p in columns.items()
            if set([p["type"]] if isinstance(p["type"], str) else p["type"]) <= {"string", "null"}}


@pytest.fixture
def results(tmp_path):
    shutil.copytree(RAW, tmp_path / "raw")
    return tmp_path


def test_the_schema_is_valid_and_documents_every_column():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for name, prop in COLUMNS.items():
        assert len(prop.get("description", "")) > 15, f"{name} has no description"
    for name in ("torch", "shap", "python", "resolved_torch", "resolved_shap", "resolved_numpy", "resolved_python"):
        assert "string" in COLUMNS[name]["type"], name
        assert "number" not in COLUMNS[name]["type"], name


def test_the_committed_schema_is_the_generated_one():
    """matrix.schema.json is generated from Row: regenerate it with python -m harness.publish.matrix_file."""
    assert report.SCHEMA.read_text(encoding="utf-8") == matrix_file.schema_text()


def test_the_row_names_every_code_remedy():
    from harness.cell.remedies import REGISTRY  # records cannot import the cell side: the copy is checked here

    assert list(REMEDIES) == list(REGISTRY)
    assert [f"remedy_{name}" for name in REGISTRY] == [c for c in COLUMNS if c.startswith("remedy_")]


def test_report_writes_the_schema_and_its_columns_in_order(results):
    report.write(results)
    assert (results / "matrix.schema.json").read_text() == report.SCHEMA.read_text()
    header = (results / "matrix.csv").read_text().splitlines()[0].split(",")
    assert header == [c for c in COLUMNS if c in header]  # documented, in the schema's order
    matrix = json.loads((results / "matrix.json").read_text())
    assert list(matrix["cases"][0]) == list(COLUMNS)  # matrix.json keeps every column


def test_matrix_json_reads_back_as_typed_rows(results):
    report.write(results)
    matrix = json.loads((results / "matrix.json").read_text())
    typed = rows(matrix)
    assert len(typed) == len(matrix["cases"])
    assert all(isinstance(row, Row) for row in typed)
    first = typed[0]
    assert (first.cell, first.outcome, first.python) == (matrix["cases"][0]["cell"], matrix["cases"][0]["outcome"],
                                                        matrix["cases"][0]["python"])
    assert {row.additivity_criterion for row in typed if row.explainer in matrix["criteria"]} == \
        set(matrix["criteria"].values())  # kept once per explainer in the file, on every row once read


@pytest.mark.parametrize("matrix, complaint", [
    ({}, "no case rows"), ({"cases": []}, "no case rows"), ({"cases": [{"cell": "c"}]}, "case 0 lacks torch"),
])
def test_a_foreign_matrix_is_one_line(matrix, complaint):
    with pytest.raises(store.HarnessError, match=complaint):
        rows(matrix)


@pytest.mark.parametrize("where", ["fixtures", "frozen results"])
def test_real_matrices_validate(results, where, request):
    if where == "fixtures":
        report.write(results)
    else:
        results = request.getfixturevalue("frozen_results")  # results/ itself: tests/test_shipped_results.py
    matrix = json.loads((results / "matrix.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(matrix)]
    assert errors == []
    frame = pd.read_csv(results / "matrix.csv")
    assert len(frame) == len(matrix["cases"])
    assert list(frame["python"].fillna("")) == [f"py{r['python']}" if r["python"] else "" for r in matrix["cases"]]


def test_matrix_csv_reads_as_it_looks(frozen_results):
    """A plain read_csv, no dtype: versions are text, no column is empty in every row (issue 17 item 7)."""
    frame = pd.read_csv(frozen_results / "matrix.csv")
    for name in ("torch", "shap", "python", "resolved_torch", "resolved_python"):
        assert not pd.api.types.is_numeric_dtype(frame[name]), name
    assert {v for v in frame["python"].dropna()} <= {f"py3.{minor}" for minor in range(8, 15)}
    assert [name for name in frame if frame[name].isna().all()] == []
    header = (frozen_results / "matrix.csv").read_text().splitlines()[0].split(",")
    left_out = [c for c in COLUMNS if c not in header]
    assert left_out, "the frozen shipped results have columns with no value (no GPU ran): they are left out"
    matrix = json.loads((frozen_results / "matrix.json").read_text())
    assert all(all(row[c] in (None, "") for row in matrix["cases"]) for c in left_out)


def test_reproducer_paths_in_the_csv_resolve_from_its_folder(results):
    report.write(results)
    reproducers.write_site(store.read_cells(results), results / "site")  # what nox -s site writes beside the page
    paths = pd.read_csv(results / "matrix.csv")["reproducer"].dropna()
    assert len(paths) > 0
    assert [p for p in paths if not (results / p).is_file()] == []


@pytest.mark.parametrize("change, complaint", [
    ({"python": 3.1}, "is not of type 'string'"),
    ({"torch": None}, "is not of type 'string'"),
    ({"outcome": "mostly fine"}, "is not one of"),
    ({"additivity_error": "small"}, "is not of type 'number'"),
    ({"surprise_column": 1}, "Additional properties are not allowed"),
])
def test_a_broken_row_fails(results, change, complaint):
    report.write(results)
    matrix = json.loads((results / "matrix.json").read_text())
    matrix["cases"][0].update(change)
    messages = [e.message for e in VALIDATOR.iter_errors(matrix)]
    assert messages
    assert complaint in messages[0]


def test_a_missing_column_fails(results):
    report.write(results)
    matrix = json.loads((results / "matrix.json").read_text())
    del matrix["cases"][0]["python"]
    assert any("'python' is a required property" in e.message for e in VALIDATOR.iter_errors(matrix))


def test_python_3_10_stays_a_string(results):
    """The reason the schema types versions: a cell on Python 3.10 must not read back as 3.1."""
    document = json.loads((RAW / "torch_2_4_1-shap_0_46_0.json").read_text())
    document["cell"]["python"] = "3.10"
    (results / "raw" / "torch_2_4_1-shap_0_46_0.json").write_text(json.dumps(document))
    report.write(results)
    csv = results / "matrix.csv"
    plain = pd.read_csv(csv)  # no dtype: what most readers do
    assert "py3.10" in set(plain["python"])
    assert not pd.api.types.is_numeric_dtype(plain["python"])
    typed = pd.read_csv(csv, dtype=text_columns(SCHEMA), keep_default_na=False)
    assert "py3.10" in set(typed["python"])
    assert "3.1" not in set(typed["python"])
    matrix = json.loads((results / "matrix.json").read_text())
    assert "3.10" in {row["python"] for row in matrix["cases"]}
    assert list(VALIDATOR.iter_errors(matrix)) == []
    package = frictionless.Package(str(results / "datapackage.json"))
    assert "py3.10" in {row["python"] for row in package.get_resource("matrix").read_rows()}


@pytest.mark.parametrize("where", ["fixtures", "frozen results"])
def test_the_csv_validates_as_a_frictionless_data_package(tmp_path, where, request):
    if where == "fixtures":
        shutil.copytree(RAW, tmp_path / "raw")
        report.write(tmp_path)
        results = tmp_path
    else:
        results = request.getfixturevalue("frozen_results")  # reported once per test run
    package = json.loads((results / "datapackage.json").read_text())
    fields = package["resources"][0]["schema"]["fields"]
    header = (results / "matrix.csv").read_text().splitlines()[0].split(",")
    assert [f["name"] for f in fields] == header
    assert all(f["description"] for f in fields)
    assert {f["name"]: f["type"] for f in fields if f["name"] in ("python", "torch", "warm_n", "date")} == {
        "torch": "string", "python": "string", "warm_n": "integer", "date": "datetime"}
    result = frictionless.validate(str(results / "datapackage.json"))
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_a_broken_csv_fails_the_data_package(results):
    report.write(results)
    path = results / "matrix.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("warm_n")] = "three"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = frictionless.validate(str(results / "datapackage.json"))
    assert not result.valid
    assert [field for field, in result.flatten(["fieldName"])] == ["warm_n"]


def test_matrix_json_reads_as_a_typed_matrix(frozen_results):
    """What page, lookup and the regression issues read once per matrix.json, without guards for absent keys."""
    from harness.records.row import matrix_of

    document = json.loads((frozen_results / "matrix.json").read_text())
    matrix = matrix_of(document)
    assert len(matrix.rows) == len(document["cases"])
    assert matrix.devices_run == ["cpu"]
    assert set(matrix.criteria) == {"deep", "gradient"}
    assert "cuda" in matrix.devices_left_out
    with_reproducer = [row for row in matrix.rows if row.reproducer]
    assert with_reproducer
    assert (all(matrix.command(row).startswith("cd results/site/reproducers/")
                                   for row in with_reproducer))
    assert matrix.command(next(row for row in matrix.rows if not row.reproducer)) is None
    assert set(matrix.problems) <= {row.signature for row in matrix.rows}
    assert set(matrix.signatures) == {row.signature for row in matrix.rows if row.signature}
