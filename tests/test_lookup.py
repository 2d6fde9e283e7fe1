"""Paste your error: harness/publish/lookup.py in Python and publish/templates/lookup.js in a real headless Chromium.

tests/fixtures/lookup/matrix.json is cut from a real default-grid run (24 cells, CPU): the rows of six models
(hook_order_dict_output_leaf, lstm_hidden_state, relu_inplace, conv_attention_product, torchscript_mlp,
reused_activation) with the catalogue and known-problem entries of their signatures (their verified remedies),
made by tests/fixtures/lookup/cut.py from the shipped results/matrix.json.
examples.json holds pasted texts and the signature each must find (null: not observed); pastes.json holds REAL
pastes, exactly as people posted them publicly (each with its source URL and form), and the problems each must find
(empty: "not observed"). Both implementations run both sets: lookup.js under node here, and in Chromium below.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.publish import lookup
from harness.publish import page as site
from harness.errors import HarnessError
from test_site import browser  # noqa: F401 (a fixture: headless Debian chromium)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "lookup"
EXAMPLES = json.loads((FIXTURES / "examples.json").read_text())
PASTES = json.loads((FIXTURES / "pastes.json").read_text())
SEED = EXAMPLES[0]["text"]
UNSEEN = EXAMPLES[-2]["text"]
SEED_SIGNATURE = "fail: RuntimeError: Module backward hook for grad_input is called before the grad_output one."


@pytest.fixture(scope="module")
def problems():
    return lookup.problems(json.loads((FIXTURES / "matrix.json").read_text()))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_examples(problems, example):
    found = lookup.match(example["text"], problems)
    if example["signature"] is None:
        assert found == []
    else:
        assert found[0]["signature"].startswith(example["signature"])
        assert found[0]["match"] == example["match"]


@pytest.mark.parametrize("paste", PASTES, ids=[p["name"] for p in PASTES])
def test_real_pastes(problems, paste):
    """Each real paste finds its problems (all of them first, in any order), or says "not observed"."""
    found = [f["id"] for f in lookup.match(paste["text"], problems)]
    assert set(found[:len(paste["expect"])]) == set(paste["expect"]) and len(found) >= len(paste["expect"])
    if not paste["expect"]:
        assert found == []


def test_the_real_pastes_cover_the_forms_people_use():
    """At least ten forms that find their problem, ten unrelated errors, and quotes in English and Chinese prose."""
    found = [p for p in PASTES if p["expect"]]
    assert len(found) >= 10 and len(PASTES) - len(found) >= 10
    forms = " ".join(p["form"] for p in found)
    for form in ("full traceback", "IPython", "Colab", "Markdown quote", "backticks", "bold", "code fence",
                 "elided", "Chinese prose", "symptom", "quoted in an English sentence", "quoted in a Chinese sentence"):
        assert form in forms, form
    assert all(p["source"].startswith("https://") for p in PASTES)


def node_answers(problems, texts):
    """What lookup.js answers under node, per text."""
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    done = subprocess.run(["node", str(FIXTURES / "node_lookup.js")], capture_output=True, text=True, check=True,
                          input=json.dumps({"problems": problems, "texts": texts}))
    return json.loads(done.stdout)


def comparable(said):
    """An answer in the terms both implementations share (JSON round trip: tuples become lists)."""
    return json.loads(json.dumps({"found": [[f["id"], f["match"], f["score"], [c["differs"] for c in f["close"]],
                                             f.get("symptom")] for f in said["found"]],
                                  "set_aside": said["set_aside"], "read": said["read"]}))


def test_the_page_script_answers_like_python(problems):
    """lookup.js (under node) and lookup.py agree on every text of the shared set: messages, reading, answer."""
    texts = [p["text"] for p in PASTES] + [e["text"] for e in EXAMPLES]
    for text, js in zip(texts, node_answers(problems, texts)):
        assert js["extract"] == lookup.extract(text), text[:80]
        assert js["read"] == lookup.read(text), text[:80]
        assert comparable(js["answer"]) == comparable(lookup.answer(text, problems)), text[:80]


def paste(name):
    return next(p["text"] for p in PASTES if p["name"].startswith(name))


def test_a_traceback_outside_shap_is_set_aside_with_what_shap_would_mean(problems):
    said = lookup.answer(paste("pytorch-grad-cam #147"), problems)
    assert said["found"] == [] and said["read"]["through_shap"] is False and said["read"]["frames"] == 7
    [aside] = said["set_aside"]
    assert aside["id"] == "S4" and aside["reason"] == "outside"
    assert aside["note"].startswith("not observed in shap: this traceback never passes through shap. When shap "
                                    "raises the same message (deep explainer, torch 1.13.0")


def test_the_frames_say_which_explainer_and_the_message_which_node(problems):
    said = lookup.answer(paste("shap #2511"), problems)
    assert said["read"] == {"frames": 2, "through_shap": True, "explainer": "deep", "node": None,
                            "mentions_shap": True, "symptoms": []}
    assert lookup.read(paste("transformers #41535"))["node"] == "SliceBackward0"


def test_close_problems_are_both_shown_with_what_tells_them_apart(problems):
    """A paste cut before the node's name fits S4 and S9 alike: both, each saying the node decides."""
    cut = "is a view and is being modified inplace. This view was created inside a custom Function"
    found = lookup.match(cut, problems)
    assert {f["id"] for f in found} == {"S4", "S9"}
    assert "S4 names BackwardHookFunctionBackward" in found[0]["close"][0]["differs"]
    other = paste("transformers #41535").replace("SliceBackward0", "AliasBackward0").split("RuntimeError: ")[1]
    assert lookup.match(other.replace("```", ""), problems) == []  # another node is another error, frames or not
    named = lookup.match(paste("shap #3565"), problems)  # the node named: S4 only, S9 told apart
    assert [f["id"] for f in named] == ["S4"] and named[0]["close"][0]["id"] == "S9"


