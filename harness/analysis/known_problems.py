"""Known problems: one row per failure signature, with what a user sees and what works instead.

A reader arrives with an error and one question: "which versions fix it?".
The catalogue (harness.analysis.catalogue) already knows where each signature appears;
this module turns that into advice read from the same results:

- what the user sees: an exception, silently wrong numbers, shap's own
  additivity check raising, a crash;
- which models, explainers and devices it hits, and the version ranges
  (with bisected boundaries where ``nox -s bisect`` found them);
- version remedies: for each tested release on one axis where the signature
  never appears, what the very cases it hit give there (the other axis kept
  as it was); releases where they all pass are remedies, the others are
  advice that does NOT work, with what the cases give instead.

Nothing here is hard-coded: every verdict is a recorded outcome.
"""
from __future__ import annotations

import pandas as pd
from packaging.version import Version

from .catalogue import AXES, CASE, PASS, RAN
from ..cell.remedies import REGISTRY as REMEDIES

NO_CHECK_ADDITIVITY = ("`check_additivity=False` is never a remedy: it silences shap's own check, "
                       "and the attributions stay wrong.")


def sees(signature: str) -> str:
    """What a user of shap_values() sees for this signature, in their words."""
    kind = signature.split(":", 1)[0]
    if signature.startswith("mismatch: shap's own additivity check fired"):
        return "shap's own check raises"
    if kind == "mismatch":
        return "silently wrong numbers"
    if kind == "fail":
        return f"raises {signature.split(':')[1].strip()}"
    if kind == "crash":
        return "crash"
    if kind == "timeout":
        return "hangs (timeout)"
    return {"install-error": "does not install", "import-error": "import fails"}.get(kind, kind)


def _models(cases: list[str], explainers: set[str]) -> list[str]:
    """Model names of "model/explainer/device" cases, with the explainer where the problem hits several."""
    names = []
    for case in cases:
        model, explainer, _ = case.split("/")
        name = model if len(explainers) < 2 else f"{model} ({explainer})"
        if name not in names:
            names.append(name)
    return sorted(names)


def remedies(frame: pd.DataFrame, signature: str, ids: dict) -> list[dict]:
    """Each tested release on each axis without the signature: what the cases it hit give there.

    Neighbouring releases with the same verdict are merged into one range.
    """
    ran = frame[frame["outcome"].isin(RAN)]
    labels = dict(zip(map(tuple, ran[CASE + ["torch", "shap"]].values), ran["signature"].fillna(PASS)))
    hits = frame[frame["signature"] == signature]
    explainers = set(hits["explainer"])
    found = []
    for axis in AXES:
        other = AXES[1] if axis == "torch" else AXES[0]
        instances = set(zip(map(tuple, hits[CASE].values), hits[other]))
        bad = set(hits[axis])
        first_bad, last_bad = min(bad, key=Version), max(bad, key=Version)
        for version in sorted(set(frame[axis]) - bad, key=Version):
            given: dict[str, set] = {}
            for case, fixed in instances:
                key = case + ((version, fixed) if axis == "torch" else (fixed, version))
                if key in labels:
                    given.setdefault(labels[key], set()).update(_models(["/".join(case)], explainers))
            if not given:
                continue
            direction = ("upgrade" if Version(version) > Version(last_bad) else
                         "downgrade" if Version(version) < Version(first_bad) else "in between")
            instead = {label: sorted(models) for label, models in given.items() if label != PASS}
            verdict = {"axis": axis, "direction": direction, "passes": sorted(given.get(PASS, ())),
                       "instead": [{"label": label, "id": ids.get(label), "sees": sees(label), "models": models}
                                   for label, models in sorted(instead.items())]}
            verdict["works"] = "no" if not verdict["passes"] else "partly" if instead else "yes"
            last = found[-1] if found else None
            if last and {k: v for k, v in last.items() if k != "versions"} == verdict:
                last["versions"].append(version)
            else:
                found.append({"versions": [version], **verdict})
    return found


def code_remedies(frame: pd.DataFrame, signature: str, ids: dict) -> list[dict]:
    """Each code remedy tried on the cases with this signature: where it passes, and what it gives elsewhere.

    A remedy counts only where it had something to change ('n/a' rows are counted apart). What it gives
    instead is said with the releases where it does ("with shap 0.42.1"), so a remedy that works on newer
    shap is not hidden by the cells where shap itself is the problem.
    """
    hits = frame[frame["signature"] == signature]
    explainers = set(hits["explainer"])
    found = []
    for name, remedy in REMEDIES.items():
        column = f"remedy_{name}"
        if column not in hits:
            continue
        tried = hits[hits[column].notna()]
        applied = tried[tried[column] != "n/a"]
        if applied.empty:
            continue
        models = {label: sorted(set(_models(["/".join(r) for r in group[CASE].values], explainers)))
                  for label, group in applied.groupby(column)}
        instead = [{"label": label, "id": ids.get(label), "sees": sees(label), "models": names,
                    "where": _releases(applied[applied[column] == label], applied)}
                   for label, names in sorted(models.items()) if label != PASS]
        found.append({
            "remedy": name, "title": remedy.title, "semantics": remedy.semantics, "caveat": remedy.caveat,
            "source": remedy.source,
            "tried": len(applied), "passed": int((applied[column] == PASS).sum()),
            "not_applicable": int((tried[column] == "n/a").sum()), "passes": models.get(PASS, []),
            "instead": instead,
            "works": "no" if PASS not in models else "partly" if instead else "yes",
        })
    return found


