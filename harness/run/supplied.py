"""Test the environment you already have: the suite in an existing interpreter, installing nothing.

    python -m harness.run.supplied --python /path/to/python [--label NAME] [--results results/] [matrix options]
    nox -s supplied -- --python /path/to/python ...

For machines where torch is already there and nothing can (or should) be
installed: a GPU box, a cluster node without network, a conda environment.
The interpreter's own torch and shap run the unchanged cell side
(``harness/cell/supervisor.py``); the record says what is installed there
(every distribution and version, read with importlib.metadata inside that
interpreter), the host and its GPUs, and its provenance, "supplied
environment". Its cell id ends in ``-supplied-<label>`` and it carries
``"provenance": "supplied environment"``, so it is never taken for (or
replaced by) a cell the harness installed; it merges into the table as a
row of its own.

Standard library and packaging only (no pandas): runs with whatever Python
has this checkout.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..plan import hostinfo
from . import options as harness_options
from ..records import outcomes, store
from ..records.lock import hold_lock
from ..plan import suite
from ..errors import HarnessError, command
from ..plan.cells import token

PROVENANCE = store.SUPPLIED
SUPERVISOR = Path(__file__).resolve().parents[1] / "cell" / "supervisor.py"
MIN_PYTHON = (3, 8)  # the cell side's oldest Python
# Runs inside the supplied interpreter: standard library only, Python 3.8+ (older ones just report their version).
PROBE = r"""
import json, platform, re, sys
out = {"python": platform.python_version(), "version_info": list(sys.version_info[:2]),
       "executable": sys.executable, "prefix": sys.prefix, "platform": platform.platform()}
try:
    from importlib import metadata
except ImportError:
    metadata = None
if metadata is not None:
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[re.sub(r"[-_.]+", "-", name).lower()] = dist.version
    out["packages"] = dict(sorted(packages.items()))
print(json.dumps(out))
"""


def parser():
    p = harness_options.parser()
    p.prog = "python -m harness.run.supplied"
    p.description = ("Run the suite in an existing interpreter with torch and shap, installing nothing, "
                     "and write a raw result that merges into the table as its own row.")
    p.epilog = "The same through nox: nox -s supplied -- --python PATH [options]."
    for action in p._actions:  # the matrix's grid options do not apply to one existing interpreter
        if action.dest in ("grid", "force", "disk_budget"):
            action.help = argparse.SUPPRESS
    p.add_argument("--python", required=True, metavar="PATH",
                   help="the interpreter to test: a path, or a command on PATH (e.g. /opt/conda/bin/python)")
    p.add_argument("--label", metavar="NAME",
                   help="names this environment in the cell id and the table (default: the host name)")
    return p


@dataclass(frozen=True)
class SuppliedOptions(harness_options.Options):
    """The matrix's options plus the interpreter to test and its label."""
    python: str = ""
    label: str | None = None


def parse(argv) -> SuppliedOptions:
    options = parser().parse_or_help(argv)
    for unused in ("grid", "force", "disk_budget"):
        if getattr(options, unused) not in (None, False, "default"):
            raise HarnessError(f"--{unused.replace('_', '-')} is for nox -s matrix; the supplied-environment mode "
                               "runs one existing interpreter")
    return SuppliedOptions.from_namespace(options)


def interpreter(given: str) -> str:
    """The interpreter's path; a missing one is a one-line error."""
    found = given if os.sep in given else shutil.which(given)
    if not found or not Path(found).exists():
        raise HarnessError(f"no Python interpreter at {given}: pass --python the path of the environment's python")
    if not os.access(found, os.X_OK) or Path(found).is_dir():
        raise HarnessError(f"--python {given} is not an executable file")
    return str(Path(found).absolute())


def probe(python: str) -> dict:
    """What is installed in the interpreter, asked of the interpreter itself (no torch import)."""
    with tempfile.TemporaryDirectory() as neutral:  # so no folder of this checkout shadows a package
        try:
            done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=neutral)
        except (OSError, subprocess.SubprocessError) as exc:
            raise HarnessError(f"--python {python} could not be run: {exc}") from None
    said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (ValueError, IndexError):
        found = None
    if not isinstance(found, dict):
        raise HarnessError(f"--python {python} is not a working Python interpreter ({said[:200]})")
    if tuple(found.get("version_info") or ()) < MIN_PYTHON or "packages" not in found:
        raise HarnessError(f"{python} is Python {found.get('python')}; the cell side needs Python "
                           f"{'.'.join(map(str, MIN_PYTHON))} or newer")
    missing = [name for name in ("torch", "shap") if name not in found["packages"]]
    if missing:
        raise HarnessError(f"{python} has no {' and no '.join(missing)} installed: the supplied-environment mode "
                           "tests torch and shap where they already are (or let nox -s matrix install them)")
    for name in ("torch", "shap"):
        try:
            Version(found["packages"][name])
        except InvalidVersion:
            raise HarnessError(f"{python} has {name} {found['packages'][name]!r}, not a PEP 440 version") from None
    return found


