"""The web page (harness/publish/page.py): escaping and bad input, then the page in a real headless Chromium.

tests/fixtures/site/matrix.json is hand-picked from a real results/matrix.json: models mlp, gru and
relu_inplace; torch 1.13.1, 2.4.1, 2.15.0 x shap 0.44.1, 0.54.1 with one n/a and one install-error cell
(from fixtures/raw), plus CUDA copies of two cells as if from a second host with a GPU, one hostile error
message and the fields the reproducer work adds. diff.json has the format of the run-to-run diff.
The answer cards come from tests/fixtures/answers/answers.json (the shape of harness.analysis.answers.build);
tests/test_page.py checks the page built from the shipped results with the real cards.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.publish import page as site

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "site"
HOSTILE = "<script>alert(1)</script> </script><img src=x onerror=alert(2)>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWERS = json.loads((Path(__file__).parent / "fixtures" / "answers" / "answers.json").read_text())
# Every heatmap cell of the fixture: (colour class, label); one grid per explainer and device, rows torch, columns shap.
EXPECTED = {
    "deep|cpu|1.13.1|0.44.1": ("none", "0/3"), "deep|cpu|1.13.1|0.54.1": ("na", "n/a"),
    "deep|cpu|2.4.1|0.44.1": ("few", "1/3"), "deep|cpu|2.4.1|0.54.1": ("few", "1/3"),
    "deep|cpu|2.15.0|0.44.1": ("install", "install"), "deep|cpu|2.15.0|0.54.1": ("all", "1/1"),
    "deep|cuda|1.13.1|0.44.1": ("notrun", "not run"), "deep|cuda|1.13.1|0.54.1": ("na", "n/a"),
    "deep|cuda|2.4.1|0.44.1": ("few", "1/3"), "deep|cuda|2.4.1|0.54.1": ("notrun", "not run"),
    "deep|cuda|2.15.0|0.44.1": ("install", "install"), "deep|cuda|2.15.0|0.54.1": ("all", "1/1"),
    "gradient|cpu|1.13.1|0.44.1": ("none", "0/3"), "gradient|cpu|1.13.1|0.54.1": ("na", "n/a"),
    "gradient|cpu|2.4.1|0.44.1": ("all", "3/3"), "gradient|cpu|2.4.1|0.54.1": ("all", "3/3"),
    "gradient|cpu|2.15.0|0.44.1": ("install", "install"), "gradient|cpu|2.15.0|0.54.1": ("all", "3/3"),
    "gradient|cuda|1.13.1|0.44.1": ("notrun", "not run"), "gradient|cuda|1.13.1|0.54.1": ("na", "n/a"),
    "gradient|cuda|2.4.1|0.44.1": ("all", "3/3"), "gradient|cuda|2.4.1|0.54.1": ("notrun", "not run"),
    "gradient|cuda|2.15.0|0.44.1": ("install", "install"), "gradient|cuda|2.15.0|0.54.1": ("all", "3/3"),
}
CELL = re.compile(r'<button[^>]*data-key="([^"]+)"[^>]*data-outcome-class="([^"]+)"[^>]*><span class="n">([^<]*)<')


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def build(matrix, diff=None) -> str:
    return site.build_page(matrix, diff, answers=ANSWERS)


def server_cells(page: str) -> dict:
    return {key: (cls, label) for key, cls, label in CELL.findall(page)}


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(FIXTURES / "matrix.json", folder / "matrix.json")
    return folder


# --- the HTML itself ---------------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere():
    matrix = fixture("matrix.json")
    assert any(HOSTILE in (c.get("error_message") or "") for c in matrix["cases"])
    page = build(matrix, fixture("diff.json"))
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page  # the diff's signature, escaped by Jinja2
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the data element and the code
    assert "<img src=x" not in page
    embedded = re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', page, re.DOTALL).group(1)
    assert "<" not in embedded
    # the case rows are in cells/<cell>.js, loaded when a cell is opened: escaped the same way, intact after parsing
    scripts = site.cell_scripts(matrix)
    assert not any("<" in text for text in scripts.values())
    rows = [json.loads(re.fullmatch(r'window\.harnessCell\(("[^"]*"),(.*)\);\n', text, re.S).group(2))
            for text in scripts.values()]
    assert any(HOSTILE in (c.get("error_message") or "") for cell in rows for c in cell)


def test_the_page_refers_to_nothing_outside_itself():
    """Nothing is loaded from elsewhere; the only absolute addresses are links to the public reports of a problem."""
    page = build(fixture("matrix.json"), fixture("diff.json"))
    assert not re.search(r"""(src|action)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"""url\(|@import""", page, re.IGNORECASE)
    links = re.findall(r"""href\s*=\s*["']?\s*((?:https?:)?//[^"' >]*)""", page, re.IGNORECASE)
    assert links == ["https://github.com/shap/shap/issues/3966"]
    assert "http://" not in page
    assert 'name="viewport"' in page and "@media print" in page


