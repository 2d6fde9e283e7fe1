"""When a cell's earlier result still holds: the reuse key and the decision.

A result is keyed by what determines it: the resolved environment (every
package ``uv pip compile`` would install today, and the interpreter's full
version), the suite's content (the selected models and the cell runner), the
devices of this host and the run settings.  ``nox -s matrix`` re-runs only
the cells whose key changed or whose result is missing, so an interrupted or
repeated matrix costs only what is left to do.
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import hostinfo
from .resolution import python_version, resolve
from .settings import SuiteSettings
from .suite import suite_hash
from ..records import store
from ..records.model import CellRecord


def key_parts(packages: dict[str, str], python: str, models: dict[str, Path], settings: SuiteSettings, devices: str,
              constraints: list[str] = ()) -> dict:
    """Everything a cell's result depends on; results from another host never count as this host's."""
    host = hostinfo.host()
    return {"packages": dict(sorted(packages.items())), "python": python, "suite": suite_hash(models),
            "devices": devices, "host": f"{host['name']} ({host['cpu_model']}, {host['machine']}, id {host['machine_id']})",
            "settings": settings.record(models), "constraints": list(constraints)}


def key(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def previous(results: Path, cell) -> CellRecord | None:
    """The cell's earlier raw result, if there is a readable one of this schema."""
    return store.earlier_cell(store.raw_dir(results) / f"{cell.id}.json")


def plan_reuse(cells, results: Path, settings: SuiteSettings, models: dict[str, Path]) -> tuple[list, list]:
    """Split runnable cells into (reused, to_run); resolves candidates in parallel."""
    devices, suite, wanted = hostinfo.host_devices(), suite_hash(models), settings.record(models)
    candidates = []
    for cell in cells:
        record = previous(results, cell) if cell.python else None
        parts = record.reuse.parts if record else None
        installed = record and record.provenance == store.INSTALLED  # never a supplied environment's
        if installed and record.status == "ran" and parts and parts.get("devices") == devices \
                and parts.get("suite") == suite and parts.get("settings") == wanted:
            candidates.append((cell, record))
    versions = {c.interpreter: None for c, _ in candidates}
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = dict(zip(versions, pool.map(python_version, versions)))
        resolved = list(pool.map(lambda pair: resolve(pair[0]), candidates))
    reused = set()
    for (cell, record), packages in zip(candidates, resolved):
        if packages is None:  # the pins did not resolve: run the cell
            continue
        parts = key_parts(packages, versions[cell.interpreter], models, settings, devices, cell.constraint_lines)
        if key(parts) == record.reuse.key:
            reused.add(cell.id)
    return [c for c in cells if c.id in reused], [c for c in cells if c.id not in reused]


def provenance_line(cells, results: Path, reused: list) -> str:
    """Says plainly whether this run measures this machine or takes earlier results of it."""
    here = hostinfo.host()
    others = {}
    for cell in cells:
        record = previous(results, cell)
        if record and record.host.machine_id != here["machine_id"]:
            host = record.host
            others[f"{host.name or '?'} (id {host.machine_id or 'none recorded'})"] = True
    mine = f"this machine is {here['name']} (id {here['machine_id']})"
    if others:
        return (f"{mine}; {results} holds results from another machine ({', '.join(others)}): "
                "they are not reused, this run measures this machine")
    return f"{mine}; reused results were measured here" if reused else f"{mine}; this run measures it"
