"""A static web page of the compatibility matrix, built from results/matrix.json.

    python -m harness.publish.page --results results [--diff PATH] [--out results/site]

A reader comes with one of three questions (I got this error / I have this kind of
model / I have these versions); the first screen answers them with the cards of
harness.analysis.answers, in English or Simplified Chinese. Below come one heatmap per
explainer and device, coloured by pass share, and the cases of a cell.

``index.html`` carries everything the first load needs (CSS, JS, the answers, the
grids); a cell's case rows are in ``cells/<cell>.js``, loaded by a ``<script src>`` when
the cell is opened, which works from disk (file://, where fetch() of JSON does not)
and on any static host. The first load makes no network request.

Error messages are third-party text, so everything is escaped: Jinja2 autoescape in
the HTML, ``<``, ``>`` and ``&`` as ``\\uXXXX`` in the embedded JSON (a message cannot
close the ``<script>`` element), and ``textContent`` in the script.
"""
from __future__ import annotations

import argparse
import json
import math
import re
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
from ..records.row import ONCE_PER_EXPLAINER, Row, matrix_of, rows
from .matrix_file import read_matrix
from ..records.store import raw_dir, read_cells, read_json, row_order, write_atomic

TEMPLATES = Path(__file__).parent / "templates"
CELLS = "cells"  # the folder beside index.html with one <cell>.js of case rows per cell
# A verdict with no pass count: (colour class, label, sub-label) of its heatmap cell.
VERDICT_WORDS = {"empty": ("empty", "–", ""), outcomes.NA: ("na", "n/a", ""),
                 outcomes.INSTALL_ERROR: ("install", "install", "error"), "not-run": ("notrun", "not run", "")}
# A cell that ran is coloured by its pass share, one of four steps; "na" also colours install errors, and "not run"
# is the same grey hatched. The fills stay >= 20 CIEDE2000 apart under deuteranopia, protanopia and tritanopia
# (Machado 2009; tests/test_site_colours.py): a blue-to-orange ramp whose steps also differ in lightness.
SHARES = (("all", "#08306b", "#ffffff"), ("most", "#6b8fd6", "#000000"), ("few", "#e8912a", "#000000"),
          ("none", "#8c2200", "#ffffff"), ("na", "#e3e3e3", "#000000"))
OUTCOME_COLOURS = {name: fill for name, fill, _ in SHARES}
# What a user of the pair would see, in the order a heatmap cell lists it: (kind, symbol, words). Each kind has a
# symbol, so neither colour vision nor hover is needed to read a cell.
KINDS = (("pass", "✓", "pass"), ("wrong", "≠", "silently wrong"), ("check", "!", "shap's check raised"),
         ("raised", "✕", "raised"), ("crash", "✸", "crash"), ("timeout", "◷", "timeout"), ("notrun", "○", "not run"))
# One letter per kind, for the per-model marks the model filter recounts from ("." = no such case).
MARKS = {"pass": "p", "wrong": "w", "check": "c", "raised": "r", "crash": "x", "timeout": "t", "notrun": "n"}
STRINGS = json.loads((TEMPLATES / "strings.json").read_text(encoding="utf-8"))
LANGUAGES = (("en", "en", "EN"), ("zh", "zh-Hans", "中文"))  # (key in a text object, lang attribute, switch label)
# The data behind the page and its dictionary (harness.publish.report writes them); the page folder ships those present.
DATA_FILES = ("matrix.csv", "matrix.json", "matrix.schema.json", "datapackage.json")
DIFF_LISTS = ("newly_broken", "newly_fixed", "resolved_changes", "timing_changes", "added_cells", "removed_cells")


def check_matrix(matrix) -> list[Row]:
    """The case rows of a matrix.json document, typed; a foreign or empty document is an error (records.row.rows)."""
    return rows(matrix)


def check_diff(diff) -> dict:
    """A diff document with every list present (absent lists are empty)."""
    if not isinstance(diff, dict):
        raise HarnessError("the diff is not a JSON object")
    for key in DIFF_LISTS:
        if not isinstance(diff.get(key) or [], list):
            raise HarnessError(f"the diff's {key} is not a list")
    return {**diff, **{key: diff.get(key) or [] for key in DIFF_LISTS}}