def test_the_grid_is_rendered_on_the_server_too():
    page = build(fixture("matrix.json"))
    assert server_cells(page) == EXPECTED
    assert 'id="changes"' not in page and "What changed" not in page  # no previous run: no section at all
    assert "gpu-node" in page and "NVIDIA H200" in page and "c656f43a1b2c" in page
    assert "2026-11-29 16:17 – 2026-11-30 09:02 UTC" in page


def test_a_cpu_only_run_has_one_grid_per_explainer():
    matrix = fixture("matrix.json")
    matrix["cases"] = [c for c in matrix["cases"] if c["device"] == "cpu" or c["outcome"] == "skip"]
    page = build(matrix)
    assert {tuple(key.split("|")[:2]) for key in server_cells(page)} == {("deep", "cpu"), ("gradient", "cpu")}
    assert "No grid for cuda" in page


def test_the_pass_share_picks_the_colour_step():
    assert [site.share_class(p, 6) for p in (6, 5, 3, 2, 1, 0)] == ["all", "most", "most", "few", "few", "none"]


def test_the_diff_is_summarized():
    page = build(fixture("matrix.json"), fixture("diff.json"))
    changes = page[page.index('id="changes"'):page.index('id="about"')]
    assert "What changed since the last run" in changes
    assert "<b>1</b> newly broken" in changes and "<b>2</b> timing changes" in changes
    assert "2.37×" in changes and "torch_2_3_1-shap_0_54_1" in changes and "1.26.4" in changes


