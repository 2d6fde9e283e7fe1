"""COMPATIBILITY.md for a person: the answers first, the evidence after, short.

The order follows the questions a reader arrives with: what to do (summary), "I got this
error" (one row per known problem, linking to its card below), "I have this kind of model"
(families x explainers), "I have these versions" (one grid per explainer and device), then
the cards in full and the evidence a reader may want to check (remedies, constraints,
oracles, side effects, devices, signatures, bisected boundaries).  The sentences are those
of harness.analysis.answers, so the page and ``nox -s lookup`` say the same; every case
and the full catalogue are in matrix.csv / matrix.json.

Limits a reader's screen imposes, tested on the shipped results: no table cell over
MAX_CELL characters, the file under MAX_BYTES.
"""
from __future__ import annotations

import re

import pandas as pd

from ..analysis import answers as answer_cards
from ..analysis.catalogue import table as github_table
from ..cell import oracles
from ..cell.remedies import REGISTRY as REMEDIES
from . import report
from ..records.model import CellRecord
from ..records.outcomes import CALLED, EXPLAINERS

MAX_CELL = 250
MAX_BYTES = 30_000
VERDICT_SYMBOLS = {"works": "✅", "partial": "⚠️", "fails": "❌", "untested": "➖"}
GRID_LEGEND = ("Grid cells: ✅ every case passed · ⚠️ some passed (passed/ran) · ❌ none passed, or the releases did "
               "not install or import · n/a no Python has wheels of both releases · ➖ not run here. Each cell "
               "also names the Python it ran on and any constraint it ran under.")


def short(text: str, n: int = MAX_CELL) -> str:
    """A table cell's text cut at a word boundary to at most ``n`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 2].rsplit(" ", 1)[0] + " …"


def table(headers: list[str], rows: list[list]) -> list[str]:
    return github_table(headers, [[short(c) for c in row] for row in rows])


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def card_heading(card: dict) -> str:
    """A card's heading is its id alone, so that links to it stay short (#s5)."""
    return card["id"]


def what_to_do(data: dict) -> list[str]:
    return ["## What to do", ""] + [f"- {line['en']}" for line in data["summary"]] + [
        "", "Answers in Simplified Chinese (中文): the web page (`nox -s site`) and `nox -s lookup -- \"ERROR\" "
            "--lang zh`.", ""]


def problems_table(data: dict) -> list[str]:
    out = ["## Known problems", "",
           "I got this error: one row per problem, linked to its card below.", ""]
    if not data["problems"]:
        return out + ["No case failed.", ""]
    rows = []
    for card in data["problems"]:
        error = f"`{short(card['signature']['text'].split(': ', 1)[-1], 90)}`"
        best = card["fixes"][0] if card["fixes"] else None
        fix = f"{best['label']['en']} ({best['verified']['en'].split(': ')[-1]})" if best else "nothing tested works"
        rows.append([f"[**{card['id']}**](#{anchor(card_heading(card))})", error, card["range_short"]["en"],
                     short(fix, 120)])
    return out + table(["problem", "error", "where", "best fix (verified here)"], rows) + [""]


def family_cell(item: dict) -> str:
    """One kind of model under one explainer: verdict, count, where it works and what fails elsewhere."""
    head = f"{VERDICT_SYMBOLS[item['verdict']]} {item['pass']}/{item['total']}"
    if item["verdict"] == "untested":
        return "➖ not tested"
    if item["verdict"] == "works":
        return f"{head} · works everywhere tested"
    problems = ", ".join(item["problems"])
    if item["works"]:
        return f"{head} · works: {item['works']['en']} · elsewhere {problems}"
    return f"{head} · {'fails everywhere tested' if not item['pass'] else 'no release passes all its models'} · " \
        f"{problems}"


def by_kind(data: dict) -> list[str]:
    out = ["## By kind of model", "",
           "I have this kind of model: passed / ran per explainer, the tested releases where every model of the kind "
           "passes, the problems elsewhere.", ""]
    rows = [[f"**{f['name']['en']}**",
             *(family_cell(f["explainers"][e]) for e in EXPLAINERS)] for f in data["families"]]
    return out + table(["kind of model", "DeepExplainer", "GradientExplainer"], rows) + [""]


def unpadded(grid: str) -> str:
    """A tabulate grid without the padding that aligns it in a terminal (a third of its bytes)."""
    return "\n".join(re.sub(r"-{3,}", "---", re.sub(r" {2,}\|", " |", line)) for line in grid.splitlines())


def grids(frame: pd.DataFrame) -> list[str]:
    out = []
    for device in report.executed_devices(frame):
        part = frame[frame["device"] == device]
        out += [f"## Summary ({device})", "", "I have these versions: cases that pass / cases run per explainer, "
                "and the Python the cell used.", "", GRID_LEGEND, ""]
        for explainer, name in report.EXPLAINER_NAMES.items():
            sub = part[part["explainer"] == explainer]
            if not sub.empty:
                out += [f"### {name} ({device})", "", unpadded(report.grid(sub, report.summary_cell)), ""]
    return out


