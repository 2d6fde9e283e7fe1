import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def shipped(tmp_path_factory):
    """The shipped results/raw (and bisect records) reported afresh into a temporary folder: matrix.json is
    generated, not kept in git, so tests on the real results build it the way `nox -s report` does."""
    from harness.publish import report
    if not (ROOT / "results" / "raw").is_dir():
        pytest.skip("no shipped results/raw")
    results = tmp_path_factory.mktemp("shipped") / "results"
    shutil.copytree(ROOT / "results" / "raw", results / "raw")
    if (ROOT / "results" / "bisect").is_dir():
        shutil.copytree(ROOT / "results" / "bisect", results / "bisect")
    report.write(results)
    return results
