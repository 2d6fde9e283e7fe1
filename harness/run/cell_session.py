"""One cell, host side: install torch==X shap==Y as a user would, run the suite, write the raw result.

Runs in nox's process with the cell's nox session.  A failed install or a
missing interpreter is a cell outcome (``install-error``, ``n/a``), written
like any other result; only a harness bug fails the session.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nox

from ..plan import hostinfo, reuse, suite
from ..plan.resolution import constraint_args, parse_pins, python_version
from ..plan.cells import Cell
from ..records import outcomes, store
from ..records.model import (CaseRecord, CellInfo, CellRecord, Concurrency, Constraint, Environment, ErrorInfo, Install,
                                   Outcome, Probe, Resolved, Reuse, RunInfo, Settings)
from ..records.lock import hold_lock
from . import parallel

SUPERVISOR = Path(__file__).resolve().parents[1] / "cell" / "supervisor.py"
INSTALL_MESSAGE_LINES = 12
PROBE_MODEL = "mlp"  # the tiny case behind a constrained row's "without the constraint" finding


def document(cell: Cell, options, models, outcome: str) -> CellRecord:
    """A raw result record with the parts every cell has."""
    axes = {g: {p: [str(v) for v in versions] for p, versions in cell.grid_axes[g].items()} for g in cell.grids}
    return CellRecord.of(
        schema=store.SCHEMA_VERSION,
        run=RunInfo.from_dict(hostinfo.run_metadata()),
        cell=CellInfo.of(id=cell.id, torch=str(cell.torch), shap=str(cell.shap), python=cell.python,
                         python_reason=cell.python_reason, notes=cell.notes, grids=cell.grids, grid_axes=axes,
                         constraints=[Constraint.from_dict(c.record()) for c in cell.constraints]),
        settings=Settings.from_dict(options.suite.record(models)),
        provenance=store.INSTALLED,
        status=outcome,
        # the exact model files that ran, so a reproducer can rebuild them later
        model_sources={name: Path(path).read_text() for name, path in sorted(models.items())},
    )


def every_case(models, options, **fields) -> list[CaseRecord]:
    devices = options.device or suite.DEVICES
    return [CaseRecord.of(**case, **fields) for case in suite.cases(models, options.explainer or suite.EXPLAINERS,
                                                                      devices)]


def resolver_message(output: str) -> str:
    """The lines of uv's output that say why the install failed."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    interesting = [line for line in lines if not line.startswith(("Using ", "Resolved ", "Prepared "))]
    return "\n".join((interesting or lines)[-INSTALL_MESSAGE_LINES:])


def run(session: nox.Session, cell: Cell, options) -> Path:
    hold_lock(options.results)
    models = suite.select(options.model, extra=options.models)
    if cell.python is None:
        doc = document(cell, options, models, "n/a")
        doc.cases = every_case(models, options, outcome=Outcome.NA, reason=cell.python_reason)
        return _write(session, options, doc)

    tmp = Path(session.create_tmp())
    slot = parallel.Slot()  # --timing exclusive: no other cell installs or runs while this one's suite runs
    slot.share()
    log = tmp / "install.log"
    started = time.perf_counter()
    with log.open("w") as handle:
        try:
            session.install(f"torch=={cell.torch}", f"shap=={cell.shap}",
                            *constraint_args(cell.constraint_lines, tmp), silent=False, stdout=handle)
            failure = None
        except nox.command.CommandFailed:
            failure = resolver_message(log.read_text())
    install_seconds = round(time.perf_counter() - started, 3)
    if failure is not None:
        doc = document(cell, options, models, "install-error")
        doc.install = Install.of(seconds=install_seconds, message=failure)
        lines = failure.splitlines()
        headline = lines[0] if len(lines) == 1 else f"{lines[0].strip()} … {lines[-1].strip()}"
        doc.cases = every_case(models, options, outcome=Outcome.INSTALL_ERROR,
                               error=ErrorInfo.of(type="InstallError", message=headline))
        return _write(session, options, doc)

    packages = parse_pins(session.run("uv", "pip", "freeze", silent=True, external=True))
    python = python_version(cell.interpreter)
    parts = reuse.key_parts(packages, python, models, options.suite, hostinfo.host_devices(),
                           cell.constraint_lines)
    slot.exclusive()
    suite_started = time.time()
    cases = run_supervisor(session, "python", tmp / "cases.json", models, options)
    concurrency = parallel.concurrency(cell.id, suite_started, time.time())
    slot.release()

    doc = document(cell, options, models, "ran")
    env = Environment.from_dict(cases["environment"])  # the cell side writes plain JSON: read it as a record
    doc.install = Install.of(seconds=install_seconds)
    doc.reuse = Reuse.of(key=reuse.key(parts), parts=parts)
    doc.resolved = Resolved.of(python=python, platform=env.platform, torch=packages.get("torch"),
                               shap=packages.get("shap"), numpy=packages.get("numpy"), packages=packages)
    doc.environment = env
    doc.worker_starts = cases["worker_starts"]
    doc.suite_seconds = cases["seconds"]
    doc.concurrency = Concurrency.from_dict(concurrency)  # how many cells ran at once while these were timed
    doc.cases = [CaseRecord.from_dict(dict(case, concurrent_cells=concurrency["cells_at_once"]))
                 for case in cases["cases"]]
    if cell.constraints:
        doc.unconstrained = Probe.from_dict(unconstrained_probe(session, cell, models, options, packages, tmp))
    return _write(session, options, doc)


