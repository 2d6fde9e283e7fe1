"""Aggregate raw cell results into the compatibility table.

    python -m harness.publish.report --results results/

Reads every ``results/raw/*.json`` with pandas and writes, with tabulate:
``COMPATIBILITY.md`` (rendered by harness.publish.markdown: the answer cards first, then
the grids and the evidence), ``matrix.csv`` and ``matrix.json``
(one tidy row per case) with their data dictionary: ``matrix.schema.json`` (a JSON
Schema shipped as harness/matrix.schema.json) and ``datapackage.json`` (the same, as a
Frictionless Table Schema for the CSV), then prints a short summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import replace
from types import MappingProxyType
from typing import Mapping
from pathlib import Path

import pandas as pd
from packaging.version import Version
from tabulate import tabulate

from ..analysis import answers, catalogue, known_problems
from ..analysis.signatures import signature
from ..cell import oracles
from ..cell.remedies import REGISTRY as REMEDIES
from ..errors import HarnessError, command
from . import matrix_file, reproducers
from ..records import merge, outcomes, store
from ..records.model import CaseRecord, CellInfo, CellRecord, cell_record
from ..records.outcomes import verdict
from ..records.row import ONCE_PER_EXPLAINER, Row, integer_columns

SYMBOLS = {
    "pass": "✅", "mismatch": "⚠️", "fail": "❌", "crash": "💥", "timeout": "⏱️", "skip": "➖",
    "install-error": "📦", "import-error": "🚫", "n/a": "n/a",
}
MEANINGS = {
    "pass": "ran, and the harness's additivity check holds within the stated tolerance",
    "mismatch": "ran, but the numbers are wrong: they do not add up to f(x) - E[f], or an affine model's "
                "attributions differ from the closed form",
    "fail": "shap_values() or the explainer raised (type, message and frame recorded)",
    "crash": "the worker process died (signal or exit code recorded)",
    "timeout": "no result within the case timeout; the worker was killed",
    "skip": "not run here (e.g. no CUDA on this host)",
    "install-error": "`torch==X shap==Y` did not install (resolver message recorded)",
    "import-error": "`import torch, shap` failed in the cell's environment",
    "n/a": "no Python on this machine has wheels of both releases",
}
SCHEMA = matrix_file.SCHEMA  # the data dictionary of matrix.csv / matrix.json, generated from records.row.Row
EXPLAINER_NAMES = {"deep": "DeepExplainer", "gradient": "GradientExplainer"}
PROSE_WIDTH = 200  # COMPATIBILITY.md is read as text too: no prose line wider than this


def case_rows(document: CellRecord, links: Mapping = MappingProxyType({})) -> list[Row]:
    """One cell's cases as tidy rows; ``links``: (cell, model, explainer, device) -> its reproducer's path."""
    record = cell_record(document)
    cell, run, resolved, env = record.cell, record.run, record.resolved, record.environment
    label = store.row_label(record)
    rows = []
    for case in record.cases:
        error, check, devices, oracle = case.error, case.additivity, case.device_agreement, case.oracles
        cold, warm = case.timing.cold, case.timing.warm
        rows.append(Row(
            cell=cell.id, torch=cell.torch, shap=cell.shap,
            python=cell.python or "", cell_status=record.status,
            constraints=constraint_text(cell),
            row=label, provenance=record.provenance,
            model=case.model, explainer=case.explainer, device=case.device,
            outcome=case.outcome.value, signature=signature(case),
            stage=case.stage,
            error_type=error.type, error_message=error.message,
            error_frame=error.frame, error_package=error.frame_package,
            reason=case.reason,
            crash=case.crash.exit,
            shap_check_fired=bool(case.shap_check),
            shap_check_message=case.shap_check.message,  # what shap raised: lookup finds it
            **remedy_columns(case),
            additivity_metric=check.metric, additivity_error=check.error,
            additivity_tolerance=check.tolerance, additivity_criterion=check.criterion,
            analytic_deviation=oracle.analytic.deviation, analytic_tolerance=oracle.analytic.tolerance,
            analytic_ok=oracle.analytic.ok,
            exact_deviation=oracle.exact.deviation, exact_tolerance=oracle.exact.tolerance, exact_ok=oracle.exact.ok,
            side_effects=leak_summary(case.side_effects) if case.side_effects else None,
            device_max_diff=devices.max_abs_diff, device_tolerance=devices.tolerance, device_ok=devices.ok,
            warnings=" | ".join(note.message for note in case.notes),
            construct_cold_s=cold.construct, call_cold_s=cold.call,
            construct_warm_median_s=warm.construct.median, construct_warm_iqr_s=warm.construct.iqr,
            call_warm_median_s=warm.call.median, call_warm_iqr_s=warm.call.iqr, warm_n=warm.call.n,
            case_seconds=case.seconds,
            concurrent_cells=case.concurrent_cells,  # cells running at once while it was timed
            resolved_torch=resolved.torch, resolved_shap=resolved.shap,
            resolved_numpy=resolved.numpy, resolved_python=resolved.python,
            torch_threads=env.torch_threads, gpu=env.gpu,
            date=run.date, host=run.host.name, cpu_model=run.host.cpu_model,
            harness_commit=run.harness_commit,
            reproducer=links.get((cell.id, case.model, case.explainer, case.device)),
        ))
    return rows


def remedy_columns(case: CaseRecord) -> dict:
    """``remedy_<name>``: what each code remedy gave on this case ('pass', 'n/a', or its signature); None: not tried."""
    tried = {result.remedy: result for result in case.remedies}
    columns = {}
    for name in REMEDIES:
        result = tried.get(name)
        if result is None:
            columns[f"remedy_{name}"] = None
        elif result.outcome in ("pass", "n/a"):
            columns[f"remedy_{name}"] = result.outcome.value
        else:
            columns[f"remedy_{name}"] = signature(replace(result, explainer=result.explainer or case.explainer))
    return columns


def constraint_text(cell: CellInfo) -> str | None:
    """The requirement lines a cell ran under ("numpy<2"), or None for an unconstrained cell."""
    lines = list(dict.fromkeys(line for constraint in cell.constraints for line in constraint.requires))
    return ", ".join(lines) or None


def load(results: Path) -> tuple[pd.DataFrame, list[CellRecord]]:
    documents = store.read_cells(results)
    if not documents:
        raise HarnessError(f"no raw results in {store.raw_dir(results)}: run nox -s matrix first")
    links = reproducers.links(documents)
    frame = pd.DataFrame([row.to_dict() for doc in documents for row in case_rows(doc, links)])
    return frame, documents


def _ordered(values) -> list[str]:
    return sorted(set(values), key=Version)


def grid(frame: pd.DataFrame, render) -> str:
    """A torch-rows x shap-columns table, each cell rendered from its case rows."""
    torches, shaps = store.row_order(zip(frame["torch"], frame["row"])), _ordered(frame["shap"])
    by_cell = {key: group for key, group in frame.groupby(["row", "shap"])}
    body = [[f"**{t}**"] + [render(by_cell[(t, s)]) if (t, s) in by_cell else "" for s in shaps] for t in torches]
    return tabulate(body, headers=["torch \\ shap"] + shaps, tablefmt="github")


def summary_cell(cases: pd.DataFrame) -> str:
    """A summary grid's cell: the cell's verdict (records.outcomes.verdict) as a symbol, pass count and Python."""
    found = verdict(cases["cell_status"].iloc[0], cases["outcome"])
    python = cases["python"].iloc[0]
    if found.kind == outcomes.NA:
        return "n/a"
    if found.kind == outcomes.INSTALL_ERROR:
        return "❌ install"
    if found.kind == "not-run":
        return "➖"
    if found.kind == outcomes.IMPORT_ERROR:
        return f"❌ import · py{python}"
    symbol = {outcomes.PASS: "✅", outcomes.FAIL: "❌"}.get(found.kind, "⚠️")
    constrained = cases["constraints"].iloc[0]
    return f"{symbol} {found.label} · py{python}" + (f" · {constrained}" if isinstance(constrained, str) else "")


def executed_devices(frame: pd.DataFrame) -> list[str]:
    ran = frame[frame["outcome"].isin(outcomes.RAN)]
    return [d for d in outcomes.DEVICES if d in set(ran["device"])] or ["cpu"]


def leak_summary(lines: list[str]) -> str:
    """One short phrase per kind of thing left behind, from the worker's per-module lines."""
    hooks, attributes, other = {}, set(), []
    for line in lines:
        if " left registered" in line and "): " in line:
            kind = line.rsplit(" left registered", 1)[0].split(" ")[-1]
            hooks[kind] = hooks.get(kind, 0) + 1
        elif "attributes added: " in line:
            attributes.update(line.split("attributes added: ", 1)[1].split(", "))
        else:
            other.append(line)
    parts = [f"{kind} on {n} module{'s' if n > 1 else ''}" for kind, n in sorted(hooks.items())]
    if attributes:
        parts.append(f"attributes {', '.join(sorted(attributes))}")
    return "; ".join(parts + other)


