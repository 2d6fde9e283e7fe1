"""What a case's outcome can be, which outcomes count as "ran", and a cell's verdict: defined once for the host.

Every host-side view (COMPATIBILITY.md, the tidy files, the web page and the JSON it
embeds, the catalogue, lookup) takes these names and the one ``verdict`` from here, so
that they cannot disagree about what "ran" or "passing" means.

The cell side (``harness/cell/supervisor.py``, ``worker.py``) keeps its own copies of
DEVICES, EXPLAINERS and the outcome strings: it runs inside each cell's virtualenv with
the standard library, numpy, torch and shap only, and cannot import the host package.
``tests/test_layers.py`` checks that the copies agree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .model import Outcome

EXPLAINERS = ("deep", "gradient")
DEVICES = ("cpu", "cuda")

# The names as plain strings (the values in the JSON records), from the one definition: model.Outcome.
PASS, MISMATCH, FAIL, CRASH, TIMEOUT = (o.value for o in (Outcome.PASS, Outcome.MISMATCH, Outcome.FAIL,
                                                          Outcome.CRASH, Outcome.TIMEOUT))
SKIP, INSTALL_ERROR, IMPORT_ERROR, NA = (o.value for o in (Outcome.SKIP, Outcome.INSTALL_ERROR,
                                                           Outcome.IMPORT_ERROR, Outcome.NA))
# The explainer was called: the case has numbers, an exception, a crash or a hang to show.
CALLED = (PASS, MISMATCH, FAIL, CRASH, TIMEOUT)
# Outcomes that say something about the case itself; n/a, skip and install errors say only that it did not run there.
RAN = CALLED + (IMPORT_ERROR,)
OUTCOMES = RAN + (INSTALL_ERROR, NA, SKIP)  # every outcome, in the order views list them


@dataclass(frozen=True)
class Verdict:
    """One cell's verdict on one device (or on the cases a filter keeps).

    ``kind``: "empty" (no cases), "n/a", "install-error", "not-run" (every case skipped), "import-error" (every
    case that was not skipped is an import error), or by pass count "pass" (all), "fail" (none), "partial".
    """
    kind: str
    passed: int = 0
    ran: int = 0

    @property
    def label(self) -> str:
        return f"{self.passed}/{self.ran}"


def verdict(cell_status: str | None, outcomes) -> Verdict:
    """The verdict of a cell from its status and its cases' outcomes (the one rule every view uses)."""
    outcomes = list(outcomes)
    if not outcomes:
        return Verdict("empty")
    if cell_status in (NA, INSTALL_ERROR):
        return Verdict(cell_status)
    ran = [o for o in outcomes if o != SKIP]
    if not ran:
        return Verdict("not-run")
    passed = sum(o == PASS for o in ran)
    if all(o == IMPORT_ERROR for o in ran):
        return Verdict(IMPORT_ERROR, passed, len(ran))
    return Verdict(PASS if passed == len(ran) else FAIL if passed == 0 else "partial", passed, len(ran))


def tally(cases, key=lambda case: case.outcome.value) -> str:
    """'28 pass, 4 fail': how many cases have each outcome (or each ``key``), by name."""
    return ", ".join(f"{n} {name}" for name, n in sorted(Counter(key(case) for case in cases).items()))