def _same_but_date(doc: CellRecord, path: Path) -> bool:
    """Whether the file already records this document, apart from when and by which commit it was made."""
    earlier = store.earlier_cell(path)
    if earlier is None:
        return False
    return {k: v for k, v in earlier.to_dict().items() if k != "run"} == json.loads(json.dumps(
        {k: v for k, v in doc.to_dict().items() if k != "run"}))


def run_supervisor(session: nox.Session, python: str, out: Path, models, options, **narrower) -> dict:
    """Run the cell side (supervisor + worker) with ``python``; ``narrower`` overrides repeats/timeout/explainers."""
    explainers = narrower.get("explainers", options.explainer or [])
    args = ["--out", str(out), "--timeout", str(narrower.get("timeout", options.timeout)),
            "--repeats", str(narrower.get("repeats", options.repeats)),
            "--threads", str(options.threads), "--memory-limit", str(options.memory_limit)]
    for name, path in models.items():
        args += ["--model", f"{name}={path}"]
    for explainer in explainers:
        args += ["--explainer", explainer]
    for device in narrower.get("devices", options.device or []):
        args += ["--device", device]
    session.run(python, str(SUPERVISOR), *args, external=True)
    return store.read_json(out, "supervisor's output")


def unconstrained_probe(session: nox.Session, cell: Cell, models, options, constrained: dict, tmp: Path) -> dict:
    """What ``torch==X shap==Y`` installs today WITHOUT the cell's constraints, and whether it works at all.

    A constrained row shows real torch x shap behaviour; this keeps the unconstrained truth visible
    once ("installed today without numpy<2, torch 1.13.1 gets numpy 2.4.6 and cannot convert tensors"):
    a side virtualenv from uv's cache, ``import torch, shap`` and one tiny case (PROBE_MODEL, deep, cpu).
    """
    venv = tmp / "unconstrained"
    python = venv / "bin" / "python"
    finding = {"requirements": [f"torch=={cell.torch}", f"shap=={cell.shap}"], "without": cell.constraint_lines}
    try:
        session.run("uv", "venv", "--quiet", "--python", cell.interpreter, str(venv), silent=True, external=True)
        session.run("uv", "pip", "install", "--quiet", "--python", str(python), *finding["requirements"],
                    silent=True, external=True)
    except nox.command.CommandFailed:
        return dict(finding, status="install-error")
    packages = parse_pins(session.run("uv", "pip", "freeze", "--python", str(python), silent=True,
                                            external=True))
    finding["differs"] = {name: {"constrained": constrained.get(name), "unconstrained": version}
                          for name, version in sorted(packages.items()) if constrained.get(name) != version}
    probe = {PROBE_MODEL: models[PROBE_MODEL]} if PROBE_MODEL in models else dict([next(iter(models.items()))])
    result = run_supervisor(session, str(python), tmp / "unconstrained.json", probe, options,
                            repeats=0, timeout=min(options.timeout, 120.0), explainers=["deep"], devices=["cpu"])
    case = next(c for c in result["cases"] if c["device"] == "cpu")
    finding.update(status="ran", case=f"{case['model']}/{case['explainer']}/cpu", outcome=case["outcome"],
                   error=case.get("error"), import_notes=[n["message"] for n in
                                                          result["environment"].get("import_notes", [])][:3])
    shutil.rmtree(venv, ignore_errors=True)
    return finding


def _write(session: nox.Session, options, doc: CellRecord) -> Path:
    path = store.raw_dir(options.results) / f"{doc.id}.json"
    if _same_but_date(doc, path):  # an n/a cell decided again the same way: leave git status clean
        session.log(f"{doc.id}: {doc.status}, unchanged ({doc.cases[0].reason or ''})")
        return path
    path = store.write_cell(options.results, doc)
    session.log(f"{doc.id}: {outcomes.tally(doc.cases)} -> {path}")
    return path
