"""What the table says for one (torch, shap) pair: per explainer, how many reference models pass and which problems
the others hit, with the problem's id and what works instead.  Used by `torch-shap-matrix table` and by doctor.
"""
from __future__ import annotations

from collections import Counter
from packaging.version import InvalidVersion, Version

from ..errors import HarnessError
from ..records.outcomes import PASS, RAN
from ..records.row import matrix_of


def _release(text: str, what: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        raise HarnessError(f"{what} {text!r} is not a version (e.g. 2.4.1)") from None


def cell_rows(matrix, torch: str, shap: str) -> list:
    """The rows the harness installed for that pair (supplied environments have their own rows and are left out)."""
    return [r for r in matrix.rows if r.torch == torch and r.shap == shap and r.row == torch]


def summary(document: dict, torch: str, shap: str, device: str = "cpu") -> dict:
    """{"torch", "shap", "found", "python", "constraints", "explainers": {name: {"passed", "ran", "problems"}},
    "releases": {"torch": [...], "shap": [...]}} for one pair of a matrix.json document; problems are dicts with
    id, signature, sees, models and remedies."""
    torch, shap = _release(torch, "torch"), _release(shap, "shap")
    matrix = matrix_of(document)
    rows = [r for r in cell_rows(matrix, torch, shap) if r.device == device]
    releases = {"torch": sorted({r.torch for r in matrix.rows}, key=Version),
                "shap": sorted({r.shap for r in matrix.rows}, key=Version)}
    answer = {"torch": torch, "shap": shap, "found": bool(rows), "releases": releases, "explainers": {}}
    if not rows:
        return answer
    answer.update(python=rows[0].python, constraints=rows[0].constraints, cell_status=rows[0].cell_status)
    for explainer in sorted({r.explainer for r in rows}):
        ran = [r for r in rows if r.explainer == explainer and r.outcome in RAN]
        by_signature = {}
        for r in ran:
            if r.outcome != PASS:
                by_signature.setdefault(r.signature or r.outcome, []).append(r.model)
        problems = []
        for signature, models in sorted(by_signature.items(), key=lambda kv: -len(kv[1])):
            known = matrix.problems.get(signature, {})
            problems.append({"id": known.get("id", "?"), "signature": signature, "sees": known.get("sees", ""),
                             "models": sorted(models), "remedies": known.get("remedies", [])})
        answer["explainers"][explainer] = {"passed": sum(r.outcome == PASS for r in ran), "ran": len(ran),
                                           "outcomes": dict(Counter(r.outcome for r in ran)), "problems": problems}
    return answer


def describe(answer: dict) -> list[str]:
    """The summary as terminal lines."""
    pair = f"torch {answer['torch']} x shap {answer['shap']}"
    if not answer["found"]:
        return [f"{pair}: not in the table (not tested).",
                f"  torch releases in it: {', '.join(answer['releases']['torch'])}",
                f"  shap releases in it: {', '.join(answer['releases']['shap'])}"]
    if not answer["explainers"]:
        return [f"{pair}: {answer.get('cell_status')} (nothing ran in this cell)"]
    lines = [f"{pair} (Python {answer['python']}" + (f", {answer['constraints']}" if answer["constraints"] else "")
             + "):"]
    for explainer, found in answer["explainers"].items():
        lines.append(f"  {explainer}: {found['passed']}/{found['ran']} reference models pass")
        for problem in found["problems"]:
            models = ", ".join(problem["models"][:6]) + (f" and {len(problem['models']) - 6} more"
                                                           if len(problem["models"]) > 6 else "")
            lines.append(f"    {problem['id']} {problem['signature'][:100]} ({problem['sees'] or 'not catalogued'}): "
                         f"{models}")
            lines += [f"      works instead: {remedy}" for remedy in problem["remedies"][:2]]
    return lines
