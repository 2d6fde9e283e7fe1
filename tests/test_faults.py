"""Faults injected for real through the nox sessions: the run goes on, the cell records what happened."""
import json
import shutil
from pathlib import Path

import pytest

from nox_runner import nox

pytestmark = pytest.mark.e2e
GRID = '[torch]\nalways = ["2.4.1"]\n[grids.one]\ntorch = ["2.4.1"]\nshap = ["0.46.0"]\n'
FIXTURE = Path(__file__).parent / "fixtures" / "raw" / "torch_1_13_1-shap_0_44_1.json"


def test_an_unreachable_index_during_install_is_the_cells_outcome(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    results = tmp_path / "results"
    (results / "raw").mkdir(parents=True)
    other = results / "raw" / FIXTURE.name
    shutil.copy(FIXTURE, other)
    process = nox("-s", "cell-torch_2_4_1-shap_0_46_0", "--", "--results", str(results), "--model", "mlp",
                  envdir=tmp_path / ".nox", timeout=600,
                  env={"MATRIX_GRID_FILE": str(grid), "UV_INDEX_URL": "http://127.0.0.1:9/simple"})
    output = process.stdout + process.stderr
    assert "Session cell-torch_2_4_1-shap_0_46_0 was successful" in output  # a failed install is data
    document = json.loads((results / "raw" / "torch_2_4_1-shap_0_46_0.json").read_text())
    assert document["status"] == "install-error"
    assert "127.0.0.1:9" in document["install"]["message"]
    assert {c["outcome"] for c in document["cases"]} == {"install-error"}
    assert all("Connection refused" in c["error"]["message"] for c in document["cases"])
    assert other.read_bytes() == FIXTURE.read_bytes()
