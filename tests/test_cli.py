"""torch-shap-matrix's table and lookup commands on the frozen results (the installed wheel: test_package.py)."""
import pytest

from harness.errors import HarnessError
from harness.publish import bundled, cell_answer
from harness.publish.matrix_file import read_matrix
from harness.tools import cli


def test_a_cell_of_the_table(frozen_results):
    answer = cell_answer.summary(read_matrix(frozen_results), "1.13.0", "0.44.1")
    assert answer["found"] and answer["constraints"] == "numpy<2"
    deep, gradient = answer["explainers"]["deep"], answer["explainers"]["gradient"]
    assert deep["passed"] < deep["ran"] and gradient["passed"] <= gradient["ran"]
    hook_order = next(p for p in deep["problems"] if "grad_input is called before" in p["signature"])
    assert "lstm_hidden_state" in hook_order["models"] and hook_order["id"].startswith("S")


def test_a_pair_not_in_the_table_lists_what_is(frozen_results):
    answer = cell_answer.summary(read_matrix(frozen_results), "1.12", "0.44.1")
    assert not answer["found"]
    lines = cell_answer.describe(answer)
    assert lines[0] == "torch 1.12 x shap 0.44.1: not in the table (not tested)." and "1.13.0" in lines[1]


def test_the_table_command(frozen_results, capsys):
    assert cli.main(["table", "--torch", "1.13.0", "--shap", "0.44.1", "--results", str(frozen_results)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("torch 1.13.0 x shap 0.44.1 (Python 3.11, numpy<2):") and f"table: {frozen_results}" in out


@pytest.mark.parametrize("argv, message", [
    (["table", "--torch", "one", "--shap", "0.44.1"], "error: torch 'one' is not a version"),
    (["table", "--torch", "1.13.0"], "error: bad option: the following arguments are required: --shap"),
    (["explain"], "error: unknown command 'explain'"),
    (["doctor", "no_such_model.py"], "error: no model module at no_such_model.py"),
])
def test_bad_input_is_one_line(argv, message, frozen_results, capsys):
    assert cli.main(argv + ["--results", str(frozen_results)] if argv[0] == "table" else argv) == 2
    assert capsys.readouterr().err.startswith(message)


def test_an_empty_results_folder_is_one_line(tmp_path):
    with pytest.raises(HarnessError, match="no results in"):
        bundled.results_folder(tmp_path)
