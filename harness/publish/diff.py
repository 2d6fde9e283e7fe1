"""What changed between two published states of the results: the fleet's weekly diff.

    python -m harness.publish.diff snapshot --results results/ --out previous.json
    python -m harness.publish.diff compare --previous previous.json --results results/

``snapshot`` keeps what a later diff needs from a results folder: every case's
outcome, failure signature and warm timing, and what each cell resolved to.
``compare`` diffs a snapshot taken before a publish against the folder after
it and writes ``diff.json`` (read by the web page and by harness.publish.regressions),
a snapshot into ``history/``, and the diff as Markdown, with the summary grid,
to ``$GITHUB_STEP_SUMMARY`` when set.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from tabulate import tabulate

from ..errors import OptionParser, command
from . import report
from ..records import store

# A warm median is reported as changed only when it moved by this factor either
# way AND by at least TIMING_FLOOR_S: two runs of one cell on the same idle
# 2-core machine already differed by up to 1.56x (torch 2.4.1 x shap 0.46.0,
# 20 passing CPU cases, median of 3 warm repeats), and shared CI runners are
# noisier; calls of a few milliseconds are dominated by timer and scheduler jitter.
TIMING_NOISE_RATIO = 2.0
TIMING_FLOOR_S = 0.02
HISTORY_DIR = "history"
HISTORY_KEEP = 26  # half a year of weekly runs; git keeps the older ones
MARKDOWN_ROWS = 100  # rows per table in the step summary (GitHub caps a summary at 1 MiB)
CASE_KEY = ("cell", "model", "explainer", "device")


def snapshot(results: Path, description: str | None = None) -> dict:
    """The comparable content of a results folder (empty when nothing was published yet)."""
    documents = store.read_cells(results) if store.raw_dir(results).is_dir() else []
    cases, resolved = [], {}
    for doc in documents:
        for row in report.case_rows(doc):
            cases.append({
                "cell": row.cell, "model": row.model, "explainer": row.explainer,
                "device": row.device, "outcome": row.outcome, "signature": row.signature,
                "warm_s": row.call_warm_median_s, "cpu_model": row.cpu_model, "gpu": row.gpu,
            })
        packages = dict(doc.packages)
        if doc.resolved.python:
            packages["python"] = doc.resolved.python
        resolved.setdefault(doc.id, packages)  # the CPU record first, see results.combine
    runs = sorted((doc.id, doc.run.date) for doc in documents)
    fingerprint = hashlib.sha256(json.dumps(runs).encode()).hexdigest()[:16]
    if description is None:
        dates = sorted(date for _, date in runs)
        when = f"on {dates[0]}" if runs and dates[0] == dates[-1] else f"between {dates[0]} and {dates[-1]}" if runs else ""
        folder = f"{Path(results).name}/"
        description = (f"{folder} before this publish: {len({c for c, _ in runs})} cells run {when}"
                       if runs else f"nothing published in {folder} yet")
    return {"description": description, "fingerprint": fingerprint, "cases": cases, "resolved": resolved}


def _ran(outcome) -> bool:
    return outcome not in (None, "skip", "n/a")


def compare(previous: dict, current: dict) -> dict:
    """The diff.json document: newly broken and fixed cases, resolved packages, timings, cells."""
    before = {tuple(c[k] for k in CASE_KEY): c for c in previous["cases"]}
    after = {tuple(c[k] for k in CASE_KEY): c for c in current["cases"]}
    broken, fixed, timing = [], [], []
    for key in sorted(set(before) & set(after)):
        old, new = before[key], after[key]
        where = dict(zip(CASE_KEY, key))
        if new["signature"] and _ran(old["outcome"]) and old["signature"] != new["signature"]:
            broken.append(dict(where, before=old["outcome"], after=new["outcome"], signature=new["signature"]))
        elif old["signature"] and new["outcome"] == "pass":
            fixed.append(dict(where, before=old["outcome"], after=new["outcome"], signature=old["signature"]))
        change = timing_change(old, new)
        if change:
            timing.append(dict(where, **change))
    cells_before = {c["cell"] for c in previous["cases"]}
    cells_after = {c["cell"] for c in current["cases"]}
    resolved = []
    for cell in sorted(cells_before & cells_after):
        old, new = previous["resolved"].get(cell, {}), current["resolved"].get(cell, {})
        for package in sorted(set(old) | set(new)):
            if old.get(package) != new.get(package) and old and new:
                resolved.append({"cell": cell, "package": package,
                                 "before": old.get(package), "after": new.get(package)})
    return {
        "previous": previous["description"], "current": current["description"],
        "newly_broken": broken, "newly_fixed": fixed, "resolved_changes": resolved,
        "timing_changes": timing,
        "added_cells": sorted(cells_after - cells_before), "removed_cells": sorted(cells_before - cells_after),
    }


def timing_change(old: dict, new: dict) -> dict | None:
    """before/after/ratio of a passing case's warm median, when it moved beyond the noise on the same hardware."""
    if old["outcome"] != "pass" or new["outcome"] != "pass" or not old["warm_s"] or not new["warm_s"]:
        return None
    same_hardware = old["gpu"] == new["gpu"] if new["device"] == "cuda" else old["cpu_model"] == new["cpu_model"]
    ratio = new["warm_s"] / old["warm_s"]
    if not same_hardware or abs(new["warm_s"] - old["warm_s"]) < TIMING_FLOOR_S:
        return None
    if 1 / TIMING_NOISE_RATIO < ratio < TIMING_NOISE_RATIO:
        return None
    return {"before_s": round(old["warm_s"], 4), "after_s": round(new["warm_s"], 4), "ratio": round(ratio, 2)}


