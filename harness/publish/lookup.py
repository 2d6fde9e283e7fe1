"""Paste your error: find a pasted error message among the failure signatures of a results folder.

    python -m harness.publish.lookup "RuntimeError: Module backward hook ..." [--results results]
    nox -s lookup -- "PASTED ERROR"

A reader has a paste, not a signature: a traceback from a terminal, a notebook or
Colab, quoted in Markdown, cut short, or quoted inside a sentence in any language
(docs/lookup.md lists the forms).  extract() cuts it into messages the way the
harness records errors (the last ``Type: message`` of each block, plus quoted
spans) and normalizes them like harness.analysis.signatures.normalize (numbers,
addresses and paths stripped); read() reads the traceback itself (frames through
shap or not, the explainer, the autograd node named).  Then, per recorded problem:

- exact: the same message after normalization (whitespace ignored, so line
  wrapping does not matter), and the same exception type when both name one;
- part: a piece of at least 20 characters of a recorded message, a recorded
  message inside the paste, or every piece of an elided paste ("(...)", "...");
- similar: Dice overlap of the word sets >= SIMILAR, or a short paste whose
  content words are >= COVERED inside one recorded message.  Distinct signatures
  of the default grid overlap by at most 0.32 (except the two wordings of the
  same view+inplace error, 0.98, told apart by their autograd node), and a
  message with a few words changed still scores above 0.8.

answer() sets aside, never a plain match: a traceback that never passes through
shap, and a generic short message with nothing that says shap.  A symptom told
in words answers with the problems that show it, loud or silent.

harness/publish/templates/lookup.js repeats all of it for the web page; both run
tests/fixtures/lookup/ (examples.json and the real pastes of pastes.json).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.version import Version

from ..analysis import answers
from ..analysis.signatures import normalize
from ..errors import HarnessError, OptionParser, command
from ..records.outcomes import RAN
from .matrix_file import read_matrix
from ..records.row import Row, matrix_of, rows

SIMILAR = 0.6  # Dice overlap of word sets: "the same message reworded"
COVERED = 0.8  # share of a paste's content words that one recorded message holds: a short paste, cut or reworded
MIN_WORDS = 4  # content words a paste needs before COVERED counts
MIN_PART = 20  # characters a piece of a message needs to count as a piece
GENERIC = 8  # a recorded message with fewer distinct words is generic: it needs shap in the paste to match
SHOWN = 5
RANK = {"exact": 0, "part": 1, "similar": 2, "symptom": 3}

# Everything below is repeated in templates/lookup.js; regular expressions are ASCII-only on purpose (JS's \w).
_FULL_WIDTH = {"\uff1a": ": ", "\uff08": "(", "\uff09": ")", "\uff0c": ", ", "\u3002": ". ", "\uff01": "! ",
               "\uff1f": "? ", "\uff1b": "; ", "\u201c": '"', "\u201d": '"', "\u300c": '"', "\u300d": '"',
               "\u300e": '"', "\u300f": '"', "\u2018": "'", "\u2019": "'", "\u3000": " ", "\u00a0": " "}
_WIDE = re.compile("[" + "".join(_FULL_WIDTH) + "]")
_LINK = re.compile(r"\[([^\]\n]*)\]\((?:https?://|#)[^)\s]*\)")  # Colab: [path](https://localhost:8080/#)
_ITALIC = re.compile(r"(^|[^A-Za-z0-9_])_([^_\s][^_\n]*?[^_\s])_(?![A-Za-z0-9_])", re.M)
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")  # Markdown quote
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_HEAD = re.compile(r"^Traceback \(most recent call last\):?$")
_IPY_HEAD = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)*([A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Warning|Exit|Interrupt))"
                       r"\s+Traceback \(most recent call last\)")
_CHAIN = re.compile(r"^(During handling of the above exception|The above exception was the direct cause)")
_RULE = re.compile(r"^-{5,}$")
_FRAMES = [re.compile(r'^File "([^"]*)", line \d+(?:, in (\S+))?'),  # Python
           re.compile(r"^File (\S+?):\d+(?:, in ([^\s(]+))?"),  # IPython 8
           re.compile(r"^(\S+\.py|<ipython-input-[^>]*>) in ([^\s(]+)"),  # IPython 7 and Colab
           re.compile(r"^((?:Cell|Input) In ?\[[^\]]*\]|\S+\.ipynb Cell \d+)")]  # a notebook cell
_FOLDED = re.compile(r"^\d+ frames?$")  # Colab folds library frames
_SOURCE = re.compile(r"^(?:-*>\s*)?\d+(?:\s|$)|^-+>|^\(\.\.\.\)$")  # IPython's numbered source lines
_PYTEST = re.compile(r"^E(\s+|$)")  # pytest prefixes the error's lines with "E   "
_MARKS = re.compile(r"^[\^~\s]+$")  # Python 3.11's carets under the failing expression
_WHERE = re.compile(r"^\S+\.py:\d+: [A-Za-z_][A-Za-z0-9_.]*$")  # pytest's "path.py:123: RuntimeError"
_TYPED = re.compile(r"(?<![A-Za-z0-9_.])(?:[A-Za-z_][A-Za-z0-9_]*\.)*"
                    r"([A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Warning|Exit|Interrupt))\s*:\s*")
_PREFIX = re.compile(r"^(?:bug|error|issue|problem|question|fail|crash|\u62a5\u9519|\u95ee\u9898|\u95ee\u9898\u63cf\u8ff0"
                     r"|\u9519\u8bef|\u9519\u8bef\u4fe1\u606f)\s*:\s*", re.I)  # BUG:, 报错:, 问题描述:, 错误信息:
_QUOTED = [re.compile(r'"([^"\n]{20,}?)"'), re.compile(r"`([^`\n]{20,}?)`"),
           re.compile(r"(?<![A-Za-z0-9])'([^'\n]{20,}?)'(?![A-Za-z0-9])")]
_ELIDED = re.compile(r"\(\.\.\.\)|\[\.\.\.\]|\.{3,}|\u2026")
_NODE = re.compile(r"Output N of ([A-Za-z_][A-Za-z0-9_]*) is a view")
_SHAP_PATH = re.compile(r"[/\\]shap[/\\]")
_SHAP_CALL = re.compile(r"\bshap_values\(|\bshap\.|(?:Deep|Gradient)Explainer\(")
_SHAP_WORD = re.compile(r"(?<![a-z])(?:shap|deep ?explainer|gradient ?explainer)(?![a-z])")
_WORD = re.compile(r"[a-z_][a-z0-9_]+")
_COMMON = {"the", "of", "is", "to", "in", "and", "or", "not", "be", "for", "on", "at", "by", "this", "that", "with",
           "your", "it", "as", "an", "if", "was", "are", "from", "you", "can", "has", "have", "its"}
SYMPTOMS = {  # a symptom told in words; _SHOWS: the parts of the recorded signatures that show it
    "attributions do not add up to the output": re.compile(
        r"(?:do(?:es)?n'?t|do(?:es)? not|not|never)\s+(?:sum|add)(?:\s+up)?|not equal to (?:the )?(?:predicted|"
        r"prediction|model'?s?|output)|(?:sum|total) of (?:the )?(?:shap|attribution)[a-z ]{0,20}(?:is|are) not"
        r"|(?<![a-z_])additivity"),
    "NaN attributions": re.compile(r"(?<![a-z])nans?(?![a-z])|not a number|non-finite"),
    "all-zero attributions": re.compile(r"all (?:the )?(?:zeros?|0s?)(?![a-z0-9])|(?:are|is|were|all) zeros?(?![a-z])"
                                        r"|\u5168(?:\u4e3a|\u662f)?(?:0|\u96f6)"),
}
_SHOWS = {"attributions do not add up to the output": ("mismatch: shap's own additivity check",
                                                       "mismatch: attributions do not add up"),
          "NaN attributions": ("non-finite",),
          "all-zero attributions": ("mismatch: shap's own additivity check", "mismatch: attributions do not add up",
                                    "mismatch: attributions add up but differ")}


def _clean(text: str) -> str:
    """Undo what chat and Markdown do to a message: full-width punctuation, Colab links, italics."""
    text = _WIDE.sub(lambda m: _FULL_WIDTH[m.group(0)], text or "")
    return _ITALIC.sub(r"\1\2", _LINK.sub(r"\1", text))


def _frame(line: str) -> list | None:
    """[path, function] of a traceback frame line in any of the forms people paste, or None."""
    for pattern in _FRAMES:
        found = pattern.match(line)
        if found:
            return [found.group(1), found.group(2) if found.lastindex and found.lastindex > 1 else None]
    return None


def _walk(text: str) -> tuple[list, list, list]:
    """The paste cut into message blocks (lines), traceback frames ([path, function]) and frames' source lines."""
    blocks, frames, sources = [], [], []
    block, in_frames, header = [], False, None

    def close():
        nonlocal block, header
        blocks.append({"lines": block, "header": header})
        block, header = [], None

    for raw in _clean(text).splitlines():
        line = _PYTEST.sub("", _QUOTE_MARK.sub("", raw.rstrip()).replace("**", ""))
        stripped = line.strip()
        ipython = _IPY_HEAD.match(stripped)
        if _HEAD.match(stripped) or _CHAIN.match(stripped) or ipython:
            close()
            in_frames, header = not _CHAIN.match(stripped), ipython.group(1) if ipython else None
            continue
        if _FENCE.match(stripped):
            close()
            in_frames = False
            continue
        if not stripped:
            if any(_TYPED.search(b) for b in block):
                close()
            continue
        if _MARKS.match(stripped) or _WHERE.match(stripped) or _RULE.match(stripped):
            continue
        frame = _frame(stripped)
        if frame or _FOLDED.match(stripped):
            frames += [frame] if frame else []
            in_frames = True
            continue
        if in_frames and (line[:1].isspace() or _SOURCE.match(stripped)):
            sources.append(stripped)
            continue
        in_frames = False
        block.append(stripped)
    close()
    return blocks, frames, sources


