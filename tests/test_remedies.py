"""The code-remedy registry (harness/cell/remedies.py) as the supervisor and the report see it, without torch.

What each remedy does to a real model is checked in the end-to-end cell (tests/test_e2e.py)."""
from __future__ import annotations

import pytest

from harness.cell import remedies
from harness.cell.supervisor import compact_remedy


def test_every_remedy_says_what_it_changes_and_where_the_advice_comes_from():
    for name, remedy in remedies.REGISTRY.items():
        assert remedy.name == name
        assert remedy.title
        assert remedy.changes
        assert remedy.source.startswith("https://github.com/")
        assert " : " in remedy.source
        assert remedy.semantics == "unchanged" or remedy.caveat  # a changed method is said in the table
        assert set(remedy.explainers) <= {"deep", "gradient"}
        assert set(remedy.devices) <= {"cpu", "cuda"}


def test_check_additivity_false_is_not_a_remedy():
    text = " ".join(f"{r.title} {r.changes}" for r in remedies.REGISTRY.values())
    assert "check_additivity" not in text


@pytest.mark.parametrize("case, expected", [
    ({"explainer": "deep", "device": "cpu"}, ["gradient_explainer", "out_of_place", "module_per_call",
                                              "out_of_place_per_call"]),
    ({"explainer": "gradient", "device": "cpu"}, ["out_of_place", "module_per_call", "out_of_place_per_call"]),
    ({"explainer": "deep", "device": "cuda"}, ["gradient_explainer", "out_of_place", "module_per_call",
                                               "out_of_place_per_call", "cudnn_off"]),
])
def test_which_remedies_a_case_gets(case, expected):
    assert remedies.applicable(case) == expected


def test_a_remedy_record_keeps_the_verdict_and_its_evidence_only():
    result = {"outcome": "mismatch", "explainer": "gradient", "notes": ["..."] * 5, "timing": {},
              "additivity": {"ok": False, "metric": "max abs error", "error": 0.2, "tolerance": 0.001,
                             "criterion": "long text"},
              "shap_check": {"type": "AssertionError", "message": "do not sum up", "frame": "x.py:1 in f",
                             "traceback_tail": ["..."]}}
    kept = compact_remedy("gradient_explainer", result, 1.23456)
    assert kept == {"remedy": "gradient_explainer", "outcome": "mismatch", "seconds": 1.235, "explainer": "gradient",
                    "error": {"type": "AssertionError", "message": "do not sum up", "frame": "x.py:1 in f"},
                    "shap_check": True,
                    "additivity": {"ok": False, "metric": "max abs error", "error": 0.2, "tolerance": 0.001}}
    assert compact_remedy("out_of_place", {"outcome": "n/a", "reason": "no module has inplace=True"}, 0.0) == {
        "remedy": "out_of_place", "outcome": "n/a", "seconds": 0.0, "reason": "no module has inplace=True"}