def legend(frame: pd.DataFrame, documents: list[CellRecord]) -> list[str]:
    out = ["## Legend", "", "- Summary grids: see above each grid.",
           "- By kind of model: ✅ every case passed · ⚠️ some passed · ❌ none passed · ➖ not tested.",
           "- Case outcomes (matrix.csv `outcome`): " + ", ".join(f"`{k}`" for k in report.MEANINGS)
           + "; each is defined in matrix.schema.json.",
           "- Reproducer links (`site/reproducers/...`) are written beside the page by `nox -s site`; "
           "`nox -s reproduce -- MODEL/EXPLAINER/DEVICE` writes one for any cell.", ""]
    criteria = frame[["explainer", "additivity_criterion"]].dropna().drop_duplicates("explainer")
    out += ["Additivity criteria (each verdict records its measured error and tolerance in matrix.csv):", ""]
    out += [f"- {report.EXPLAINER_NAMES[e]}: `{c}`" for e, c in zip(criteria["explainer"],
                                                                     criteria["additivity_criterion"])]
    reasons = sorted({r for r in frame.loc[frame["outcome"] == "n/a", "reason"].dropna()})
    if reasons:
        out += ["", "Cells marked n/a: " + "; ".join(reasons)]
    notes = sorted({n for d in documents for n in d.cell.notes})
    if notes:
        out += ["", "Notes from grid.toml:", ""] + [f"- {n}" for n in notes]
    return out + [""]


def card_section(card: dict, shown: set) -> list[str]:
    """One problem's card: the same sentences as the page and the terminal lookup; a fix's code is written out
    the first time it appears in the file (``shown``: the code already written), an install line inline."""
    out = [f"### {card_heading(card)}", "", card["sentence"]["en"], "",
           f"- Evidence: {card['range_evidence']['en']}"]
    for fix in card["fixes"]:
        out.append(f"- Fix: {answer_cards.fix_label(fix, 'en')} (verified: {fix['verified']['en']})")
        if fix["install"]:
            out[-1] += f": `{fix['install']}`"
        if fix["code"] in shown:  # written out above: its first line says which
            out[-1] += f": `{fix['code'].splitlines()[0]}` (in full above)"
        elif fix["code"]:
            shown.add(fix["code"])
            out.append("\n".join(["  ```python"] + [f"  {line}" for line in fix["code"].splitlines()] + ["  ```"]))
    if card["not_fixes"]:
        out += ["- Does not work:"] + [f"  - {text['en']}" for text in card["not_fixes"]]
    reproducer = card["reproducer"]
    if reproducer:
        out.append(f"- Reproduce (torch {reproducer['torch']}, shap {reproducer['shap']}): "
                   f"[{reproducer['path'].split('/')[-1]}](site/{reproducer['path']})")
    if card["reports"]:
        out.append("- Public reports: " + " ".join(card["reports"][:2]))
    return out + [""]


def cards(data: dict) -> list[str]:
    out, shown = ["## Problem cards", ""], set()
    for card in data["problems"]:
        out += card_section(card, shown)
    return out


def remedy_summary(problems: list[dict]) -> list[str]:
    """The code remedies the harness tries, with their record over every problem here and where each comes from."""
    out = ["## Remedies", "",
           "Each failing, mismatching or crashing case is re-run once per code remedy that applies (one with nothing "
           "to change is n/a, never a pass); what each changes and why: harness/cell/remedies.py.", ""]
    rows = []
    for name, remedy in REMEDIES.items():
        tried = [c for p in problems for c in p.get("code", []) if c["remedy"] == name]
        record = (f"{sum(c['passed'] for c in tried)}/{sum(c['tried'] for c in tried)} cases pass" if tried
                  else "nothing to try here")
        rows.append([f"`{name}`", remedy.title, record, remedy.source.split(" : ")[0]])
    return out + table(["remedy", "what a user does", "here", "from"], rows) + [""]


def constraint_summary(documents: list[CellRecord]) -> list[str]:
    """Each grid.toml constraint with its reason, then what installs without it (report's probe findings)."""
    applied: dict[tuple, int] = {}
    for d in documents:
        for c in d.cell.constraints:
            key = (c.applies_to, ", ".join(c.requires), c.reason)
            applied[key] = applied.get(key, 0) + 1
    if not applied:
        return []
    out = ["## Constraints: environments as their users have them", "",
           "Cells whose releases predate a dependency's breaking release run with the requirement lines their users "
           "had (grid.toml `[[constraints]]`, applied with uv's `--constraint`; grid cells show them):", ""]
    out += [f"- `{requires}` for {applies_to} ({n} cells): {reason}" for (applies_to, requires, reason), n in
            applied.items()]
    findings = report.unconstrained_findings(documents)
    if findings:
        out += ["", "Installed today without them (`uv pip install torch==X shap==Y` alone; mlp, DeepExplainer, cpu):",
                ""] + [f"- {line}" for line in findings]
    return out + [""]