def test_cli_writes_the_page_and_its_cells(frozen_results, tmp_path):
    """The command on the shipped results, with the real answer cards: index.html, the data and one script per cell."""
    out = tmp_path / "site"
    command = [sys.executable, "-m", "harness.publish.page", "--results", str(frozen_results), "--out", str(out),
               "--diff", str(FIXTURES / "diff.json")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert {"index.html", "matrix.json", "matrix.csv", "cells", "reproducers"} <= {p.name for p in out.iterdir()}
    cells = {json.loads(p.read_text())["cell"]["id"] for p in (frozen_results / "raw").glob("*.json")}
    assert sorted(p.name for p in (out / "cells").iterdir()) == sorted(f"{c}.js" for c in cells)
    assert str(out / "index.html") in done.stdout


def test_the_page_ships_one_reproducer_per_problem_and_case(tmp_path):
    """Reproducers are not kept in git: the page folder carries one per signature x model x explainer x device,
    listing the cells it holds for, and every link of matrix.json and the page points to one of them."""
    from harness.publish import report
    results = tmp_path / "results"
    shutil.copytree(Path(__file__).parent / "fixtures" / "raw", results / "raw")
    report.write(results)
    assert not (results / "reproducers").exists()  # the report writes none
    page = site.write_site(results, tmp_path / "published", answers=ANSWERS).read_text()
    matrix = json.loads((results / "matrix.json").read_text())
    failing = [c for c in matrix["cases"] if c["outcome"] in ("fail", "mismatch", "crash", "timeout")
               and c["cell_status"] == "ran"]
    from harness.plan.suite import discover
    assert all(c["reproducer"] for c in failing if c["model"] in discover())  # fault models are not in models/
    failing = [c for c in failing if c["reproducer"]]
    groups = {(c["signature"], c["model"], c["explainer"], c["device"]) for c in failing}
    assert {c["reproducer"] for c in failing} == set(matrix["reproducers"])
    assert len(matrix["reproducers"]) == len(groups) < len(failing)  # deduplicated
    shipped = sorted(p.relative_to(tmp_path / "published").as_posix()
                     for p in (tmp_path / "published" / "reproducers").rglob("*.py"))
    assert shipped == sorted(matrix["reproducers"])
    for path, entry in matrix["reproducers"].items():
        script = (tmp_path / "published" / path).read_text()
        cells = [f"{c['torch']}/{c['shap']}" for c in failing if c["reproducer"] == path]
        assert f"Holds for {len(cells)} cell" in script and ", ".join(cells) in script
        assert entry["cells"] == sorted({c["cell"] for c in failing if c["reproducer"] == path}, key=entry["cells"].index)
        assert entry["command"] in script and entry["command"].endswith(path.rsplit("/", 1)[1])
        assert "==" in (tmp_path / "published" / path).with_name("requirements.txt").read_text()
    assert '"resultsHref":"."' in page


def test_cuda_is_left_out_of_the_files_and_the_page_when_it_never_ran(tmp_path):
    """The recorded CPU-only fixture cells: no cuda rows in matrix.csv / matrix.json, the devices say why, and the
    page has one grid and one line instead of a CUDA block."""
    from harness.publish import report
    results = tmp_path / "results"
    shutil.copytree(Path(__file__).parent / "fixtures" / "raw", results / "raw")
    report.write(results)
    matrix = json.loads((results / "matrix.json").read_text())
    assert {c["device"] for c in matrix["cases"]} == {"cpu"}
    assert ",cuda," not in (results / "matrix.csv").read_text()
    assert matrix["devices"]["run"] == ["cpu"] and "no case ran on cuda" in matrix["devices"]["left_out"]["cuda"]
    page = site.write_site(results, results / "site", answers=ANSWERS).read_text()
    assert {key.split("|")[1] for key in server_cells(page)} == {"cpu"}
    assert "No grid for cuda" in page and 'data-device="cuda"' not in page and 'id="devices"' not in page
    # a record with cuda cases only (a GPU shard whose runner had no CUDA) keeps its rows: the cell does not vanish
    document = json.loads((results / "raw" / "torch_2_4_1-shap_0_46_0.json").read_text())
    document["cell"]["id"] += "-gpu-shard"
    document["cases"] = [dict(c, outcome="skip", reason="cuda is not available") for c in document["cases"]
                         if c["device"] == "cuda"]
    (results / "raw" / "torch_2_4_1-shap_0_46_0-gpu-shard.json").write_text(json.dumps(document))
    report.write(results)
    rows = json.loads((results / "matrix.json").read_text())["cases"]
    assert {r["device"] for r in rows if r["cell"] == document["cell"]["id"]} == {"cuda"}
    assert {r["device"] for r in rows if r["cell"] != document["cell"]["id"]} == {"cpu"}


def test_grid_notes_are_shown_beside_the_cells_they_concern():
    matrix = fixture("matrix.json")
    matrix["notes"] = [{"note": "shap before 0.45 returns a list over outputs", "cells": ["torch_2_4_1-shap_0_44_1"]}]
    page = build(matrix)
    for key in ("deep|cpu|2.4.1|0.44.1", "gradient|cuda|2.4.1|0.44.1"):
        button = re.search(rf'<button[^>]*data-key="{re.escape(key)}".*?</button>', page).group(0)
        assert 'class="note-ref"' in button and "†1" in button and "see note 1" in button
        assert "returns a list over outputs" in button  # its tooltip
    other = re.search(r'<button[^>]*data-key="deep\|cpu\|2.4.1\|0.54.1".*?</button>', page).group(0)
    assert "note-ref" not in other
    assert re.search(r'<ol class="grid-notes[^>]*>\s*<li><span class="note-ref">†1</span> shap before 0.45 returns a '
                     r'list over outputs</li>', page)


@pytest.mark.parametrize("content, message", [
    (None, "no matrix.json at"),
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"cases": []}', "has no case rows"),
    ('{"cases": [{"cell": "x"}]}', "case 0 lacks torch, shap, model, explainer, device, outcome"),
])
def test_bad_input_is_one_line_and_exit_2(results, capsys, content, message):
    target = results / "matrix.json"
    if content is None:
        target.unlink()
    else:
        target.write_text(content)
    assert site.main(["--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (results / "site").exists()


def test_a_bad_diff_is_one_line(results, tmp_path):
    bad = tmp_path / "diff.json"
    bad.write_text('{"newly_broken": "everything"}')
    with pytest.raises(HarnessError, match="newly_broken is not a list"):
        site.write_site(results, tmp_path / "out", bad, answers=ANSWERS)
    with pytest.raises(HarnessError, match="no diff file at"):
        site.write_site(results, tmp_path / "out", tmp_path / "absent.json", answers=ANSWERS)


# --- the page in a real browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def built(results):
    return site.write_site(results, results / "site", FIXTURES / "diff.json", answers=ANSWERS)


@pytest.fixture
def open_page(browser, built):
    """Open the built page; returns (page, log) where log records requests, console errors and dialogs."""
    contexts = []

    def opener(width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        log = {"requests": [], "errors": [], "dialogs": []}
        page.on("request", lambda r: log["requests"].append(r.url))
        page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
        page.on("pageerror", lambda e: log["errors"].append(str(e)))
        page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
        page.goto(built.as_uri())
        return page, log

    yield opener
    for context in contexts:
        context.close()


def screenshot_dir(tmp_path) -> Path:
    folder = Path(os.environ.get("SITE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def browser_cells(page) -> dict:
    cells = page.eval_on_selector_all("button.cell", """cells => Object.fromEntries(cells.map(c =>
        [c.dataset.key, [c.dataset.outcomeClass, c.querySelector('.n').textContent]]))""")
    return {key: tuple(value) for key, value in cells.items()}


def select(page, name, value):
    page.select_option(f"#f-{name}", value)


def test_page_loads_with_no_errors_and_no_requests(open_page, built, tmp_path):
    """The first load is index.html alone; opening a cell loads that cell's script, from disk."""
    page, log = open_page()
    assert log["requests"] == [built.as_uri()]
    page.click('button.cell[data-key="deep|cpu|1.13.1|0.44.1"]')
    page.locator("#details tbody .toggle").first.click()
    page.wait_for_timeout(200)
    assert log["errors"] == [] and log["dialogs"] == []
    assert log["requests"] == [built.as_uri(), (built.parent / "cells" / "torch_1_13_1-shap_0_44_1.js").as_uri()]
    path = screenshot_dir(tmp_path) / "site-desktop.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_heatmap_cells_and_colours(open_page, built):
    page, _ = open_page()
    assert browser_cells(page) == EXPECTED == server_cells(built.read_text())
    colours = page.eval_on_selector_all("button.cell", """cells => Object.fromEntries(cells.map(c =>
        [c.dataset.outcomeClass, getComputedStyle(c).backgroundColor + ' ' + getComputedStyle(c).backgroundImage]))""")

    def rgb(cls):
        return "#%02x%02x%02x" % tuple(int(x) for x in re.findall(r"\d+", colours[cls])[:3])

    assert {cls: rgb(cls) for cls in ("all", "few", "none", "na")} == {
        cls: site.OUTCOME_COLOURS[cls] for cls in ("all", "few", "none", "na")}
    assert colours["na"] == colours["install"]
    assert "gradient" in colours["notrun"]  # hatched: distinct from every filled colour
    legend = page.eval_on_selector_all("#legend-cells li[data-share]", """items => items.map(li => [li.dataset.share,
        li.innerText.trim(), getComputedStyle(li.querySelector('.swatch')).backgroundColor])""")
    assert [(name, words) for name, words, _ in legend] == [
        (name, ANSWER_WORDS[name]) for name in ("all", "most", "few", "none", "na", "notrun")]


ANSWER_WORDS = {"all": "all pass", "most": "half or more pass", "few": "under half pass", "none": "none pass",
                "na": "n/a or install error", "notrun": "not run here"}


def test_filters_recount_and_come_back(open_page, built):
    page, log = open_page()
    select(page, "model", "mlp")
    cells = browser_cells(page)
    assert cells["deep|cpu|1.13.1|0.44.1"] == ("none", "0/1")
    assert cells["deep|cpu|2.4.1|0.44.1"] == cells["gradient|cpu|2.15.0|0.54.1"] == ("all", "1/1")
    assert cells["deep|cpu|1.13.1|0.54.1"] == ("na", "n/a") and cells["deep|cuda|2.4.1|0.54.1"] == ("notrun", "not run")
    select(page, "model", "relu_inplace")
    cells = browser_cells(page)
    assert cells["deep|cpu|2.4.1|0.54.1"] == ("none", "0/1") and cells["deep|cpu|2.15.0|0.54.1"] == ("empty", "–")
    assert "model relu_inplace" in page.inner_text("#filter-note")
    assert "model=relu_inplace" in page.url
    select(page, "model", "")
    select(page, "family", "in_place_activation")  # the kind of model: its reference models
    assert browser_cells(page)["deep|cpu|2.4.1|0.54.1"] == ("none", "0/1")
    select(page, "family", "")
    assert browser_cells(page) == server_cells(built.read_text())  # the script and page.py agree
    assert log["errors"] == []


def test_clicking_a_cell_lists_its_cases(open_page, results):
    page, log = open_page()
    assert page.is_hidden("#details")
    page.click('button.cell[data-key="deep|cpu|1.13.1|0.44.1"]')
    page.wait_for_selector("#details tbody tr")
    assert page.is_visible("#details")
    assert "deep: torch 1.13.1 × shap 0.44.1 on cpu (3 cases)" in page.inner_text("#details-title")
    assert "numpy 2.4.6" in page.inner_text("#details-meta") and "Python 3.11.7" in page.inner_text("#details-meta")
    rows = page.locator("#details tbody tr:not(.more)")
    assert rows.count() == 3
    page.locator("#details tbody tr:not(.more)", has_text="mlp").locator(".toggle").click()
    text = page.locator("#details tr.more:visible").inner_text()
    assert HOSTILE in text  # shown as text, not run
    assert "nox -s cell-torch_1_13_1-shap_0_44_1 -- --model mlp --explainer deep" in text
    assert "side_effects" in text and "global_seed_changed" in text
    assert page.locator("#details img").count() == 0
    assert "cell=deep%7Ccpu%7C1.13.1%7C0.44.1" in page.url

    select(page, "model", "gru")  # the open panel follows the filters
    assert rows.count() == 1
    select(page, "model", "")
    page.click('button.cell[data-key="deep|cuda|2.4.1|0.44.1"]')
    page.locator("#details-title", has_text="on cuda").wait_for()
    assert "on cuda (3 cases)" in page.inner_text("#details-title")
    assert "NVIDIA H200" in page.inner_text("#details-meta")
    gru_deep = page.locator("#details tbody tr:not(.more)", has_text="gru")
    assert "mismatch" in gru_deep.inner_text() and re.search(r"\d\.\d\de-\d+ / 1\.00e-3", gru_deep.inner_text())
    gru_deep.locator(".toggle").click()
    text = page.locator("#details tr.more:visible").inner_text()
    assert "exact_deviation" in text and "device_max_diff" in text and "analytic_deviation" not in text
    link = page.locator("#details tr.more:visible a")
    assert link.get_attribute("href") == "./repro/torch_2_4_1-shap_0_44_1/gru-deep-cuda.py"  # beside the page
    assert link.evaluate("a => a.href") == (results / "site/repro/torch_2_4_1-shap_0_44_1/gru-deep-cuda.py").as_uri()
    page.click("#details-close")
    assert page.is_hidden("#details") and "cell=" not in page.url
    assert log["errors"] == [] and log["dialogs"] == []


def test_phone_width_does_not_overflow(open_page, tmp_path):
    page, log = open_page(width=375, height=800)
    page.click('button.cell[data-key="deep|cpu|2.4.1|0.44.1"]')
    page.wait_for_selector("#details tbody .toggle")
    for toggle in page.locator("#details .toggle").all():
        toggle.click()
    overflow = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert overflow[0] <= overflow[1] == 375
    path = screenshot_dir(tmp_path) / "site-phone.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    assert log["errors"] == []


def test_print_hides_the_controls_and_expands_cases(open_page):
    page, _ = open_page()
    page.click('button.cell[data-key="deep|cuda|2.4.1|0.44.1"]')
    page.wait_for_selector("#details tbody tr.more", state="attached")
    page.emulate_media(media="print")
    assert page.is_hidden("#filters") and page.is_hidden("#search")
    assert page.locator("#details tr.more").count() == 3
    assert all(row.is_visible() for row in page.locator("#details tr.more").all())
    assert page.evaluate("getComputedStyle(document.querySelector('.page-head')).backgroundColor") == "rgba(0, 0, 0, 0)"