def test_a_generic_message_needs_shap_in_the_paste(problems):
    assert lookup.match("IndexError: tuple index out of range", problems) == []
    [aside] = lookup.answer("IndexError: tuple index out of range", problems)["set_aside"]
    assert aside["reason"] == "generic" and aside["id"] == "S2"
    assert [f["id"] for f in lookup.match(paste("shap #2801"), problems)] == ["S2"]  # "Deep Explainer" named
    assert lookup.match("IndexError: list index out of range (shap DeepExplainer)", problems) == []  # reworded


def test_a_symptom_in_words_says_what_shap_reports(problems):
    found = lookup.match(paste("shap #2785"), problems)
    assert [(f["id"], f["match"], lookup.heard(f)) for f in found] == [
        ("S1", "symptom", "loud (shap reports it)"), ("S3", "symptom", "silent (shap does not report it)")]


def test_full_width_punctuation_and_prefixes_are_read_before_the_type():
    title = paste("uhauha2929").splitlines()[0]
    assert "\uff1a" in title and lookup.extract(title) == [{"type": "IndexError",
                                                            "message": "too many indices for tensor of dimension N"}]
    assert lookup.extract("BUG: Output 0 of X is a view")[0] == {"type": None, "message": "Output N of X is a view"}


def test_a_traceback_is_cut_to_its_message():
    [error] = lookup.extract(SEED)
    assert error["type"] == "RuntimeError"
    assert error["message"].startswith("Module backward hook for grad_input is called before the grad_output one. "
                                       "This happens because the gradient in your nn.Module flows")
    assert "File" not in error["message"] and "line" not in error["message"] and "^" not in error["message"]
    assert "alice" not in error["message"] and error["message"].endswith("computed based on the output.")


def test_numbers_addresses_and_paths_are_normalized_like_signatures():
    [error] = lookup.extract("RuntimeError: size 16 vs 8 at 0x7f3a2b10 in /usr/lib/python3.11/x.py")
    assert error == {"type": "RuntimeError", "message": "size N vs N at <addr> in <path>"}