def _message(kind, message: str) -> dict | None:
    message = normalize(_PREFIX.sub("", message.strip()) if not kind else message, limit=None)
    return {"type": kind, "message": message} if message else None


def extract(text: str) -> list[dict]:
    """The error messages in a pasted text: one per exception block, then each long quoted span, {"type", "message"}."""
    found = []
    for block in _walk(text)[0]:
        lines = block["lines"]
        typed = [(i, m) for i, m in ((i, _TYPED.search(line)) for i, line in enumerate(lines)) if m]
        if typed:
            i, hit = typed[-1]
            entry = _message(hit.group(1), " ".join([lines[i][hit.end():]] + lines[i + 1:]))
        elif lines:
            entry = _message(block["header"], " ".join(lines))
        else:
            entry = None
        quoted = [q.group(1) for line in lines for pattern in _QUOTED for q in pattern.finditer(line)]
        for item in [entry, _after_label(entry)] + [_quoted(q) for q in quoted]:
            if item and item not in found:
                found.append(item)
    return found


def _after_label(entry: dict | None) -> dict | None:
    """An untyped message after a label of prose ("shap_values() throw runtime error: Module backward hook ...")."""
    if not entry or entry["type"] or ": " not in entry["message"]:
        return None
    tail = entry["message"].split(": ", 1)[1]
    return {"type": None, "message": tail} if len(tail) >= MIN_PART else None


