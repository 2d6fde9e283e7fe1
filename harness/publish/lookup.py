"""Paste your error: find a pasted error message among the failure signatures of a results folder.

    python -m harness.publish.lookup "RuntimeError: Module backward hook ..." [--results results]
    nox -s lookup -- "PASTED ERROR"

A reader has a traceback, not a signature.  The pasted text is cut down the way
the harness records errors (traceback frames dropped, the last ``Type: message``
kept, lines joined) and normalized by harness.analysis.signatures.normalize (numbers,
addresses and paths stripped).  Then, per recorded problem:

- exact: the same message after normalization (whitespace ignored, so line
  wrapping does not matter), and the same exception type when both name one;
- part: a piece of at least 20 characters of a recorded message, or a recorded
  message inside the paste (extra log lines around it);
- similar: Dice overlap of the word sets >= SIMILAR.  Distinct signatures of the
  default grid overlap by at most 0.32 (except the two wordings of the same
  view+inplace error, 0.98), and a message with a few words changed still scores
  above 0.8, so 0.6 separates "the same problem reworded" from "another error".

harness/templates/lookup.js repeats extract/score for the web page; both are
tested on tests/fixtures/lookup/examples.json.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.version import Version

from harness.analysis import answers
from harness.analysis.signatures import normalize
from harness.errors import HarnessError, OptionParser, command
from harness.publish import reproducers
from harness.records.outcomes import RAN
from harness.publish.matrix_file import read_matrix

SIMILAR = 0.6
MIN_PART = 20
SHOWN = 5
_HEAD = re.compile(r"^Traceback \(most recent call last\):?$")
_CHAIN = re.compile(r"^(During handling of the above exception|The above exception was the direct cause)")
_FRAME = re.compile(r'^File "[^"]*", line \d+')
_PYTEST = re.compile(r"^E(\s+|$)")  # pytest prefixes the error's lines with "E   "
_MARKS = re.compile(r"^[\^~\s]+$")  # Python 3.11's carets under the failing expression
_WHERE = re.compile(r"^\S+\.py:\d+: [A-Za-z_][\w.]*$")  # pytest's "path.py:123: RuntimeError" under the error
_TYPED = re.compile(r"^(?:(?:fail|crash|mismatch|import-error|install-error|error):\s*)?"
                    r"(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Warning|Exit|Interrupt))\s*:\s*(.*)$", re.S)
_WORD = re.compile(r"[a-z_][a-z0-9_]+")


def extract(text: str) -> list[dict]:
    """The error messages in a pasted text: one per exception block, each {"type", "message"} normalized."""
    blocks, block, in_frames = [], [], False
    for raw in (text or "").splitlines():
        line = _PYTEST.sub("", raw.rstrip())
        stripped = line.strip()
        if not stripped or _MARKS.match(stripped) or _WHERE.match(stripped):
            continue
        if _HEAD.match(stripped) or _CHAIN.match(stripped):
            blocks.append(block)
            block, in_frames = [], bool(_HEAD.match(stripped))
            continue
        if _FRAME.match(stripped):
            in_frames = True
            continue
        if in_frames and line[:1].isspace():  # the source line under a frame
            continue
        in_frames = False
        block.append(stripped)
    blocks.append(block)
    found = []
    for lines in filter(None, blocks):
        typed = [i for i, line in enumerate(lines) if _TYPED.match(line)]
        joined = " ".join(lines[typed[-1]:] if typed else lines)
        match = _TYPED.match(joined)
        kind, message = (match.group(1), match.group(2)) if match else (None, joined)
        message = normalize(message, limit=None)
        if message:
            found.append({"type": kind, "message": message})
    return found


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def score(pasted: dict, problem: dict) -> tuple[str, float] | None:
    """How one pasted message matches one problem: ("exact"|"part"|"similar", score), or None."""
    same_type = not pasted["type"] or not problem["type"] or pasted["type"].lower() == problem["type"].lower()
    best = None
    for text in problem["texts"]:
        p, t = _compact(pasted["message"]), _compact(text)
        if same_type and p == t:
            return ("exact", 1.0)
        if same_type and ((len(p) >= MIN_PART and p in t) or (len(t) >= MIN_PART and t in p)):
            best = ("part", 1.0)
            continue
        a = _words(f"{pasted['type'] or ''} {pasted['message']}")
        b = _words(f"{problem['type'] or ''} {text}")
        dice = 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0
        if dice >= SIMILAR and (best is None or (best[0] == "similar" and dice > best[1])):
            best = ("similar", round(dice, 2))
    return best


RANK = {"exact": 0, "part": 1, "similar": 2}


def match(text: str, problems: list[dict]) -> list[dict]:
    """The problems a pasted text matches, best first: each problem with "match" and "score" added."""
    pasted = extract(text)
    if not pasted:
        raise HarnessError("nothing to look up: paste an error message (the text was empty)")
    found = []
    for problem in problems:
        scored = [s for s in (score(p, problem) for p in pasted) if s]
        if scored:
            kind, value = min(scored, key=lambda s: (RANK[s[0]], -s[1]))
            found.append({**problem, "match": kind, "score": value})
    return sorted(found, key=lambda f: (RANK[f["match"]], -f["score"], -f["n_cases"]))


def _versions(values) -> list[str]:
    return sorted({v for v in values if v}, key=Version)


def _cells(rows) -> list[str]:
    pairs = sorted({(r["torch"], r["shap"]) for r in rows}, key=lambda p: (Version(p[0]), Version(p[1])))
    return [f"{t}/{s}" for t, s in pairs]


def problems(matrix: dict) -> list[dict]:
    """One entry per failure signature of a matrix.json: its messages, cases, cells, ranges and a reproducer."""
    cases = matrix.get("cases") if isinstance(matrix, dict) else None
    if not isinstance(cases, list) or not cases:
        raise HarnessError("matrix.json has no case rows (expected {\"cases\": [...]}): run nox -s report")
    catalogue = {e["signature"]: e for e in (matrix.get("catalogue") or {}).get("signatures", [])}
    known = {p["signature"]: p for p in matrix.get("known_problems") or []}
    by_signature: dict[str, list[dict]] = {}
    for case in cases:
        if case.get("signature"):
            by_signature.setdefault(case["signature"], []).append(case)
    out = []
    for n, (sig, rows) in enumerate(sorted(by_signature.items(), key=lambda item: -len(item[1])), 1):
        typed = re.match(r"^[\w-]+: (\w+): (.*)$", sig, re.S)
        kind = rows[0].get("error_type") or (typed.group(1) if typed else None)
        texts = {normalize(r.get("error_message") or "", limit=None) for r in rows}
        texts |= {normalize(r.get("shap_check_message") or "", limit=None) for r in rows}
        texts = sorted(t for t in texts if t) or [typed.group(2) if typed else sig.split(": ", 1)[-1]]
        keys = {(r["model"], r["explainer"], r["device"]) for r in rows}
        seen_in = {(r["torch"], r["shap"]) for r in rows}  # once, not per case: a 308-cell grid has 22k cases
        elsewhere = [c for c in cases if (c["model"], c["explainer"], c["device"]) in keys and c.get("outcome") in RAN
                     and (c["torch"], c["shap"]) not in seen_in]
        entry = catalogue.get(sig) or {}
        reproducer = next((r for r in rows if r.get("reproducer")), None)
        out.append({
            "id": entry.get("id") or f"S{n}", "signature": sig, "outcome": rows[0]["outcome"], "type": kind,
            "texts": texts, "n_cases": len(rows),
            "models": sorted({r["model"] for r in rows}), "explainers": sorted({r["explainer"] for r in rows}),
            "devices": sorted({r["device"] for r in rows}),
            "cells": _cells(rows), "instead": elsewhere,
            "summary": entry.get("summary") or "", "ranges": entry.get("ranges") or {},
            "reproducer": reproducer and reproducer.get("reproducer"),
            "reproducer_command": reproducer and reproducers.command_of(matrix, reproducer),
            # verified remedies and advice that does not work, as the known-problems table has them
            "remedies": (known.get(sig) or {}).get("remedies") or [],
            "not_remedies": (known.get(sig) or {}).get("not_remedies") or [],
        })
    ids = {p["signature"]: p["id"] for p in out}
    for problem in out:
        problem["instead"] = instead(problem["instead"], ids)
        problem["pass_cells"] = [cell for group in problem["instead"] if group["all_pass"] for cell in group["cells"]]
    return out


def instead(rows: list[dict], ids: dict) -> list[dict]:
    """What the same cases give in the cells where the signature does not appear, grouped by what each case gives.

    One line per distinct outcome of the cases, so "3 pass, 3 become shap's check" is never shown as "passes".
    """
    per_cell: dict[tuple, dict] = {}
    for r in rows:
        label = "pass" if r["outcome"] == "pass" else f"{ids.get(r.get('signature'), '')} {r.get('signature') or r['outcome']}".strip()
        per_cell.setdefault((r["torch"], r["shap"]), {}).setdefault(label, set()).add(r["model"])
    groups: dict[tuple, list] = {}
    for cell, labels in per_cell.items():
        key = tuple(sorted(((label, tuple(sorted(models))) for label, models in labels.items()),
                           key=lambda item: (item[0] != "pass", item[0])))
        groups.setdefault(key, []).append(cell)
    out = [{"outcomes": [{"label": label, "models": list(models)} for label, models in key],
            "all_pass": [label for label, _ in key] == ["pass"],
            "cells": _cells({"torch": t, "shap": s} for t, s in cells)} for key, cells in groups.items()]
    return sorted(out, key=lambda g: (not g["all_pass"], -len(g["cells"])))


def coverage(matrix: dict) -> dict:
    """What these results cover, for "not observed": versions, cells, cases and the grid lines of the run."""
    cases = [c for c in matrix["cases"] if c.get("outcome") not in ("skip", "n/a")]
    return {"torch": _versions(c.get("torch") for c in cases), "shap": _versions(c.get("shap") for c in cases),
            "python": _versions(c.get("python") for c in cases), "cells": len({c.get("cell") for c in cases}),
            "cases": len(cases), "models": len({c.get("model") for c in cases}),
            "grids": [line.lstrip("- ") for line in matrix.get("runs") or [] if line.startswith("- grid")]}


WORDS = {  # the terminal's own words; the card's sentences come from harness.analysis.answers
    "en": {"not_observed": "not observed in these results: {cases} cases that ran ({models} models) in {cells} cells, "
                           "torch {torch} x shap {shap}, Python {python}",
           "found": "{n} matching problem{s} in {where}", "more": "... and {n} weaker matches",
           "exact": "same message", "part": "part of the message", "similar": "similar message (word overlap {score})",
           "match": "match", "appears": "appears in (torch/shap)", "pass": "all the same cases pass in",
           "instead": "instead in {cells}", "none": "none", "evidence": "evidence (models as in models/):", ":": ": "},
    "zh": {"not_observed": "这些结果中没有出现：在 {cells} 个环境组合中运行了 {cases} 个用例（{models} 个模型），"
                           "torch {torch} x shap {shap}，Python {python}",
           "found": "在 {where} 中找到 {n} 个匹配的问题", "more": "……以及另外 {n} 个较弱的匹配",
           "exact": "相同的消息", "part": "消息的一部分", "similar": "相似的消息（词语重合度 {score}）",
           "match": "匹配", "appears": "出现于 (torch/shap)", "pass": "这些用例全部通过于",
           "instead": "在 {cells} 中改为", "none": "无", "evidence": "证据（模型名与 models/ 中一致）：", ":": "："},
}


def not_observed(cover: dict, lang: str = "en") -> str:
    """The plain answer when nothing matches, with what was looked at."""
    grids = "".join(f"\n  {g}" for g in cover["grids"])
    return WORDS[lang]["not_observed"].format(
        cases=cover["cases"], models=cover["models"], cells=cover["cells"], torch=", ".join(cover["torch"]),
        shap=", ".join(cover["shap"]), python=", ".join(cover["python"])) + grids


def _some(items: list[str], n: int = 8, lang: str = "en") -> str:
    if not items:
        return WORDS[lang]["none"]
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def describe(found: dict, card: dict | None, lang: str = "en") -> list[str]:
    """A matched problem for the terminal: its answer card (the page's and COMPATIBILITY.md's sentences), then
    where the same cases stand in the other cells."""
    words = WORDS[lang]
    how = words[found["match"]].format(score=f"{found['score']:.2f}")
    colon = words[":"]
    lines = [f"{found['id']}  {found['signature']}", f"  {words['match']}{colon}{how}"]
    lines += [f"  {line}" for line in (answers.card_lines(card, lang) if card else [])]
    lines += [f"  {words['evidence']}", f"    {words['appears']}{colon}{_some(found['cells'], 12, lang)}",
              f"    {words['pass']}{colon}{_some(found['pass_cells'], 12, lang)}"]
    for group in found["instead"]:
        if not group["all_pass"]:
            gives = "; ".join(f"{o['label'][:90]}: {_some(o['models'], 4)}" for o in group["outcomes"])
            lines.append(f"    {words['instead'].format(cells=_some(group['cells'], 6))}{colon}{gives}")
    return lines


def lookup(text: str, results: Path, lang: str = "en") -> str:
    """The whole answer for one pasted text, in English or Simplified Chinese (``lang``)."""
    matrix = read_matrix(Path(results))
    table = problems(matrix)
    found = match(text, table)
    if not found:
        return not_observed(coverage(matrix), lang)
    cards = {card["signature"]["text"]: card for card in answers.build(matrix, Path(results))["problems"]}
    words = WORDS[lang]
    head = words["found"].format(n=len(found), s="s" if len(found) != 1 else "", where=Path(results) / "matrix.json")
    shown = [line for f in found[:SHOWN] for line in [""] + describe(f, cards.get(f["signature"]), lang)]
    more = ["", words["more"].format(n=len(found) - SHOWN)] if len(found) > SHOWN else []
    return "\n".join([head] + shown + more)


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.publish.lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="*", help="the pasted error (quote it; '-' or nothing reads standard input)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results/)")
    parser.add_argument("--lang", choices=answers.LANGS, default="en",
                        help="language of the answer: en (English) or zh (Simplified Chinese)")
    args = parser.parse_or_help(sys.argv[1:] if argv is None else argv)
    if args.text and args.text != ["-"]:
        text = " ".join(args.text)
    elif sys.stdin.isatty():
        raise HarnessError("nothing to look up: paste an error message as the argument (quoted) or on stdin")
    else:
        text = sys.stdin.read()
    print(lookup(text, args.results, args.lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
