"""doctor: does DeepExplainer (and GradientExplainer) work on *your* model, in the environment you have?

    torch-shap-matrix doctor my_model.py                       a module with INPUT_SHAPES and build()
    from torch_shap_matrix import doctor; doctor.check(model, inputs=x, background=bg)   in a notebook

Both explainers run on the model with the cell's own code and verdicts (harness/cell: the supervisor starts a
worker that explains, checks additivity and the oracles, and re-runs a failing case with each code remedy), in
children of the current interpreter: a crash or a hang in shap kills a child, never the caller.  A model object
is handed over with torch.save (cloudpickle, a shap dependency, so that a class defined in a notebook travels by
value; the caller's sys.path goes along for classes imported from the user's modules); an object that cannot be
saved is a one-line error that says to write a module file instead, never a run inside the caller's process.

Then the answer comes from the bundled table, offline: the user's own (torch, shap, numpy) cell, the known problem
the failure is (its card) and the alternative the table verified (explainer, pinned install line, code).
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.version import Version

from ..analysis import answers
from ..errors import HarnessError
from ..publish import bundled, cell_answer
from ..publish import lookup as lookup_module
from ..publish.matrix_file import read_matrix
from ..records.outcomes import PASS
from ..records.model import CaseRecord, case_record
from ..records.row import matrix_of
from ..analysis.signatures import signature

SUPERVISOR = Path(__file__).resolve().parents[1] / "cell" / "supervisor.py"
EXPLAINER_NAMES = answers.EXPLAINER_NAMES
IMPORT_TIMEOUT = 300.0
CASES_AT_MOST = 8  # two explainers, each re-run at most once per code remedy: bounds the whole run's time

SAVED_CASE = '''"""doctor's saved case (written by torch_shap_matrix.tools.doctor): the caller's model and inputs."""
import torch

PATH = {path!r}


def _load():
    try:
        return torch.load(PATH, weights_only=False)
    except TypeError:  # torch before 1.13 has no weights_only
        return torch.load(PATH)


INPUT_SHAPES = [tuple(t.shape[1:]) for t in _load()["samples"]]


def build():
    return _load()["model"]  # a fresh copy per case: one case's hooks never reach the next


def inputs():
    saved = _load()
    return saved["background"], saved["samples"]
'''


def versions() -> dict:
    """The caller's torch, shap and numpy, as installed (nothing imported)."""
    found = {}
    for name in ("torch", "shap", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    missing = [name for name in ("torch", "shap") if not found[name]]
    if missing:
        raise HarnessError(f"{' and '.join(missing)} not installed in this interpreter ({sys.executable}): "
                           "doctor checks the environment it runs in")
    return found


def _tensors(value, what: str) -> list:
    import torch
    parts = list(value) if isinstance(value, (list, tuple)) else [value]
    if not parts or not all(isinstance(p, torch.Tensor) for p in parts):
        raise HarnessError(f"{what} must be a tensor or a list of tensors (one per model input), batch first")
    return [p.detach().cpu() for p in parts]


def save_case(model, inputs, background, folder: Path) -> Path:
    """The model and its inputs in folder, with a module file that follows the models' contract; its path."""
    import torch
    if not isinstance(model, torch.nn.Module):
        raise HarnessError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    samples = _tensors(inputs, "inputs")
    background = _tensors(background, "background") if background is not None else samples
    if len(background) != len(samples):
        raise HarnessError(f"background has {len(background)} tensors but inputs has {len(samples)}")
    try:
        import cloudpickle as pickler  # pickles classes defined in __main__ (a notebook) by value
    except ImportError:
        pickler = pickle
    saved = folder / "case.pt"
    try:
        torch.save({"model": model, "background": background, "samples": samples}, saved, pickle_module=pickler)
    except Exception as exc:  # a lambda, an open file, a lock...: a clear line, never a run in the caller
        raise HarnessError(f"cannot save the model for an isolated run ({type(exc).__name__}: {exc}); write a "
                           "module with INPUT_SHAPES and build() and run: torch-shap-matrix doctor FILE") from None
    module = folder / "your_model.py"
    module.write_text(SAVED_CASE.format(path=str(saved)))
    return module


def run_isolated(module: Path, timeout: float, folder: Path) -> dict:
    """Both explainers on the module through the cell's supervisor, in a child process group of this interpreter."""
    out = folder / "cases.json"
    command = [sys.executable, str(SUPERVISOR), "--out", str(out), "--model", f"{module.stem}={module}",
               "--device", "cpu", "--timeout", str(timeout), "--import-timeout", str(IMPORT_TIMEOUT),
               "--repeats", "1"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p or os.getcwd() for p in sys.path))
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
    try:
        said, _ = child.communicate(timeout=IMPORT_TIMEOUT + timeout * CASES_AT_MOST)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise HarnessError("the isolated run did not finish in time and was stopped (this process is unaffected)")
    if not out.is_file():
        tail = said.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise HarnessError(f"the isolated run ended without a result ({' | '.join(tail) or 'no output'})")
    return json.loads(out.read_text())