def _quoted(span: str) -> dict | None:
    hit = _TYPED.search(span)
    return _message(hit.group(1), span[hit.end():]) if hit else _message(None, span)


def read(text: str) -> dict:
    """What a paste tells besides its messages: its frames, whether they pass through shap (and which explainer),
    the autograd node its message names, whether it mentions shap, and the symptoms it tells in words."""
    _, frames, sources = _walk(text)
    paths = [path for path, _ in frames]
    through = any(_SHAP_PATH.search(p) for p in paths) or any(_SHAP_CALL.search(s) for s in sources)
    where = " ".join(paths + sources).lower()
    explainer = ("deep" if re.search(r"_deep|deep_pytorch|[/\\]deep[/\\]|deepexplainer", where) else
                 "gradient" if re.search(r"_gradient|[/\\]gradient\.py|gradientexplainer", where) else None)
    nodes = [n for e in extract(text) for n in _NODE.findall(e["message"])]
    lower = _clean(text).lower()
    return {"frames": len(frames), "through_shap": through if frames else None, "explainer": explainer,
            "node": nodes[0] if nodes else None, "mentions_shap": bool(_SHAP_WORD.search(lower)),
            "symptoms": [name for name, pattern in SYMPTOMS.items() if pattern.search(lower)]}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _node(texts: list[str]) -> str | None:
    nodes = [n for t in texts for n in _NODE.findall(t)]
    return nodes[0] if nodes else None


