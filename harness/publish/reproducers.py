"""Standalone reproducers, generated on demand: a Python file per case, plus the exact pins and the command.

A reader who finds a red cell should be able to paste one file into a shap
or torch issue.  The file rebuilds the model, the data and the call exactly
as the worker did (same seeds, same order of random draws, same arguments)
without importing the harness, and prints the outcome in the harness's words.
For wrong numbers it carries the harness's own check (additivity.py, and
oracles.py when a closed form was violated), verbatim.

Nothing here is kept in git.  The page ships one reproducer per problem (failure
signature) x model x explainer x device, written for the newest cell it holds in and
listing every cell it holds for; one case of one cell is written on demand:

    python -m harness.publish.reproducers MODEL/EXPLAINER/DEVICE [--torch X] [--shap Y] [--cell ID]

    <site>/reproducers/<model>-<explainer>-<device>-<problem hash>/<model>-<explainer>-<device>.py
    <site>/reproducers/<model>-<explainer>-<device>-<problem hash>/requirements.txt
    results/reproducers/<cell>/<model>-<explainer>-<device>.py   (+ requirements.txt; on demand)
"""
from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from packaging.version import Version

from ..analysis.signatures import signature
from ..errors import HarnessError, OptionParser
from ..errors import command as cli
from ..plan.suite import discover
from ..records import store
from ..records.model import CaseRecord, CellRecord, cell_record

CELL_DIR = Path(__file__).resolve().parents[1] / "cell"
FOLDER = "reproducers"
REPRODUCED = ("fail", "mismatch", "crash", "timeout")
RAN = REPRODUCED + ("pass",)
EXPLAINER_CLASSES = {"deep": "DeepExplainer", "gradient": "GradientExplainer"}
SITE_FROM_ROOT = "results/site"  # where `nox -s site` writes the page, seen from the repository root


def case_name(case: CaseRecord) -> str:
    return f"{case.model}-{case.explainer}-{case.device}"


def problem_folder(case: CaseRecord) -> str:
    """The shipped reproducer's folder: the case and a short hash of its problem (failure signature)."""
    sig = signature(case) or case.outcome.value
    return f"{FOLDER}/{case_name(case)}-{hashlib.sha1(sig.encode()).hexdigest()[:8]}"


def command(folder: str, case: CaseRecord, python: str) -> str:
    """The one command that builds the pinned environment and runs the reproducer in ``folder``."""
    return (f"cd {folder} && uv venv --python {python} && uv pip install -r requirements.txt "
            f"&& .venv/bin/python {case_name(case)}.py")


def python_of(document: CellRecord) -> str:
    return ".".join((document.resolved.python or document.cell.python or "3").split(".")[:2])


def requirements(document: CellRecord) -> str:
    cell, resolved, supplied = document.cell, document.resolved, document.supplied
    pins = "\n".join(f"{name}=={version}" for name, version in sorted(document.packages.items()))
    constraints = "".join(f"# under the grid's constraint {', '.join(c.requires)} ({c.applies_to}): {c.reason}\n"
                          for c in cell.constraints)
    pair = f"torch=={cell.torch} shap=={cell.shap}"
    what = (f"every distribution installed in the supplied environment {supplied.interpreter}" if supplied
            else f"every package `uv pip install {pair}` resolved")
    return (f"# torch {cell.torch} x shap {cell.shap}: {what},\n"
            f"# on Python {resolved.python} ({resolved.platform}).\n{constraints}{pins}\n")


def _embedded(name: str, source: str) -> str:
    quoted = "r'''" + source + "'''" if "'''" not in source and not source.endswith("\\") else repr(source)
    return f"{name} = {quoted}\n"


def _expected(case: CaseRecord) -> str:
    error, check = case.error, case.additivity
    if case.outcome == "fail":
        return f"fail: {error.type}: {error.message}"
    if case.outcome == "crash":
        return f"the process dies ({case.crash.exit})"
    if case.outcome == "timeout":
        return "no result: shap_values() runs past the harness's timeout"
    return f"mismatch: {check.metric} {check.error} > tolerance {check.tolerance}"


