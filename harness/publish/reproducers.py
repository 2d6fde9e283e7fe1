"""Standalone reproducers: one Python file per non-passing case, plus the exact pins and the command.

A reader who finds a red cell should be able to paste one file into a shap
or torch issue.  The file rebuilds the model, the data and the call exactly
as the worker did (same seeds, same order of random draws, same arguments)
without importing the harness, and prints the outcome in the harness's words.
For wrong numbers it carries the harness's own check (additivity.py, and
oracles.py when a closed form was violated), verbatim.

    results/reproducers/<cell>/requirements.txt      the cell's resolved pins
    results/reproducers/<cell>/<model>-<explainer>-<device>.py
"""
from __future__ import annotations

import shutil
from pathlib import Path

from harness.plan.suite import discover
from harness.records import store

CELL_DIR = Path(__file__).resolve().parents[1] / "cell"
FOLDER = "reproducers"
REPRODUCED = ("fail", "mismatch", "crash", "timeout")
EXPLAINER_CLASSES = {"deep": "DeepExplainer", "gradient": "GradientExplainer"}


def case_name(case: dict) -> str:
    return f"{case['model']}-{case['explainer']}-{case['device']}"


def relative_path(cell_id: str, case: dict) -> str:
    return f"{FOLDER}/{cell_id}/{case_name(case)}.py"


def command(cell_id: str, case: dict, python: str) -> str:
    """The one command that builds the pinned environment and runs the reproducer, from results/."""
    return (f"cd results/{FOLDER}/{cell_id} && uv venv --python {python} && uv pip install -r requirements.txt "
            f"&& .venv/bin/python {case_name(case)}.py")


def requirements(document: dict) -> str:
    resolved = document.get("resolved") or {}
    pins = "\n".join(f"{name}=={version}" for name, version in sorted((resolved.get("packages") or {}).items()))
    constraints = "".join(f"# under the grid's constraint {', '.join(c['requires'])} ({c['applies_to']}): {c['reason']}\n"
                          for c in document["cell"].get("constraints") or [])
    supplied = document.get("supplied") or {}
    pair = f"torch=={document['cell']['torch']} shap=={document['cell']['shap']}"
    what = (f"every distribution installed in the supplied environment {supplied.get('interpreter')}" if supplied
            else f"every package `uv pip install {pair}` resolved")
    return (f"# torch {document['cell']['torch']} x shap {document['cell']['shap']}: {what},\n"
            f"# on Python {resolved.get('python')} ({resolved.get('platform')}).\n{constraints}{pins}\n")


def _embedded(name: str, source: str) -> str:
    quoted = "r'''" + source + "'''" if "'''" not in source and not source.endswith("\\") else repr(source)
    return f"{name} = {quoted}\n"


def _expected(case: dict) -> str:
    error = case.get("error") or {}
    if case["outcome"] == "fail":
        return f"fail: {error.get('type')}: {error.get('message')}"
    if case["outcome"] == "crash":
        return f"the process dies ({(case.get('crash') or {}).get('exit')})"
    if case["outcome"] == "timeout":
        return "no result: shap_values() runs past the harness's timeout"
    check = case.get("additivity") or {}
    return f"mismatch: {check.get('metric')} {check.get('error')} > tolerance {check.get('tolerance')}"


def render(document: dict, case: dict, model_source: str) -> str:
    """The reproducer's text."""
    cell, run = document["cell"], document["run"]
    resolved = document.get("resolved") or {}
    python = ".".join((resolved.get("python") or cell.get("python") or "3").split(".")[:2])
    explainer = EXPLAINER_CLASSES[case["explainer"]]
    header = f'''#!/usr/bin/env python
"""Reproducer: shap.{explainer} on the `{case['model']}` model ({case['device']}).

torch {resolved.get('torch')}, shap {resolved.get('shap')}, numpy {resolved.get('numpy')}, Python {resolved.get('python')}
(pins of every package in requirements.txt beside this file).
Recorded by torch-shap-matrix on {run['date']} (host {run['host']['name']}, harness commit {run['harness_commit']}).

Run, from the repository root:
    {command(cell['id'], case, python)}
(or any virtualenv with Python {python} and `pip install -r requirements.txt`).

Recorded outcome: {_expected(case)}
This file imports only torch, shap and numpy: the model, the data and the call are all below.
"""
import sys
import types

import numpy as np
import shap
import torch

'''
    needs_checks = case["outcome"] == "mismatch"
    parts = [header, "# The model, as the harness ran it.\n", _embedded("MODEL_SOURCE", model_source), "\n"]
    if needs_checks:
        parts += ["# The harness's own checks (harness/cell/additivity.py and oracles.py, verbatim).\n",
                  _embedded("ADDITIVITY_SOURCE", (CELL_DIR / "additivity.py").read_text()),
                  _embedded("ORACLES_SOURCE", (CELL_DIR / "oracles.py").read_text()), "\n"]
    fields = dict(device=case["device"], explainer=explainer, kind=case["explainer"], seed=case.get("seed", 0),
                  threads=(document.get("settings") or {}).get("threads", 1),
                  kwargs='{}' if case["explainer"] == "deep" else '{"rseed": 0}')
    ending = (ENDING_CHECK if needs_checks else ENDING_CALL).format(**fields)
    parts += [MAIN.format(ending=ending, **fields), FOOTER]
    return "".join(parts)