def score(pasted: dict, problem: dict) -> tuple[str, float] | None:
    """How one pasted message matches one problem: ("exact"|"part"|"similar", score), or None.

    A message that names another autograd node than the problem's ("Output 0 of SliceBackward0 is a view") is
    another error, however close its words."""
    same_type = not pasted["type"] or not problem["type"] or pasted["type"].lower() == problem["type"].lower()
    mine, theirs = _node([pasted["message"]]), _node(problem["texts"])
    if mine and theirs and mine != theirs:
        return None
    pieces = [_compact(p) for p in _ELIDED.split(pasted["message"]) if len(_compact(p)) >= MIN_PART]
    best = None
    for text in problem["texts"]:
        p, t = _compact(pasted["message"]), _compact(text)
        if same_type and p == t:
            return ("exact", 1.0)
        if same_type and ((len(p) >= MIN_PART and p in t) or (len(t) >= MIN_PART and t in p)
                          or (pieces and all(piece in t for piece in pieces))):
            best = ("part", 1.0)
            continue
        a = _words(f"{pasted['type'] or ''} {pasted['message']}")
        b = _words(f"{problem['type'] or ''} {text}")
        dice = 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0
        content = _words(pasted["message"]) - _COMMON
        covered = len(content & b) / len(content) if same_type and len(content) >= MIN_WORDS else 0.0
        value = max(dice if dice >= SIMILAR else 0.0, covered if covered >= COVERED else 0.0)
        if value and (best is None or (best[0] == "similar" and value > best[1])):
            best = ("similar", int(value * 100 + 0.5) / 100)  # rounded as lookup.js's Math.round
    return best


def _torch(problem: dict) -> str:
    return ", ".join(_versions(cell.split("/")[0] for cell in problem["cells"]))


def _close(problem: dict, problems: list[dict]) -> list[dict]:
    """Recorded problems one autograd node away from this one, and what tells them apart."""
    node = _node(problem["texts"])
    out = []
    for other in problems:
        theirs = _node(other["texts"])
        if other is problem or not node or not theirs or theirs == node:
            continue
        same = [_compact(t.replace(theirs, node)) for t in other["texts"]]
        if any(_compact(t) in same for t in problem["texts"]):
            out.append({"id": other["id"], "signature": other["signature"],
                        "differs": f"{problem['id']} names {node} (torch {_torch(problem)}); {other['id']} names "
                                   f"{theirs} (torch {_torch(other)}): the node in your message tells which"})
    return out


