"""Answer cards (harness.analysis.answers) on the frozen real results, and the kinds of model they are said in."""
from __future__ import annotations

import json
import re

import pytest

from harness.analysis import answers
from harness.plan.suite import discover

SEED = "Module backward hook for grad_input is called before the grad_output one"
INTERNAL = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")  # a model's file name: lstm_hidden_state, ...


@pytest.fixture(scope="module")
def matrix(frozen_results):
    return json.loads((frozen_results / "matrix.json").read_text())


@pytest.fixture(scope="module")
def data(matrix, frozen_results):
    return answers.build(matrix, frozen_results)


@pytest.fixture(scope="module")
def seed(data):
    [card] = [p for p in data["problems"] if SEED in p["signature"]["text"]]
    return card


def texts(node):
    """Every {"en", "zh"} text in the answers."""
    if isinstance(node, dict):
        if set(node) == {"en", "zh"}:
            yield node
        else:
            for value in node.values():
                yield from texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value)


def test_every_model_says_its_kind_in_both_languages_and_every_kind_is_described():
    info = answers.models_info([])
    assert set(info) == set(discover())
    for name, model in info.items():
        constants = answers.model_constants(discover()[name])
        assert constants.get("FAMILY") in answers.FAMILIES, name
        assert constants.get("DESCRIPTION") and constants.get("DESCRIPTION_ZH"), name
        assert re.search(r"[\u4e00-\u9fff]", constants["DESCRIPTION_ZH"]), name
    used = {m["family"] for m in info.values()}
    assert used | {answers.OTHER} == set(answers.FAMILIES)  # every kind has a model (but the user's own)
    for family in answers.FAMILIES.values():
        for key in ("name", "who", "description"):
            assert family[key]["en"] and re.search(r"[\u4e00-\u9fff]", family[key]["zh"])


def test_the_answers_follow_the_contract_and_every_text_is_in_both_languages(data):
    assert set(data) >= {"summary", "explainers", "families", "problems", "cells"}
    assert data["explainers"]["gradient"] == {"en": "GradientExplainer", "zh": "GradientExplainer"}
    found = list(texts(data))
    assert len(found) > 300 and all(t["en"] and t["zh"] for t in found)
    for card in data["problems"]:
        assert re.search(r"[\u4e00-\u9fff]", card["sentence"]["zh"]) and card["id"].startswith("S")
        assert {"explainer", "outcome", "loud", "signature", "title", "sentence", "families", "range", "fixes",
                "not_fixes", "reproducer", "reports"} <= set(card)
        assert set(card["families"]) <= set(answers.FAMILIES)
    json.dumps(data)  # plain JSON data


def test_the_seeds_card_names_the_kinds_the_bisected_range_and_the_verified_fix(seed, matrix):
    first = seed["sentence"]["en"]
    assert first.startswith("DeepExplainer raises RuntimeError")
    assert "an LSTM whose head reads h_n or c_n" in first
    assert "a custom layer without sub-layers that returns a dict, a list or a nested tuple" in first
    # the bisected lower bound (torch 1.7.1 -> 1.8.0) and shap's (0.42.1 -> 0.43.0), not the grid's oldest torch
    assert "torch 1.8.0 – 1.13.0 with shap >= 0.43.0" in first
    assert "torch 1.7.1 → 1.8.0" in seed["range"]["en"] and "seen in the grid: torch 1.13.0" in seed["range"]["en"]
    # the fix's count is the rows' own remedy verdicts
    rows = [c for c in matrix["cases"] if c["signature"] == seed["signature"]["text"]]
    passed = sum(c["remedy_gradient_explainer"] == "pass" for c in rows)
    assert passed == len(rows) == 24
    assert f"GradientExplainer: passed in {passed} of {len(rows)} cases" in first
    best = seed["fixes"][0]
    assert "explainer = shap.GradientExplainer(model, background)" in best["code"] and best["for"] is None
    assert "torch 1.8.0 – 1.13.0 搭配 shap >= 0.43.0" in seed["sentence"]["zh"]
    assert "24 个用例中通过 24 个" in seed["sentence"]["zh"]


