"""The reference suite's own rules, read from the files (no torch here): contract, imports, sources.

A model declares shapes only, imports only torch, parses as Python 3.8, and a model traced to a
public report names the thread(s) in its docstring with a line on what the report saw.
"""
import ast
import re

import pytest

from harness.plan import suite

MODELS = suite.discover()
CITATION = re.compile(r"https://github\.com/(shap/shap|pytorch/pytorch|meta-pytorch/captum)/(issues|pull)/\d+")
ANY_GITHUB = re.compile(r"https://github\.com/\S+")
ALLOWED_NAMES = {"INPUT_SHAPES", "CLOSED_FORM",  # shapes, and the one promise theory makes (affine)
                 "FAMILY", "DESCRIPTION", "DESCRIPTION_ZH"}  # what kind of model it is, for the answer cards


def tree(name):
    return ast.parse(MODELS[name].read_text(), filename=str(MODELS[name]))


def citations(name):
    """(url, what the report saw) for each cited thread in the model's docstring."""
    doc = ast.get_docstring(tree(name)) or ""
    found = []
    for item in re.split(r"\n- ", doc)[1:]:
        url = CITATION.match(item.strip())
        if url:
            found.append((url.group(0), " ".join(item[url.end():].split()).lstrip(": ").strip()))
    return found


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_keeps_the_contract(name):
    suite.check_contract(MODELS[name])
    module = ast.parse(MODELS[name].read_text(), feature_version=(3, 8))  # no newer syntax than 3.8
    for node in module.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert all(r.split(".")[0] == "torch" for r in roots), "%s imports %s" % (name, roots)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            assert names <= ALLOWED_NAMES, "%s declares %s: a model declares shapes, never an outcome" % (name, names)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_link_in_a_docstring_is_a_thread_with_what_it_saw(name):
    doc = ast.get_docstring(tree(name)) or ""
    links = ANY_GITHUB.findall(doc)
    cited = citations(name)
    assert len(cited) == len(links), "%s: links that are not cited threads: %s" % (name, links)
    for url, saw in cited:
        assert len(saw) > 20, "%s cites %s without saying what the report saw" % (name, url)


def test_the_suite_is_traced_to_public_reports():
    traced = [name for name in MODELS if citations(name)]
    assert len(MODELS) >= 28
    assert len(traced) >= 12, traced
