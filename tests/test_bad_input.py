"""Bad input gives a one-line error naming the problem, a non-zero exit, and leaves results alone."""
import pytest

from nox_runner import nox

GOOD = '[torch]\nalways = ["2.4.1"]\n[grids.tiny]\ntorch = ["2.4.1"]\nshap = ["0.46.0"]\n'


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "earlier.json").write_text('{"kept": true}')
    return folder


def run_matrix(tmp_path, results, grid_text, *posargs, env=None):
    grid = tmp_path / "grid.toml"
    grid.write_text(grid_text)
    env = dict({"MATRIX_GRID_FILE": str(grid)}, **(env or {}))
    return nox("-s", "matrix", "--", "--results", str(results), *posargs, envdir=tmp_path / ".nox", env=env,
               timeout=300)


def error_lines(process):
    return [line for line in (process.stdout + process.stderr).splitlines() if "aborted:" in line]


@pytest.mark.parametrize("grid_text, posargs, message", [
    ("[grids.tiny\n", [], "grid.toml is not valid TOML"),
    (GOOD.replace('"0.46.0"', '"0.46.x"'), [], "'0.46.x' is not a version"),
    pytest.param(GOOD.replace('"0.46.0"', '"9.9.9"'), [],  # this one and the next two ask the package index first
                 "shap 9.9.9 (grid 'tiny') is not a release on the package index", marks=pytest.mark.e2e),
    pytest.param(GOOD, ["--grid", "huge"], "unknown grid 'huge' in grid.toml (known: tiny)", marks=pytest.mark.e2e),
    pytest.param(GOOD, ["--grid", "tiny", "--model", "resnet999"], "unknown model 'resnet999' (known: cnn2d",
                 marks=pytest.mark.e2e),
    (GOOD, ["--grid", "tiny", "--repeats", "many"], "bad option: argument --repeats: invalid int value"),
    (GOOD + '[[constraints]]\ntorch = "<2.3"\nrequires = ["numpy<2"]\n', [],
     "grid.toml: [[constraints]] entry 1 needs a reason"),
])
def test_bad_input_is_one_line_and_keeps_results(tmp_path, results, grid_text, posargs, message):
    process = run_matrix(tmp_path, results, grid_text, *posargs)
    assert process.returncode != 0
    lines = error_lines(process)
    assert len(lines) == 1, process.stdout + process.stderr
    assert message in lines[0], process.stdout + process.stderr
    assert (process.stdout + process.stderr).count(message) == 1  # said once, not also as a note
    assert "Traceback" not in process.stdout + process.stderr
    assert [p.name for p in (results / "raw").iterdir()] == ["earlier.json"]
    assert (results / "raw" / "earlier.json").read_text() == '{"kept": true}'


def test_no_network_and_no_cache(tmp_path, results):
    env = {"MATRIX_INDEX_URL": "http://127.0.0.1:9/simple", "MATRIX_CACHE_DIR": str(tmp_path / "empty-cache")}
    process = run_matrix(tmp_path, results, GOOD, "--grid", "tiny", env=env)
    assert process.returncode != 0
    lines = error_lines(process)
    assert len(lines) == 1
    assert "cannot reach the package index http://127.0.0.1:9/simple" in lines[0]
    assert [p.name for p in (results / "raw").iterdir()] == ["earlier.json"]
