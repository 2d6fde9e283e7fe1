"""The failure catalogue: each signature with the version ranges where it appears, and the transitions between them.

A reader wants "since when, until when, and what happens instead", not a
list of cells.  Both come from the tidy case rows:

- ranges: for a signature and an axis (torch or shap), the first and last
  tested version where it appears and the nearest tested versions on either
  side where the same cases ran without it ("last good", "first good");
- transitions: for one case (model x explainer x device), two neighbouring
  tested versions on an axis, the other axis fixed, whose outcomes differ.
"""
from __future__ import annotations

import pandas as pd
from packaging.version import Version

from ..records.outcomes import PASS, RAN

AXES = ("torch", "shap")
CASE = ["model", "explainer", "device"]


def _sorted(values) -> list[str]:
    return sorted(set(values), key=Version)


def outcome_label(row) -> str:
    """A case's signature, or 'pass'."""
    return row["signature"] if isinstance(row["signature"], str) else PASS


def axis_range(frame: pd.DataFrame, signature: str, axis: str) -> dict:
    """First/last tested version with the signature on ``axis``, and the nearest good ones beside them.

    Only cells whose other-axis version also shows the signature count, so a
    torch-only failure is not "fixed" by a shap release that merely ran with
    another torch.  There, a version is bad when the signature appears in any
    of its cells, and good when the cases it hits ran and none showed it.
    """
    other = AXES[1] if axis == AXES[0] else AXES[0]
    hit = frame[frame["signature"] == signature]
    hit_cases = frame[CASE].apply(tuple, axis=1).isin(set(hit[CASE].apply(tuple, axis=1)))
    comparable = frame[hit_cases & frame["outcome"].isin(RAN) & frame[other].isin(set(hit[other]))]
    bad = set(hit[axis])
    good = set(comparable[axis]) - bad
    tested = _sorted(set(comparable[axis]) | bad)
    first_bad, last_bad = min(bad, key=Version), max(bad, key=Version)
    below = [v for v in tested if Version(v) < Version(first_bad) and v in good]
    above = [v for v in tested if Version(v) > Version(last_bad) and v in good]
    def there(version):
        """What the same cases show instead at a version without the signature (the commonest label)."""
        if version is None:
            return None
        return comparable[comparable[axis] == version].apply(outcome_label, axis=1).mode().iloc[0]

    return {
        "first_bad": first_bad, "last_bad": last_bad,
        "last_good": below[-1] if below else None, "first_good": above[0] if above else None,
        "before": there(below[-1] if below else None), "after": there(above[0] if above else None),
        "bad": _sorted(bad), "good": _sorted(good),
        "gaps": [v for v in tested if Version(first_bad) < Version(v) < Version(last_bad) and v in good],
        "oldest_tested": tested[0], "newest_tested": tested[-1],
    }


def describe_range(axis: str, r: dict, ids: dict | None = None) -> str:
    """One sentence a reader can act on; ``ids`` names other signatures by their catalogue id."""
    def name(label):
        plain = label if label == PASS else f"`{label}`"
        return ids.get(label, plain) if ids else plain

    span = r["first_bad"] if r["first_bad"] == r["last_bad"] else f"{r['first_bad']} – {r['last_bad']}"
    parts = [f"{axis} {span}"]
    if r["last_good"]:
        parts.append(f"last good {r['last_good']}: " + ("passes" if r["before"] == PASS
                                                          else f"gives {name(r['before'])} instead"))
    elif r["first_bad"] == r["oldest_tested"]:
        parts.append("already in the oldest that ran")
    if r["first_good"]:
        parts.append(f"gone from {r['first_good']}: " + ("passes" if r["after"] == PASS
                                                        else f"gives {name(r['after'])} instead"))
    elif r["last_bad"] == r["newest_tested"]:
        parts.append("still in the newest that ran")
    if r["gaps"]:
        parts.append(f"not on {', '.join(r['gaps'])} in between")
    return parts[0] + " (" + "; ".join(parts[1:]) + ")" if len(parts) > 1 else parts[0]


