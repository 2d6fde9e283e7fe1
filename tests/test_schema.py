"""matrix.csv / matrix.json against their published data dictionary (harness/matrix.schema.json, and the
datapackage.json the report derives from it for CSV readers).

The schema is what a reader loads the data with, so these tests hold it to the real files: every column the
report writes is documented, in order; the (frozen) shipped results and the fixtures validate; a broken row does not;
and reading the CSV with the schema's types keeps version strings such as "3.10" intact.
"""
import csv
import json
import shutil
from pathlib import Path

import frictionless
import jsonschema
import pandas as pd
import pytest

from harness.publish import report

ROOT = Path(__file__).resolve().parent.parent
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
        assert "string" in COLUMNS[name]["type"] and "number" not in COLUMNS[name]["type"], name


def test_report_writes_the_schema_and_its_columns_in_order(results):
    report.write(results)
    assert json.loads((results / "matrix.schema.json").read_text()) == SCHEMA
    header = (results / "matrix.csv").read_text().splitlines()[0].split(",")
    assert header == list(COLUMNS)  # a new column must be documented before it ships


@pytest.mark.parametrize("where", ["fixtures", "frozen results"])
def test_real_matrices_validate(results, where, request):
    if where == "fixtures":
        report.write(results)
    else:
        results = request.getfixturevalue("frozen_results")  # results/ itself: tests/test_shipped_results.py
    matrix = json.loads((results / "matrix.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(matrix)]
    assert errors == []
    frame = pd.read_csv(results / "matrix.csv", dtype=text_columns(SCHEMA), keep_default_na=False,
                        na_values={c: [""] for c in COLUMNS if c not in ("python", "warnings")})
    rows = json.loads(frame.to_json(orient="records"))
    assert [e.message for e in VALIDATOR.iter_errors({"schema": 1, "cases": rows})] == []


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
    assert messages and complaint in messages[0]


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
    assert 3.1 in set(pd.read_csv(csv)["python"])  # what a reader gets without the schema
    typed = pd.read_csv(csv, dtype=text_columns(SCHEMA), keep_default_na=False)
    assert "3.10" in set(typed["python"]) and "3.1" not in set(typed["python"])
    matrix = json.loads((results / "matrix.json").read_text())
    assert "3.10" in {row["python"] for row in matrix["cases"]}
    assert list(VALIDATOR.iter_errors(matrix)) == []
    package = frictionless.Package(str(results / "datapackage.json"))
    assert "3.10" in {row["python"] for row in package.get_resource("matrix").read_rows()}


@pytest.mark.parametrize("where", ["fixtures", "frozen results"])
def test_the_csv_validates_as_a_frictionless_data_package(tmp_path, where):
    source = RAW if where == "fixtures" else ROOT / "tests" / "fixtures" / "results" / "raw"
    if not any(source.glob("*.json")):
        pytest.skip(f"no raw results in {source}")
    shutil.copytree(source, tmp_path / "raw")
    report.write(tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text())
    fields = package["resources"][0]["schema"]["fields"]
    assert [f["name"] for f in fields] == list(COLUMNS) and all(f["description"] for f in fields)
    assert {f["name"]: f["type"] for f in fields if f["name"] in ("python", "torch", "warm_n", "date")} == {
        "torch": "string", "python": "string", "warm_n": "integer", "date": "datetime"}
    result = frictionless.validate(str(tmp_path / "datapackage.json"))
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