def test_the_seed_error_in_the_real_results(frozen_results):
    """The real results (their frozen copy, not a hand-cut fixture): the seed's traceback finds its signature and ranges."""
    found = lookup.match(SEED, lookup.problems(json.loads((frozen_results / "matrix.json").read_text())))
    assert found[0]["signature"].startswith(SEED_SIGNATURE) and found[0]["match"] == "exact"
    assert found[0]["ranges"]["torch"]["first_bad"] == "1.13.0" and "hook_order_dict_output_leaf" in found[0]["models"]
    assert found[0]["reproducer_command"]
    # "does torch 2.4.1 fix it?": there, half of the same cases pass and half give shap's own additivity check
    [there] = [g for g in found[0]["instead"] if "2.4.1/0.43.0" in g["cells"]]
    assert not there["all_pass"] and "2.4.1/0.43.0" not in found[0]["pass_cells"]
    assert [o["label"].split(" ")[0] for o in there["outcomes"]] == ["pass", "S1"]
    assert "lstm_hidden_state" in there["outcomes"][1]["models"]
    # what works instead, verified in the same cells: GradientExplainer on the very cases
    assert any(r.startswith("code: GradientExplainer instead: passes in") for r in found[0]["remedies"])


def test_empty_text_is_an_error(problems):
    with pytest.raises(HarnessError, match="nothing to look up"):
        lookup.match(" \n\t\n", problems)


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "harness.publish.lookup", *args], cwd=ROOT, input=stdin or "",
                          capture_output=True, text=True, check=False)


def test_cli_finds_the_seed_error():
    done = cli(SEED, "--results", str(FIXTURES))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("1 matching problem") and SEED_SIGNATURE in out and "match: same message" in out
    # the answer card: the same sentences as the page and COMPATIBILITY.md (harness.analysis.answers)
    assert "DeepExplainer raises RuntimeError" in out and "an LSTM whose head reads h_n or c_n" in out
    assert "appears in (torch/shap): 1.13.0/0.43.0" in out and "all the same cases pass in: none" in out
    assert ("instead in 1.13.1/0.43.0, 1.13.1/0.44.1, 1.13.1/0.46.0, 1.13.1/0.49.1, 2.4.1/0.43.0, 2.4.1/0.44.1 and 8 "
            "more: pass: hook_order_dict_output_leaf; S1 mismatch: shap's own additivity check fired (deep): "
            "lstm_hidden_state") in out
    assert "cd results/site/reproducers/lstm_hidden_state-deep-cpu-" in out  # the reproducer of the card's kind
    chinese = cli(SEED, "--results", str(FIXTURES), "--lang", "zh").stdout
    assert "输出层读取 h_n 或 c_n 的 LSTM" in chinese and "DeepExplainer 会抛出 RuntimeError" in chinese
    assert cli("-", "--results", str(FIXTURES), stdin=SEED).stdout == out  # the same from standard input


