import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FROZEN_RESULTS = ROOT / "tests" / "fixtures" / "results"


def report_of(source: Path, folder: Path) -> Path:
    """source's raw records (and bisect records) reported afresh into folder/results, the way `nox -s report` does:
    matrix.json is generated, not kept in git."""
    from harness.publish import report
    results = folder / "results"
    shutil.copytree(source / "raw", results / "raw")
    if (source / "bisect").is_dir():
        shutil.copytree(source / "bisect", results / "bisect")
    report.write(results)
    return results


@pytest.fixture(scope="session")
def frozen_results(tmp_path_factory):
    """The frozen copy of the shipped results (tests/fixtures/results), reported once per test run: re-running the
    matrix rewrites results/, not the tests' input. tests/test_shipped_results.py checks results/ itself."""
    return report_of(FROZEN_RESULTS, tmp_path_factory.mktemp("frozen"))
