"""The SHIPPED results (results/), the one test that reads them: the tables in git are what the raw records in git
give. Every other test reads the frozen copy in tests/fixtures/results/, so a new matrix run changes no test's input;
after a run, `nox -s report` makes this test pass again."""
from pathlib import Path

import pytest

from conftest import FROZEN_RESULTS, report_of

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "results"
GENERATED = ["COMPATIBILITY.md", "matrix.csv", "datapackage.json", "matrix.schema.json"]


def records(results: Path) -> dict[Path, bytes]:
    """Every file under raw/ and bisect/, the report's whole input."""
    return {path.relative_to(results): path.read_bytes()
            for folder in ("raw", "bisect") for path in (results / folder).rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def rebuilt(request, tmp_path_factory):
    if not any((SHIPPED / "raw").glob("*.json")):
        pytest.skip("no results/raw in this checkout")
    if records(SHIPPED) == records(FROZEN_RESULTS):  # same input, same report: the one the other tests built
        return request.getfixturevalue("frozen_results")
    return report_of(SHIPPED, tmp_path_factory.mktemp("shipped"))


@pytest.mark.parametrize("name", GENERATED)
def test_the_shipped_tables_are_what_the_shipped_records_give(rebuilt, name):
    shipped = (SHIPPED / name).read_text(encoding="utf-8")
    assert shipped == (rebuilt / name).read_text(encoding="utf-8"), f"results/{name} is stale: run nox -s report"