MAIN = '''
def module_from(name, source):
    module = types.ModuleType(name)
    exec(compile(source, name + ".py", "exec"), module.__dict__)
    return module


def main():
    definition = module_from("model_definition", MODEL_SOURCE)
    shapes = [tuple(s) for s in definition.INPUT_SHAPES]
    device = "{device}"
    torch.set_num_threads({threads})
    torch.manual_seed({seed})
    model = definition.build().eval().to(device)
    generator = torch.Generator().manual_seed({seed})
    background = [torch.randn((20,) + s, generator=generator).to(device) for s in shapes]
    samples = [torch.randn((5,) + s, generator=generator).to(device) for s in shapes]
    with torch.no_grad():
        f_x = np.array(model(*samples).detach().cpu().tolist())
        f_background = np.array(model(*background).detach().cpu().tolist())
    single = len(shapes) == 1
    bg_arg, x_arg = (background[0], samples[0]) if single else (background, samples)
    kwargs = {kwargs}

    explainer = shap.{explainer}(model, bg_arg)
    try:
        values = explainer.shap_values(x_arg, **kwargs)
    except AssertionError as exc:
        if "sum up to the model" not in str(exc):
            raise
        print("note: shap's own additivity check fired: " + str(exc).strip().splitlines()[0])
        values = shap.{explainer}(model, bg_arg).shap_values(x_arg, check_additivity=False, **kwargs)
{ending}
'''

ENDING_CALL = '''    print("pass: shap_values() returned (the recorded failure did not reproduce)")
    return 0
'''

ENDING_CHECK = '''    replicates = []  # GradientExplainer's verdict measures its own noise over seeded estimates
    if "{kind}" == "gradient":
        count = module_from("additivity", ADDITIVITY_SOURCE).GRADIENT_REPLICATES
        replicates = [shap.GradientExplainer(model, bg_arg).shap_values(x_arg, rseed=seed) for seed in range(1, count)]
    return judge(values, replicates, f_x, f_background, shapes, definition, model, background, samples)


def judge(values, replicates, f_x, f_background, shapes, definition, model, background, samples):
    """The harness's verdict: additivity, then the closed form for affine models."""
    additivity = module_from("additivity", ADDITIVITY_SOURCE)
    oracles = module_from("oracles", ORACLES_SOURCE)
    check = additivity.check("{kind}", values, f_x, f_background, shapes, replicates)
    if not check["ok"]:
        print("mismatch: %s %s > tolerance %s" % (check["metric"], check["error"], check["tolerance"]))
        return 1
    if getattr(definition, "CLOSED_FORM", None) == "linear":
        n, m = f_x.reshape(len(f_x), -1).shape
        phi = np.concatenate([a.reshape(n, -1, m) for a in additivity.per_input(values, n, shapes, m)], axis=1)

        def f(rows):
            inputs = [torch.tensor(p.tolist(), dtype=torch.float32).to("{device}")
                      for p in oracles.split_inputs(rows, shapes)]
            with torch.no_grad():
                return np.array(model(*inputs).detach().cpu().tolist()).reshape(len(rows), -1)
        x = oracles.flatten_inputs([np.array(s.cpu().tolist()) for s in samples])
        bg = oracles.flatten_inputs([np.array(b.cpu().tolist()) for b in background])
        verdict = oracles.judge("{kind}", phi, oracles.linear_closed_form(f, x, bg), verdict=True)
        if not verdict["ok"]:
            print("mismatch: closed form %s %s > tolerance %s" % (verdict["metric"], verdict["deviation"],
                                                                  verdict["tolerance"]))
            return 1
    print("pass: the attributions hold (the recorded mismatch did not reproduce)")
    return 0
'''

FOOTER = '''

if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        print("fail: %s: %s" % (type(exc).__name__, lines[0] if lines else ""))
        raise
'''


def model_sources(document: dict, today: dict[str, str]) -> dict[str, str]:
    """The model files the cell ran: recorded in the result, else today's models/ folder."""
    return dict(today, **(document.get("model_sources") or {}))


def write_all(results: Path, documents: list[dict]) -> dict[tuple, str]:
    """Write every reproducer afresh; returns (cell, model, explainer, device) -> path relative to results."""
    folder = Path(results) / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    written = {}
    today = {name: path.read_text() for name, path in discover().items()}  # read once per report
    for document in documents:
        cases = [c for c in document.get("cases", []) if c.get("outcome") in REPRODUCED]
        if not cases or document.get("status") != "ran":
            continue
        cell_id = document["cell"]["id"]
        sources = model_sources(document, today)
        store.write_atomic(folder / cell_id / "requirements.txt", requirements(document))
        for case in cases:
            if case["model"] not in sources:
                continue  # a user model that is no longer on disk and was not recorded
            path = relative_path(cell_id, case)
            store.write_atomic(Path(results) / path, render(document, case, sources[case["model"]]))
            written[(cell_id, case["model"], case["explainer"], case["device"])] = path
    return written
