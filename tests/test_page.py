"""The page built from the shipped results with the real answer cards (harness.analysis.answers), in headless Chromium.

What a new user does in a minute: the first screen at 1400 x 900 and on a 390 px phone, pasting the seed's error,
an unseen error, the Chinese page, a permalink (and a hostile one), a phone's tables, and the page's weight on the
shipped grid and on a synthetic full grid of 308 cells (the shipped cells replicated under new version labels).
"""
import http.server
import json
import os
import re
import shutil
import threading
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest

from harness.analysis import answers as answers_module
from harness.publish import page as site

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLES = json.loads((Path(__file__).parent / "fixtures" / "lookup" / "examples.json").read_text())
SEED = EXAMPLES[0]["text"]
UNSEEN = next(e["text"] for e in EXAMPLES if e["name"] == "an unseen error")
HOSTILE = "<img src=x onerror=alert(1)>"
DESKTOP = {"viewport": {"width": 1400, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 3}
FIRST_LOAD_LIMIT, FULL_GRID_LIMIT = 500_000, 1_500_000


@pytest.fixture(scope="module")
def published(frozen_results, tmp_path_factory):
    """The page folder of the shipped results (their frozen copy, conftest.frozen_results), as it is published."""
    out = tmp_path_factory.mktemp("published") / "site"
    return site.write_site(frozen_results, out)


@pytest.fixture(scope="module")
def matrix(frozen_results):
    return json.loads((frozen_results / "matrix.json").read_text())


@pytest.fixture(scope="module")
def cards(matrix, frozen_results):
    return answers_module.build(matrix, frozen_results)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def open_page(browser, published):
    """open_page(device, suffix="") -> (page, log): a fresh context; log has page errors, dialogs and requests."""
    contexts = []

    def opener(device=DESKTOP, suffix="", url=None):
        context = browser.new_context(**device)
        contexts.append(context)
        page = context.new_page()
        log = {"errors": [], "dialogs": [], "requests": []}
        page.on("pageerror", lambda e: log["errors"].append(str(e)))
        page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
        page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
        page.on("request", lambda r: log["requests"].append(r.url))
        page.goto((url or published.as_uri()) + suffix)
        return page, log

    yield opener
    for context in contexts:
        context.close()


def seed_card(cards) -> dict:
    return next(p for p in cards["problems"] if p["signature"]["message"].startswith(
        "Module backward hook for grad_input is called before the grad_output one"))


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["1400x900", "phone-390"])
def test_the_first_screen_has_the_answers_way_in(open_page, device, tmp_path):
    page, log = open_page(device)
    height = device["viewport"]["height"]
    box = lambda selector: page.locator(selector).bounding_box()  # noqa: E731
    assert box("#lookup-text")["y"] + box("#lookup-text")["height"] <= height  # the whole search box
    assert box("#lookup-go")["y"] + box("#lookup-go")["height"] <= height
    first = "#what-to-do > ul > li >> nth=0"
    assert box(first)["y"] + box(first)["height"] <= height  # the summary starts on screen
    entries = page.locator(".entries .entry")
    assert entries.count() == 3 and all(b["y"] + b["height"] <= height for b in
                                        (e.bounding_box() for e in entries.all()))
    assert [a.get_attribute("href") for a in entries.all()] == ["#search", "#kinds", "#versions"]
    jumps = page.locator("nav.jump a")
    assert jumps.count() >= 5 and all(b["y"] + b["height"] <= height for b in (a.bounding_box() for a in jumps.all()))
    for a in jumps.all():
        assert page.locator(a.get_attribute("href")).count() == 1  # every jump link has its target
    assert page.evaluate("document.documentElement.scrollWidth") <= device["viewport"]["width"]
    folder = Path(os.environ.get("SITE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"site-first-screen-{device['viewport']['width']}.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert log["errors"] == []


def test_the_seed_error_gives_its_card_and_the_permalink_restores_it(open_page, cards, matrix, published):
    page, log = open_page()
    page.fill("#lookup-text", SEED)
    expected = seed_card(cards)
    card = page.locator("#lookup-result article.card").first
    assert card.get_attribute("data-problem") == expected["id"]
    sentence = card.locator(".sentence").inner_text()
    assert sentence == expected["sentence"]["en"]
    # the first sentence names the kinds of model, the full (bisected) range and the verified fix
    assert "LSTM whose head reads h_n or c_n" in sentence and "dict, a list or a nested tuple" in sentence
    assert "torch 1.8.0 – 1.13.0" in sentence  # 1.8.0 is bisected: the grid's oldest torch is 1.13.0
    assert "use GradientExplainer instead (GradientExplainer: passed in 24 of 24 cases)" in sentence
    assert "explainer = shap.GradientExplainer(model, background)" in card.locator("pre.code").first.inner_text()
    # its reproducer is the one of the very row it names
    row = expected["reproducer"]
    [case] = [c for c in matrix["cases"] if (c["model"], c["explainer"], c["device"], c["torch"], c["shap"]) ==
              (row["model"], row["explainer"], row["device"], row["torch"], row["shap"])]
    assert case["signature"] == expected["signature"]["text"] and case["reproducer"] == row["path"]
    link = card.locator(".reproducer a")
    assert link.get_attribute("href") == "./" + row["path"] and (published.parent / row["path"]).is_file()
    assert row["command"] in card.locator(".reproducer pre").inner_text()
    text = card.inner_text()
    link_url = page.url
    assert "q=" in link_url
    again, log_again = open_page(url=link_url)  # a fresh tab from the permalink
    assert again.input_value("#lookup-text") == SEED
    assert again.locator("#lookup-result article.card").first.inner_text() == text
    assert log["errors"] == log_again["errors"] == []


def test_an_unseen_error_says_plainly_it_was_not_observed(open_page, matrix):
    page, log = open_page()
    page.fill("#lookup-text", UNSEEN)
    page.click("#lookup-go")
    text = page.inner_text("#lookup-result")
    ran = [c for c in matrix["cases"] if c["outcome"] not in ("skip", "n/a")]
    assert text.startswith("Not observed in these results: none of the ")
    assert f"{len(ran)} cases that ran here" in text and f"in {len({c['cell'] for c in ran})} cells" in text
    assert "gave this error" in text
    assert "torch 1.13.0 – 2.15.0 × shap 0.42.1 – 0.54.1" in text
    assert page.locator("#lookup-result article").count() == 0 and log["errors"] == []


def test_in_chinese_the_seed_error_gives_the_same_card_and_the_link_keeps_the_language(open_page, cards):
    page, log = open_page()
    page.click('button.lang[data-lang="zh"]')
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    page.fill("#lookup-text", SEED)
    expected = seed_card(cards)
    card = page.locator("#lookup-result article.card").first
    assert card.get_attribute("data-problem") == expected["id"]  # lookup works the same in either language
    assert card.locator(".sentence").inner_text() == expected["sentence"]["zh"]
    assert card.locator('.sentence span[lang="zh-Hans"]').count() == 1
    assert "怎么做" in page.inner_text("#what-to-do h2") and "lang=zh" in page.url
    again, _ = open_page(url=page.url)
    assert again.evaluate("document.documentElement.lang") == "zh-Hans"
    assert again.locator("#lookup-result article.card .sentence").first.inner_text() == expected["sentence"]["zh"]
    assert again.locator('button.lang[data-lang="zh"]').get_attribute("aria-pressed") == "true"
    assert log["errors"] == []


def test_a_permalink_with_markup_shows_it_as_text_and_runs_nothing(open_page):
    page, log = open_page(suffix="#q=" + quote(HOSTILE, safe="") + "&lang=" + quote(HOSTILE, safe="")
                          + "&model=" + quote(HOSTILE, safe="") + "&cell=" + quote(HOSTILE, safe=""))
    page.wait_for_timeout(300)
    assert page.input_value("#lookup-text") == HOSTILE
    assert page.locator("img").count() == 0 and log["dialogs"] == [] and log["errors"] == []
    assert page.evaluate("document.documentElement.lang") == "en"  # an unknown language falls back
    assert "not observed" in page.inner_text("#lookup-result").lower()


def test_a_permalink_restores_filters_cell_and_versions(open_page, published):
    page, log = open_page()
    page.select_option("#f-model", "lstm_hidden_state")
    page.click('button.cell[data-key="deep|cpu|1.13.0|0.46.0"]')
    page.locator("#details tbody tr").first.wait_for()
    page.select_option("#v-torch", "2.4.1")
    page.select_option("#v-shap", "0.46.0")
    versions = page.inner_text("#versions-result")
    assert "torch 2.4.1 × shap 0.46.0" in versions
    title = page.inner_text("#details-title")
    again, log_again = open_page(url=page.url)
    again.locator("#details tbody tr").first.wait_for()
    assert again.input_value("#f-model") == "lstm_hidden_state" and again.inner_text("#details-title") == title
    assert again.inner_text("#versions-result") == versions
    assert log["errors"] == log_again["errors"] == []


def test_on_a_phone_no_table_cell_is_narrower_than_its_longest_word(open_page):
    page, log = open_page(PHONE)
    page.click('button.cell[data-key="deep|cpu|1.13.0|0.43.0"]')
    page.locator("#details tbody tr").first.wait_for()
    page.locator("#kinds details.models").first.evaluate("d => d.open = true")
    narrow = page.evaluate("""() => {
      const canvas = document.createElement('canvas').getContext('2d');
      const found = [];
      for (const cell of document.querySelectorAll('td, th')) {
        if (!cell.getClientRects().length) continue;  // hidden
        const style = getComputedStyle(cell);
        const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (!node.parentElement.getClientRects().length) continue;
          canvas.font = getComputedStyle(node.parentElement).font;
          for (const word of node.textContent.split(/\\s+/).filter(Boolean)) {
            const width = canvas.measureText(word).width;
            if (width > room + 1) found.push([word, Math.round(width), Math.round(room)]);
          }
        }
      }
      return found;
    }""")
    assert narrow == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 and log["errors"] == []


def test_a_cells_cases_load_on_github_pages_too(published, open_page):
    """Served over HTTP (as GitHub Pages serves it), a cell's script loads as it does from disk."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(published.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page, log = open_page(url=f"http://127.0.0.1:{server.server_address[1]}/index.html")
        assert len(log["requests"]) == 1
        page.click('button.cell[data-key="gradient|cpu|2.4.1|0.46.0"]')
        page.locator("#details tbody tr").first.wait_for()
        assert page.locator("#details tbody tr:not(.more)").count() == 36
        assert log["requests"][1].endswith("/cells/torch_2_4_1-shap_0_46_0.js") and log["errors"] == []
    finally:
        server.shutdown()


def full_grid(matrix: dict, torches: int = 14, shaps: int = 22) -> dict:
    """A synthetic 308-cell grid: the shipped cells replicated, in turn, under new torch and shap labels."""
    by_cell: dict[str, list[dict]] = {}
    for c in matrix["cases"]:
        by_cell.setdefault(c["cell"], []).append(c)
    shipped = list(by_cell.values())
    cases = []
    for n in range(torches * shaps):
        torch, shap = f"3.{n // shaps}.0", f"0.{60 + n % shaps}.0"
        cell = f"torch_3_{n // shaps}_0-shap_0_{60 + n % shaps}_0"
        cases += [{**c, "torch": torch, "row": torch, "shap": shap, "cell": cell, "resolved_torch": torch,
                   "resolved_shap": shap}
                  for c in shipped[n % len(shipped)]]
    return {**matrix, "cases": cases}


def full_answers(cards: dict, torches: int = 14, shaps: int = 22) -> dict:
    """The shipped answer cards with their per-cell answers replicated like the cells of full_grid (building the
    cards of the synthetic grid itself takes answers.build over a minute, too slow for the fast suite)."""
    cells = []
    for n in range(torches * shaps):
        cell = cards["cells"][n % len(cards["cells"])]
        cells.append({**cell, "id": f"torch_3_{n // shaps}_0-shap_0_{60 + n % shaps}_0", "torch": f"3.{n // shaps}.0",
                      "shap": f"0.{60 + n % shaps}.0"})
    return {**cards, "cells": cells}


def test_the_first_load_is_light(published, matrix, cards):
    """index.html is the whole first load (the first-screen tests see one request); case rows are per cell."""
    shipped_size = published.stat().st_size
    cells = sorted(p.stat().st_size for p in (published.parent / "cells").iterdir())
    synthetic = full_grid(matrix)
    assert len({c["cell"] for c in synthetic["cases"]}) == 308
    full = site.build_page(synthetic, None, results_href=".", answers=full_answers(cards))
    print(f"first load: shipped grid ({len({c['cell'] for c in matrix['cases']})} cells) {shipped_size} bytes; "
          f"synthetic 308-cell grid {len(full.encode())} bytes; one cell's cases {cells[0]} - {cells[-1]} bytes")
    assert shipped_size <= FIRST_LOAD_LIMIT
    assert len(full.encode()) <= FULL_GRID_LIMIT
    assert full.count('class="cell ') == 308 * 2  # both explainers' grids, every cell