def device_section(frame: pd.DataFrame) -> list[str]:
    """CPU vs CUDA of the same case where CUDA ran: outcomes, attribution agreement and warm time side by side."""
    compared = frame[frame["device_max_diff"].notna()]
    out = ["## CPU and CUDA agreement", ""]
    gpu = device_pairs(frame)
    if compared.empty and gpu.empty:
        return out + ["No cell in these results ran on both CPU and CUDA (no GPU on the hosts), so nothing was "
                      "compared.", ""]
    bad = compared[compared["device_ok"] == False]  # noqa: E712
    out += [f"Max |phi_cpu - phi_cuda| per case (recorded on the cuda case by the supervisor, which ran both on "
            f"one host), judged against {oracles.DEVICE_RTOL:g} x max(1, max|phi|): "
            f"{len(compared) - len(bad)} of {len(compared)} agree. Warm time is the median warm `shap_values()` "
            "call; the cpu columns come from the cell's CPU record, which on the fleet is a CPU runner's.", ""]
    differ = gpu[gpu["outcome"] != gpu["outcome_cpu"]]
    if len(differ):
        out += [f"{len(differ)} of {len(gpu)} cases that ran on CUDA have another outcome than on CPU.", ""]
    rows = [[r.row, r.shap, r.model, EXPLAINER_NAMES[r.explainer], f"{SYMBOLS.get(r.outcome_cpu, '')} {r.outcome_cpu}",
             f"{SYMBOLS[r.outcome]} {r.outcome}",
             f"{r.device_max_diff:.3g}" if pd.notna(r.device_max_diff) else "",
             ("✅" if r.device_ok else "❌ disagree") if pd.notna(r.device_ok) else "",
             _ms(r.call_warm_median_s_cpu), _ms(r.call_warm_median_s),
             f"{r.call_warm_median_s_cpu / r.call_warm_median_s:.2g}×"
             if pd.notna(r.call_warm_median_s_cpu) and pd.notna(r.call_warm_median_s) and r.call_warm_median_s > 0
             else ""] for r in gpu.itertuples()]
    return out + [tabulate(rows, headers=["torch", "shap", "model", "explainer", "cpu", "cuda", "max diff",
                                          "agreement", "cpu warm", "cuda warm", "cpu / cuda"],
                           tablefmt="github"), ""]