def render(document: CellRecord, case: CaseRecord, model_source: str, folder: str, holds: str = "") -> str:
    """The reproducer's text; ``folder`` is where it is written, from the repository root."""
    run, resolved = document.run, document.resolved
    python = python_of(document)
    explainer = EXPLAINER_CLASSES[case.explainer]
    header = f'''#!/usr/bin/env python
"""Reproducer: shap.{explainer} on the `{case.model}` model ({case.device}).

torch {resolved.torch}, shap {resolved.shap}, numpy {resolved.numpy}, Python {resolved.python}
(pins of every package in requirements.txt beside this file).
Recorded by torch-shap-matrix on {run.date} (host {run.host.name}, harness commit {run.harness_commit}).

Run, from the repository root:
    {command(folder, case, python)}
(or any virtualenv with Python {python} and `pip install -r requirements.txt`).

Recorded outcome: {_expected(case)}
{holds}This file imports only torch, shap and numpy: the model, the data and the call are all below.
"""
import sys
import types

import numpy as np
import shap
import torch

'''
    needs_checks = case.outcome == "mismatch"
    parts = [header, "# The model, as the harness ran it.\n", _embedded("MODEL_SOURCE", model_source), "\n"]
    if needs_checks:
        parts += ["# The harness's own checks (harness/cell/additivity.py and oracles.py, verbatim).\n",
                  _embedded("ADDITIVITY_SOURCE", (CELL_DIR / "additivity.py").read_text()),
                  _embedded("ORACLES_SOURCE", (CELL_DIR / "oracles.py").read_text()), "\n"]
    fields = dict(device=case.device, explainer=explainer, kind=case.explainer, seed=case.extra.get("seed", 0),
                  threads=document.settings.threads or 1,
                  kwargs='{}' if case.explainer == "deep" else '{"rseed": 0}')
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


def model_sources(document: CellRecord, today: dict[str, str]) -> dict[str, str]:
    """The model files the cell ran: recorded in the result, else today's models/ folder."""
    return dict(today, **document.model_sources)


def models_today() -> dict[str, str]:
    """Today's models/ sources, read once per command."""
    return {name: path.read_text() for name, path in discover().items()}


def runs(documents: list[dict]) -> list[tuple[CellRecord, CaseRecord]]:
    """(document, case) for every case that ran, cells in version order, as typed records."""
    ordered = sorted((d for d in map(cell_record, documents) if d.status == "ran"),
                     key=lambda d: (Version(d.cell.torch), Version(d.cell.shap), d.cell.id))
    return [(d, c) for d in ordered for c in d.cases if c.outcome in RAN]


def problems(documents: list[dict]) -> dict[str, list[tuple[CellRecord, CaseRecord]]]:
    """Shipped folder -> the (document, case) it holds for, oldest cell first: one per problem x case."""
    groups: dict[str, list[tuple[CellRecord, CaseRecord]]] = {}
    today = set(discover())
    for document, case in runs(documents):
        # a user model that is no longer on disk and was not recorded cannot be written out: no link to it
        if case.outcome in REPRODUCED and case.model in today | set(document.model_sources):
            groups.setdefault(problem_folder(case), []).append((document, case))
    return groups


def _cells(held: list[tuple[CellRecord, CaseRecord]]) -> str:
    return ", ".join(f"{d.cell.torch}/{d.cell.shap}" for d, _ in held)


def index(documents: list[dict]) -> dict[str, dict]:
    """Each shipped reproducer (path under the page's folder): its command, problem and the cells it holds for.

    Written into matrix.json once per reproducer rather than once per case row."""
    out = {}
    for folder, held in problems(documents).items():
        document, case = held[-1]  # the newest cell: the one an upstream report is about
        out[f"{folder}/{case_name(case)}.py"] = {
            "command": command(f"{SITE_FROM_ROOT}/{folder}", case, python_of(document)),
            "signature": signature(case), "pinned": document.cell.id,
            "cells": [d.cell.id for d, _ in held]}
    return out


def command_of(matrix: dict, row: dict) -> str | None:
    """A matrix.json row's reproducer command: kept once per reproducer under "reproducers" (older files: per row).
    A reader of typed rows takes ``harness.records.row.matrix_of(matrix).command(row)``."""
    entry = matrix.get("reproducers", {}).get(row.get("reproducer"), {})
    return row.get("reproducer_command") or entry.get("command")


def links(documents: list[dict]) -> dict[tuple, str]:
    """(cell, model, explainer, device) -> the shipped reproducer's path under the page's folder."""
    return {(d.cell.id, c.model, c.explainer, c.device): f"{folder}/{case_name(c)}.py"
            for folder, held in problems(documents).items() for d, c in held}