def _outcome_line(case: CaseRecord) -> str:
    name = EXPLAINER_NAMES.get(case.explainer, case.explainer)
    if case.outcome == PASS:
        additivity = case.additivity
        return (f"{name}: pass ({additivity.metric or 'additivity'} {additivity.error or 0:.3g} "
                f"within {additivity.tolerance or 0:.3g})")
    if case.outcome == "crash":
        return (f"{name}: crash ({case.crash.exit or 'the worker died'}): it killed the isolated process; "
                "this process is unaffected")
    if case.outcome == "timeout":
        return f"{name}: timeout ({case.reason}); this process is unaffected"
    error = case.error or case.shap_check
    return f"{name}: {case.outcome}" + (f" ({error.type}: {str(error.message)[:160]})" if error else "")


def _cell_rows_for(matrix_rows, torch_version, shap_version, explainer, models):
    return [r for r in matrix_rows if r.torch == torch_version and r.shap == shap_version and r.row == torch_version
            and r.explainer == explainer and r.model in models and r.device == "cpu"]


def alternative(case: CaseRecord, problem: dict | None, matrix, mine: dict) -> list[str]:
    """What to do instead: a remedy that passed on the caller's model, with the table's cell where it is verified."""
    passed = [r for r in case.remedies if r.outcome == PASS]
    if not passed:
        return ["  instead: no code remedy passed on your model" +
                (f"; the table says: {'; '.join(problem['remedies'][:2])}" if problem and problem["remedies"] else "")]
    lines = []
    for remedy in passed:
        explainer = remedy.explainer or case.explainer
        lines.append(f"  instead: {remedy.remedy.replace('_', ' ')} passed on your model"
                     + (f" ({EXPLAINER_NAMES.get(explainer, explainer)})" if explainer != case.explainer else ""))
        if explainer != case.explainer:
            models = set(problem["models"]) if problem else set()
            # the caller's own cell first, then the newest releases
            cells = sorted({(r.torch, r.shap, r.constraints or "") for r in matrix.rows if r.row == r.torch},
                           key=lambda c: (Version(c[0]), Version(c[1])), reverse=True)
            cells.sort(key=lambda c: c[:2] != (mine["torch"], mine["shap"]))
            verified = next(((t, s, c) for t, s, c in cells
                             if (rows := _cell_rows_for(matrix.rows, t, s, explainer, models))
                             and all(r.outcome == PASS for r in rows)), None)
            if verified:
                torch_version, shap_version, constraints = verified
                pins = f'pip install "torch=={torch_version}" "shap=={shap_version}"' + (
                    f' "{constraints}"' if constraints else "")
                lines.append(f"  verified in the table: torch {torch_version} x shap {shap_version}: "
                             f"{EXPLAINER_NAMES[explainer]} passes for {', '.join(sorted(models)) or 'its models'}")
                lines.append(f"  pinned: {pins}")
            lines.append(f"  code: explainer = shap.{EXPLAINER_NAMES[explainer]}(model, background); "
                         "values = explainer.shap_values(inputs)")
    return lines


