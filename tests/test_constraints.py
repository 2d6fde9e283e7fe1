"""grid.toml [[constraints]]: parsing, bad input, which cells they select, and what they do to the reuse key."""
from argparse import Namespace

import pytest
from packaging.version import Version

from harness.errors import HarnessError
from harness.plan import cells as planning
from harness.plan import grid as gridfile
from harness.plan import reuse
from harness.plan.resolution import constraint_args, resolve
from harness.plan.settings import SuiteSettings
from harness.plan.suite import discover

BASE = '[torch]\nalways = ["2.4.1"]\n[grids.g]\ntorch = ["1.13.1", "2.4.1"]\nshap = ["0.44.1", "0.46.0"]\n'
CONSTRAINTS = """
[[constraints]]
torch = "<2.3"
requires = ["numpy<2"]
reason = "old torch is built against numpy 1.x"

[[constraints]]
shap = "<0.46"
requires = ["numpy<2", "numba<0.60"]
reason = "old shap predates numpy 2"
"""
RELEASES = {"torch": [Version("1.13.1"), Version("2.4.1")], "shap": [Version("0.44.1"), Version("0.46.0")]}
OPTIONS = SuiteSettings()


class Index:
    """Stands in for the package index: both releases support Python 3.11."""

    def releases(self, project, pre=False):
        return RELEASES[project]

    def supported_pythons(self, project, version, tags):
        return {"3.11"}


def load(tmp_path, text):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return gridfile.load(path)


def cells(tmp_path, text):
    _, found = planning.plan(load(tmp_path, text).path, index=Index(), on_machine={"3.11": "/usr/bin/python3.11"})
    return {(str(c.torch), str(c.shap)): c for c in found}


def test_constraints_select_cells_by_specifier_and_merge_their_lines(tmp_path):
    found = cells(tmp_path, BASE + CONSTRAINTS)
    assert found[("1.13.1", "0.44.1")].constraint_lines == ["numpy<2", "numba<0.60"]  # both apply, numpy once
    assert found[("1.13.1", "0.46.0")].constraint_lines == ["numpy<2"]
    assert found[("2.4.1", "0.44.1")].constraint_lines == ["numpy<2", "numba<0.60"]
    assert found[("2.4.1", "0.46.0")].constraint_lines == []
    record = found[("1.13.1", "0.46.0")].constraints[0].record()
    assert record == {"applies_to": "torch<2.3", "requires": ["numpy<2"],
                      "reason": "old torch is built against numpy 1.x"}


@pytest.mark.parametrize("entry, message", [
    ('requires = ["numpy<2"]\nreason = "r"', "selects no cells"),
    ('torch = "two"\nrequires = ["numpy<2"]\nreason = "r"', "'two' is not a version specifier"),
    ('torch = ""\nrequires = ["numpy<2"]\nreason = "r"', "is not a version specifier"),
    ('torch = "<2.3"\nreason = "r"', "requires must be a list of requirement lines"),
    ('torch = "<2.3"\nrequires = []\nreason = "r"', "requires must be a list of requirement lines"),
    ('torch = "<2.3"\nrequires = ["numpy <<< 2"]\nreason = "r"', "'numpy <<< 2' is not a requirement line"),
    ('torch = "<2.3"\nrequires = ["numpy<2"]', "needs a reason"),
    ('torch = "<2.3"\nrequires = ["numpy<2"]\nreason = "r"\nwhy = "x"', "unknown key(s) why"),
])
def test_a_bad_constraint_is_one_line_naming_the_entry(tmp_path, entry, message):
    with pytest.raises(HarnessError) as problem:
        load(tmp_path, BASE + "[[constraints]]\n" + entry + "\n")
    text = str(problem.value)
    assert "grid.toml: [[constraints]] entry 1" in text
    assert message in text
    assert "\n" not in text


def test_the_shipped_grid_constrains_the_old_eras():
    grid = gridfile.load(gridfile.GRID_FILE)
    old_torch = [c for c in grid.constraints if c.applies({"torch": Version("1.13.1"), "shap": Version("0.49.1")})]
    assert [line for c in old_torch for line in c.requires] == ["numpy<2"]
    assert all(c.reason for c in old_torch)
    assert not [c for c in grid.constraints if c.applies({"torch": Version("2.4.1"), "shap": Version("0.49.1")})]


def test_a_changed_constraint_changes_exactly_the_keys_of_the_cells_it_selects(tmp_path):
    models = discover()
    before = cells(tmp_path, BASE + CONSTRAINTS)
    after = cells(tmp_path, BASE + CONSTRAINTS.replace('"numba<0.60"', '"numba<0.59"'))

    def keys(found):
        return {k: reuse.key(reuse.key_parts({"torch": k[0]}, "3.11.7", models, OPTIONS, "cpu", c.constraint_lines))
                for k, c in found.items()}
    old, new = keys(before), keys(after)
    changed = sorted(k for k in old if old[k] != new[k])
    assert changed == [("1.13.1", "0.44.1"), ("2.4.1", "0.44.1")]


def test_constraint_files_for_uv(tmp_path):
    assert constraint_args([], tmp_path) == []
    args = constraint_args(["numpy<2", "numba<0.60"], tmp_path)
    assert args == ["--constraint", str(tmp_path / "constraints.txt")]
    assert (tmp_path / "constraints.txt").read_text() == "numpy<2\nnumba<0.60\n"


@pytest.mark.e2e
def test_constraints_reach_uvs_real_resolution():
    """The reuse key's resolution is a real `uv pip compile` against the index, with and without the constraint."""
    cell = Namespace(torch=Version("2.2.2"), shap=Version("0.46.0"), interpreter="3.11", constraint_lines=["numpy<2"])
    constrained = resolve(cell)
    unconstrained = resolve(Namespace(**dict(vars(cell), constraint_lines=[])))
    assert constrained["torch"] == unconstrained["torch"] == "2.2.2"
    assert Version(constrained["numpy"]) < Version("2") <= Version(unconstrained["numpy"])
