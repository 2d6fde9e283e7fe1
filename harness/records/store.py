"""Raw per-cell result files: one JSON document per cell, written atomically.

A result is written to a temporary file in the same folder and renamed into
place, so an interrupted matrix never leaves a partial file that could be
read as a result, and every finished cell survives.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from packaging.version import Version

from ..errors import HarnessError
from .model import INSTALLED, SUPPLIED, CellRecord, cell_record  # noqa: F401 (store.INSTALLED)

SCHEMA_VERSION = 1
RAW_DIR = "raw"
BISECT_DIR = "bisect"  # results/bisect/*.json: boundaries found by nox -s bisect
GPU_DIR = "gpu"  # raw/gpu/<cell-id>.json: the fleet's records from a runner with CUDA


def raw_dir(results: Path) -> Path:
    return Path(results) / RAW_DIR


def write_atomic(path: Path, content: str | bytes) -> None:
    """The one writer of every file the harness keeps: a temporary file beside it, renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # readable like a published file, not mkstemp's private 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def json_with_cases(document: dict, sort_keys: bool = False) -> str:
    """The document indented, then its "cases" one per line: a third smaller, and diffs still read case by case."""
    head = json.dumps({k: v for k, v in document.items() if k != "cases"}, indent=1, sort_keys=sort_keys,
                      ensure_ascii=False)
    cases = ",\n".join("  " + json.dumps(case, sort_keys=sort_keys, ensure_ascii=False)
                       for case in document.get("cases", []))
    return (head[:-2] + ",\n" if head != "{}" else "{\n") + ' "cases": [\n' + cases + "\n ]\n}\n"


def write_cell(results: Path, document: CellRecord | dict) -> Path:
    """Write one cell's result; a full or read-only disk is a one-line error and leaves no partial file."""
    record = cell_record(document)
    path = raw_dir(results) / f"{record.id}.json"
    try:
        write_atomic(path, json_with_cases(record.to_dict(), sort_keys=True))
    except OSError as exc:
        raise HarnessError(f"could not write {path}: {exc.strerror or exc}; earlier results are untouched") from None
    return path


def read_json(path: Path, what: str, kind: type = dict):
    """A JSON document of the expected kind (dict or list), or a one-line HarnessError naming the file."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"cannot read the {what}: no {what} at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read the {what} {path}: {exc}") from None
    except ValueError as exc:
        raise HarnessError(f"cannot read the {what}: {path} is not valid JSON ({exc})") from None
    if not isinstance(value, kind):
        raise HarnessError(f"the {what} {path} is not a JSON {'object' if kind is dict else 'list'}")
    return value


def read_cells(results: Path) -> list[CellRecord]:
    """Every raw cell document under ``results/raw``; a bad file is a one-line error.

    A cell run by the fleet on a CUDA runner as well has a second record in
    ``results/raw/gpu/``: its cpu cases come from the CPU record beside it and its
    other cases from the CUDA one, so no case is counted twice.
    """
    primary = [read_cell(path) for path in sorted(raw_dir(results).glob("*.json"))]
    gpu = [read_cell(path) for path in sorted((raw_dir(results) / GPU_DIR).glob("*.json"))]
    return combine(primary, gpu)


def combine(primary: list[CellRecord], gpu: list[CellRecord]) -> list[CellRecord]:
    """CPU records keep their cpu cases, CUDA-runner records their other cases, where a cell has both."""
    with_gpu = {record.id for record in gpu}  # read_cell checked that every record names its cell
    with_cpu = {record.id for record in primary}
    for record in primary:
        if record.id in with_gpu:
            record.cases = [case for case in record.cases if case.device == "cpu"]
    for record in gpu:
        if record.id in with_cpu:
            record.cases = [case for case in record.cases if case.device != "cpu"]
    return primary + gpu


def bisect_records(results: Path) -> list[dict]:
    """Every boundary recorded by nox -s bisect, for the catalogue; an unreadable file is a one-line error."""
    return [read_json(path, "bisect record") for path in sorted((Path(results) / BISECT_DIR).glob("*.json"))]


def row_label(document: CellRecord) -> str:
    """A cell's table row: its torch release; a supplied environment's row also names it, so that its cases are
    never counted with those of a cell the harness installed."""
    record = cell_record(document)
    torch, label = record.cell.torch, record.supplied.label
    if record.provenance == INSTALLED or not label:
        return torch
    return f"{torch} · supplied: {label}"


def row_order(pairs) -> list[str]:
    """Row labels from (torch, row label) pairs in torch order, a supplied row after its release's installed row."""
    return [row for _, row in sorted(set(pairs), key=lambda pair: (Version(pair[0]), pair[1] != pair[0], pair[1]))]


def read_cell(path: Path) -> CellRecord:
    """One raw cell document, upgraded to this schema and checked; a bad file is a one-line error naming it."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path} is not a valid result file ({exc}); delete it or re-run its cell") from None
    return upgrade(document, path)


# Schema N -> N+1: each function takes a document of schema N and returns it as schema N+1 (setting "schema").
# Schema 1 is the first the harness wrote; a change to the raw format adds one entry here and bumps SCHEMA_VERSION,
# so that results already on disk (and in git) are still read rather than run again.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def upgrade(document, source) -> CellRecord:
    """A raw cell document migrated to SCHEMA_VERSION through MIGRATIONS and checked against the record model."""
    found = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(found, int) or isinstance(found, bool):
        raise HarnessError(f"{source} has result schema {found!r}, this harness reads schema {SCHEMA_VERSION}; "
                           "re-run its cell")
    if found > SCHEMA_VERSION:
        raise HarnessError(f"{source} has result schema {found}, newer than this harness reads ({SCHEMA_VERSION}): "
                           "update the harness (git pull) to read it")
    while document["schema"] < SCHEMA_VERSION:
        step = MIGRATIONS.get(document["schema"])
        if step is None:
            raise HarnessError(f"{source} has result schema {document['schema']}, which this harness cannot "
                               f"upgrade to schema {SCHEMA_VERSION}; re-run its cell")
        document = step(document)
    try:
        record = CellRecord.from_dict(document)
    except HarnessError as exc:
        raise HarnessError(f"{source} is not a valid result file: {exc}") from None
    if not isinstance(record.id, str):
        raise HarnessError(f"{source} is not a valid result file: it names no cell id")
    for number, case in enumerate(record.cases, 1):
        if case.outcome is None or not all(isinstance(v, str) and v for v in (case.model, case.explainer, case.device)):
            raise HarnessError(f"{source} is not a valid result file: its case {number} lacks a model, explainer, "
                               "device or outcome")
    return record


def earlier_cell(path: Path) -> CellRecord | None:
    """A raw cell document if one of this schema is there and readable, else None (it is then run again)."""
    try:
        return read_cell(path)
    except (OSError, HarnessError):
        return None