def answer(result: dict, mine: dict, results: Path) -> dict:
    """The doctor's findings as data and as terminal lines: per explainer, the verdict, the problem, what instead."""
    document = read_matrix(results)
    matrix = matrix_of(document)
    problems = {p["signature"]: p for p in lookup_module.problems(document)}
    cards = {card["signature"]["text"]: card for card in answers.build(document, results)["problems"]}
    cell = cell_answer.summary(document, mine["torch"], mine["shap"])
    lines = [f"Your environment: torch {mine['torch']}, shap {mine['shap']}, numpy {mine['numpy']}, "
             f"Python {sys.version.split()[0]} ({sys.executable})"]
    if cell["found"]:
        numpy_note = f" (it ran with {cell['constraints']})" if cell.get("constraints") else ""
        lines.append(f"Your cell in the table, torch {mine['torch']} x shap {mine['shap']}{numpy_note}:")
        for explainer, seen in cell["explainers"].items():
            ids = ", ".join(p["id"] for p in seen["problems"])
            lines.append(f"  {EXPLAINER_NAMES.get(explainer, explainer)}: {seen['passed']}/{seen['ran']} reference "
                         "models pass" + (f"; the others hit {ids}" if ids else ""))
    else:
        lines.append(cell_answer.describe(cell)[0])
    findings = []
    lines.append("On your model, here (isolated run):")
    for case in map(case_record, result.get("cases", [])):
        sig = signature(case)
        problem = problems.get(sig) if sig else None
        findings.append({"explainer": case.explainer, "outcome": case.outcome and case.outcome.value,
                         "signature": sig, "problem": problem and problem["id"],
                         "remedies": {r.remedy: r.outcome and r.outcome.value for r in case.remedies}})
        lines.append("- " + _outcome_line(case))
        if case.outcome == PASS:
            continue
        if problem:
            card = lookup_module.describe(dict(problem, match="exact", score=1.0), cards.get(sig))
            lines.append(f"  known problem {card[0]}")
            lines += ["  " + line for line in card[1:] if not line.lstrip().startswith(("match:", "Reproduce"))]
        elif sig:
            lines.append(f"  not in the table ({sig[:120]}): a problem the reference models have not shown")
        lines += alternative(case, problem, matrix, mine)
    if not result.get("cases"):
        lines.append("- nothing ran: " + json.dumps(result.get("environment", {}).get("import_error", {})))
    return {"versions": mine, "cell": cell, "findings": findings, "text": "\n".join(lines)}


def check(model, inputs, background=None, timeout: float = 300.0, results=None, show: bool = True) -> dict:
    """Check a model object from a notebook: both explainers in an isolated child, then the table's answer.

    inputs: the samples to explain (a tensor, or a list of tensors for a model with several inputs), batch first;
    background: the explainers' background (default: inputs).  Returns the findings; prints them unless show=False.
    """
    mine = versions()
    table = bundled.results_folder(Path(results) if results else None)
    with tempfile.TemporaryDirectory(prefix="torch-shap-doctor-") as folder:
        module = save_case(model, inputs, background, Path(folder))
        found = answer(run_isolated(module, timeout, Path(folder)), mine, table)
    about = bundled.about(Path(results) if results else None)
    found["text"] += f"\n(table: {about['source']}, runs up to {about['date']})"
    if show:
        print(found["text"])
    return found


def main_for(args) -> int:
    """`torch-shap-matrix doctor FILE`: the module as the suite's models are written (INPUT_SHAPES, build())."""
    path = Path(args.model).resolve()
    if not path.is_file() or path.suffix != ".py":
        raise HarnessError(f"no model module at {args.model}: give a .py file with INPUT_SHAPES and build()")
    mine = versions()
    table = bundled.results_folder(args.results)
    with tempfile.TemporaryDirectory(prefix="torch-shap-doctor-") as folder:
        found = answer(run_isolated(path, args.timeout, Path(folder)), mine, table)
    about = bundled.about(args.results)
    print(found["text"] + f"\n(table: {about['source']}, runs up to {about['date']})")
    return 0
