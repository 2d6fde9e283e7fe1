"""The heatmap's encoding: every kind of case has a symbol and a colour-blind-safe colour, and a cell shows its split.

A page is built from the site fixture with three cases turned into the kinds it lacks (a silent mismatch, a crash,
a timeout); the server's chips, the script's chips (after a filter round trip) and the legend are compared in
headless Chromium, and the chip colours are checked under simulated deuteranopia and protanopia (Machado et al.
2009), where the old green/red pair collapses (the cell colours: tests/test_site_colours.py).
"""
import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from harness.publish import page as site
from harness.records.row import Row

FIXTURE = Path(__file__).parent / "fixtures" / "site" / "matrix.json"
ANSWERS = json.loads((Path(__file__).parent / "fixtures" / "answers" / "answers.json").read_text())
CHROMIUM = Path("/usr/bin/chromium")
CHIP = re.compile(r'<span class="k k-(\w+)" title="[^"]*">([^<]+)<')
# Deuteranopia and protanopia at full severity, applied to linear RGB (Machado, Oliveira & Fernandes 2009).
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998))
APART = 45  # sRGB distance two meanings keep after simulation; the old #7dcf95 / #ef8f87 keep 22


def simulate(rgb, matrix):
    linear = [(c / 255) / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    out = [min(max(sum(m * c for m, c in zip(row, linear)), 0.0), 1.0) for row in matrix]
    return [255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055) for c in out]


def apart(a, b, matrix) -> float:
    return sum((x - y) ** 2 for x, y in zip(simulate(a, matrix), simulate(b, matrix))) ** 0.5


def hex_rgb(text):
    return [int(text.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]


def matrix_with_every_kind() -> dict:
    matrix = json.loads(FIXTURE.read_text())
    ran = [c for c in matrix["cases"] if c["device"] == "cpu" and c["torch"] == "2.15.0" and c["shap"] == "0.54.1"]
    ran[0].update(outcome="mismatch", shap_check_fired=False)
    ran[1].update(outcome="crash", crash=-11)
    ran[2].update(outcome="timeout")
    return matrix


def test_each_case_has_one_kind():
    def kind(outcome, fired=False):
        return site.kind_of(Row(outcome=outcome, shap_check_fired=fired))

    assert kind("mismatch") == "wrong"
    assert kind("mismatch", fired=True) == "check"
    assert kind("fail") == "raised"
    assert [kind(o) for o in ("pass", "crash", "timeout", "skip", "n/a", "install-error")] == [
        "pass", "crash", "timeout", "notrun", "notrun", "notrun"]
    symbols = [symbol for _, symbol, _ in site.KINDS]
    assert len(set(symbols)) == len(symbols) == 7


def test_the_old_palette_fails_the_check():
    """The test can fail: the colours this page used before collapse under deuteranopia."""
    assert apart(hex_rgb("#7dcf95"), hex_rgb("#ef8f87"), DEUTERANOPIA) < APART


def test_cells_show_their_split_in_the_html():
    page = site.build_page(matrix_with_every_kind(), None, answers=ANSWERS)
    cell = re.search(r'data-key="gradient\|cpu\|2\.15\.0\|0\.54\.1".*?</button>', page).group(0)
    assert CHIP.findall(cell) == [("pass", "✓1"), ("wrong", "≠1"), ("timeout", "◷1")]
    other = re.search(r'data-key="deep\|cpu\|2\.15\.0\|0\.54\.1".*?</button>', page).group(0)
    assert CHIP.findall(other) == [("crash", "✸1")]
    assert "1 silently wrong" in cell  # the words, for a screen reader and the tooltip


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("encoding")
    (folder / "matrix.json").write_text(json.dumps(matrix_with_every_kind()))
    built = site.write_site(folder, folder / "site", answers=ANSWERS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(built.as_uri())
        yield tab, built, errors
        browser.close()


def chips_in(tab) -> dict:
    return tab.eval_on_selector_all("button.cell", """cells => Object.fromEntries(cells.map(c => [c.dataset.key,
        [...c.querySelectorAll('.k')].map(k => [k.className.split('k-')[1], k.firstChild.textContent])]))""")


def test_browser_chips_match_the_server_and_survive_filters(page):
    tab, built, errors = page
    server = {key: [list(chip) for chip in CHIP.findall(body)] for key, body in
              re.findall(r'data-key="([^"]+)".*?<span class="kinds">(.*?)</span></button>', built.read_text())}
    assert chips_in(tab) == server
    assert server["deep|cpu|2.4.1|0.44.1"] == [["pass", "✓1"], ["check", "!1"], ["raised", "✕1"]]
    assert server["gradient|cpu|2.4.1|0.44.1"] == [["pass", "✓3"]]
    tab.select_option("#f-model", "mlp")
    filtered = chips_in(tab)
    assert filtered != server and all(sum(int(t[1:]) for _, t in v) <= 1 for v in filtered.values())
    tab.select_option("#f-model", "")
    assert chips_in(tab) == server and errors == []


def test_legend_symbols_and_colours_differ(page, tmp_path):
    tab, _, errors = page
    legend = tab.eval_on_selector_all("#legend-kinds li[data-kind]", """items => items.map(li => [li.dataset.kind,
        li.querySelector('.k').textContent, li.textContent.trim(), getComputedStyle(li.querySelector('.k')).backgroundColor])""")
    assert [kind for kind, *_ in legend] == [kind for kind, _, _ in site.KINDS]
    assert [(symbol, words) for _, symbol, text, _ in legend for words in [text[len(symbol):]]] == [
        (symbol, words) for _, symbol, words in site.KINDS]
    chip_colours = {kind: [int(x) for x in re.findall(r"\d+", colour)[:3]] for kind, _, _, colour in legend}
    for a, b in itertools.combinations(chip_colours, 2):
        for matrix in (DEUTERANOPIA, PROTANOPIA):
            assert apart(chip_colours[a], chip_colours[b], matrix) >= APART, (a, b)
    assert len({tuple(c) for c in chip_colours.values()}) == 7
    folder = Path(os.environ.get("SITE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "site-encoding.png"
    tab.locator("#grids").screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000 and errors == []


def test_the_page_folder_ships_its_data_and_dictionary(tmp_path):
    """Where the page is published (results/site alone on GitHub Pages) its data links must work."""
    from harness.publish import report

    shutil.copytree(Path(__file__).parent / "fixtures" / "raw", tmp_path / "raw")
    report.write(tmp_path)
    page = site.write_site(tmp_path, tmp_path / "published").read_text()
    for name in site.DATA_FILES:
        assert (tmp_path / "published" / name).read_bytes() == (tmp_path / name).read_bytes()
        assert f'<a href="{name}" download>{name}</a>' in page


def test_a_cells_cases_carry_their_kind(page):
    tab, _, errors = page
    tab.click('button.cell[data-key="gradient|cpu|2.15.0|0.54.1"]')
    tab.wait_for_selector("#details tbody .badge")
    badges = tab.eval_on_selector_all("#details tbody .badge", "bs => bs.map(b => [b.textContent, b.title])")
    assert sorted(badges) == sorted([["✓ pass", "pass"], ["≠ mismatch", "silently wrong"], ["◷ timeout", "timeout"]])
    assert errors == []
