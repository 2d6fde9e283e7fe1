"""results/matrix.json for the readers that need it (page, lookup, regression issues), and its data dictionary.

It is generated, not kept in git: a reader builds it from results/raw when it
is missing or older than a raw result, so a pull that brings new raw results
never leaves a stale page or lookup. Its JSON Schema (matrix.schema.json) is
generated too: the rows' part from harness.records.row.Row, the rest below.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..records.row import case_schema
from ..records.store import raw_dir, read_json

SCHEMA = Path(__file__).with_name("matrix.schema.json")  # the committed copy: tests/test_schema.py keeps it generated
_TEXTS = {"type": "array", "items": {"type": "string"}}

DOCUMENT = {
    "schema": {"type": "integer", "description": "Version of the raw result format the rows were built from."},
    "runs": {"type": "array", "description": "Provenance of the runs: host, date span, harness commit."},
    "devices": {
        "type": "object",
        "description": "Devices covered: \"run\" lists those on which at least one case ran; \"left_out\" maps every "
                       "other device to why its rows are not in the files (e.g. no GPU on the hosts).",
        "required": ["run", "left_out"],
        "properties": {"run": _TEXTS, "left_out": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "criteria": {
        "type": "object",
        "description": "The additivity rule in words, with its tolerance, per explainer (the same for every row of "
                       "that explainer, so it is kept once here).",
        "additionalProperties": {"type": "string"}},
    "notes": {
        "type": "array",
        "description": "Notes from grid.toml, and why a cell is n/a, each with the cells it concerns (the page marks "
                       "those cells).",
        "items": {"type": "object", "required": ["note", "cells"],
                  "properties": {"note": {"type": "string"}, "cells": _TEXTS}}},
    "catalogue": {"type": "object", "description": "Failure-signature catalogue: each signature's cells and the "
                                                   "transitions between releases."},
    "reproducers": {
        "type": "object",
        "description": "Each shipped reproducer (its path relative to the page's folder, as in the rows' "
                       "\"reproducer\") with the command that runs it from the repository root, its failure "
                       "signature, the cell whose pins its requirements.txt holds (the newest) and every cell it "
                       "holds for.",
        "additionalProperties": {
            "type": "object", "required": ["command", "cells"],
            "properties": {"command": {"type": "string"}, "signature": {"type": ["string", "null"]},
                           "pinned": {"type": "string"}, "cells": _TEXTS}}},
    "cases": {"type": "array", "items": {"$ref": "#/$defs/case"},
              "description": "One row per (cell, model, explainer, device), the same rows as matrix.csv."},
}


def schema() -> dict:
    """matrix.schema.json: the document's keys above, its rows from the Row model."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "matrix.schema.json",
        "title": "PyTorch x SHAP compatibility matrix: one row per case",
        "description": "Data dictionary of the rows under \"cases\" in matrix.json and of matrix.csv (one column per "
                       "property, in this order, but for a column empty in every row, which the CSV leaves out: "
                       "datapackage.json lists the columns it holds). Version columns (torch, shap, python, "
                       "resolved_*) are strings; matrix.csv writes python as py3.10, so that a plain "
                       "pandas.read_csv keeps it as text (3.10 is not 3.1), and its reproducer paths from its own "
                       "folder (site/reproducers/...). Empty CSV fields are null. Rows of a device on which no case ran anywhere in the results (cuda on hosts "
                       "without a GPU) are left out, but for a cell that has no other rows; matrix.json's \"devices\" "
                       "says which devices ran and why others are missing. Written by python -m "
                       "harness.publish.report next to the files.",
        "type": "object", "required": ["schema", "cases"], "properties": DOCUMENT,
        "$defs": {"case": case_schema()}}


def schema_text() -> str:
    """The schema as the committed file and results/matrix.schema.json hold it."""
    return json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"


def read_matrix(results: Path) -> dict:
    path = Path(results) / "matrix.json"
    raw = [p.stat().st_mtime for p in raw_dir(results).rglob("*.json")]
    if raw and (not path.exists() or max(raw) > path.stat().st_mtime):
        from . import report  # pandas: loaded only when the file must be built
        report.write(Path(results))
    return read_json(path, "matrix.json")


if __name__ == "__main__":  # regenerate the committed copy: python -m harness.publish.matrix_file
    from ..records.store import write_atomic
    write_atomic(SCHEMA, schema_text())