def _write(target: Path, folder: str, document: CellRecord, case: CaseRecord, sources: dict, holds: str = "") -> Path:
    if case.model not in sources:
        raise HarnessError(f"the model {case.model} of {document.cell.id} is neither recorded nor in models/")
    store.write_atomic(target / "requirements.txt", requirements(document))
    path = target / f"{case_name(case)}.py"
    store.write_atomic(path, render(document, case, sources[case.model], folder, holds))
    return path


def write_site(documents: list[dict], out: Path) -> int:
    """The page's reproducers, one per problem x case, written afresh under ``out/reproducers``."""
    shutil.rmtree(Path(out) / FOLDER, ignore_errors=True)
    today = models_today()
    written = 0
    for folder, held in problems(documents).items():
        document, case = held[-1]
        sources = model_sources(document, today)
        holds = (f"Holds for {len(held)} cell{'s' if len(held) > 1 else ''} (torch/shap) of these results, with the "
                 f"same problem: {_cells(held)}.\nThe pins are those of the newest, torch {document.cell.torch} "
                 f"x shap {document.cell.shap}.\n")
        _write(Path(out) / folder, f"{SITE_FROM_ROOT}/{folder}", document, case, sources, holds)
        written += 1
    return written


def parse_case(text: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) != 3 or not all(parts) or parts[1] not in EXPLAINER_CLASSES:
        raise HarnessError(f"case {text!r} is not MODEL/EXPLAINER/DEVICE (explainer deep or gradient), "
                           "e.g. relu_inplace/deep/cpu")
    return parts[0], parts[1], parts[2]


def choose(documents: list[dict], case_text: str, torch: str | None = None, shap: str | None = None,
           cell: str | None = None) -> tuple[CellRecord, CaseRecord]:
    """The cell and case to reproduce: the one asked for, else the newest cell where the case did not pass."""
    model, explainer, device = parse_case(case_text)
    found = [(d, c) for d, c in runs(documents)
             if (c.model, c.explainer, c.device) == (model, explainer, device)
             and (cell is None or d.cell.id == cell) and (torch is None or d.cell.torch == torch)
             and (shap is None or d.cell.shap == shap)]
    if not found:
        asked = " ".join(f"{k} {v}" for k, v in (("cell", cell), ("torch", torch), ("shap", shap)) if v)
        known = sorted({f"{c.model}/{c.explainer}/{c.device}" for _, c in runs(documents)})
        hint = ("" if f"{model}/{explainer}/{device}" in known else
                f" (cases that ran: {len(known)}, e.g. {', '.join(known[:3])})")
        raise HarnessError(f"no case {case_text}{' in ' + asked if asked else ''} ran in these results{hint}")
    failing = [(d, c) for d, c in found if c.outcome in REPRODUCED]
    return (failing or found)[-1]


def write_one(results: Path, case_text: str, out: Path | None = None, **which) -> tuple[Path, str, str]:
    """Write the reproducer of one case (and its cell's requirements.txt); returns its path, command and outcome."""
    document, case = choose(store.read_cells(results), case_text, **which)
    target = Path(out) if out else Path(results) / FOLDER / document.cell.id
    folder = target.as_posix()
    path = _write(target, folder, document, case, model_sources(document, models_today()))
    return path, command(folder, case, python_of(document)), case.outcome.value


@cli
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.publish.reproducers",
                          description="Write the standalone reproducer of one recorded case.")
    parser.add_argument("case", metavar="MODEL/EXPLAINER/DEVICE", help="e.g. relu_inplace/deep/cpu")
    parser.add_argument("--torch", help="the cell's torch release (default: the newest cell where the case fails)")
    parser.add_argument("--shap", help="the cell's shap release")
    parser.add_argument("--cell", help="a cell id, e.g. torch_2_4_1-shap_0_46_0")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results/)")
    parser.add_argument("--out", type=Path, help="folder to write into (default: RESULTS/reproducers/<cell>)")
    args = parser.parse_or_help(sys.argv[1:] if argv is None else argv)
    path, run, outcome = write_one(args.results, args.case, args.out, torch=args.torch, shap=args.shap, cell=args.cell)
    print(f"reproducer: {path} (recorded: {outcome})")
    print(f"run: {run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
