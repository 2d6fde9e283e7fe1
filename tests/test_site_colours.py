"""The heatmap's cell colours stay apart for readers with a colour-vision deficiency.

Every pair of outcome colours (page.SHARES: all pass, half or more, under half, none pass, n/a; "not run" is the n/a
grey hatched with white) is simulated under deuteranopia, protanopia and tritanopia at full severity with Machado,
Oliveira & Fernandes (2009) as colour-science implements it, and the CIEDE2000 distance between the simulated
colours must stay >= 20 (a difference anyone sees at a glance; 2.3 is a just-noticeable difference).
"""
import itertools
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from harness.publish import page as site

PRINT_OPTIONS = np.get_printoptions()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # colour-science warns that scipy and matplotlib are absent: not needed here
    colour = pytest.importorskip("colour")
# importing colour-science switches numpy to its 1.13 float printing, which changes how later tests' reports write
# floats (tests/test_shipped_results.py then sees a stale matrix.csv): put numpy back as it was
np.set_printoptions(**PRINT_OPTIONS)

DEFICIENCIES = {"deuteranopia": "Deuteranomaly", "protanopia": "Protanomaly", "tritanopia": "Tritanomaly"}
APART = 20


def lab(hex_colour: str, deficiency: str | None):
    """CIE Lab of an sRGB colour as seen with ``deficiency`` (None: normal vision)."""
    rgb = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    linear = colour.models.eotf_sRGB(rgb)
    if deficiency:
        linear = np.clip(colour.blindness.matrix_cvd_Machado2009(deficiency, 1.0) @ linear, 0, 1)
    return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(colour.models.eotf_inverse_sRGB(linear)))


def closest(colours: dict[str, str], deficiency: str | None) -> tuple[float, str, str]:
    """The smallest CIEDE2000 distance between two of ``colours`` under ``deficiency``, and which two."""
    return min((float(colour.delta_E(lab(colours[a], deficiency), lab(colours[b], deficiency), method="CIE 2000")), a, b)
               for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize("vision", [None, *DEFICIENCIES])
def test_every_pair_of_outcome_colours_is_far_apart(vision):
    distance, a, b = closest(site.OUTCOME_COLOURS, DEFICIENCIES.get(vision))
    assert distance >= APART, f"{a} and {b} are only {distance:.1f} apart under {vision or 'normal vision'}"


def test_the_old_palette_fails_the_check():
    """The check can fail: the page's previous cell colours ("all pass" #a6d9c9 turned grey under deuteranopia)."""
    old = {"pass": "#a6d9c9", "partial": "#f6cf7e", "fail": "#d9825b", "na": "#dcdfe4"}
    assert closest(old, "Deuteranomaly")[0] < APART


def test_the_page_uses_these_colours():
    fixtures = Path(__file__).parent / "fixtures"
    matrix = json.loads((fixtures / "site" / "matrix.json").read_text())
    page = site.build_page(matrix, None, answers=json.loads((fixtures / "answers" / "answers.json").read_text()))
    root = re.search(r":root \{ (--c-all: .*?)\}", page).group(1)
    for name, fill, ink in site.SHARES:
        assert f"--c-{name}: {fill};" in root and f"--c-{name}-ink: {ink};" in root