def constraint_section(documents: list[CellRecord]) -> list[str]:
    """Each grid.toml constraint with its reason and cells, then what installs without it, once per row."""
    applied = {}
    for d in documents:
        for c in d.cell.constraints:
            applied.setdefault((c.applies_to, ", ".join(c.requires), c.reason), []).append(d.cell)
    if not applied:
        return []
    out = ["## Constraints: environments as their users have them", "",
           "Cells whose releases predate a dependency's breaking release run with the requirement lines their "
           "users had (grid.toml `[[constraints]]`, applied with uv's `--constraint` to the install and to the "
           "reuse key; summary cells show them after the Python).", ""]
    rows = [[applies_to, f"`{requires}`", reason, len(cells)] for (applies_to, requires, reason), cells in applied.items()]
    out += catalogue.table(["cells", "constraint", "why", "cells run"], rows) + [""]
    findings = unconstrained_findings(documents)
    if findings:
        out += ["Installed today without the constraints (`uv pip install torch==X shap==Y` alone, one tiny case: "
                "mlp, DeepExplainer, cpu):", ""] + [f"- {line}" for line in findings] + [""]
    return out


def unconstrained_findings(documents: list[CellRecord]) -> list[str]:
    """One line per torch row (and distinct finding) from the cells' unconstrained probes."""
    groups = {}
    for d in sorted(documents, key=lambda d: (Version(d.cell.torch), Version(d.cell.shap))):
        probe = d.unconstrained
        if not probe:
            continue
        differs = ", ".join(f"{name} {v['unconstrained']} (not {v['constrained']})"
                            for name, v in probe.differs.items() if name in ("numpy", "numba", "scipy"))
        error = probe.error
        result = (probe.status if probe.status != "ran" else
                  probe.outcome + (f": {error.type}: {error.message}" if error else ""))
        key = (d.cell.torch, ", ".join(probe.without), differs, result)
        groups.setdefault(key, []).append(d.cell.shap)
    lines = []
    for (torch, without, differs, result), shaps in groups.items():
        gets = f"gets {differs}" if differs else "resolves the same packages"
        lines.append(f"torch {torch} with shap {_versions(shaps)}, without `{without}`: {gets}; "
                     f"import and tiny case: **{result[:80]}**")
    return lines


