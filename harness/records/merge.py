"""Merge a fleet run's shard results into a results folder.

    python -m harness.records.merge --artifacts DIR --results results/

DIR is what download-artifact leaves (with merge-multiple, or one folder per
artifact): ``<kind>/raw/<cell-id>.json``, where kind is ``cpu`` (hosted
runners; CUDA cases are skip) or ``gpu`` (a runner with CUDA). A record
replaces the older record of the same cell and kind; cells this run did not
touch keep theirs. CPU records go where ``nox -s matrix`` writes them
(``raw/<cell-id>.json``), CUDA-runner records beside them in ``raw/gpu/``, and
``results.read_cells`` takes each device's cases from one of the two, so both
survive and no case is counted twice.

With the run's plan beside the records (``plan.json``: the job matrix of
``harness.tools.fleet_plan``), a planned cell that brought no record (its shard
failed, timed out or never started) keeps its previous record and is listed in
``results/fleet-status.json`` as "not re-run this week (shard failed: <run>)";
the table and the page show that note beside the cell. A cell re-run later
loses its mark.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from ..errors import HarnessError, OptionParser, command
from . import store

KINDS = {"cpu": Path(), "gpu": Path(store.GPU_DIR)}  # runner kind -> folder under results/raw
PLAN = "plan.json"  # the run's job matrix, written beside the downloaded records by the workflow
STATUS = "fleet-status.json"  # results/: the cells a failed shard left with older records
SESSION = re.compile(r"cell\((?P<id>[^)]+)\)")


def find_records(artifacts: Path) -> dict[tuple[str, str], tuple[Path, str]]:
    """{(kind, cell id): (file, text)} for every raw record in the downloaded artifacts, checked."""
    if not artifacts.is_dir():
        raise HarnessError(f"no artifacts folder {artifacts}: download the shards' raw-* artifacts there first")
    records = {}
    for path in sorted(artifacts.rglob("*.json")):
        if path == artifacts / PLAN:
            continue
        parts = path.relative_to(artifacts).parts
        if len(parts) < 3 or parts[-2] != store.RAW_DIR or parts[-3] not in KINDS:
            raise HarnessError(f"{path} is not where a shard puts a record: expected <cpu|gpu>/raw/<cell-id>.json")
        kind, cell = parts[-3], path.stem
        text = path.read_text(encoding="utf-8")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise HarnessError(f"{path} is not a valid result file ({exc})") from None
        if store.upgrade(document, path).id != cell:
            raise HarnessError(f"{path} does not hold the cases of cell {cell}")
        if (kind, cell) in records:
            raise HarnessError(f"two {kind} records of {cell}: {records[(kind, cell)][0]} and {path}")
        records[(kind, cell)] = (path, text)
    if not records and not (artifacts / PLAN).is_file():
        raise HarnessError(f"no shard results in {artifacts} (expected <cpu|gpu>/raw/<cell-id>.json): "
                           "did every cell job fail before uploading?")
    return records


def planned_cells(artifacts: Path) -> dict[tuple[str, str], str]:
    """{(kind, cell id): shard name} of every cell the run's plan gave a shard ({} without a plan)."""
    path = artifacts / PLAN
    if not path.is_file():
        return {}
    plan = store.read_json(path, "fleet plan")
    shards = plan.get("include")
    if not isinstance(shards, list) or not all(isinstance(s, dict) and s.get("kind") in KINDS for s in shards):
        raise HarnessError(f"{path} is not a job matrix of harness.tools.fleet_plan ({{'include': [shards]}})")
    return {(shard["kind"], match["id"]): shard.get("name", "")
            for shard in shards for match in SESSION.finditer(shard.get("sessions") or "")}


def run_link() -> str:
    """This workflow run's address (GitHub sets the variables), or what to call a local run."""
    run_id = os.environ.get("GITHUB_RUN_ID")
    if not run_id:
        return "a local run"
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{run_id}"


def not_rerun_note(run: str) -> str:
    return f"not re-run this week (shard failed: {run})"


def read_status(results: Path) -> dict:
    """results/fleet-status.json: {"not_rerun": [{"cell", "kind", "shard", "run", "note"}]} ({} when absent)."""
    path = results / STATUS
    return store.read_json(path, "fleet status") if path.is_file() else {"not_rerun": []}


def status_notes(results: Path) -> list[dict]:
    """The marks as grid notes ({"note", "cells"}), which the table and the page show beside their cells."""
    by_note: dict[str, list[str]] = {}
    for entry in read_status(results)["not_rerun"]:
        by_note.setdefault(f"{entry['note']} [{entry['kind']}]", []).append(entry["cell"])
    return [{"note": note, "cells": sorted(cells)} for note, cells in sorted(by_note.items())]


def status_markdown(results: Path) -> str:
    """A section for COMPATIBILITY.md naming the cells whose results are older than this run ('' when none)."""
    lines = [f"- {cell}: {note['note']}" for note in status_notes(results) for cell in note["cells"]]
    return "\n".join(["", "", "## Not re-run this week", ""] + lines) + "\n" if lines else ""


def merge(artifacts: Path, results: Path) -> dict:
    """Write every record of this run into results/raw, mark the planned cells that brought none; return what was
    replaced, added, kept and left not re-run."""
    records = find_records(artifacts)
    planned = planned_cells(artifacts)
    raw = store.raw_dir(results)
    before = {(kind, p.stem) for kind, folder in KINDS.items() for p in (raw / folder).glob("*.json")}
    for (kind, cell), (_, text) in sorted(records.items()):
        store.write_atomic(raw / KINDS[kind] / f"{cell}.json", text)
    missing = sorted(key for key in planned if key not in records and key in before)  # kept, so marked
    if planned or (results / STATUS).is_file():
        run = run_link()
        touched = set(records) | set(missing)
        marks = [e for e in read_status(results)["not_rerun"] if (e["kind"], e["cell"]) not in touched]
        marks += [{"cell": cell, "kind": kind, "shard": planned[(kind, cell)], "run": run, "note": not_rerun_note(run)}
                  for kind, cell in missing]
        marks.sort(key=lambda e: (e["kind"], e["cell"]))
        store.write_atomic(results / STATUS, json.dumps({"not_rerun": marks}, indent=1) + "\n")
    return {
        "replaced": sorted(key for key in records if key in before),
        "added": sorted(key for key in records if key not in before),
        "kept": sorted(before - set(records)),
        "not_rerun": missing,
    }


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.records.merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=Path, required=True, help="the downloaded shard artifacts")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results/)")
    args = parser.parse_args(argv)
    done = merge(args.artifacts, args.results)
    kinds = {kind: sum(1 for k, _ in done["replaced"] + done["added"] if k == kind) for kind in KINDS}
    print(f"merged {len(done['replaced']) + len(done['added'])} records "
          f"({', '.join(f'{n} {kind}' for kind, n in kinds.items() if n)}) into {store.raw_dir(args.results)}: "
          f"{len(done['replaced'])} replaced, {len(done['added'])} new; "
          f"{len(done['kept'])} records of cells not in this run kept")
    for kind, cell in done["not_rerun"]:
        print(f"{kind} {cell}: {not_rerun_note(run_link())}, its previous record kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
