"""The job matrix of the scheduled fleet: which cell sessions each GitHub Actions job runs.

    python -m harness.tools.fleet_plan --grid default [--select EXPR] [--gpu-runner LABEL [--gpu-python PATH]]
    python -m harness.tools.fleet_plan --pins fleet-results/cpu     (what a shard resolved, for its cache key)

The cells come from ``nox -l --json`` (the noxfile is the only list of versions).
Runnable cells are grouped into one shard per torch release and runner kind, so
that each job downloads one torch; n/a cells need no runner and are listed
apart, for the plan job to record. GPU shards run only the cuda cases
(``--device cuda``): the CPU ones come from the CPU shards. With
``--gpu-python``, the GPU runner's own environment is tested instead, in one
shard with no install (``nox -s supplied``). The matrix goes to
``$GITHUB_OUTPUT`` when it is set (``matrix=``, ``shards=`` for the CPU
shards, ``gpu_matrix=``, ``gpu_shards=``, ``na=``), else to stdout.

Each install shard's ``cache_key`` names its runner kind, torch release and
Pythons, so CPU and GPU shards never share a uv cache entry; the workflow
saves an entry under that key plus a digest of what the shard resolved
(``--pins``), so the cache refreshes when a dependency moves.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..errors import HarnessError, OptionParser, command
from ..plan.cells import token as version_token
from ..records import store

ROOT = Path(__file__).resolve().parents[2]
MAX_JOBS = 256  # GitHub Actions refuses a matrix with more jobs than this
CPU_RUNNER = "ubuntu-latest"
UNSAFE_IN_ARTIFACT_NAMES = re.compile(r'[\\/:"<>|*?\s]+')


def artifact_name(text: str) -> str:
    """An upload-artifact name: no / \\ : " < > | * ? or whitespace."""
    return UNSAFE_IN_ARTIFACT_NAMES.sub("-", text).strip("-")


def list_cells(grid: str, select: str = "", noxfile: Path = ROOT / "noxfile.py") -> list[dict]:
    """The cell sessions of a grid (and of the -k expression), as ``nox -l --json`` lists them."""
    command = [sys.executable, "-m", "nox", "-f", str(noxfile), "-l", "--json", "-t", f"grid_{grid}"]
    if select.strip():
        command += ["-k", select]
    done = subprocess.run(command, capture_output=True, text=True, cwd=noxfile.parent)
    said = " ".join(line.removeprefix("nox > ").strip() for line in done.stderr.splitlines()[-2:])
    where = f"grid {grid!r}" + (f" with --select {select!r}" if select.strip() else "")
    if done.returncode != 0:
        raise HarnessError(f"nox -l could not list the cells of {where}: {said or f'exit code {done.returncode}'}")
    try:
        sessions = json.loads(done.stdout or "[]")
    except ValueError:
        raise HarnessError(f"nox -l --json printed something that is not JSON: {done.stdout[:200]!r}") from None
    cells = [s for s in sessions if "cell" in s.get("tags", [])]
    if not cells:
        note = f" ({said})" if said else ""
        raise HarnessError(f"no cell sessions in {where}: check the grid name and the expression{note}")
    return cells


def _order(version: str):
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def shards(cells: list[dict], gpu_runner: str = "", cpu_runner: str = CPU_RUNNER,
           gpu_python: str = "") -> tuple[list[dict], list[str]]:
    """(matrix entries, n/a sessions): one entry per torch release and runner kind (one supplied GPU shard)."""
    rows: dict[str, list[dict]] = {}
    not_applicable = []
    for cell in cells:
        spec = cell.get("call_spec") or {}
        if not {"torch", "shap", "python_version"} <= spec.keys():
            raise HarnessError(f"nox listed a cell session without torch, shap and python_version in its call_spec: "
                               f"{cell.get('session')!r}")
        if "na" in cell["tags"]:
            not_applicable.append(cell["session"])
        else:
            rows.setdefault(spec["torch"], []).append(cell)
    if gpu_python.strip() and not gpu_runner.strip():
        raise HarnessError("--gpu-python names an interpreter on the GPU runner: set --gpu-runner too")
    installs = gpu_runner.strip() and not gpu_python.strip()
    kinds = [("cpu", cpu_runner)] + ([("gpu", runner_label(gpu_runner))] if installs else [])
    entries = []
    for kind, runner in kinds:
        for torch in sorted(rows, key=_order):
            row, token = sorted(rows[torch], key=lambda c: c["session"]), version_token(torch)
            pythons = sorted({c["call_spec"]["python_version"] for c in row}, key=_order)
            entries.append({
                "name": f"torch {torch} on {kind}: {len(row)} cell{'s' if len(row) != 1 else ''}",
                "kind": kind,
                "runner": runner,
                "torch": torch,
                "sessions": " ".join(c["session"] for c in row),
                "cells": len(row),
                "pythons": " ".join(pythons),
                "artifact": artifact_name(f"raw-{kind}-torch_{token}"),
                "cache_key": artifact_name(f"{kind}-torch_{token}-py{'-py'.join(pythons)}"),
                "device": "cuda" if kind == "gpu" else "",
                "supplied_python": "",
            })
    if gpu_python.strip():
        entries.append({
            "name": f"supplied environment on gpu: {gpu_python.strip()}", "kind": "gpu",
            "runner": runner_label(gpu_runner), "torch": "", "sessions": "", "cells": 0, "pythons": "",
            "artifact": "raw-gpu-supplied", "cache_key": "", "device": "cuda", "supplied_python": gpu_python.strip(),
        })
    if len(entries) > MAX_JOBS:
        raise HarnessError(f"{len(entries)} shards exceed GitHub's {MAX_JOBS} jobs per matrix: "
                           "narrow the run with --select")
    return entries, sorted(not_applicable)