def _releases(rows: pd.DataFrame, among: pd.DataFrame) -> str:
    """The releases of ``rows`` on each axis where they are fewer than ``among``'s: "shap 0.42.1"."""
    parts = []
    for axis in AXES:
        some = sorted(set(rows[axis]), key=Version)
        if len(some) < len(set(among[axis])):
            parts.append(f"{axis} {', '.join(some) if len(some) <= 3 else _span([some[0], some[-1]])}")
    return " and ".join(parts)


def code_works_text(item: dict) -> str | None:
    if item["works"] == "no":
        return None
    failing = {m for i in item["instead"] for m in i["models"]}
    always = [m for m in item["passes"] if m not in failing]
    who = f" ({_names(item['passes'], 3)})" if len(item["passes"]) <= 3 else ""
    caveat = f"; {item['caveat']}" if item["caveat"] else ""
    return f"code: {item['title']}: passes in {item['passed']}/{item['tried']} cases{who}{caveat}" + \
        ("" if always == item["passes"] else "; not everywhere, see does NOT work")


def code_fails_text(item: dict) -> str | None:
    if item["works"] == "yes":
        return None
    turns = "; ".join(f"{i['id'] or i['label']} ({i['sees']}) for {_names(i['models'], 3)}"
                      + (f" with {i['where']}" if i["where"] else "") for i in item["instead"])
    return f"code: {item['title']} gives {turns}"


def _span(versions: list[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{versions[0]} – {versions[-1]}"


def _names(models: list[str], n: int = 4) -> str:
    return ", ".join(models[:n]) + (f" and {len(models) - n} more" if len(models) > n else "")


def _where(item: dict) -> str:
    if item["direction"] == "in between":
        return f"{item['axis']} {_span(item['versions'])} (between bad releases)"
    return f"{item['direction']} {item['axis']} to {_span(item['versions'])}"


def works_text(item: dict) -> str | None:
    """The part of a release's verdict that is a remedy: the cases that pass there."""
    if item["works"] == "no":
        return None
    return f"{_where(item)}: passes" + ("" if item["works"] == "yes" else f" for {_names(item['passes'])} only")


def fails_text(item: dict) -> str | None:
    """The part that is not: what the other cases turn into there."""
    if item["works"] == "yes":
        return None
    turns = "; ".join(f"{i['id'] or i['label']} ({i['sees']}) for {_names(i['models'])}" for i in item["instead"])
    return f"{_where(item)} turns this into {turns}"


def bisected(entry: dict, bisections: list[dict]) -> list[str]:
    """Exact boundaries ``nox -s bisect`` found on one of the signature's cases."""
    out = []
    for b in bisections:
        boundary = b.get("boundary")  # None: the bisection found no change
        if not boundary or b["case"] not in entry["cases"]:
            continue
        last, first = boundary["last"], boundary["first"]
        if entry["signature"] not in (last["label"], first["label"]):
            continue
        fixed = ", ".join(f"{k} {v}" for k, v in b["fixed"].items())
        change = "appears" if first["label"] == entry["signature"] else "gone"
        out.append(f"{change} at {b['axis']} {last['version']} → {first['version']} "
                   f"({b['case'].split('/')[0]}, {fixed})")
    return sorted(set(out))


def build(frame: pd.DataFrame, catalogue_data: dict) -> list[dict]:
    """One known problem per catalogue signature, in catalogue order."""
    ids = {e["signature"]: e["id"] for e in catalogue_data["signatures"]}
    problems = []
    for entry in catalogue_data["signatures"]:
        signature = entry["signature"]
        explainers = {c.split("/")[1] for c in entry["cases"]}
        found = remedies(frame, signature, ids)
        code = code_remedies(frame, signature, ids)
        seen = sees(signature)
        wrong_numbers = signature.startswith("mismatch")
        problems.append({
            "id": entry["id"], "signature": signature, "sees": seen,
            "models": sorted({c.split("/")[0] for c in entry["cases"]}),
            "by_explainer": {e: sorted({c.split("/")[0] for c in entry["cases"] if c.split("/")[1] == e})
                             for e in sorted(explainers)},
            "explainers": sorted(explainers), "devices": sorted({c.split("/")[2] for c in entry["cases"]}),
            "ranges": {axis: _span([entry["ranges"][axis]["first_bad"], entry["ranges"][axis]["last_bad"]])
                       if entry["ranges"][axis]["first_bad"] != entry["ranges"][axis]["last_bad"]
                       else entry["ranges"][axis]["first_bad"] for axis in AXES},
            "bisected": bisected(entry, catalogue_data.get("bisections") or []),
            "remedies": [code_works_text(r) for r in code if r["works"] != "no"]
                        + [works_text(r) for r in found if r["works"] != "no"],
            "not_remedies": [code_fails_text(r) for r in code if r["works"] != "yes"]
                            + [fails_text(r) for r in found if r["works"] != "yes"]
                            + ([NO_CHECK_ADDITIVITY] if wrong_numbers else []),
            "versions": found, "code": code,
            "cells": len(entry["cells"]), "n_cases": entry["n_cases"],
            "reproducer": (entry.get("reproducers") or [None])[-1],
        })
    return problems
