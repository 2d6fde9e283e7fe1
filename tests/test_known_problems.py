"""The known-problems table: made-up rows (tests/fixtures/known_problems/) and the frozen real results."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.analysis import catalogue, known_problems
from harness.publish import page as site

ROOT = Path(__file__).resolve().parent.parent
ROWS = ROOT / "tests" / "fixtures" / "known_problems" / "rows.json"
HOOK = "fail: RuntimeError: Module backward hook for grad_input is called before the grad_output one. <b>&"
CHECK = "mismatch: shap's own additivity check fired (deep)"
SILENT = "mismatch: attributions do not add up (max abs error, deep; shap did not notice)"
SCRIPTED = "fail: RuntimeError: register_forward_hook is not supported on ScriptModules"


@pytest.fixture(scope="module")
def problems():
    frame = pd.DataFrame(json.loads(ROWS.read_text()))
    rows = known_problems.build(frame, catalogue.build(frame))
    return {p["signature"]: p for p in rows}


def test_each_signature_is_one_problem_with_what_the_user_sees(problems):
    assert set(problems) == {HOOK, CHECK, SILENT, SCRIPTED}
    assert [problems[s]["sees"] for s in (HOOK, CHECK, SILENT, SCRIPTED)] == [
        "raises RuntimeError", "shap's own check raises", "silently wrong numbers", "raises RuntimeError"]
    hook = problems[HOOK]
    assert hook["models"] == ["hook_leaf", "lstm"] and hook["by_explainer"] == {"deep": ["hook_leaf", "lstm"]}
    assert hook["explainers"] == ["deep"] and hook["devices"] == ["cpu"]
    assert hook["ranges"] == {"torch": "1.13.0", "shap": "0.46.0"}
    assert hook["reproducer"].startswith("reproducers/torch_1_13_0-shap_0_46_0/")


def test_a_release_that_fixes_some_cases_is_a_remedy_for_those_and_not_for_the_rest(problems):
    hook, ids = problems[HOOK], {s: p["id"] for s, p in problems.items()}
    assert hook["remedies"] == ["upgrade torch to 2.4.1 – 2.15.0: passes for hook_leaf only",
                                "downgrade shap to 0.42.1: passes for hook_leaf only"]
    assert hook["not_remedies"] == [
        f"upgrade torch to 2.4.1 – 2.15.0 turns this into {ids[CHECK]} (shap's own check raises) for lstm",
        f"downgrade shap to 0.42.1 turns this into {ids[SILENT]} (silently wrong numbers) for lstm"]
    # a release where the cases did not run (n/a) is neither a remedy nor a non-remedy
    assert not any("0.54.1" in line for line in hook["remedies"] + hook["not_remedies"])


def test_wrong_numbers_list_check_additivity_as_never_a_remedy(problems):
    silent = problems[SILENT]
    assert silent["remedies"] == []
    assert silent["not_remedies"][0].startswith("upgrade shap to 0.46.0 turns this into")
    assert "(raises RuntimeError) for lstm" in silent["not_remedies"][0]
    assert "(shap's own check raises) for lstm" in silent["not_remedies"][0]
    for signature in (SILENT, CHECK):
        assert problems[signature]["not_remedies"][-1] == known_problems.NO_CHECK_ADDITIVITY
    assert known_problems.NO_CHECK_ADDITIVITY not in problems[HOOK]["not_remedies"]
    assert problems[SCRIPTED]["remedies"] == problems[SCRIPTED]["not_remedies"] == []  # fails everywhere tested


def test_the_page_shows_the_problem_cards_and_escapes_their_text():
    """The page's known problems are the answer cards (harness.analysis.answers, rendered by page.py), escaped."""
    matrix = json.loads((ROOT / "tests" / "fixtures" / "site" / "matrix.json").read_text())
    cards = json.loads((ROOT / "tests" / "fixtures" / "answers" / "answers.json").read_text())
    cards["problems"][0]["sentence"]["en"] = "<b>& raised"
    page = site.build_page(matrix, None, results_href=".", answers=cards)
    assert page.index('id="lookup"') < page.index('id="problems"')  # the search box first, the cards below
    assert "<b>&" not in page and "&lt;b&gt;&amp; raised" in page  # third-party text is escaped
    assert f'href="./{cards["problems"][0]["reproducer"]["path"]}"' in page


