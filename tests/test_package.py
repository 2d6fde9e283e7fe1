"""The package installs under another import name (torch_shap_matrix), so its own imports must be relative.

The integrator re-runs /work/notes/relative_imports.py after merging branches that add absolute imports; this test
says where one is left.
"""
import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"


def absolute_imports(path: Path, root: Path = HARNESS.parent) -> list[str]:
    """'file:line' of each `from harness... import` / `import harness...` in a module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else \
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if any(name == "harness" or name.startswith("harness.") for name in names):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_the_package_imports_itself_relatively():
    found = [where for path in sorted(HARNESS.rglob("*.py")) for where in absolute_imports(path)]
    assert not found, f"absolute harness imports (run /work/notes/relative_imports.py): {found}"


def test_the_check_sees_an_absolute_import(tmp_path):
    module = HARNESS / "records" / "store.py"  # a real module plus the three spellings the check must flag
    extra = "from harness.records import model\nimport harness.errors as errors\ndef f():\n    from harness import x\n"
    copy = tmp_path / "store.py"
    copy.write_text(module.read_text() + extra)
    assert len(absolute_imports(copy, tmp_path)) == 3
