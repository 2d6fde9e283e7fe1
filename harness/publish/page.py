"""A static web page of the compatibility matrix, built from results/matrix.json.

    python -m harness.publish.page --results results [--diff PATH] [--out results/site]

COMPATIBILITY.md answers "does my pair work?"; the page answers the next questions
(which models, which error, how slow, what changed) without a server: one
self-contained ``index.html`` with a heatmap per device, filters and a details panel.
Everything it needs (CSS, JS, the case rows as JSON) is inline and it makes no
network request, so it can be opened from disk, kept as a CI artifact or served from
anywhere.

Error messages are third-party text, so everything is escaped: Jinja2 autoescape in
the HTML, ``<``, ``>`` and ``&`` as ``\\uXXXX`` in the embedded JSON (a message cannot
close the ``<script>`` element), and ``textContent`` in the script.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from packaging.version import Version

from . import lookup
from ..errors import HarnessError, command
from . import reproducers
from .reproducers import FOLDER as REPRODUCERS
from ..records import outcomes
from ..records.outcomes import DEVICES, OUTCOMES, RAN, verdict
from ..records.row import rows
from .matrix_file import read_matrix
from ..records.store import raw_dir, read_cells, read_json, row_order, write_atomic

TEMPLATES = Path(__file__).parent / "templates"
# A verdict with no pass count: (colour class, label, sub-label) of its heatmap cell.
VERDICT_WORDS = {"empty": ("empty", "–", ""), outcomes.NA: ("na", "n/a", ""),
                 outcomes.INSTALL_ERROR: ("install", "install", "error"), "not-run": ("notrun", "not run", "")}
# What a user of the pair would see, in the order a heatmap cell lists it: (kind, symbol, words). Each kind has a
# symbol and an Okabe-Ito colour (site.css), so neither colour vision nor hover is needed to read a cell.
KINDS = (("pass", "✓", "pass"), ("wrong", "≠", "silently wrong"), ("check", "!", "shap's check raised"),
         ("raised", "✕", "raised"), ("crash", "✸", "crash"), ("timeout", "◷", "timeout"), ("notrun", "○", "not run"))
# The data behind the page and its dictionary (harness.publish.report writes them); the page folder ships those present.
DATA_FILES = ("matrix.csv", "matrix.json", "matrix.schema.json", "datapackage.json")
DIFF_LISTS = ("newly_broken", "newly_fixed", "resolved_changes", "timing_changes", "added_cells", "removed_cells")


def check_matrix(matrix) -> list[dict]:
    """The case rows of a matrix.json document; a foreign or empty document is an error (typed: records.row.rows)."""
    rows(matrix)
    return matrix["cases"]


def check_problems(problems) -> list[dict]:
    """The known-problems rows of a matrix.json (absent in older ones: none shown)."""
    if problems is None:
        return []
    if not isinstance(problems, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str)
                                                 and isinstance(p.get("signature"), str) for p in problems):
        raise HarnessError("matrix.json's known_problems is not a list of problems with an id and a signature")
    keys = ("models", "explainers", "devices", "bisected", "remedies", "not_remedies")
    return [{**p, **{k: p.get(k) or [] for k in keys}, "ranges": p.get("ranges") or {}} for p in problems]


def check_diff(diff) -> dict:
    """A diff document with every list present (absent lists are empty)."""
    if not isinstance(diff, dict):
        raise HarnessError("the diff is not a JSON object")
    for key in DIFF_LISTS:
        if not isinstance(diff.get(key) or [], list):
            raise HarnessError(f"the diff's {key} is not a list")
    return {**diff, **{key: diff.get(key) or [] for key in DIFF_LISTS}}


def kind_of(case: dict) -> str:
    """A case's kind (KINDS): a mismatch is "silently wrong" unless shap's own additivity check raised."""
    outcome = case["outcome"]
    if case.get("shap_check_fired") and outcome in ("pass", "mismatch", "fail"):
        return "check"  # with check_additivity=True (shap's default) the user saw an exception
    return {"pass": "pass", "mismatch": "wrong", "fail": "raised", "import-error": "raised", "crash": "crash",
            "timeout": "timeout"}.get(outcome, "notrun")


def kinds(cases: list[dict]) -> list[dict]:
    """Count per kind, in KINDS order, for the chips of a heatmap cell."""
    counts = Counter(kind_of(c) for c in cases)
    return [{"kind": k, "symbol": sym, "words": words, "n": counts[k]} for k, sym, words in KINDS if counts[k]]


def summarize(cases: list[dict]) -> dict:
    """Colour class, label, tooltip and kind chips of one heatmap cell, from its verdict (records.outcomes.verdict)."""
    found = verdict(cases[0].get("cell_status") if cases else None, [c["outcome"] for c in cases])
    counts = ", ".join(f"{n} {o}" for o, n in Counter(c["outcome"] for c in cases).most_common())
    if found.kind in VERDICT_WORDS:
        cls, label, sub = VERDICT_WORDS[found.kind]
        return {"cls": cls, "label": label, "sub": sub, "counts": counts, "kinds": []}
    python = cases[0].get("python")
    sub = "import error" if found.kind == outcomes.IMPORT_ERROR else f"py{python}" if python else ""
    if cases[0].get("constraints"):
        sub += f" · {cases[0]['constraints']}"
    cls = outcomes.FAIL if found.kind == outcomes.IMPORT_ERROR else found.kind
    return {"cls": cls, "label": found.label, "sub": sub, "counts": counts, "kinds": kinds(cases)}


def filtered_verdicts(by_key: dict[str, list[dict]]) -> dict[str, dict[str, list[str]]]:
    """Every heatmap cell's [class, label, sub-label] under each model and explainer filter ("MODEL|EXPLAINER", ""
    for all), so that site.js reads the verdict instead of repeating its rule."""
    found = {}
    for key, cases in by_key.items():
        models, explainers = [""] + sorted({c["model"] for c in cases}), [""] + sorted({c["explainer"] for c in cases})
        found[key] = {}
        for m in models:
            for e in explainers:
                kept = [c for c in cases if m in ("", c["model"]) and e in ("", c["explainer"])]
                if kept:
                    summary = summarize(kept)
                    found[key][f"{m}|{e}"] = [summary["cls"], summary["label"], summary["sub"]]
    return found


def grid_devices(cases: list[dict]) -> list[str]:
    """Devices with at least one case that ran (a CPU-only host's cuda skips get no grid)."""
    ran = {c["device"] for c in cases if c["outcome"] in RAN}
    known = [d for d in DEVICES if d in ran] + sorted(ran - set(DEVICES))
    return known or ["cpu"]


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(stamp)


def provenance(cases: list[dict]) -> dict:
    """Date range, host fingerprints and harness commits of the rows, for the page header."""
    dates = sorted(_when(c["date"]) for c in cases if c.get("date"))
    hosts = sorted({(c.get("host") or "?", c.get("cpu_model") or "unknown CPU", c.get("gpu") or "")
                    for c in cases if c.get("host") or c.get("cpu_model")})
    # A GPU host's cells without a GPU record (an install error) would list it twice.
    hosts = [h for h in hosts if h[2] or not any(o[:2] == h[:2] and o[2] for o in hosts)]
    span = "unknown"
    if dates:
        first, last = dates[0], dates[-1]
        span = first if first == last else f"{first} – {last[11:] if last[:10] == first[:10] else last}"
    return {
        "span": span,
        "hosts": hosts,
        "commits": sorted({c["harness_commit"] for c in cases if c.get("harness_commit")}),
        "cells": len({c["cell"] for c in cases}), "cases": len(cases),
        "outcomes": sorted(Counter(c["outcome"] for c in cases).items(),
                           key=lambda item: OUTCOMES.index(item[0]) if item[0] in OUTCOMES else len(OUTCOMES)),
    }


def _clean(value):
    """JSON-safe copy: NaN and infinities become null (JSON.parse rejects them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def script_json(value) -> str:
    """JSON for a <script type="application/json"> element: no '<', '>' or '&' can end or confuse it."""
    text = json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _seconds(value) -> str:
    return f"{value:.3g} s" if isinstance(value, (int, float)) else "–"


def _ratio(value) -> str:
    return f"{value:.2f}×" if isinstance(value, (int, float)) else "–"


def _small(value) -> str:
    return f"{value:.2g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def row_of(case: dict) -> str:
    """A case's heatmap row: its torch release, or a supplied environment's own row (harness.records.store.row_label)."""
    return case.get("row") or case["torch"]


def device_pairs(cases: list[dict]) -> list[dict]:
    """Each cuda case that ran beside the same cell's cpu case: outcomes, agreement, warm times."""
    cpu = {(c["cell"], c["model"], c["explainer"]): c for c in cases if c["device"] == "cpu"}
    pairs = []
    for c in cases:
        if c["device"] != "cuda" or c["outcome"] not in outcomes.CALLED:
            continue  # only cases that ran on the GPU have an outcome, numbers and a time to compare
        other = cpu.get((c["cell"], c["model"], c["explainer"])) or {}
        cpu_s, cuda_s = other.get("call_warm_median_s"), c.get("call_warm_median_s")
        pairs.append({"row": row_of(c), "shap": c["shap"], "model": c["model"], "explainer": c["explainer"],
                      "cpu": other.get("outcome", "not run"), "cuda": c["outcome"],
                      "diff": c.get("device_max_diff"), "ok": c.get("device_ok"), "cpu_s": cpu_s, "cuda_s": cuda_s,
                      "ratio": cpu_s / cuda_s if isinstance(cpu_s, (int, float)) and isinstance(cuda_s, (int, float))
                      and cuda_s > 0 else None})
    return pairs


def grid_notes(matrix: dict) -> tuple[list[str], dict[str, list[int]]]:
    """grid.toml's notes, numbered, and the note numbers of each cell they concern (shown beside those cells)."""
    notes = [n for n in matrix.get("notes") or [] if isinstance(n, dict) and isinstance(n.get("note"), str)]
    by_cell: dict[str, list[int]] = {}
    for number, note in enumerate(notes, 1):
        for cell in note.get("cells") or []:
            by_cell.setdefault(cell, []).append(number)
    return [n["note"] for n in notes], by_cell


def _cell_of(cases: list[dict]) -> str | None:
    return cases[0]["cell"] if cases else None


def build_page(matrix: dict, diff: dict | None, *, results_href: str = "..", downloads: tuple = ()) -> str:
    """The whole page as one HTML string; ``results_href`` is the results folder seen from the page."""
    cases = check_matrix(matrix)
    diff = check_diff(diff) if diff is not None else None
    torches = row_order((c["torch"], row_of(c)) for c in cases)
    shaps = sorted({c["shap"] for c in cases}, key=Version)
    by_key: dict[str, list[dict]] = {}
    for c in cases:
        by_key.setdefault(f"{c['device']}|{row_of(c)}|{c['shap']}", []).append(c)
    devices = grid_devices(cases)
    pairs = device_pairs(cases)
    problems = check_problems(matrix.get("known_problems"))
    notes, cell_notes = grid_notes(matrix)
    grids = [{"device": d, "rows": [{"torch": t, "cells": [
        {"key": f"{d}|{t}|{s}", "torch": t, "shap": s, **summarize(by_key.get(f"{d}|{t}|{s}", [])),
         "notes": cell_notes.get(_cell_of(by_key.get(f"{d}|{t}|{s}", [])), [])}
        for s in shaps]} for t in torches]} for d in devices]
    # Null and empty fields are dropped: the script treats absent and null alike, and the page stays small.
    slim = [{**{k: v for k, v in c.items() if v is not None and v != ""}, "kind": kind_of(c)} for c in cases]
    # A reproducer's command and an explainer's criterion are kept once in matrix.json; the details show them per case.
    criteria = matrix.get("criteria") or {}
    for c in slim:
        if c.get("reproducer"):
            c["reproducer_command"] = reproducers.command_of(matrix, c)
        if c.get("outcome") in ("pass", "mismatch") and c["explainer"] in criteria:
            c.setdefault("additivity_criterion", criteria[c["explainer"]])
    data = {"cases": slim, "resultsHref": results_href, "verdicts": filtered_verdicts(by_key), "kinds": KINDS,
            "lookup": {"problems": lookup.problems(matrix), "coverage": lookup.coverage(matrix)}}  # lookup.js
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(seconds=_seconds, ratio=_ratio, small=_small)
    return env.get_template("site.html.j2").render(
        grids=grids, shaps=shaps, devices=devices, diff=diff, info=provenance(cases), notes=notes,
        unrun=sorted(({c["device"] for c in cases} | set((matrix.get("devices") or {}).get("left_out") or {}))
                     - set(devices)),
        models=sorted({c["model"] for c in cases}), explainers=sorted({c["explainer"] for c in cases}),
        data_json=script_json(data), pairs=pairs, problems=problems, results_href=results_href, kinds=KINDS,
        downloads=downloads, tally={
            "compared": sum(p["ok"] is not None for p in pairs), "agree": sum(p["ok"] is True for p in pairs),
            "differ": sum(p["cpu"] not in (p["cuda"], "not run") for p in pairs)},
    )


def write_site(results_dir, out_dir, diff_path=None) -> Path:
    """Build the page from ``results_dir/matrix.json`` (and a diff file) into ``out_dir/index.html``."""
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    matrix = read_matrix(results_dir)
    documents = read_cells(results_dir) if raw_dir(results_dir).is_dir() else []
    diff = read_json(Path(diff_path), "diff file") if diff_path else None
    downloads = tuple(name for name in DATA_FILES if (results_dir / name).is_file())
    page = build_page(matrix, diff, results_href=".", downloads=downloads)
    target = out_dir / "index.html"
    try:
        if results_dir.resolve() != out_dir.resolve():
            # the data a reader may want to load goes where the page is published, beside it
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in downloads:
                shutil.copyfile(results_dir / name, out_dir / name)
        # reproducers are generated, not kept in git: the page ships one per problem and case, where its links point
        reproducers.write_site(documents, out_dir)
        write_atomic(target, page)
        target.chmod(0o644)  # a page is for reading: not the private mode of the temporary file
    except OSError as exc:
        raise HarnessError(f"could not write {target}: {exc.strerror or exc}") from None
    return target


@command
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.publish.page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"), metavar="PATH",
                        help="results folder with matrix.json (default: results/)")
    parser.add_argument("--diff", type=Path, metavar="PATH",
                        help="a diff JSON of this run against the previous one (optional)")
    parser.add_argument("--out", type=Path, metavar="PATH", help="folder for index.html (default: RESULTS/site)")
    args = parser.parse_args(argv)
    target = write_site(args.results, args.out or args.results / "site", args.diff)
    print(f"page: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