def pins(folder: Path) -> list[str]:
    """``<cell> <package>==<version>`` for every package the raw results under a folder resolved, sorted."""
    lines = set()
    for document in store.read_cells(folder):  # a file that is not a record: a one-line error
        lines.update(f"{document.id} {name}=={version}" for name, version in document.packages.items())
        if document.resolved.python:
            lines.add(f"{document.id} python=={document.resolved.python}")
    return sorted(lines)


def runner_label(text: str):
    """A runs-on value: a label, or a JSON list of labels such as ["self-hosted", "gpu"]."""
    text = text.strip()
    if text.startswith("["):
        try:
            labels = json.loads(text)
        except ValueError:
            raise HarnessError(f"--gpu-runner {text!r} is neither a runner label nor a JSON list of labels") from None
        if not labels or not all(isinstance(label, str) and label for label in labels):
            raise HarnessError(f"--gpu-runner {text!r} must list at least one label, each a non-empty string")
        return labels
    return text


def write_outputs(entries: list[dict], not_applicable: list[str], output: str | None) -> None:
    """``matrix=``/``shards=`` (CPU), ``gpu_matrix=``/``gpu_shards=`` and ``na=`` lines for the workflow (or stdout
    when not in Actions). CPU and GPU shards are separate jobs, so that a GPU runner that is missing or queued never
    holds up the CPU table."""
    lines = []
    for prefix, kind in (("", "cpu"), ("gpu_", "gpu")):
        chosen = [e for e in entries if e["kind"] == kind]
        lines += [f"{prefix}matrix={json.dumps({'include': chosen}, separators=(',', ':'))}",
                  f"{prefix}shards={len(chosen)}"]
    lines.append(f"na={' '.join(not_applicable)}")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    else:
        print("\n".join(lines))


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="nox -s plan --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", default="default", help="named grid of grid.toml (default: %(default)s)")
    parser.add_argument("--select", default="", metavar="EXPR",
                        help="nox -k expression over cell names and tags, e.g. 'torch_2_4 and shap_0_46'")
    parser.add_argument("--gpu-runner", default="", metavar="LABEL",
                        help="runs-on label (or JSON list) of a runner with CUDA; empty: no GPU shards")
    parser.add_argument("--cpu-runner", default=CPU_RUNNER, metavar="LABEL",
                        help="runs-on label of the CPU shards (default: %(default)s)")
    parser.add_argument("--gpu-python", default="", metavar="PATH",
                        help="an interpreter on the GPU runner with torch and shap: one GPU shard tests it as it is "
                             "(nox -s supplied) instead of installing the grid's cells there")
    parser.add_argument("--pins", type=Path, metavar="DIR",
                        help="print what the raw results under DIR resolved (cell, package==version; sorted) and stop")
    args = parser.parse_args(argv)
    if args.pins:
        lines = pins(args.pins)
        if lines:  # nothing at all when nothing resolved, so no cache entry is keyed by it
            print("\n".join(lines))
        return 0
    entries, not_applicable = shards(list_cells(args.grid, args.select), args.gpu_runner, args.cpu_runner,
                                     args.gpu_python)
    cells = sum(e["cells"] for e in entries if e["kind"] == "cpu")
    if args.gpu_python.strip():
        print(f"GPU shard: the supplied environment {args.gpu_python.strip()} on the GPU runner (cuda cases)")
    print(f"grid {args.grid!r}: {cells} runnable cells in {len(entries)} shard(s), {len(not_applicable)} n/a "
          "(no runner needed: the plan job records them)")
    for entry in entries:
        print(f"  {entry['artifact']}: {entry['sessions']}")
    if not args.gpu_runner.strip():
        message = "GPU shards skipped: set the repository variable GPU_RUNNER to a runner label with CUDA"
        print(f"::notice title=No GPU runner::{message}" if os.environ.get("GITHUB_ACTIONS") else f"note: {message}")
    write_outputs(entries, not_applicable, os.environ.get("GITHUB_OUTPUT"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