def kind_of(case: Row) -> str:
    """A case's kind (KINDS): a mismatch is "silently wrong" unless shap's own additivity check raised."""
    outcome = case.outcome
    if case.shap_check_fired and outcome in ("pass", "mismatch", "fail"):
        return "check"  # with check_additivity=True (shap's default) the user saw an exception
    return {"pass": "pass", "mismatch": "wrong", "fail": "raised", "import-error": "raised", "crash": "crash",
            "timeout": "timeout"}.get(outcome, "notrun")


def kinds(cases: list[Row]) -> list[dict]:
    """Count per kind, in KINDS order, for the chips of a heatmap cell."""
    counts = Counter(kind_of(c) for c in cases)
    return [{"kind": k, "symbol": sym, "words": words, "n": counts[k]} for k, sym, words in KINDS if counts[k]]


def share_class(passed: int, ran: int) -> str:
    """The colour step of a pass share (SHARES): all, half or more, under half, none."""
    return "all" if passed == ran else "none" if passed == 0 else "most" if 2 * passed >= ran else "few"


def summarize(cases: list[Row]) -> dict:
    """Colour class, label, tooltip and kind chips of one heatmap cell, from its verdict (records.outcomes.verdict)."""
    found = verdict(cases[0].cell_status if cases else None, [c.outcome for c in cases])
    counts = ", ".join(f"{n} {o}" for o, n in Counter(c.outcome for c in cases).most_common())
    if found.kind in VERDICT_WORDS:
        cls, label, sub = VERDICT_WORDS[found.kind]
        return {"cls": cls, "label": label, "sub": sub, "counts": counts, "kinds": []}
    python = cases[0].python
    sub = "import error" if found.kind == outcomes.IMPORT_ERROR else f"py{python}" if python else ""
    if cases[0].constraints:
        sub += f" · {cases[0].constraints}"
    return {"cls": share_class(found.passed, found.ran), "label": found.label, "sub": sub, "counts": counts,
            "kinds": kinds(cases)}


def marks(cases: list[Row], models: list[str]) -> str:
    """One letter (MARKS) per model of the page for a heatmap cell's cases, so that the model filter can recount
    the cell in the browser without its case rows."""
    by_model = {}
    for c in cases:
        by_model.setdefault(c.model, MARKS[kind_of(c)])
    return "".join(by_model.get(m, ".") for m in models)


def grid_devices(cases: list[Row]) -> list[str]:
    """Devices with at least one case that ran (a CPU-only host's cuda skips get no grid)."""
    ran = {c.device for c in cases if c.outcome in RAN}
    known = [d for d in DEVICES if d in ran] + sorted(ran - set(DEVICES))
    return known or ["cpu"]


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(stamp)