def label_of(given: str | None) -> str:
    """A label usable in a file name, a cell id and an artifact name."""
    text = given if given is not None else hostinfo.host()["name"]
    label = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not label:
        raise HarnessError(f"--label {given!r} has no letters or digits")
    return label[:40]


def gpus() -> list[str]:
    """name, driver and memory of every GPU nvidia-smi lists (none without nvidia-smi)."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def cell_id(torch: str, shap: str, label: str) -> str:
    return f"torch_{token(Version(torch))}-shap_{token(Version(shap))}-supplied-{label}"


def run(options) -> Path:
    """Run the suite in the supplied interpreter and write its raw result; returns the file."""
    label = label_of(options.label)
    models = suite.select(options.model, extra=options.models)
    python = interpreter(options.python)
    found = probe(python)
    hold_lock(options.results)
    args = [python, str(SUPERVISOR), "--timeout", str(options.timeout), "--repeats", str(options.repeats),
            "--threads", str(options.threads), "--memory-limit", str(options.memory_limit)]
    for name, path in models.items():
        args += ["--model", f"{name}={path}"]
    for explainer in options.explainer or []:
        args += ["--explainer", explainer]
    for device in options.device or []:
        args += ["--device", device]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cases.json"
        started = time.perf_counter()
        done = subprocess.run(args + ["--out", str(out)], cwd=scratch)
        if done.returncode != 0 or not out.exists():
            raise HarnessError(f"the supervisor stopped with exit code {done.returncode} in {python} "
                               "(its output is above); no result written")
        cases = store.read_json(out, "supervisor's output")
    document = build_document(found, python, label, options, models, cases,
                              round(time.perf_counter() - started, 3))
    return store.write_cell(options.results, document)


def build_document(found: dict, python: str, label: str, options, models: dict, cases: dict, seconds: float,
                   run: dict | None = None, gpu_fingerprint: dict | None = None) -> dict:
    """The raw result of a supplied environment: a cell document whose provenance and id say so.

    ``run`` and ``gpu_fingerprint`` default to this host's (tests build records of other hosts)."""
    packages = found["packages"]
    torch, shap = packages["torch"], packages["shap"]
    minor = ".".join(found["python"].split(".")[:2])
    document = {
        "schema": store.SCHEMA_VERSION,
        "run": run or hostinfo.run_metadata(),
        "provenance": PROVENANCE,
        "supplied": dict({"label": label, "interpreter": python, "prefix": found["prefix"], "seconds": seconds},
                         **(gpu_fingerprint or {"devices": hostinfo.host_devices(), "gpus": gpus()})),
        "cell": {"id": cell_id(torch, shap, label), "torch": torch, "shap": shap, "python": minor,
                 "python_reason": f"{PROVENANCE}: {python}", "notes": [f"{PROVENANCE} '{label}': {python}"],
                 "grids": [], "grid_axes": {}},
        "settings": options.suite.record(models),
        "status": "ran",
        "model_sources": {name: Path(path).read_text() for name, path in sorted(models.items())},
        "resolved": {"python": found["python"], "platform": found["platform"], "torch": torch, "shap": shap,
                     "numpy": packages.get("numpy"), "packages": packages},
        "environment": cases["environment"],
        "worker_starts": cases["worker_starts"],
        "suite_seconds": cases["seconds"],
        "cases": cases["cases"],
    }
    return document


def summary(path: Path) -> str:
    document = store.read_cell(path)
    by_device = outcomes.tally(document.cases, key=lambda case: f"{case.device} {case.outcome.value}")
    gpu = document.environment.gpu or "no CUDA device"
    return (f"{document.id} (torch {document.cell.torch}, shap {document.cell.shap}, "
            f"Python {document.resolved.python}, {gpu}): "
            f"{by_device} -> {path}")


@command
def main(argv=None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    path = run(options)
    print(summary(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
