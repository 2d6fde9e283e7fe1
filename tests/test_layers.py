"""The harness's layers import only downwards: grid -> plan -> cell -> records -> analysis -> publish, tools on top.

Read from the source with ast (nothing is imported), so a new import that flows back up fails here.
"""
import ast
import re
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "harness"
# layer -> the layers it may import (besides itself); harness.errors is the one module every layer shares
ALLOWED = {
    "errors": set(),
    "cell": set(),  # runs inside each cell's virtualenv: standard library, numpy, torch and shap only
    "records": {"errors"},
    "plan": {"errors", "records"},
    "run": {"errors", "records", "plan", "cell"},
    "analysis": {"errors", "records", "plan", "cell"},
    "publish": {"errors", "records", "plan", "cell", "analysis"},
    "tools": {"errors", "records", "plan", "cell", "run", "analysis", "publish"},
}


def layer_of(path: Path) -> str:
    """The layer folder a module is in; harness/errors.py is its own layer."""
    return path.relative_to(HARNESS).with_suffix("").parts[0]


def harness_imports(path: Path):
    """(line, layer) of every harness import in a module, at any depth (imports inside functions too)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:  # the package's own imports are relative
            package = ("harness",) + path.relative_to(HARNESS).parent.parts
            base = package[:len(package) - node.level + 1]
            module = base + (tuple(node.module.split(".")) if node.module else ())
            node = ast.ImportFrom(".".join(module), node.names, 0, lineno=node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "harness":
                targets = [parts[1]] if len(parts) > 1 else [alias.name for alias in node.names]
                for target in targets:
                    yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "harness" and len(parts) > 1:
                    yield node.lineno, parts[1]


MODULES = sorted(p for p in HARNESS.rglob("*.py") if p.name != "__init__.py" or p.parent != HARNESS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(HARNESS)))
def test_imports_flow_only_down(path):
    layer = layer_of(path)
    assert layer in ALLOWED, f"{path.relative_to(HARNESS)} is in no layer: add it to a layer folder"
    wrong = [f"line {line}: harness.{target}" for line, target in harness_imports(path)
             if target != layer and target not in ALLOWED[layer]]
    assert not wrong, f"{path.relative_to(HARNESS)} ({layer}) imports up: {wrong}"


def test_no_module_shadows_the_standard_library():
    names = {p.stem for p in HARNESS.rglob("*.py")} | {p.name for p in HARNESS.iterdir() if p.is_dir()}
    assert not names & set(sys.stdlib_module_names)


def test_the_top_level_is_only_layers_and_errors():
    loose = {p.name for p in HARNESS.glob("*.py")} - {"__init__.py", "errors.py"}
    assert not loose, f"modules outside a layer folder: {sorted(loose)}"


def test_the_cell_side_copies_agree_with_the_host_definitions():
    """harness/cell cannot import the host package, so it keeps its own DEVICES and EXPLAINERS: the same ones."""
    from harness.cell import supervisor
    from harness.records import outcomes

    assert (supervisor.DEVICES, supervisor.EXPLAINERS) == (outcomes.DEVICES, outcomes.EXPLAINERS)


def test_one_verdict_rule():
    from harness.records.outcomes import verdict

    assert verdict("ran", ["pass", "pass", "skip"]).kind == "pass"
    assert verdict("ran", ["pass", "fail", "skip"]) == verdict("ran", ["fail", "pass"])
    assert verdict("ran", ["pass", "mismatch"]).label == "1/2"
    assert verdict("ran", ["mismatch", "crash"]).kind == "fail"
    assert verdict("ran", ["import-error", "skip"]).kind == "import-error"
    assert verdict("ran", ["skip", "skip"]).kind == "not-run"
    assert verdict("n/a", ["n/a"]).kind == "n/a"
    assert verdict("install-error", ["install-error"]).kind == "install-error"
    assert verdict(None, []).kind == "empty"


# --- the noxfile is a thin layer over harness/ (issue 20) --------------------------------------

NOXFILE = HARNESS.parent / "noxfile.py"


def test_the_noxfile_is_thin():
    lines = len(NOXFILE.read_text().splitlines())
    assert lines <= 200, f"noxfile.py has {lines} lines: move the work into harness/run/"


@pytest.mark.parametrize("path", [NOXFILE, *MODULES], ids=lambda p: p.name if p == NOXFILE else str(p.relative_to(HARNESS)))
def test_nothing_reaches_into_noxs_private_api(path):
    private = [f"line {n}" for n, line in enumerate(path.read_text().splitlines(), 1)
               if re.search(r"\._runner\b|global_config", line)]
    assert not private, f"{path.name} uses nox's private session._runner: {private}"


def test_the_noxfile_changes_directory_only_in_its_one_helper():
    """Every chdir comes back (the helper's finally, or session.chdir as a context manager)."""
    tree = ast.parse(NOXFILE.read_text())
    helpers = [f for f in tree.body if isinstance(f, ast.FunctionDef) and any(
        isinstance(n, ast.Attribute) and n.attr == "chdir" and getattr(n.value, "id", "") == "os" for n in ast.walk(f))]
    assert [f.name for f in helpers] == ["call_harness"]
    bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
            and getattr(n.value.func, "attr", "") == "chdir" and getattr(n.value.func.value, "id", "") == "session"]
    assert not bare, f"session.chdir outside a with block (never changes back) at lines {bare}"


def test_the_noxfile_rebinds_no_imported_name():
    tree = ast.parse(NOXFILE.read_text())
    imported = {(a.asname or a.name).split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert not imported & defined, f"noxfile.py defines functions over imported names: {sorted(imported & defined)}"


def test_the_plan_takes_typed_settings_not_the_command_line():
    """run/options.py parses; plan/ gets SuiteSettings, so it reads neither argparse nor its option names."""
    dests = {"explainer", "device", "model", "disk_budget", "jobs", "force"}  # argparse's names, not the settings'
    for path in (HARNESS / "plan").glob("*.py"):
        tree = ast.parse(path.read_text())
        read = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & dests
        assert not read, f"{path.relative_to(HARNESS)} reads command-line options {sorted(read)}"
        assert "argparse" not in path.read_text(), f"{path.relative_to(HARNESS)} reads argparse"


def test_the_results_lock_lives_beside_the_store():
    holders = [p.relative_to(HARNESS) for p in MODULES
               if any(isinstance(n, ast.FunctionDef) and n.name == "hold_lock" for n in ast.walk(ast.parse(p.read_text())))]
    assert holders == [Path("records/lock.py")]