def device_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each cuda case that ran, with the same cell's cpu case beside it (columns ending in _cpu)."""
    keys = ["cell", "model", "explainer"]
    cuda = frame[(frame["device"] == "cuda") & frame["outcome"].isin(outcomes.CALLED)]
    cpu = frame[frame["device"] == "cpu"][keys + ["outcome", "call_warm_median_s"]]
    paired = cuda.merge(cpu, on=keys, how="left", suffixes=("", "_cpu"))
    paired["outcome_cpu"] = paired["outcome_cpu"].fillna("not run")
    return paired


def _ms(seconds) -> str:
    if pd.isna(seconds):
        return ""
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1000:.3g} ms"


def _versions(versions: list[str], n: int = 6) -> str:
    """A list of releases, shortened to its ends when long (the full list is in grid.toml)."""
    if len(versions) <= n:
        return ", ".join(versions)
    return f"{len(versions)} releases from {versions[0]} to {versions[-1]}"


def provenance(documents: list[CellRecord]) -> list[str]:
    runs = sorted({(d.host.name, d.host.cpu_model, d.host.cpu_count, d.run.harness_commit) for d in documents})
    dates = sorted(d.run.date for d in documents)
    lines = [f"Produced from {len(documents)} cell results, run between {dates[0]} and {dates[-1]} (UTC)."]
    for name, cpu, cores, commit in runs:
        lines.append(f"- host `{name}`: {cpu}, {cores} cores; harness commit `{commit}`")
    records = documents
    gpus = sorted({d.environment.gpu for d in records if d.environment.gpu})
    lines.append(f"- GPUs: {', '.join(gpus)}" if gpus else "- GPUs: none (CUDA cases are recorded as skip)")
    for d in records:
        if d.provenance != store.INSTALLED:
            supplied = d.supplied
            lines.append(f"- {d.provenance} `{supplied.label}` (row `{store.row_label(d)}`): "
                         f"`{supplied.interpreter}` on host `{d.host.name}`, installed nothing; "
                         f"torch {d.cell.torch}, shap {d.cell.shap}, Python {d.resolved.python}, "
                         f"{len(d.packages)} distributions recorded")
    axes = {}
    for d in sorted(documents, key=lambda d: d.run.date):
        axes.update(d.cell.grid_axes)
    for name, axis in sorted(axes.items()):
        size = len(axis["torch"]) * len(axis["shap"])
        covered = sum(name in d.cell.grids for d in documents)
        scope = "all of it" if covered >= size else f"a declared subset: {covered} of its {size} cells"
        lines.append(f"- grid `{name}` resolved to torch {_versions(axis['torch'])} × shap {_versions(axis['shap'])} "
                     f"(see grid.toml); these results cover {scope}")
    return lines


