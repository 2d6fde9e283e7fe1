"""The tidy row of matrix.csv / matrix.json: one typed record per case, and the one source of its data dictionary.

``Row`` names every column once, with its type and its description; matrix.schema.json
and datapackage.json are generated from it (``case_schema``, ``table_schema``), so the
files and their dictionaries cannot drift (tests/test_schema.py compares the committed
schema with the generated one). Readers of matrix.json take ``rows(matrix)`` and read
attributes: ``row.error_message``, never ``row.get("error_message") or ""``.
"""
from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Optional, Union

from packaging.version import InvalidVersion, Version

from ..errors import HarnessError
from .model import Outcome

# The code remedies (harness.cell.remedies.REGISTRY, which this layer cannot import: tests/test_schema.py checks
# that the two agree): name -> what it changes, for the column's description.
REMEDIES = {
    "gradient_explainer": "GradientExplainer instead of DeepExplainer",
    "out_of_place": "activations made out-of-place",
    "module_per_call": "one module object per call",
    "out_of_place_per_call": "both out-of-place activations and one module object per call",
    "cudnn_off": "torch.backends.cudnn.enabled = False",
}
# Columns with one value per explainer: kept once in matrix.json ("criteria"), not on every row.
ONCE_PER_EXPLAINER = ("additivity_criterion",)


def column(description: str, default=None, **json_schema):
    """A Row field: its description and any JSON Schema keywords beyond the type (pattern, enum, format)."""
    return field(default=default, metadata={"description": description, "json": json_schema})


def _remedy(name: str) -> str:
    return (f"Code remedy '{name}' ({REMEDIES[name]}), tried in the same cell on a case that failed, mismatched or "
            "crashed: 'pass', 'n/a' (nothing to change for this model) or the failure signature it gave; null when "
            "not tried.")