def test_upgrading_torch_is_a_fix_for_one_kind_and_not_for_the_other(seed):
    [upgrade] = [f for f in seed["fixes"] if f["install"] == "pip install 'torch==1.13.1'"]
    assert "custom layer" in upgrade["for"]["en"] and "LSTM" not in upgrade["for"]["en"]
    assert upgrade["verified"]["en"].startswith("torch 1.13.1 – ")
    refused = [t["en"] for t in seed["not_fixes"] if t["en"].startswith("Upgrade torch to 1.13.1")]
    assert len(refused) == 1 and "an LSTM whose head reads h_n or c_n" in refused[0]
    assert "custom layer" not in refused[0] and "(S1)" in refused[0]


def test_cards_speak_of_kinds_of_model_never_of_internal_names(data):
    names = set(discover())
    for card in data["problems"]:
        words = [card["sentence"]["en"], *(t["en"] for t in card["not_fixes"])]
        words += [answers.fix_label(f, "en") for f in card["fixes"]]
        leaked = {w for text in words for w in INTERNAL.findall(text)} & names
        assert not leaked, (card["id"], leaked)


def test_each_cards_reproducer_is_one_of_its_own_rows(data, matrix):
    for card in data["problems"]:
        reproducer = card["reproducer"]
        assert reproducer, card["id"]
        model = next(m for m in card["models"] if m["name"] == reproducer["model"])
        assert model["family"] in card["families"]
        rows = [c for c in matrix["cases"] if c["signature"] == card["signature"]["text"]
                and c["model"] == reproducer["model"] and c["explainer"] == reproducer["explainer"]]
        assert reproducer["path"] in {c["reproducer"] for c in rows}
        entry = matrix["reproducers"][reproducer["path"]]
        assert entry["signature"] == card["signature"]["text"] and reproducer["command"] == entry["command"]
    seed = next(p for p in data["problems"] if SEED in p["signature"]["text"])
    assert seed["reproducer"]["model"] == "lstm_hidden_state"  # the kind the card names first: its example model


def test_the_seeds_card_cites_the_public_reports_that_quote_it(seed):
    assert "https://github.com/shap/shap/issues/3966" in seed["reports"]
    assert all(url.startswith("https://github.com/") for url in seed["reports"])


def test_kinds_of_model_count_their_cases_per_explainer(data, matrix):
    families = {f["id"]: f for f in data["families"]}
    lstm = families["lstm_final_state"]
    members = {m["name"] for m in lstm["models"]}
    for explainer in ("deep", "gradient"):
        rows = [c for c in matrix["cases"] if c["model"] in members and c["explainer"] == explainer
                and c["outcome"] in ("pass", "mismatch", "fail", "crash", "timeout", "import-error")]
        item = lstm["explainers"][explainer]
        assert (item["pass"], item["total"]) == (sum(c["outcome"] == "pass" for c in rows), len(rows))
    assert lstm["explainers"]["gradient"]["verdict"] == "works"
    assert lstm["explainers"]["deep"]["verdict"] == "fails"
    assert "S5" in lstm["explainers"]["deep"]["problems"]
    assert any("GradientExplainer" in line["en"] and "LSTM read through h_n / c_n" in line["en"]
               for line in data["summary"])


def test_a_cell_card_counts_each_explainer_apart(data, matrix):
    [cell] = [c for c in data["cells"] if (c["torch"], c["shap"]) == ("2.4.1", "0.46.0")]
    for explainer in ("deep", "gradient"):
        rows = [c for c in matrix["cases"] if c["cell"] == cell["id"] and c["explainer"] == explainer
                and c["outcome"] != "skip"]
        passed = sum(c["outcome"] == "pass" for c in rows)
        assert cell["explainers"][explainer] == {"pass": passed, "total": len(rows)}
    gradient = cell["explainers"]["gradient"]
    assert f"GradientExplainer passed {gradient['pass']} of {gradient['total']} cases" in cell["sentence"]["en"]
    assert any(c["status"] == "n/a" and "not tested" in c["sentence"]["en"] for c in data["cells"])


