"""The typed record model (harness.records.model) and the one reader that migrates (store.read_cell).

Every raw record the repository ships, in results/ and in the fixtures, must read into the
model and back without a change: the views read typed fields, so a key the model dropped or
rewrote would change a table silently.
"""
import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.publish import report
from harness.records import outcomes, store
from harness.records.model import INSTALLED, CaseRecord, CellInfo, CellRecord, ErrorInfo, Outcome, Repeats

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "tests" / "fixtures" / "results" / "raw").rglob("*.json"))  # frozen copy of results/raw
FIXTURES = sorted((ROOT / "tests" / "fixtures").glob("**/raw/**/*.json")) + sorted(
    (ROOT / "tests" / "fixtures" / "gpu").glob("*.json"))  # gpu/: the cases part of a CUDA runner's record
RECORDS = SHIPPED + [path for path in FIXTURES if path not in SHIPPED]


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_there_are_records_to_check():
    assert len(SHIPPED) >= 20
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("path", RECORDS, ids=_id)
def test_every_record_round_trips_exactly(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    record = CellRecord.from_dict(document)
    again = record.to_dict()
    assert again == document
    assert list(again) == list(document)  # same keys, values and key order
    assert [list(case.to_dict()) for case in record.cases] == [list(case) for case in document["cases"]]


@pytest.mark.parametrize("path", SHIPPED, ids=_id)
def test_a_shipped_record_is_rewritten_byte_for_byte(path):
    """What write_cell would write from the model is the file in git: reading through the model changes nothing."""
    record = store.read_cell(path)
    assert store.json_with_cases(record.to_dict(), sort_keys=True) == path.read_text(encoding="utf-8")


def test_shipped_records_are_typed():
    records = [store.read_cell(path) for path in SHIPPED]
    cases = [case for record in records for case in record.cases]
    assert all(isinstance(case.outcome, Outcome) for case in cases)
    assert {case.outcome for case in cases} >= {Outcome.PASS, Outcome.FAIL, Outcome.MISMATCH, Outcome.SKIP}
    failed = [case for case in cases if case.outcome == Outcome.FAIL]
    assert failed
    assert all(case.error.type for case in failed)
    passed = [case for case in cases if case.outcome == Outcome.PASS]
    assert passed
    assert not any(case.error for case in passed)  # the typed empty default (falsy), not None
    assert all(isinstance(case.error, ErrorInfo) and isinstance(case.timing.warm.call, Repeats) for case in cases)
    timed = [case.timing.warm.call.median for case in passed]
    assert all(isinstance(median, float) for median in timed)
    assert all(record.provenance == INSTALLED and record.id == path.stem for record, path in zip(records, SHIPPED))


def test_outcome_enum_is_the_one_definition_of_the_names():
    assert {o.value for o in Outcome} == set(outcomes.OUTCOMES)
    assert len(outcomes.OUTCOMES) == len(Outcome)
    assert all(type(name) is str for name in outcomes.OUTCOMES)  # plain strings, as in the JSON
    assert outcomes.PASS == Outcome.PASS.value
    assert outcomes.NA == Outcome("n/a").value
    # a str enum: equal to, hashed and formatted as its name, so typed and plain outcomes mix in sets and f-strings
    assert {Outcome.PASS: 1}["pass"] == 1
    assert f"{Outcome.IMPORT_ERROR}" == "import-error"
    assert set(outcomes.RAN) < set(outcomes.OUTCOMES)
    assert outcomes.SKIP not in outcomes.RAN


def test_absent_evidence_reads_empty_and_writes_nothing():
    case = CaseRecord.from_dict({"model": "mlp", "explainer": "deep", "device": "cpu", "outcome": "skip"})
    assert (case.error.type, case.notes, case.crash.exit, case.timing.warm.call.median, case.oracles.exact.ok,
            case.stage) == (None, [], None, None, None, None)
    assert not (case.error or case.crash or case.timing or case.oracles.exact or case.additivity)
    assert case.to_dict() == {"model": "mlp", "explainer": "deep", "device": "cpu", "outcome": "skip"}


def test_null_and_unknown_keys_survive():
    raw = {"model": "mlp", "explainer": "deep", "device": "cpu", "outcome": "fail", "error": None, "seed": 3,
           "notes": [], "reason": None}
    case = CaseRecord.from_dict(raw)
    assert not case.error
    assert case.extra == {"seed": 3}
    assert case.reason is None
    assert case.to_dict() == raw
    assert list(case.to_dict()) == list(raw)
    case.error = ErrorInfo(type="RuntimeError")  # a field set after reading is written
    assert case.to_dict()["error"] == {"type": "RuntimeError"}


def test_a_record_built_in_code_writes_what_it_holds():
    record = CellRecord(schema=1, cell=CellInfo(id="c"), status="ran",
                        cases=[CaseRecord(model="mlp", explainer="deep", device="cpu", outcome=Outcome.PASS)])
    assert record.to_dict() == {"schema": 1, "cell": {"id": "c"}, "status": "ran",
                                "cases": [{"model": "mlp", "explainer": "deep", "device": "cpu", "outcome": "pass"}]}
    assert json.loads(json.dumps(record.to_dict()))["cases"][0]["outcome"] == "pass"


def _write(folder: Path, document: dict) -> Path:
    path = folder / "raw" / f"{document.get('cell', {}).get('id', 'x')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def _shipped() -> dict:
    return json.loads(SHIPPED[0].read_text(encoding="utf-8"))


def _one_line_error(path: Path, *words: str) -> str:
    with pytest.raises(HarnessError) as caught:
        store.read_cell(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    assert all(word in message for word in words), message
    return message


def test_a_newer_schema_is_refused_in_one_line(tmp_path, capsys):
    document = dict(_shipped(), schema=store.SCHEMA_VERSION + 1)
    path = _write(tmp_path, document)
    _one_line_error(path, f"schema {store.SCHEMA_VERSION + 1}", "newer", "update the harness")
    assert report.main(["--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "newer" in err
    assert "\n" not in err


def test_an_old_schema_without_a_migration_is_one_line(tmp_path):
    path = _write(tmp_path, dict(_shipped(), schema=0))
    _one_line_error(path, "schema 0", "cannot upgrade", "re-run its cell")


def test_registered_migrations_run_in_order(tmp_path, monkeypatch):
    """A test-local schema 2 (suite_seconds moved under run) and a schema 0 (outcome "ok" for pass) upgrade."""
    def zero_to_one(document):
        cases = [dict(case, outcome="pass" if case["outcome"] == "ok" else case["outcome"])
                 for case in document["cases"]]
        return dict(document, schema=1, cases=cases)

    def one_to_two(document):
        document = dict(document, schema=2)
        document["run"] = dict(document["run"], suite_seconds=document.pop("suite_seconds"))
        return document

    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(store, "MIGRATIONS", {0: zero_to_one, 1: one_to_two})
    shipped = _shipped()
    old = dict(shipped, schema=0, cases=[dict(c, outcome="ok" if c["outcome"] == "pass" else c["outcome"])
                                         for c in shipped["cases"]])
    for document in (shipped, old):
        path = _write(tmp_path, document)
        upgraded = store.read_cell(path)
        assert upgraded.schema == 2
        assert upgraded.suite_seconds is None
        assert upgraded.run.extra["suite_seconds"] == shipped["suite_seconds"]
        assert [c.outcome for c in upgraded.cases] == [c["outcome"] for c in shipped["cases"]]
    assert [record.id for record in store.read_cells(tmp_path)] == [shipped["cell"]["id"]]
    path = _write(tmp_path, dict(shipped, schema=3))
    _one_line_error(path, "schema 3", "newer")


def test_the_shipped_schema_has_no_migration_yet():
    assert store.SCHEMA_VERSION == 1
    assert store.MIGRATIONS == {}
    assert all(store.read_cell(path).schema == store.SCHEMA_VERSION for path in SHIPPED)


@pytest.mark.parametrize("change, words", [
    (lambda d: d["cases"][0].update(outcome="passed"), ["unknown outcome 'passed'"]),
    (lambda d: d["cases"][1].pop("model"), ["case 2 lacks a model"]),
    (lambda d: d.update(cases={"mlp": "pass"}), ["the record's 'cases' is not a JSON list"]),
    (lambda d: d["cases"][0].update(error="boom"), ["a case's 'error' is not a JSON object"]),
    (lambda d: d["cell"].pop("id"), ["names no cell id"]),
    (lambda d: d.update(schema="1"), ["schema '1'"]),
])
def test_a_malformed_record_is_one_line_naming_it(change, words, tmp_path):
    document = _shipped()
    name = document["cell"]["id"]
    change(document)
    path = tmp_path / "raw" / f"{name}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    _one_line_error(path, *words)


def test_the_cell_session_builds_the_record_it_always_wrote():
    """run/cell_session builds typed records; an n/a cell built today is the shipped record of it, key for key
    (apart from when and where it ran and today's model files)."""
    from types import SimpleNamespace

    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from harness.plan import suite
    from harness.plan.cells import Cell
    from harness.plan.grid import Constraint
    from harness.plan.settings import SuiteSettings
    from harness.run import cell_session

    path = ROOT / "tests" / "fixtures" / "results" / "raw" / "torch_1_13_0-shap_0_54_1.json"
    shipped = json.loads(path.read_text(encoding="utf-8"))
    info = shipped["cell"]
    cell = Cell(Version(info["torch"]), Version(info["shap"]), None, info["python_reason"], grids=info["grids"],
                notes=info["notes"], grid_axes=info["grid_axes"],
                constraints=[Constraint({"torch": SpecifierSet(c["applies_to"][len("torch"):])}, c["requires"], c["reason"])
                             for c in info["constraints"]])
    options = SimpleNamespace(suite=SuiteSettings(), device=None, explainer=None)
    models = suite.select(shipped["settings"]["models"])
    record = cell_session.document(cell, options, models, "n/a")
    record.cases = cell_session.every_case(models, options, outcome=Outcome.NA, reason=cell.python_reason)
    built = json.loads(store.json_with_cases(record.to_dict(), sort_keys=True))
    assert sorted(built) == sorted(shipped)
    for key in ("cell", "settings", "provenance", "status", "schema", "cases"):
        assert built[key] == shipped[key], key
    assert sorted(built["run"]) == sorted(shipped["run"])
    assert sorted(built["model_sources"]) == sorted(models)