def answer(text: str, problems: list[dict]) -> dict:
    """The whole reading of a paste: the problems it matches (best first), the ones set aside and why, and what
    the paste itself tells (read()).

    Set aside, never a plain match: a traceback whose frames never pass through shap ("not observed in shap", with
    what the same message means when shap raises it), and a generic short message with nothing in the paste that
    says shap (S2's "tuple index out of range" comes from every library)."""
    pasted = extract(text)
    if not pasted:
        raise HarnessError("nothing to look up: paste an error message (the text was empty)")
    seen = read(text)
    found, aside = [], []
    for problem in problems:
        scored = [s for s in (score(p, problem) for p in pasted) if s]
        if not scored:
            continue
        kind, value = min(scored, key=lambda s: (RANK[s[0]], -s[1]))
        hit = {**problem, "match": kind, "score": value, "close": _close(problem, problems)}
        generic = len(min((_words(t) for t in problem["texts"]), key=len)) < GENERIC
        if generic and kind == "similar":  # a generic message reworded is another message ("list index ...")
            continue
        if seen["through_shap"] is False:
            aside.append(_aside(hit, "outside"))
        elif generic and not seen["through_shap"] and not seen["mentions_shap"]:
            aside.append(_aside(hit, "generic"))
        else:
            found.append(hit)
    if not found and not aside and not any(p["type"] for p in pasted):
        for symptom in seen["symptoms"]:
            for problem in problems:
                shows = any(part in problem["signature"] for part in _SHOWS[symptom])
                if shows and problem["id"] not in {f["id"] for f in found}:
                    found.append({**problem, "match": "symptom", "score": 1.0, "close": [], "symptom": symptom})
    found.sort(key=lambda f: (RANK[f["match"]], -f["score"], -f["n_cases"]))
    return {"found": found, "set_aside": aside, "read": seen}


def heard(problem: dict) -> str:
    """Whether shap itself reports a problem: an exception or its own additivity check (loud), or nothing (silent)."""
    silent = problem["outcome"] == "mismatch" and "shap's own" not in problem["signature"]
    return "silent (shap does not report it)" if silent else "loud (shap reports it)"


def _aside(hit: dict, reason: str) -> dict:
    where = f"{'/'.join(hit['explainers'])} explainer, torch {_torch(hit)}"
    note = ("not observed in shap: this traceback never passes through shap. When shap raises the same message "
            if reason == "outside" else
            "a generic message: nothing in the paste says it came from shap. When shap raises it ")
    return {"id": hit["id"], "signature": hit["signature"], "reason": reason,
            "note": f"{note}({where}) it is {hit['id']}: {hit['signature']}"}


def match(text: str, problems: list[dict]) -> list[dict]:
    """The problems a pasted text matches, best first: each problem with "match", "score" and "close" added."""
    return answer(text, problems)["found"]


def _versions(values) -> list[str]:
    return sorted({v for v in values if v}, key=Version)


def _cells(pairs) -> list[str]:
    """(torch, shap) pairs as sorted "torch/shap" labels."""
    ordered = sorted(set(pairs), key=lambda p: (Version(p[0]), Version(p[1])))
    return [f"{t}/{s}" for t, s in ordered]