@dataclass(frozen=True)
class Row:
    """One case (cell x model x explainer x device) as the published files hold it."""
    cell: str = column("Cell id, torch_X-shap_Y (dots as underscores); one virtualenv per cell.", "")
    torch: str = column("torch release the cell asked for (a version string: keep as text, 2.10 is not 2.1).", "")
    shap: str = column("shap release the cell asked for (a version string).", "")
    python: str = column("Python minor version the cell chose, e.g. \"3.10\" (a string: read as a number it becomes "
                         "3.1); empty when no Python has wheels of both releases.", "", pattern=r"^(3\.[0-9]+)?$")
    cell_status: str = column("Status of the whole cell: ran, n/a (no Python has wheels of both), install-error or "
                              "import-error.", "")
    constraints: Optional[str] = column("Extra requirements the cell ran under, e.g. \"numpy<2\" (grid.toml "
                                        "constraints); null when none.")
    row: str = column("Heatmap row: the torch release, or a supplied environment's own label.", "")
    provenance: str = column("Who built the environment: \"installed by the harness\" or a supplied environment.", "")
    model: str = column("Reference model (models/), e.g. mlp, cnn2d, lstm.", "")
    explainer: str = column("deep (shap.DeepExplainer) or gradient (shap.GradientExplainer).", "")
    device: str = column("Device the case ran on: cpu or cuda.", "", minLength=1)
    outcome: str = column("Verdict of the case: pass, mismatch (numbers wrong), fail (raised), crash, timeout, skip "
                          "(not run here), install-error, import-error, n/a.", "", enum=[o.value for o in Outcome])
    signature: Optional[str] = column("Normalized failure signature (paths, numbers and addresses removed) grouping "
                                      "the same error across cells; null on pass.")
    stage: Optional[str] = column("Stage the case reached or failed in: construct, explain, done.")
    error_type: Optional[str] = column("Exception class raised by the explainer or shap_values(), if any.")
    error_message: Optional[str] = column("Exception message as raised (third-party text).")
    error_frame: Optional[str] = column("Innermost frame (file:line function) where the exception was raised.")
    error_package: Optional[str] = column("Package that frame belongs to: torch, shap, numpy, models or other.")
    reason: Optional[str] = column("Why a case was not run or not judged (e.g. no CUDA on this host).")
    crash: Optional[Union[int, str]] = column("Exit code or signal of a worker process that died; null otherwise.")
    shap_check_fired: bool = column("True when shap's own additivity check raised; the case was then re-run with "
                                    "check_additivity=False and judged by the harness.", False)
    shap_check_message: Optional[str] = column("The message of shap's own additivity assertion when it fired "
                                               "(third-party text), so a pasted error can find it.")
    remedy_gradient_explainer: Optional[str] = column(_remedy("gradient_explainer"))
    remedy_out_of_place: Optional[str] = column(_remedy("out_of_place"))
    remedy_module_per_call: Optional[str] = column(_remedy("module_per_call"))
    remedy_out_of_place_per_call: Optional[str] = column(_remedy("out_of_place_per_call"))
    remedy_cudnn_off: Optional[str] = column(_remedy("cudnn_off"))
    additivity_metric: Optional[str] = column("Metric of the harness's additivity check (e.g. max abs error).")
    additivity_error: Optional[float] = column("Measured additivity error: max|sum(phi) + E[f] - f(x)| (see "
                                               "additivity_criterion).")
    additivity_tolerance: Optional[float] = column("Tolerance the error is compared with.")
    additivity_criterion: Optional[str] = column("The additivity rule in words, with its tolerance (matrix.json keeps "
                                                 "it once per explainer under \"criteria\").")
    analytic_deviation: Optional[float] = column("Largest deviation from the closed-form attributions of an affine "
                                                 "model.")
    analytic_tolerance: Optional[float] = column("Tolerance for analytic_deviation.")
    analytic_ok: Optional[bool] = column("analytic_deviation within tolerance; null where the model has no closed "
                                         "form.")
    exact_deviation: Optional[float] = column("Largest deviation from exact (brute-force) Shapley values, where "
                                              "computed.")
    exact_tolerance: Optional[float] = column("Tolerance for exact_deviation.")
    exact_ok: Optional[bool] = column("exact_deviation within tolerance; null where not computed.")
    side_effects: Optional[str] = column("Changes the explainer left on the model or torch state (hooks, grad mode, "
                                         "...), summarized.")
    device_max_diff: Optional[float] = column("Largest difference between this case's cuda and cpu attributions.")
    device_tolerance: Optional[float] = column("Tolerance for device_max_diff.")
    device_ok: Optional[bool] = column("cuda and cpu attributions agree within device_tolerance; null where not "
                                       "compared.")
    warnings: str = column("Warnings emitted during the case, joined with \" | \"; empty when none.", "")
    construct_cold_s: Optional[float] = column("Seconds to construct the explainer the first time (cold).")
    call_cold_s: Optional[float] = column("Seconds of the first shap_values() call (cold).")
    construct_warm_median_s: Optional[float] = column("Median seconds to construct the explainer over warm repeats.")
    construct_warm_iqr_s: Optional[float] = column("Interquartile range of the warm construct times, seconds.")
    call_warm_median_s: Optional[float] = column("Median seconds of a warm shap_values() call.")
    call_warm_iqr_s: Optional[float] = column("Interquartile range of the warm call times, seconds.")
    warm_n: Optional[int] = column("Number of warm repeats timed (may be written as 3.0).")
    case_seconds: Optional[float] = column("Wall-clock seconds of the whole case.")
    concurrent_cells: Optional[int] = column("Cells running at once while this case was timed (may be written as "
                                             "1.0).")
    resolved_torch: Optional[str] = column("torch version actually installed (a string, e.g. 2.4.1+cpu).")
    resolved_shap: Optional[str] = column("shap version actually installed (a string).")
    resolved_numpy: Optional[str] = column("numpy version actually installed (a string).")
    resolved_python: Optional[str] = column("Full Python version of the cell's interpreter, e.g. \"3.10.14\" (a "
                                            "string).")
    torch_threads: Optional[int] = column("torch.get_num_threads() in the worker (may be written as 1.0).")
    gpu: Optional[str] = column("GPU name where CUDA was available; null otherwise.")
    date: str = column("When the cell ran, ISO 8601 with time zone.", "", format="date-time")
    host: str = column("Host name of the machine that ran the cell.", "")
    cpu_model: str = column("CPU model of that machine.", "")
    harness_commit: str = column("Git commit of the harness that ran the cell.", "")
    reproducer: Optional[str] = column(
        "Path, relative to the published page's folder (results/site/ after nox -s site), of the standalone script "
        "reproducing this case's problem: one per failure signature x model x explainer x device, shared by every "
        "cell it holds for; its command is under \"reproducers\" in matrix.json. nox -s reproduce -- "
        "MODEL/EXPLAINER/DEVICE writes one for any cell.")

    @property
    def key(self) -> tuple:
        """(cell, model, explainer, device): what names a case across files and runs."""
        return self.cell, self.model, self.explainer, self.device

    @property
    def case(self) -> str:
        """model/explainer/device, as the catalogue and the reproducer commands name a case."""
        return f"{self.model}/{self.explainer}/{self.device}"

    def to_dict(self) -> dict:
        return asdict(self)


# Columns a matrix.json row must hold as non-empty text (a foreign file fails here, not deep in a view).
REQUIRED = ("cell", "torch", "shap", "model", "explainer", "device", "outcome")
_NAMES = tuple(f.name for f in fields(Row))


