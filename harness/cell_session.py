"""One cell, host side: install torch==X shap==Y as a user would, run the suite, write the raw result.

Runs in nox's process with the cell's nox session.  A failed install or a
missing interpreter is a cell outcome (``install-error``, ``n/a``), written
like any other result; only a harness bug fails the session.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import nox

from harness import hostinfo, parallel, results, reuse, suite
from harness.plan import Cell

SUPERVISOR = Path(__file__).resolve().parent / "cell" / "supervisor.py"
INSTALL_MESSAGE_LINES = 12


def document(cell: Cell, options, models, outcome: str) -> dict:
    """A raw result document with the parts every cell has."""
    axes = {g: {p: [str(v) for v in versions] for p, versions in cell.grid_axes[g].items()} for g in cell.grids}
    return {
        "schema": results.SCHEMA_VERSION,
        "run": hostinfo.run_metadata(),
        "cell": {"id": cell.id, "torch": str(cell.torch), "shap": str(cell.shap), "python": cell.python,
                 "python_reason": cell.python_reason, "notes": cell.notes, "grids": cell.grids,
                 "grid_axes": axes},
        "settings": reuse.settings(options, models),
        "status": outcome,
        # the exact model files that ran, so a reproducer can rebuild them later
        "model_sources": {name: Path(path).read_text() for name, path in sorted(models.items())},
    }


def every_case(models, options, **fields) -> list[dict]:
    return [dict(case, **fields) for case in suite.cases(models, options.explainer or suite.EXPLAINERS)]


def resolver_message(output: str) -> str:
    """The lines of uv's output that say why the install failed."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    interesting = [line for line in lines if not line.startswith(("Using ", "Resolved ", "Prepared "))]
    return "\n".join((interesting or lines)[-INSTALL_MESSAGE_LINES:])


def run(session: nox.Session, cell: Cell, options) -> Path:
    reuse.hold_lock(options.results)
    models = suite.select(options.model, extra=options.models)
    if cell.python is None:
        doc = document(cell, options, models, "n/a")
        doc["cases"] = every_case(models, options, outcome="n/a", reason=cell.python_reason)
        return _write(session, options, doc)

    slot = parallel.Slot()  # --timing exclusive: no other cell installs or runs while this one's suite runs
    slot.share()
    log = Path(session.create_tmp()) / "install.log"
    started = time.perf_counter()
    with log.open("w") as handle:
        try:
            session.install(f"torch=={cell.torch}", f"shap=={cell.shap}", silent=False, stdout=handle)
            failure = None
        except nox.command.CommandFailed:
            failure = resolver_message(log.read_text())
    install_seconds = round(time.perf_counter() - started, 3)
    if failure is not None:
        doc = document(cell, options, models, "install-error")
        doc["install"] = {"seconds": install_seconds, "message": failure}
        lines = failure.splitlines()
        headline = lines[0] if len(lines) == 1 else f"{lines[0].strip()} … {lines[-1].strip()}"
        doc["cases"] = every_case(models, options, outcome="install-error",
                                  error={"type": "InstallError", "message": headline})
        return _write(session, options, doc)

    packages = reuse.parse_pins(session.run("uv", "pip", "freeze", silent=True, external=True))
    python = reuse.python_version(cell.interpreter)
    parts = reuse.key_parts(packages, python, models, options, reuse.host_devices())
    raw = Path(session.create_tmp()) / "cases.json"
    args = ["--out", str(raw), "--timeout", str(options.timeout), "--repeats", str(options.repeats),
            "--threads", str(options.threads), "--memory-limit", str(options.memory_limit)]
    for name, path in models.items():
        args += ["--model", f"{name}={path}"]
    for explainer in options.explainer or []:
        args += ["--explainer", explainer]
    slot.exclusive()
    suite_started = time.time()
    session.run("python", str(SUPERVISOR), *args)
    concurrency = parallel.concurrency(cell.id, suite_started, time.time())
    slot.release()
    cases = json.loads(raw.read_text())

    doc = document(cell, options, models, "ran")
    env = cases["environment"]
    doc["install"] = {"seconds": install_seconds}
    doc["reuse"] = {"key": reuse.key(parts), "parts": parts}
    doc["resolved"] = {"python": python, "platform": env.get("platform"),
                       "torch": packages.get("torch"), "shap": packages.get("shap"),
                       "numpy": packages.get("numpy"), "packages": packages}
    doc["environment"] = env
    doc["worker_starts"] = cases["worker_starts"]
    doc["suite_seconds"] = cases["seconds"]
    doc["concurrency"] = concurrency  # how many cells ran at once while these cases were timed
    doc["cases"] = [dict(case, concurrent_cells=concurrency["cells_at_once"]) for case in cases["cases"]]
    return _write(session, options, doc)


def _write(session: nox.Session, options, doc: dict) -> Path:
    path = results.write_cell(options.results, doc)
    counts = {}
    for case in doc["cases"]:
        counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    session.log(f"{doc['cell']['id']}: {summary} -> {path}")
    return path