def test_cli_says_not_observed_in_shap_for_a_traceback_outside_it():
    done = cli("-", "--results", str(FIXTURES), stdin=paste("BSN #5"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("not observed in these results: ")
    assert "\n  not observed in shap: this traceback never passes through shap. When shap raises the same message " \
           "(deep explainer, torch 1.13.0" in done.stdout and "it is S6: fail: RuntimeError: The size of tensor" in done.stdout


def test_cli_says_not_observed_with_what_it_covers():
    done = cli(UNSEEN, "--results", str(FIXTURES))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("not observed in these results: ")
    assert "torch 1.13.0, 1.13.1, 2.4.1, 2.15.0 x shap 0.42.1, 0.43.0, 0.44.1, 0.46.0, 0.49.1, 0.54.1" in done.stdout
    assert "grid `default` resolved to" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["  "], "nothing to look up"),
    (["x", "--results", "/nonexistent"], "no matrix.json at /nonexistent/matrix.json"),
    (["x", "--bogus"], "bad option"),
])
def test_cli_bad_input_is_one_line(args, message):
    done = cli(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr and done.stderr.count("\n") == 1


# --- the page ----------------------------------------------------------------------------------------


@pytest.fixture
def page(browser, tmp_path):  # noqa: F811 (browser is the imported fixture)
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(FIXTURES / "matrix.json", results / "matrix.json")
    built = site.write_site(results, results / "site")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors, dialogs = [], []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.goto(built.as_uri())
    yield tab
    assert errors == [] and dialogs == []
    context.close()


def shot(tab, tmp_path, name):
    folder = Path(os.environ.get("SITE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    tab.locator("#lookup").screenshot(path=str(folder / name))
    print(f"screenshot: {folder / name}")


def test_the_script_matches_like_python(page, problems):
    """lookup.js and lookup.py agree on every shared example: same problems, same order, same kind of match."""
    for example in EXAMPLES + PASTES:
        found = page.evaluate("""text => window.harnessLookup.match(text,
            JSON.parse(document.getElementById('matrix-data').textContent).lookup.problems)
            .map(f => [f.signature, f.match, f.score])""", example["text"])
        expected = [[f["signature"], f["match"], f["score"]] for f in lookup.match(example["text"], problems)]
        assert found == expected, example["name"]
        assert page.evaluate("t => window.harnessLookup.extract(t)", example["text"]) == lookup.extract(example["text"])


def test_pasting_the_seed_error_shows_its_problem_and_ranges(page, tmp_path):
    page.fill("#lookup-text", SEED)
    hit = page.locator("#lookup-result .lookup-hit").first
    text = hit.inner_text()
    # the answer card (harness.analysis.answers, rendered by page.py): plain words, the full range, the fixes
    assert SEED_SIGNATURE.split(": ", 1)[1] in text and "same message" in text
    assert "torch 1.8.0 – 1.13.0 with shap >= 0.43.0" in text and "shap 0.42.1 → 0.43.0" in text  # bisected
    assert "LSTM whose head reads h_n or c_n" in text and "(S1)" in text  # what an upgrade turns it into, by kind
    assert "uv pip install -r requirements.txt" in text
    assert "pip install 'torch==1.13.1'" in text and "passed in 12 of 12 cases" in text
    shot(page, tmp_path, "lookup-seed.png")


def test_pasting_an_unseen_error_says_not_observed(page, tmp_path):
    page.fill("#lookup-text", UNSEEN)
    page.click("#lookup-go")
    text = page.inner_text("#lookup-result")
    assert text.startswith("Not observed in these results")
    assert "torch 1.13.0 – 2.15.0 × shap 0.42.1" in text
    assert page.locator("#lookup-result .lookup-hit").count() == 0
    shot(page, tmp_path, "lookup-unseen.png")


def test_pasted_markup_stays_text(page):
    page.fill("#lookup-text", "RuntimeError: <img src=x onerror=alert(1)> register_forward_hook is not supported on "
                              "ScriptModules <script>alert(2)</script> (shap DeepExplainer)")
    assert page.locator("#lookup-result .lookup-hit").count() == 1
    assert page.locator("#lookup-result img, #lookup-result script").count() == 0


def test_the_page_says_not_observed_in_shap_and_what_shap_reports(page):
    page.fill("#lookup-text", paste("BSN #5"))
    text = page.inner_text("#lookup-result")
    assert text.startswith("Not observed in these results")
    assert "not observed in shap: this traceback never passes through shap. When shap raises the same message" in text
    page.fill("#lookup-text", paste("shap #2785"))
    hits = page.locator("#lookup-result .lookup-hit")
    assert hits.count() == 2
    assert "attributions do not add up to the output: loud (shap reports it)" in hits.nth(0).inner_text()
    assert "attributions do not add up to the output: silent (shap does not report it)" in hits.nth(1).inner_text()


def test_real_pastes_against_the_real_results(frozen_results):
    """The same answers from the whole real table (S8, too many indices, is there: a generic message too)."""
    table = lookup.problems(json.loads((frozen_results / "matrix.json").read_text()))
    for paste in PASTES:
        found = [f["id"] for f in lookup.match(paste["text"], table)]
        assert set(found[:len(paste["expect"])]) == set(paste["expect"]), paste["name"]
        assert found or not paste["expect"], paste["name"]
        if not paste["expect"]:
            assert found == [], paste["name"]