def wrap(line: str, width: int = PROSE_WIDTH) -> str:
    """A prose line longer than ``width`` broken at spaces (Markdown joins them again); tables stay as they are."""
    if len(line) <= width or line.startswith("|") or "\n" in line:
        return line
    indent = "  " if line.startswith("- ") else ""
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                                    break_on_hyphens=False))


# What matrix.csv writes differently from matrix.json, so that it reads as it looks (issue 17): pandas.read_csv
# without a dtype takes "3.10" for the number 3.1, and the reproducer paths are relative to results/site/.
CSV_FORMS = {
    "python": (lambda python: f"py{python}" if python else python,
               "Python minor version the cell chose, written py3.10 so that a CSV reader keeps it as text (3.10 is "
               "not 3.1); empty when no Python has wheels of both releases."),
    "reproducer": (lambda path: f"site/{path}" if isinstance(path, str) else path,
                   "Path, relative to the folder of matrix.csv (results/), of the standalone script reproducing this "
                   "case's problem, written beside the page by nox -s site; its command is under \"reproducers\" in "
                   "matrix.json."),
}


def csv_frame(tidy: pd.DataFrame) -> pd.DataFrame:
    """The rows as matrix.csv holds them: CSV_FORMS applied, and no column that is empty in every row."""
    table = tidy.assign(**{name: tidy[name].map(form) for name, (form, _) in CSV_FORMS.items()})
    empty = [name for name in table if table[name].isna().all() or (table[name] == "").all()]
    return table.drop(columns=empty)


def datapackage(schema: dict, columns: list[str]) -> dict:
    """A Frictionless Data Package for matrix.csv's ``columns``, derived from the JSON Schema so the two cannot
    drift: Table Schema readers (frictionless, R, Data Package tools) then read versions as text."""
    fields = []
    for name in columns:
        prop = schema["$defs"]["case"]["properties"][name]
        types = [t for t in ([prop["type"]] if isinstance(prop["type"], str) else prop["type"]) if t != "null"]
        kind = "datetime" if prop.get("format") == "date-time" else types[0] if len(types) == 1 else "any"
        field = {"name": name, "type": kind, "description": CSV_FORMS[name][1] if name in CSV_FORMS
                 else prop["description"]}
        if "enum" in prop:
            field["constraints"] = {"enum": prop["enum"]}
        fields.append(field)
    return {"name": "torch-shap-matrix", "title": schema["title"],
            "description": "matrix.csv described as a Table Schema; matrix.schema.json (JSON Schema) describes "
                           "the same rows in matrix.json. Columns empty in every row are left out of the CSV.",
            "resources": [{"name": "matrix", "path": "matrix.csv", "format": "csv", "mediatype": "text/csv",
                           "encoding": "utf-8", "schema": {"fields": fields, "missingValues": [""]}}]}


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as integers (a NaN makes pandas write 3.0), so the files match the schema's types."""
    return frame.astype({name: "Int64" for name in integer_columns() if name in frame})