def markdown(diff: dict) -> str:
    """The diff as Markdown, for the step summary and the log."""
    def table(rows, columns):
        if not rows:
            return ["none", ""]
        lines = [tabulate([[_cell_text(row.get(c)) for c in columns] for row in rows[:MARKDOWN_ROWS]],
                          headers=columns, tablefmt="github", disable_numparse=True)]
        if len(rows) > MARKDOWN_ROWS:
            lines.append(f"\n… and {len(rows) - MARKDOWN_ROWS} more in diff.json")
        return lines + [""]

    case = ["cell", "model", "explainer", "device", "before", "after", "signature"]
    out = [f"## What changed: {diff['current']}", "", f"Compared with: {diff['previous']}", ""]
    out += [f"### Newly broken ({len(diff['newly_broken'])})", ""] + table(diff["newly_broken"], case)
    out += [f"### Newly fixed ({len(diff['newly_fixed'])})", ""] + table(diff["newly_fixed"], case)
    out += [f"### Resolved packages that changed ({len(diff['resolved_changes'])})", ""]
    out += table(diff["resolved_changes"], ["cell", "package", "before", "after"])
    out += [f"### Warm timings beyond {TIMING_NOISE_RATIO:g}x ({len(diff['timing_changes'])})", ""]
    out += table(diff["timing_changes"], ["cell", "model", "explainer", "device", "before_s", "after_s", "ratio"])
    out += [f"### Cells added ({len(diff['added_cells'])}) and removed ({len(diff['removed_cells'])})", ""]
    out += [f"- added: {', '.join(diff['added_cells']) or 'none'}",
            f"- removed: {', '.join(diff['removed_cells']) or 'none'}", ""]
    return "\n".join(out)


def _cell_text(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def summary_grids(results: Path) -> str:
    """The summary grid of each device, as COMPATIBILITY.md shows it."""
    frame, _ = report.load(results)
    out = []
    for device in report.executed_devices(frame):
        out += [f"## Summary ({device})", "", report.grid(frame[frame["device"] == device], report.summary_cell), ""]
    return "\n".join(out)


def this_run() -> str:
    """How to name the run being published: the workflow run when in GitHub Actions."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run_id = os.environ.get("GITHUB_RUN_ID")
    if run_id:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"workflow run {run_id} ({server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{run_id}), {now}"
    return f"local publish, {now}"


def save_history(results: Path, state: dict) -> Path:
    """Keep this publish's snapshot in results/history/ (gzipped: a full-grid snapshot is megabytes of
    repetitive JSON), the newest HISTORY_KEEP of them."""
    folder = Path(results) / HISTORY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    run_id = os.environ.get("GITHUB_RUN_ID")
    path = folder / (f"{stamp}-run{run_id}.json.gz" if run_id else f"{stamp}.json.gz")
    store.write_atomic(path, gzip.compress(json.dumps(state, separators=(",", ":")).encode("utf-8")))
    for old in sorted(folder.glob("*.json.gz"))[:-HISTORY_KEEP]:
        old.unlink()
    return path


def described(state: dict, results: Path) -> dict:
    """Name a pre-publish snapshot after the run that published it, when history still has it."""
    for path in sorted((Path(results) / HISTORY_DIR).glob("*.json.gz"), reverse=True):
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                kept = json.load(handle)
        except (OSError, ValueError):
            continue
        if kept.get("fingerprint") == state["fingerprint"]:
            return dict(state, description=kept["description"])
    return state


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.publish.diff", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot", help="save what a later diff needs from a results folder")
    take.add_argument("--results", type=Path, default=Path("results"))
    take.add_argument("--out", type=Path, required=True)
    diff = commands.add_parser("compare", help="diff a snapshot against the results folder now")
    diff.add_argument("--previous", type=Path, required=True, help="a snapshot taken before the publish")
    diff.add_argument("--results", type=Path, default=Path("results"))
    diff.add_argument("--description", help="how to name this run (default: the workflow run, or 'local publish')")
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        state = described(snapshot(args.results), args.results)
        store.write_atomic(args.out, json.dumps(state))
        print(f"snapshot of {args.results}: {len(state['cases'])} cases ({state['description']}) -> {args.out}")
        return 0
    previous = store.read_json(args.previous, "snapshot")
    current = snapshot(args.results, args.description or this_run())
    result = compare(previous, current)
    store.write_atomic(args.results / "diff.json", json.dumps(result, indent=1))
    kept = save_history(args.results, current)
    text = markdown(result)
    grids = summary_grids(args.results)
    print(text)
    print(f"diff: {args.results / 'diff.json'}; snapshot kept as {kept}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n" + grids + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