def provenance(cases: list[Row]) -> dict:
    """Date range, host fingerprints and harness commits of the rows, for the page header."""
    dates = sorted(_when(c.date) for c in cases if c.date)
    hosts = sorted({(c.host or "?", c.cpu_model or "unknown CPU", c.gpu or "") for c in cases if c.host or c.cpu_model})
    # A GPU host's cells without a GPU record (an install error) would list it twice.
    hosts = [h for h in hosts if h[2] or not any(o[:2] == h[:2] and o[2] for o in hosts)]
    span = "unknown"
    if dates:
        first, last = dates[0], dates[-1]
        span = first if first == last else f"{first} – {last[11:] if last[:10] == first[:10] else last}"
    return {
        "span": span,
        "hosts": hosts,
        "commits": sorted({c.harness_commit for c in cases if c.harness_commit}),
        "cells": len({c.cell for c in cases}), "cases": len(cases),
        "outcomes": sorted(Counter(c.outcome for c in cases).items(),
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


def row_of(case: Row) -> str:
    """A case's heatmap row: its torch release, or a supplied environment's own row (harness.records.store.row_label)."""
    return case.row or case.torch


def device_pairs(cases: list[Row]) -> list[dict]:
    """Each cuda case that ran beside the same cell's cpu case: outcomes, agreement, warm times."""
    cpu = {(c.cell, c.model, c.explainer): c for c in cases if c.device == "cpu"}
    pairs = []
    for c in cases:
        if c.device != "cuda" or c.outcome not in outcomes.CALLED:
            continue  # only cases that ran on the GPU have an outcome, numbers and a time to compare
        other = cpu.get((c.cell, c.model, c.explainer))
        cpu_s, cuda_s = other and other.call_warm_median_s, c.call_warm_median_s
        pairs.append({"row": row_of(c), "shap": c.shap, "model": c.model, "explainer": c.explainer,
                      "cpu": other.outcome if other else "not run", "cuda": c.outcome,
                      "diff": c.device_max_diff, "ok": c.device_ok, "cpu_s": cpu_s, "cuda_s": cuda_s,
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


def cell_file(cell: str) -> str:
    """The file name of a cell's case rows (a supplied environment's id may hold any character)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", cell) + ".js"


def slim_cases(matrix: dict) -> list[dict]:
    """The case rows as the details panel shows them: null and empty fields dropped, the kind, the reproducer's
    command and, where the numbers were checked, the explainer's criterion (matrix.json keeps those two once)."""
    typed = matrix_of(matrix)
    slim = []
    for c in typed.rows:
        row = {k: v for k, v in c.to_dict().items() if v is not None and v != "" and k not in ONCE_PER_EXPLAINER}
        row["kind"] = kind_of(c)
        if c.reproducer:
            row["reproducer_command"] = typed.command(c)
        if c.outcome in ("pass", "mismatch") and c.additivity_criterion:
            row["additivity_criterion"] = c.additivity_criterion
        slim.append(row)
    return slim


def cell_scripts(matrix: dict) -> dict[str, str]:
    """``cells/<cell>.js`` for every cell: its case rows, handed to the page's ``harnessCell`` when loaded."""
    by_cell: dict[str, list[dict]] = {}
    for c in slim_cases(matrix):
        by_cell.setdefault(c["cell"], []).append(c)
    return {cell_file(cell): f"window.harnessCell({script_json(cell)},{script_json(rows)});\n"
            for cell, rows in by_cell.items()}


def build_answers(matrix: dict, results: Path | None = None) -> dict:
    """The answer cards (harness.analysis.answers): summary, kinds of model, problems, cells, in both languages."""
    from ..analysis import answers  # the cards' sentences are built there, for the page, Markdown and lookup

    return answers.build(matrix, results)


def text_of(value, language: str) -> str:
    """One language of a text object {"en": ..., "zh": ...}; a plain string (a name, a version) stays as it is."""
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return "" if value is None else str(value)


def heatmaps(cases: list[Row], models: list[str], cell_notes: dict) -> tuple[list[dict], dict[str, str]]:
    """One heatmap per explainer and device where a case ran (rows torch, columns shap), and each heatmap cell's
    per-model marks for the model filter, by the cell's key "explainer|device|row|shap"."""
    torches = row_order((c.torch, row_of(c)) for c in cases)
    shaps = sorted({c.shap for c in cases}, key=Version)
    by_key: dict[str, list[Row]] = {}
    for c in cases:
        by_key.setdefault(f"{c.explainer}|{c.device}|{row_of(c)}|{c.shap}", []).append(c)
    ran = {(c.explainer, c.device) for c in cases if c.outcome in RAN}
    explainers = [e for e in outcomes.EXPLAINERS if any(c.explainer == e for c in cases)]
    explainers += sorted({c.explainer for c in cases} - set(explainers))
    grids, found = [], {}
    for e in explainers:
        for d in grid_devices(cases):
            if (e, d) not in ran:
                continue
            rows = []
            for t in torches:
                cells = []
                for s in shaps:
                    key = f"{e}|{d}|{t}|{s}"
                    here = by_key.get(key, [])
                    found[key] = marks(here, models)
                    cells.append({"key": key, "torch": t, "shap": s, **summarize(here),
                                  "file": cell_file(here[0].cell) if here else "",
                                  "notes": cell_notes.get(here[0].cell if here else None, [])})
                rows.append({"torch": t, "cells": cells})
            grids.append({"explainer": e, "device": d, "rows": rows})
    return grids, found


def build_page(matrix: dict, diff: dict | None, *, results_href: str = "..", downloads: tuple = (),
               answers: dict | None = None) -> str:
    """The whole page as one HTML string; ``results_href`` is the results folder seen from the page, ``answers``
    the cards (default: harness.analysis.answers.build of the matrix)."""
    cases = check_matrix(matrix)
    diff = check_diff(diff) if diff is not None else None
    answers = answers if answers is not None else build_answers(matrix)
    models = sorted({c.model for c in cases})
    notes, cell_notes = grid_notes(matrix)
    grids, cell_marks = heatmaps(cases, models, cell_notes)
    pairs = device_pairs(cases)
    shaps = sorted({c.shap for c in cases}, key=Version)
    # what lookup.js matches and sets aside on (harness.publish.lookup.problems has the evidence for the terminal too)
    matchable = [{k: p.get(k) for k in ("id", "signature", "outcome", "type", "texts", "n_cases", "models", "explainers",
                                        "devices", "cells")} for p in lookup.problems(matrix)]
    data = {"resultsHref": results_href, "cellsHref": CELLS, "models": models, "marks": cell_marks, "kinds": KINDS,
            "families": {f["id"]: [m["name"] for m in f["models"]] for f in answers.get("families") or []},
            "strings": STRINGS, "answers": answers, "lookup": {"problems": matchable, "coverage": lookup.coverage(matrix)}}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(seconds=_seconds, ratio=_ratio, small=_small)
    env.globals.update(strings=STRINGS, languages=LANGUAGES, text_of=text_of)
    devices = grid_devices(cases)
    return env.get_template("site.html.j2").render(
        grids=grids, shaps=shaps, devices=devices, diff=diff, info=provenance(cases), notes=notes,
        unrun=sorted(({c.device for c in cases} | set(matrix.get("devices", {}).get("left_out", {})))
                     - set(devices)),
        models=models, answers=answers, families={f["id"]: f for f in answers.get("families") or []},
        data_json=script_json(data), pairs=pairs, results_href=results_href, kinds=KINDS, shares=SHARES,
        downloads=downloads, tally={
            "compared": sum(p["ok"] is not None for p in pairs), "agree": sum(p["ok"] is True for p in pairs),
            "differ": sum(p["cpu"] not in (p["cuda"], "not run") for p in pairs)},
    )


def write_site(results_dir, out_dir, diff_path=None, answers: dict | None = None) -> Path:
    """Build the page from ``results_dir/matrix.json`` (and a diff file) into ``out_dir/index.html`` and the cells'
    case rows into ``out_dir/cells/``."""
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    matrix = read_matrix(results_dir)
    check_matrix(matrix)  # a foreign document is one line, before the answers read it
    documents = read_cells(results_dir) if raw_dir(results_dir).is_dir() else []
    diff = read_json(Path(diff_path), "diff file") if diff_path else None
    downloads = tuple(name for name in DATA_FILES if (results_dir / name).is_file())
    answers = answers if answers is not None else build_answers(matrix, results_dir)
    page = build_page(matrix, diff, results_href=".", downloads=downloads, answers=answers)
    target = out_dir / "index.html"
    try:
        if results_dir.resolve() != out_dir.resolve():
            # the data a reader may want to load goes where the page is published, beside it
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in downloads:
                shutil.copyfile(results_dir / name, out_dir / name)
        # reproducers are generated, not kept in git: the page ships one per problem and case, where its links point
        reproducers.write_site(documents, out_dir)
        shutil.rmtree(out_dir / CELLS, ignore_errors=True)  # a cell that is gone leaves no stale file behind
        (out_dir / CELLS).mkdir(parents=True)
        for name, script in cell_scripts(matrix).items():
            write_atomic(out_dir / CELLS / name, script)
            (out_dir / CELLS / name).chmod(0o644)
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
