"""Error normalization and failure signatures."""
from harness.analysis.signatures import normalize, signature


def test_numbers_addresses_and_paths_are_stripped():
    assert normalize("The size of tensor a (16) must match the size of tensor b (8) at dimension 1") == \
        "The size of tensor a (N) must match the size of tensor b (N) at dimension N"
    assert normalize("object at 0x7f3a2b10 in /usr/lib/python3.11/site.py") == "object at <addr> in <path>"
    assert normalize("torch_2_4 has 3.5e-05 error") == "torch_2_4 has N error"


def test_same_error_in_two_cells_has_one_signature():
    a = {"outcome": "fail", "explainer": "deep", "error": {"type": "RuntimeError", "message": "size 16 vs 8"}}
    b = {"outcome": "fail", "explainer": "deep", "error": {"type": "RuntimeError", "message": "size 32 vs 4"}}
    assert signature(a) == signature(b) == "fail: RuntimeError: size N vs N"


def test_outcomes_without_errors():
    assert signature({"outcome": "pass"}) is None
    assert signature({"outcome": "skip"}) is None
    assert signature({"outcome": "crash", "crash": {"exit": "killed by signal SIGSEGV (11)"}}) == \
        "crash: killed by signal SIGSEGV (N)"
    assert signature({"outcome": "mismatch", "explainer": "gradient", "additivity": {"metric": "relative L2 error"}}) \
        == "mismatch: attributions do not add up (relative L2 error, gradient; shap did not notice)"
    assert signature({"outcome": "mismatch", "explainer": "deep", "shap_check": {"type": "AssertionError"}}) == \
        "mismatch: shap's own additivity check fired (deep)"