def row_from(data: dict, criteria: dict | None = None) -> Row:
    """A Row from a matrix.json row (keys it does not know are dropped; absent ones take their empty value)."""
    values = {k: v for k, v in data.items() if k in _NAMES}
    if criteria and "additivity_criterion" not in values:
        values["additivity_criterion"] = criteria.get(data.get("explainer"))
    return Row(**values)


def rows(matrix) -> list[Row]:
    """The case rows of a matrix.json document, typed; a foreign or empty document is a one-line error."""
    cases = matrix.get("cases") if isinstance(matrix, dict) else None
    if not isinstance(cases, list) or not cases:
        raise HarnessError("matrix.json has no case rows (expected {\"cases\": [...]}): run nox -s report")
    for number, data in enumerate(cases):
        missing = [k for k in REQUIRED if not isinstance(data, dict) or not isinstance(data.get(k), str)]
        if missing:
            raise HarnessError(f"matrix.json case {number} lacks {', '.join(missing)}")
        try:
            Version(data["torch"]), Version(data["shap"])
        except InvalidVersion as exc:
            raise HarnessError(f"matrix.json case {number}: {exc}") from None
    criteria = matrix.get("criteria")
    return [row_from(data, criteria if isinstance(criteria, dict) else None) for data in cases]


@dataclass(frozen=True)
class Reproducer:
    """A shipped reproducer as matrix.json keeps it once (under "reproducers"), not on every row."""
    command: str = ""  # runs it from the repository root
    signature: Optional[str] = None
    pinned: Optional[str] = None  # the cell whose pins its requirements.txt holds (the newest)
    cells: list = field(default_factory=list)  # every cell it holds for


@dataclass(frozen=True)
class Matrix:
    """matrix.json read once, typed: its rows and what it keeps once rather than per row.

    ``problems`` (known_problems) and ``signatures`` (the catalogue's entries) stay the dicts their builders in
    harness.analysis write, keyed by failure signature, so a reader takes ``matrix.problems.get(signature)``."""
    rows: list  # Row
    criteria: dict  # explainer -> the additivity rule in words
    devices_run: list
    devices_left_out: dict  # device -> why its rows are not in the files
    notes: list  # {"note", "cells"}
    problems: dict  # signature -> its known-problems entry
    signatures: dict  # signature -> its catalogue entry
    reproducers: dict  # path under the page's folder -> Reproducer

    def command(self, row: Row) -> Optional[str]:
        """The command that runs a row's reproducer (None where it has none)."""
        found = self.reproducers.get(row.reproducer)
        return found.command if found else None


def matrix_of(document) -> Matrix:
    """A matrix.json document as a Matrix; a foreign or empty document is a one-line error (see rows)."""
    typed = rows(document)
    devices = document.get("devices", {})
    reproducers = {path: Reproducer(**{k: v for k, v in entry.items() if k in ("command", "signature", "pinned",
                                                                               "cells")})
                   for path, entry in document.get("reproducers", {}).items()}
    return Matrix(rows=typed, criteria=document.get("criteria", {}), devices_run=devices.get("run", []),
                  devices_left_out=devices.get("left_out", {}), notes=document.get("notes", []),
                  problems={p["signature"]: p for p in document.get("known_problems", [])},
                  signatures={e["signature"]: e for e in document.get("catalogue", {}).get("signatures", [])},
                  reproducers=reproducers)


# --- the data dictionary, generated -------------------------------------------------------------------------
_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}


def json_type(annotation) -> str | list[str]:
    """A Python annotation as a JSON Schema "type": str -> "string", Optional[float] -> ["number", "null"].

    In a fixed order: typing caches unions, so Union[int, str] may come back as Union[str, int]."""
    kinds = set(typing.get_args(annotation) or (annotation,))
    names = [name for kind, name in _JSON_TYPES.items() if kind in kinds]
    return names[0] if len(names) == 1 else names


def published() -> list:
    """The Row fields a published row holds, in column order (the once-per-explainer ones are kept elsewhere)."""
    return [f for f in fields(Row) if f.name not in ONCE_PER_EXPLAINER]


def case_schema() -> dict:
    """The JSON Schema of one published row (matrix.schema.json's $defs/case)."""
    hints = typing.get_type_hints(Row)
    properties = {f.name: {"type": json_type(hints[f.name]), "description": f.metadata["description"],
                           **f.metadata["json"]} for f in published()}
    return {"type": "object", "additionalProperties": False, "required": list(properties), "properties": properties}


def integer_columns() -> list[str]:
    """Columns of integers (pandas would write a NaN-holding one as 3.0)."""
    hints = typing.get_type_hints(Row)
    return [f.name for f in published() if json_type(hints[f.name]) in ("integer", ["integer", "null"])]