def transitions(frame: pd.DataFrame) -> list[dict]:
    """Neighbouring tested versions where one case's outcome changes, grouped over models.

    Grouped by (axis, from, to, explainer, device, before, after, the other
    axis's versions), so that one fix seen on twelve models is one line.
    """
    ran = frame[frame["outcome"].isin(RAN)].copy()
    ran["label"] = ran.apply(outcome_label, axis=1)
    found: dict[tuple, dict] = {}
    for axis in AXES:
        other = AXES[1] if axis == "torch" else AXES[0]
        for (model, explainer, device, fixed), group in ran.groupby(CASE + [other]):
            by_version = dict(zip(group[axis], group["label"]))
            versions = _sorted(by_version)
            for low, high in zip(versions, versions[1:]):
                before, after = by_version[low], by_version[high]
                if before == after:
                    continue
                key = (axis, low, high, explainer, device, before, after)
                entry = found.setdefault(key, {"models": {}, "axis": axis, "from": low, "to": high,
                                               "explainer": explainer, "device": device,
                                               "before": before, "after": after, "other_axis": other})
                entry["models"].setdefault(model, []).append(fixed)
    grouped: dict[tuple, dict] = {}
    for key, entry in found.items():
        for model, fixed in entry["models"].items():
            fixed = tuple(_sorted(fixed))
            item = grouped.setdefault(key + (fixed,), dict(entry, models=[], fixed=list(fixed)))
            item["models"].append(model)
    return sorted(grouped.values(), key=lambda t: (t["axis"], Version(t["from"]), Version(t["to"]),
                                                    t["explainer"], t["device"], t["before"], t["after"]))


def build(frame: pd.DataFrame, bisections: list[dict] | None = None) -> dict:
    """The catalogue: one entry per signature with its cases, ranges and transitions, plus bisect boundaries."""
    moves = transitions(frame)
    entries = []
    failing = frame[frame["signature"].notna()]
    for signature, group in failing.groupby("signature"):
        ranges = {axis: axis_range(frame, signature, axis) for axis in AXES}
        cases = sorted({"/".join(k) for k in map(tuple, group[CASE].values)})
        entries.append({
            "signature": signature,
            "n_cases": len(group),
            "cases": cases,
            "cells": _cells(group),
            "pythons": _sorted(p for p in group["python"] if p),
            "ranges": ranges,
            "raised_in": sorted(set(group["error_frame"].dropna())),
            "example": next(iter(group["error_message"].dropna()), None),
            "becomes": [_move_text(t) for t in moves if t["before"] == signature],
            "comes_from": [_move_text(t) for t in moves if t["after"] == signature],
            "reproducers": sorted(set(group["reproducer"].dropna())) if "reproducer" in group else [],
        })
    entries.sort(key=lambda e: (-e["n_cases"], e["signature"]))
    for i, entry in enumerate(entries, 1):
        entry["id"] = f"S{i}"
    ids = {e["signature"]: e["id"] for e in entries}
    for entry in entries:
        entry["summary"] = "; ".join(describe_range(axis, entry["ranges"][axis], ids) for axis in AXES)
    for move in moves:
        move["bisect"] = [b for b in bisections or [] if _bisect_matches(b, move)]
    return {"signatures": entries, "transitions": moves, "bisections": bisections or []}


def _cells(group: pd.DataFrame) -> list[str]:
    pairs = {(t, s) for t, s in zip(group["torch"], group["shap"])}
    return [f"{t}/{s}" for t, s in sorted(pairs, key=lambda p: (Version(p[0]), Version(p[1])))]


def _move_text(t: dict) -> str:
    fixed = ", ".join(t["fixed"])
    return (f"{t['axis']} {t['from']} → {t['to']} ({t['other_axis']} {fixed}; {', '.join(t['models'])}; "
            f"{t['explainer']} on {t['device']}): `{t['before']}` → `{t['after']}`")


def _bisect_matches(record: dict, move: dict) -> bool:
    model, explainer, device = record["case"].split("/")
    boundary = record.get("boundary")  # None: the bisection found no change
    return (record["axis"] == move["axis"] and model in move["models"] and explainer == move["explainer"]
            and device == move["device"] and record["fixed"].get(move["other_axis"]) in move["fixed"]
            and bool(boundary)
            and Version(move["from"]) <= Version(boundary["last"]["version"])
            and Version(boundary["first"]["version"]) <= Version(move["to"]))


def table(headers: list[str], rows: list[list]) -> list[str]:
    """A GitHub table without padding, so that one wide cell does not widen every row."""
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")
    return (["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])
