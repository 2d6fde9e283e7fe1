"""grid.toml parsing, validation and expansion."""
import pytest
from packaging.version import Version

from harness.plan import grid as gridfile
from harness.errors import HarnessError

RELEASES = {
    "torch": [Version(v) for v in ["1.12.1", "1.13.0", "1.13.1", "2.0.0", "2.0.1", "2.4.0", "2.4.1", "2.5.0"]],
    "shap": [Version(v) for v in ["0.40.0", "0.41.0", "0.42.0", "0.42.1", "0.46.0"]],
}

GOOD = """
[torch]
from = "1.13.0"
always = ["2.4.1"]
[shap]
from = "0.41.0"
[grids.small]
torch = ["2.0.1", "newest"]
shap = "latest:2"
[grids.full]
torch = "each-minor"
shap = "each-minor"
[[notes]]
torch = "<2.3"
text = "old torch"
"""


def write(tmp_path, text):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


PRE = {"torch": [Version("2.6.0rc1")], "shap": [Version("0.47.0b1")]}


def releases(project, pre=False):
    return sorted(RELEASES[project] + (PRE[project] if pre else []))


def expand(text, name, tmp_path):
    return gridfile.load(write(tmp_path, text)).expand(name, releases)


def versions(values):
    return [str(v) for v in values]


def test_full_grid_takes_latest_patch_of_each_minor_from_the_floor(tmp_path):
    axes = expand(GOOD, "full", tmp_path)
    assert versions(axes["torch"]) == ["1.13.1", "2.0.1", "2.4.1", "2.5.0"]
    assert versions(axes["shap"]) == ["0.41.0", "0.42.1", "0.46.0"]


def test_named_grid_adds_pinned_versions_and_resolves_keywords(tmp_path):
    axes = expand(GOOD, "small", tmp_path)
    assert versions(axes["torch"]) == ["2.0.1", "2.4.1", "2.5.0"]  # 2.4.1 is always in
    assert versions(axes["shap"]) == ["0.42.1", "0.46.0"]


def test_pre_releases_only_when_the_grid_file_asks(tmp_path):
    assert versions(expand(GOOD, "small", tmp_path)["torch"])[-1] == "2.5.0"
    asking = GOOD.replace('always = ["2.4.1"]', 'always = ["2.4.1"]\npre = true')
    assert versions(expand(asking, "small", tmp_path)["torch"])[-1] == "2.6.0rc1"


def test_notes_apply_by_specifier(tmp_path):
    grid = gridfile.load(write(tmp_path, GOOD))
    assert grid.notes[0].applies({"torch": Version("2.2.2"), "shap": Version("0.46.0")})
    assert not grid.notes[0].applies({"torch": Version("2.4.1"), "shap": Version("0.46.0")})


def test_the_repository_grid_file_is_valid_and_pins_2_4_1():
    grid = gridfile.load()
    assert {"default", "full"} <= set(grid.grids)
    assert Version("2.4.1") in grid.always["torch"]


@pytest.mark.parametrize("text, problem", [
    ("[grids.x\n", "not valid TOML"),
    (GOOD + "\n[extra]\n", "unknown section"),
    (GOOD.replace('"2.0.1"', '"2.0.x"'), "'2.0.x' is not a version"),
    (GOOD.replace('shap = "latest:2"', ""), "has no shap entry"),
    (GOOD.replace('from = "1.13.0"', 'from = "soon"'), "is not a version"),
    (GOOD.replace('text = "old torch"', ""), "needs a text"),
    ("[torch]\n", "no [grids.NAME] table"),
    (GOOD.replace('from = "0.41.0"', 'pre = "yes"'), "pre must be true or false"),
])
def test_malformed_grid_files_give_one_line_errors(tmp_path, text, problem):
    with pytest.raises(HarnessError, match=None) as info:
        gridfile.load(write(tmp_path, text))
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_grid_file(tmp_path):
    with pytest.raises(HarnessError, match="does not exist"):
        gridfile.load(tmp_path / "nope.toml")


def test_unknown_grid_name(tmp_path):
    with pytest.raises(HarnessError, match="unknown grid 'nope'.*known: small, full"):
        expand(GOOD, "nope", tmp_path)


def test_version_not_on_the_index(tmp_path):
    with pytest.raises(HarnessError, match=r"torch 9\.9\.9 \(grid 'small'\) is not a release on the package index"):
        expand(GOOD.replace('"2.0.1"', '"9.9.9"'), "small", tmp_path)