def devices(frame: pd.DataFrame) -> dict:
    """Which devices any case ran on, and why the others' rows are left out of matrix.csv / matrix.json."""
    run = executed_devices(frame)
    left = {d: f"no case ran on {d} in these results (every {d} case: "
               f"{', '.join(f'{n} {o}' for o, n in sorted(sub['outcome'].value_counts().items()))}); "
               "its rows are left out of matrix.csv / matrix.json, but for a cell that has no other rows"
            for d, sub in frame.groupby("device") if d not in run}
    return {"run": run, "left_out": left}


def grid_notes(documents: list[CellRecord]) -> list[dict]:
    """Each note of grid.toml, and why a cell is n/a, with the cells it concerns (the page shows it beside them)."""
    cells: dict[str, list[str]] = {}
    for d in documents:
        why = [f"n/a: {d.cases[0].reason}"] if d.status == "n/a" and d.cases else []
        for note in d.cell.notes + why:
            cells.setdefault(note, []).append(d.id)
    return [{"note": note, "cells": ids} for note, ids in sorted(cells.items())]


def write(results: Path) -> dict:
    frame, documents = load(results)
    frame = frame.sort_values(["torch", "shap", "model", "explainer", "device"],
                              key=lambda col: col.map(Version) if col.name in ("torch", "shap") else col)
    catalogue_data = catalogue.build(frame, store.bisect_records(results))
    problems = known_problems.build(frame, catalogue_data)
    schema = matrix_file.schema()
    covered = devices(frame)
    criteria = frame[["explainer", "additivity_criterion"]].dropna().drop_duplicates("explainer")
    ran = frame["device"].isin(covered["run"])
    kept = ran | ~frame["cell"].isin(frame.loc[ran, "cell"])  # a cell with rows only there (a GPU shard) stays
    tidy = typed(frame[kept].drop(columns=list(ONCE_PER_EXPLAINER)))
    table = csv_frame(tidy)
    store.write_atomic(results / "matrix.csv", table.to_csv(index=False))
    rows = json.loads(tidy.to_json(orient="records"))
    payload = {"schema": store.SCHEMA_VERSION, "runs": provenance(documents), "devices": covered,
               "criteria": dict(zip(criteria["explainer"], criteria["additivity_criterion"])),
               "notes": grid_notes(documents) + merge.status_notes(results),  # fleet: the cells not re-run
               "known_problems": problems, "catalogue": catalogue_data,
               "reproducers": reproducers.index(documents)}
    store.write_atomic(results / "matrix.json", store.json_with_cases(dict(payload, cases=rows)))
    store.write_atomic(results / SCHEMA.name, matrix_file.schema_text())
    store.write_atomic(results / "datapackage.json",
                       json.dumps(datapackage(schema, list(table)), indent=1, ensure_ascii=False) + "\n")
    from . import markdown  # it renders with this module's grids: imported here, not at the top
    cards = answers.build(dict(payload, cases=rows), results)
    store.write_atomic(results / "COMPATIBILITY.md", markdown.render(frame, documents, catalogue_data, problems, cards)
                       + merge.status_markdown(results))  # fleet: cells a failed shard did not re-run
    return {"cells": len(documents), "outcomes": frame["outcome"].value_counts().to_dict(),
            "signatures": int(frame["signature"].nunique()), "transitions": len(catalogue_data["transitions"]),
            "reproducers": len(payload["reproducers"]), "rows": len(tidy)}


@command
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.publish.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results/)")
    args = parser.parse_args(argv)
    summary = write(args.results)
    counts = ", ".join(f"{n} {o}" for o, n in sorted(summary["outcomes"].items()))
    print(f"{summary['cells']} cells: {counts}; {summary['signatures']} failure signatures, "
          f"{summary['transitions']} transitions, {summary['reproducers']} reproducers (one per problem and case, "
          "shipped by nox -s site)")
    print(f"table: {args.results / 'COMPATIBILITY.md'} (also matrix.csv, matrix.json, {SCHEMA.name}, datapackage.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