def test_the_real_table_is_short_enough_to_read(frozen_results):
    text = (frozen_results / "COMPATIBILITY.md").read_text()
    assert len(text.encode()) < 30_000
    prose = [line for line in text.splitlines() if not line.startswith("|")]
    assert max(map(len, prose)) <= 200
    cells = [cell for line in text.splitlines() if line.startswith("|") for cell in line.strip("|").split(" | ")]
    assert max(map(len, cells)) <= 250
    # the answers first: what to do, the problems, the kinds of model; then the grids, the cards, the evidence
    order = ["## What to do", "## Known problems", "## By kind of model", "## Summary (cpu)", "## Legend",
             "## Problem cards", "## Remedies", "## Failure signatures"]
    assert [text.index(heading) for heading in order] == sorted(text.index(heading) for heading in order)
    assert "## By model" not in text and "## Cells and what resolved" not in text


def test_the_seeds_error_gets_its_remedies_from_the_real_results(frozen_results):
    matrix = json.loads((frozen_results / "matrix.json").read_text())
    [seed] = [p for p in matrix["known_problems"] if "called before the grad_output one" in p["signature"]]
    assert seed["sees"] == "raises RuntimeError"
    assert {"lstm_hidden_state", "lstm_seq_first", "hook_order_lstm_cell_state"} <= set(seed["models"])
    # every verdict is a recorded outcome of the same cases: check each against the rows
    cases = matrix["cases"]
    for item in seed["versions"]:
        axis = item["axis"]
        for version in item["versions"]:
            there = [c for c in cases if c[axis] == version and c["model"] in item["passes"]
                     and c["explainer"] == "deep" and c["outcome"] in ("pass", "mismatch", "fail")]
            assert there and any(c["outcome"] == "pass" for c in there)
    assert seed["not_remedies"], "these results show releases that turn the error into another problem"
    ids = {p["id"]: p for p in matrix["known_problems"]}
    for item in (i for i in seed["versions"] if i["works"] != "yes"):
        for instead in item["instead"]:
            assert ids[instead["id"]]["signature"] == instead["label"]


def test_the_seeds_error_has_a_verified_code_remedy_in_the_real_results(frozen_results):
    """Each code-remedy verdict of the seed's problem is backed by the rows' remedy_<name> columns."""
    matrix = json.loads((frozen_results / "matrix.json").read_text())
    [seed] = [p for p in matrix["known_problems"] if "called before the grad_output one" in p["signature"]]
    hits = [c for c in matrix["cases"] if c["signature"] == seed["signature"]]
    code = {c["remedy"]: c for c in seed["code"]}
    gradient = code["gradient_explainer"]
    assert gradient["works"] == "yes" and gradient["passed"] == gradient["tried"] == len(hits)
    assert all(c["remedy_gradient_explainer"] == "pass" for c in hits)
    assert any(r.startswith("code: GradientExplainer instead: passes in") for r in seed["remedies"])
    for name, item in code.items():  # counts are the rows' verdicts, n/a apart
        column = [c[f"remedy_{name}"] for c in hits]
        assert item["passed"] == column.count("pass") and item["not_applicable"] == column.count("n/a")


def test_every_non_passing_case_in_the_real_results_tried_its_remedies(frozen_results):
    from harness.cell import remedies

    matrix = json.loads((frozen_results / "matrix.json").read_text())
    for case in matrix["cases"]:
        tried = {name for name in remedies.REGISTRY if case[f"remedy_{name}"] is not None}
        if case["outcome"] in remedies.NEEDS_REMEDY:
            assert tried == set(remedies.applicable(case)), (case["cell"], case["model"], case["explainer"])
        else:
            assert not tried
