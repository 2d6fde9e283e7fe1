"""Failure signatures: one normalized line per distinct way a case went wrong.

Numbers, addresses and paths vary between runs and versions; stripping them
lets the same error group together across cells.
"""
from __future__ import annotations

import re

from ..records.model import CaseRecord, case_record

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_PATH = re.compile(r"(?:/[\w.\-+]+){2,}")
_SPACE = re.compile(r"\s+")
MAX_LENGTH = 200


def normalize(message: str, limit: int | None = MAX_LENGTH) -> str:
    """Strip what differs between runs: addresses, numbers, file paths, extra spaces; cut at ``limit``."""
    text = _ADDRESS.sub("<addr>", message or "")
    text = _PATH.sub("<path>", text)
    text = _NUMBER.sub("N", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:limit]


def signature(case: dict | CaseRecord) -> str | None:
    """The signature of a non-passing case (a raw case or a remedy's result), or None for pass, skip and n/a."""
    case = case_record(case)
    outcome, error = case.outcome, case.error
    if outcome in ("fail", "import-error", "install-error"):
        return f"{outcome.value}: {error.type or 'Error'}: {normalize(error.message)}"
    if outcome == "mismatch":
        if case.shap_check:
            return f"mismatch: shap's own additivity check fired ({case.explainer})"
        if case.additivity.ok:
            return f"mismatch: attributions add up but differ from the closed form ({case.explainer})"
        return (f"mismatch: attributions do not add up ({case.additivity.metric or 'error'}, {case.explainer}; "
                "shap did not notice)")
    if outcome == "crash":
        return f"crash: {normalize(case.crash.exit or 'worker died')}"
    if outcome == "timeout":
        return "timeout: no result within the case timeout"
    return None
