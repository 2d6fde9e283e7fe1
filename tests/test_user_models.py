"""Your own models: the file contract, checked without importing torch."""
import pytest

from harness.plan import suite
from harness.errors import HarnessError
from nox_runner import ROOT, nox

USER = ROOT / "tests" / "fixtures" / "user_models"


def test_a_folder_or_a_file_adds_models_under_their_own_names():
    models = suite.select(None, extra=[USER])
    assert models["tabular_regressor"] == USER / "tabular_regressor.py"
    assert "mlp" in models  # the reference suite is still there
    assert list(suite.select(["tabular_regressor"], extra=[USER / "tabular_regressor.py"])) == ["tabular_regressor"]


@pytest.mark.parametrize("text, problem", [
    ("def build():\n    pass\n", "no INPUT_SHAPES = [...]"),
    ("INPUT_SHAPES = [(3,)]\n", "no def build()"),
    ("x = 1\n", "no INPUT_SHAPES = [...] and no def build()"),
    ("def build(:\n", "is not valid Python (line 1"),
])
def test_a_file_that_breaks_the_contract_is_one_line(tmp_path, text, problem):
    path = tmp_path / "mine.py"
    path.write_text(text)
    with pytest.raises(HarnessError) as info:
        suite.select(None, extra=[path])
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_path_and_name_clash(tmp_path):
    with pytest.raises(HarnessError, match="no such .py file or folder"):
        suite.select(None, extra=[tmp_path / "nope.py"])
    clash = tmp_path / "mlp.py"
    clash.write_text("INPUT_SHAPES = [(3,)]\ndef build():\n    pass\n")
    with pytest.raises(HarnessError, match="model name 'mlp' .* is already taken"):
        suite.select(None, extra=[clash])


@pytest.mark.e2e  # the matrix session plans the grid from the package index first
def test_the_matrix_refuses_a_bad_models_file_in_one_line(tmp_path):
    bad = tmp_path / "mine.py"
    bad.write_text("x = 1\n")
    process = nox("-s", "matrix", "--", "--models", str(bad), "--results", str(tmp_path / "results"),
                  envdir=tmp_path / ".nox", timeout=300)
    lines = [line for line in (process.stdout + process.stderr).splitlines() if "aborted:" in line]
    assert process.returncode != 0
    assert len(lines) == 1
    assert "does not follow the models contract" in lines[0]
    assert not (tmp_path / "results" / "raw").exists()
