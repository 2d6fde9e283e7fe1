"""The failure catalogue's version ranges and transitions, and bisect's search, on made-up rows."""
import pandas as pd
import pytest

from harness.tools import bisection as bisect
from harness.analysis import catalogue
from harness.errors import HarnessError
from packaging.version import Version

INPLACE = "fail: RuntimeError: Output N of BackwardHookFunctionBackward is a view"
INDEX = "fail: IndexError: tuple index out of range"
SILENT = "mismatch: attributions do not add up (max abs error, deep; shap did not notice)"


def rows(table):
    """(torch, shap, model, explainer, outcome, signature) tuples -> tidy case rows."""
    out = []
    for torch, shap, model, explainer, outcome, signature in table:
        out.append({"torch": torch, "shap": shap, "model": model, "explainer": explainer, "device": "cpu",
                    "outcome": outcome, "signature": signature, "python": "3.11", "error_frame": None,
                    "error_message": None, "cell": f"{torch}/{shap}"})
    return pd.DataFrame(out)


@pytest.fixture
def frame():
    table = []
    for torch in ("2.4.1", "2.15.0"):
        for shap in ("0.41.0", "0.42.1", "0.43.0", "0.46.0"):
            old = shap in ("0.41.0", "0.42.1")
            table.append((torch, shap, "relu_inplace", "deep", "mismatch" if old else "fail", SILENT if old else INPLACE))
            table.append((torch, shap, "mlp", "gradient", "fail" if old else "pass", INDEX if old else None))
            table.append((torch, shap, "cnn", "gradient", "fail" if old else "pass", INDEX if old else None))
    # torch 1.13.1 could not run these cases at all (n/a): it is neither good nor bad
    table.append(("1.13.1", "0.46.0", "mlp", "gradient", "n/a", None))
    return rows(table)


def test_a_signature_fixed_in_a_shap_release_has_a_last_bad_and_first_good(frame):
    r = catalogue.axis_range(frame, INDEX, "shap")
    assert (r["first_bad"], r["last_bad"], r["last_good"], r["first_good"]) == ("0.41.0", "0.42.1", None, "0.43.0")
    assert catalogue.describe_range("shap", r) == "shap 0.41.0 – 0.42.1 (already in the oldest that ran; gone from 0.43.0: passes)"


def test_a_signature_present_in_every_torch_is_still_in_the_newest(frame):
    r = catalogue.axis_range(frame, INPLACE, "torch")
    assert (r["first_bad"], r["last_bad"], r["last_good"], r["first_good"]) == ("2.4.1", "2.15.0", None, None)
    assert "still in the newest that ran" in catalogue.describe_range("torch", r)
    shap = catalogue.axis_range(frame, INPLACE, "shap")
    assert (shap["last_good"], shap["first_bad"]) == ("0.42.1", "0.43.0")


def test_a_gap_in_the_middle_is_reported():
    frame = rows([("2.4.1", s, "m", "deep", o, sig) for s, o, sig in
                  (("0.41.0", "fail", INDEX), ("0.42.1", "pass", None), ("0.43.0", "fail", INDEX))])
    r = catalogue.axis_range(frame, INDEX, "shap")
    assert r["gaps"] == ["0.42.1"] and "not on 0.42.1 in between" in catalogue.describe_range("shap", r)


def test_transitions_group_models_and_fixed_versions(frame):
    moves = catalogue.transitions(frame)
    fixed = [m for m in moves if m["before"] == INDEX]
    assert len(fixed) == 1
    move = fixed[0]
    assert (move["axis"], move["from"], move["to"], move["after"]) == ("shap", "0.42.1", "0.43.0", "pass")
    assert sorted(move["models"]) == ["cnn", "mlp"] and move["fixed"] == ["2.4.1", "2.15.0"]
    inplace = [m for m in moves if m["after"] == INPLACE]
    assert len(inplace) == 1 and inplace[0]["before"] == SILENT and inplace[0]["models"] == ["relu_inplace"]
    assert not [m for m in moves if m["axis"] == "torch"]  # nothing changes between torch releases here


def test_the_catalogue_links_signatures_to_what_they_become_and_to_bisections(frame):
    record = {"case": "relu_inplace/deep/cpu", "axis": "shap", "fixed": {"torch": "2.4.1"}, "probes": [{}] * 3,
              "versions_between": 4,
              "boundary": {"last": {"version": "0.42.1", "label": SILENT}, "first": {"version": "0.43.0", "label": INPLACE}}}
    data = catalogue.build(frame, [record])
    by_signature = {e["signature"]: e for e in data["signatures"]}
    assert by_signature[SILENT]["becomes"] and "0.42.1 → 0.43.0" in by_signature[SILENT]["becomes"][0]
    assert by_signature[INPLACE]["comes_from"]
    move = next(m for m in data["transitions"] if m["after"] == INPLACE)
    assert move["bisect"] == [record]


def test_bisect_finds_the_first_changed_release_in_few_probes():
    versions = [Version(v) for v in ("0.41.0", "0.42.0", "0.42.1", "0.43.0", "0.43.1", "0.44.0", "0.44.1")]
    asked = []

    def outcome(v):
        asked.append(v)
        return "fail" if v < Version("0.43.0") else "pass"
    boundary, note = bisect.search(versions, outcome)
    assert note is None
    assert boundary == {"last": {"version": "0.42.1", "label": "fail"}, "first": {"version": "0.43.0", "label": "pass"}}
    assert len(asked) <= 5


def test_bisect_steps_around_untestable_releases_and_refuses_equal_ends():
    versions = [Version(v) for v in ("1.0", "1.1", "1.2", "1.3", "1.4")]
    labels = {"1.0": "pass", "1.1": "pass", "1.2": "n/a", "1.3": "fail", "1.4": "fail"}
    boundary, _ = bisect.search(versions, lambda v: labels[str(v)])
    assert (boundary["last"]["version"], boundary["first"]["version"]) == ("1.1", "1.3")
    _, note = bisect.search(versions[:2], lambda v: "pass")
    assert "nothing to bisect" in note


def test_bisect_options_are_checked_with_one_line_errors():
    with pytest.raises(HarnessError, match="MODEL/EXPLAINER/DEVICE"):
        bisect.parse(["mlp/deep", "--axis", "shap"])
    with pytest.raises(HarnessError, match="unknown model 'nope'"):
        bisect.parse(["nope/deep/cpu", "--axis", "shap"])
    with pytest.raises(HarnessError, match="not a version"):
        bisect.parse(["mlp/deep/cpu", "--axis", "shap", "--good", "banana"])
    with pytest.raises(HarnessError, match="bad option"):
        bisect.parse(["mlp/deep/cpu", "--axis", "numpy"])


def test_bisect_refuses_an_end_that_is_not_on_the_index(tmp_path):
    class Index:
        def releases(self, project):
            return [Version("0.42.0"), Version("0.43.0")]
    options = bisect.parse(["mlp/gradient/cpu", "--axis", "shap", "--good", "0.42.0", "--bad", "0.99.0",
                            "--results", str(tmp_path)])
    with pytest.raises(HarnessError, match="shap 0.99.0 is not a release on the package index"):
        bisect.run(options, index=Index())