def oracle_summary(frame: pd.DataFrame) -> list[str]:
    """How far each explainer is from the true Shapley values: one row per explainer and oracle."""
    out = ["## Oracles: distance from the true Shapley values", "",
           f"Relative L2 distance `{oracles.METRIC}` from the closed form (affine models: a verdict) and from brute "
           f"force over all coalitions (models with at most {oracles.EXACT_MAX_FEATURES} features: measured only). "
           f"Tolerances: DeepExplainer {oracles.DEEP_ORACLE_RTOL:g}, GradientExplainer "
           f"{oracles.GRADIENT_ORACLE_RTOL:g}. Per case: matrix.csv `analytic_*`, `exact_*`.", ""]
    found = []
    for oracle in ("analytic", "exact"):
        measured = frame[frame[f"{oracle}_deviation"].notna()]
        for explainer, sub in measured.groupby("explainer"):
            verdicts = sub[f"{oracle}_ok"].dropna()
            over = f"{int((verdicts == False).sum())} of {len(verdicts)} over tolerance" if len(verdicts) \
                else "measured only"  # noqa: E712 (None: measured, no verdict)
            found.append(f"- {report.EXPLAINER_NAMES[explainer]}, {oracle}: {len(sub)} cases of "
                         f"{sub['model'].nunique()} models, median {sub[f'{oracle}_deviation'].median():.3g}, max "
                         f"{sub[f'{oracle}_deviation'].max():.3g}; {over}")
    return out + (found or ["No case produced attributions an oracle could check."]) + [""]


def side_effect_summary(frame: pd.DataFrame, data: dict) -> list[str]:
    """What explainers leave on the model, per explainer and kind of thing left, with the kinds of model."""
    called = frame[frame["outcome"].isin(CALLED)]
    left = called[called["side_effects"].notna()]
    out = ["## Side effects on the model", "",
           f"After each case the harness compares every module's hooks, attributes and `state_dict()` keys with "
           f"what they were before shap saw the model: {len(left)} of {len(called)} cases left something behind "
           "(each case's own in matrix.csv `side_effects`).", ""]
    if left.empty:
        return out
    family_of = {m["name"]: f["name"]["en"] for f in data["families"] for m in f["models"]}
    for (explainer, outcome), sub in left.groupby(["explainer", "outcome"]):
        kinds = sorted({re.sub(r" on \d+ modules?|: added .*", "", part) for text in sub["side_effects"]
                        for part in text.split("; ")})
        out.append(f"- {report.EXPLAINER_NAMES[explainer]}, {outcome} ({len(sub)} cases): {', '.join(kinds)}; "
                   f"{'; '.join(sorted({family_of.get(m, m) for m in sub['model']}))}")
    return out + [""]


def signatures(catalogue_data: dict) -> list[str]:
    count = len(catalogue_data["signatures"])
    return ["## Failure signatures", "",
            f"{count} distinct ways a case went wrong (numbers, addresses and paths stripped), each a problem card "
            "above; every signature's cases, cells, ranges and transitions are in matrix.json `catalogue`.", ""]


def transitions(catalogue_data: dict) -> list[str]:
    out = ["## Transitions", "",
           f"{len(catalogue_data['transitions'])} changes of outcome between neighbouring tested versions (matrix.json "
           "`catalogue.transitions`).", ""]
    found = [b for b in catalogue_data["bisections"] if b.get("boundary")]
    if found:
        out += ["Exact boundaries found by `nox -s bisect` (every release on the index between two versions; each "
                "card's range uses them): " + "; ".join(
                    f"`{b['case']}` {b['axis']} {b['boundary']['last']['version']} → "
                    f"{b['boundary']['first']['version']}" for b in found) + ".", ""]
    return out


def render(frame: pd.DataFrame, documents: list[CellRecord], catalogue_data: dict, problems: list[dict],
           data: dict) -> str:
    """The whole file; ``data`` is answers.build()'s, ``problems`` known_problems.build()'s (for the remedies)."""
    out = ["# PyTorch × SHAP compatibility", ""] + report.provenance(documents) + [""]
    out += ["Each case runs one reference model (models/) through `shap_values()` of one explainer on one device; "
            "the harness checks the numbers itself (additivity), since older shap does not.", ""]
    out += what_to_do(data) + problems_table(data) + by_kind(data) + grids(frame) + legend(frame, documents)
    out += cards(data) + remedy_summary(problems) + constraint_summary(documents)
    out += oracle_summary(frame) + side_effect_summary(frame, data) + report.device_section(frame)
    out += signatures(catalogue_data) + transitions(catalogue_data)
    return "\n".join(report.wrap(line) for line in out)