def problems(matrix: dict) -> list[dict]:
    """One entry per failure signature of a matrix.json: its messages, cases, cells, ranges and a reproducer."""
    if not isinstance(matrix, dict) or not matrix.get("cases"):
        raise HarnessError("matrix.json has no case rows (expected {\"cases\": [...]}): run nox -s report")
    typed = matrix_of(matrix)
    by_signature: dict[str, list[Row]] = {}
    for row in typed.rows:
        if row.signature:
            by_signature.setdefault(row.signature, []).append(row)
    out = []
    for n, (sig, rows) in enumerate(sorted(by_signature.items(), key=lambda item: -len(item[1])), 1):
        parts = re.match(r"^[\w-]+: (\w+): (.*)$", sig, re.S)
        kind = rows[0].error_type or (parts.group(1) if parts else None)
        texts = {normalize(text, limit=None) for r in rows for text in (r.error_message, r.shap_check_message) if text}
        texts = sorted(t for t in texts if t) or [parts.group(2) if parts else sig.split(": ", 1)[-1]]
        keys = {r.case for r in rows}
        where = {(r.torch, r.shap) for r in rows}
        elsewhere = [c for c in typed.rows if c.case in keys and c.outcome in RAN and (c.torch, c.shap) not in where]
        entry = typed.signatures.get(sig, {})
        known = typed.problems.get(sig, {})
        reproducer = next((r for r in rows if r.reproducer), None)
        out.append({
            "id": entry.get("id") or f"S{n}", "signature": sig, "outcome": rows[0].outcome, "type": kind,
            "texts": texts, "n_cases": len(rows),
            "models": sorted({r.model for r in rows}), "explainers": sorted({r.explainer for r in rows}),
            "devices": sorted({r.device for r in rows}),
            "cells": _cells(where), "instead": elsewhere,
            "summary": entry.get("summary", ""), "ranges": entry.get("ranges", {}),
            "reproducer": reproducer and reproducer.reproducer,
            "reproducer_command": reproducer and typed.command(reproducer),
            # verified remedies and advice that does not work, as the known-problems table has them
            "remedies": known.get("remedies", []), "not_remedies": known.get("not_remedies", []),
        })
    ids = {p["signature"]: p["id"] for p in out}
    for problem in out:
        problem["instead"] = instead(problem["instead"], ids)
        problem["pass_cells"] = [cell for group in problem["instead"] if group["all_pass"] for cell in group["cells"]]
    return out


def instead(rows: list[Row], ids: dict) -> list[dict]:
    """What the same cases give in the cells where the signature does not appear, grouped by what each case gives.

    One line per distinct outcome of the cases, so "3 pass, 3 become shap's check" is never shown as "passes".
    """
    per_cell: dict[tuple, dict] = {}
    for r in rows:
        label = "pass" if r.outcome == "pass" else f"{ids.get(r.signature, '')} {r.signature or r.outcome}".strip()
        per_cell.setdefault((r.torch, r.shap), {}).setdefault(label, set()).add(r.model)
    groups: dict[tuple, list] = {}
    for cell, labels in per_cell.items():
        key = tuple(sorted(((label, tuple(sorted(models))) for label, models in labels.items()),
                           key=lambda item: (item[0] != "pass", item[0])))
        groups.setdefault(key, []).append(cell)
    out = [{"outcomes": [{"label": label, "models": list(models)} for label, models in key],
            "all_pass": [label for label, _ in key] == ["pass"],
            "cells": _cells(cells)} for key, cells in groups.items()]
    return sorted(out, key=lambda g: (not g["all_pass"], -len(g["cells"])))


def coverage(matrix: dict) -> dict:
    """What these results cover, for "not observed": versions, cells, cases and the grid lines of the run."""
    cases = [c for c in rows(matrix) if c.outcome not in ("skip", "n/a")]
    return {"torch": _versions(c.torch for c in cases), "shap": _versions(c.shap for c in cases),
            "python": _versions(c.python for c in cases), "cells": len({c.cell for c in cases}),
            "cases": len(cases), "models": len({c.model for c in cases}),
            "grids": [line.lstrip("- ") for line in matrix.get("runs", []) if line.startswith("- grid")]}


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
    how = (f"{found.get('symptom')}: {heard(found)}" if found["match"] == "symptom"
           else words[found["match"]].format(score=f"{found['score']:.2f}"))
    colon = words[":"]
    lines = [f"{found['id']}  {found['signature']}", f"  {words['match']}{colon}{how}"]
    lines += [f"  close to {c['id']}: {c['differs']}" for c in found.get("close") or []]
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
    said = answer(text, table)
    found = said["found"]
    if not found:
        return "\n".join([not_observed(coverage(matrix), lang)] + [f"  {a['note']}" for a in said["set_aside"]])
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