def test_cells_are_said_as_torch_spans_with_shap_spans():
    tested = {"1.13.0": ["0.42.1", "0.43.0", "0.49.1"], "1.13.1": ["0.42.1", "0.43.0", "0.49.1"],
              "2.4.1": ["0.42.1", "0.43.0", "0.49.1", "0.54.1"]}
    cells = {(t, s) for t, shaps in tested.items() for s in shaps if s != "0.42.1"}
    assert answers.cells_text(cells, tested)["en"] == "torch 1.13.0 – 2.4.1 with shap >= 0.43.0"
    cells.discard(("1.13.0", "0.49.1"))
    text = answers.cells_text(cells, tested)
    assert text["en"] == "torch 1.13.0 with shap 0.43.0; torch 1.13.1 – 2.4.1 with shap >= 0.43.0"
    assert text["zh"] == "torch 1.13.0 搭配 shap 0.43.0；torch 1.13.1 – 2.4.1 搭配 shap >= 0.43.0"


def test_the_card_lines_say_the_same_sentences(seed):
    for lang in ("en", "zh"):
        lines = answers.card_lines(seed, lang)
        assert lines[1] == seed["sentence"][lang]
        assert any("pip install 'torch==1.13.1'" in line for line in lines)
        assert any(seed["reproducer"]["path"] in line or "lstm_hidden_state-deep-cpu.py" in line for line in lines)


def test_compatibility_md_says_the_same_sentences_with_a_view_by_kind(data, frozen_results):
    text = (frozen_results / "COMPATIBILITY.md").read_text()
    flat = " ".join(text.split())  # prose lines are wrapped at 200 characters
    for card in data["problems"]:
        assert " ".join(card["sentence"]["en"].split()) in flat
        assert f"[**{card['id']}**](#{card['id'].lower()})" in text and f"\n### {card['id']}\n" in text
    by_kind = text[text.index("## By kind of model"):text.index("## Summary (cpu)")]
    lstm = next(line for line in by_kind.splitlines() if "LSTM read through h_n / c_n" in line)
    assert lstm.split(" | ")[1].startswith("❌ 0/66") and lstm.split(" | ")[2].startswith("✅ 66/66")
    # one grid per explainer, never the two added together
    assert "### DeepExplainer (cpu)" in text and "### GradientExplainer (cpu)" in text and "/72" not in text



def cut(matrix: dict, cases: list[dict]) -> dict:
    """matrix.json as the report writes it for fewer cases: only the problems those cases show."""
    seen = {case.get("signature") for case in cases}
    catalogue = dict(matrix["catalogue"], signatures=[e for e in matrix["catalogue"]["signatures"]
                                                      if e["signature"] in seen])
    return dict(matrix, cases=cases, catalogue=catalogue,
                known_problems=[p for p in matrix["known_problems"] if p["signature"] in seen])


@pytest.mark.parametrize("cases_of", [
    pytest.param(lambda cases: [c for c in cases if c["explainer"] == "deep"], id="one explainer ran"),
    pytest.param(lambda cases: [dict(c, outcome="skip", signature=None) for c in cases[:4]],
                 id="every case skipped (a CUDA shard without CUDA)"),
])
def test_a_results_folder_where_an_explainer_never_ran_still_gets_answers(matrix, frozen_results, cases_of):
    """The e2e grids run a model or two, and a GPU shard on a machine without CUDA skips every case."""
    data = answers.build(cut(matrix, cases_of(matrix["cases"])), frozen_results)
    explainers = {line["en"].split(":")[0] for line in data["summary"]}
    assert "GradientExplainer" not in explainers
