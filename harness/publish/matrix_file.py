"""results/matrix.json for the readers that need it (page, lookup, regression issues).

It is generated, not kept in git: a reader builds it from results/raw when it
is missing or older than a raw result, so a pull that brings new raw results
never leaves a stale page or lookup.
"""
from __future__ import annotations

from pathlib import Path

from harness.records.store import raw_dir, read_json


def read_matrix(results: Path) -> dict:
    path = Path(results) / "matrix.json"
    raw = [p.stat().st_mtime for p in raw_dir(results).rglob("*.json")]
    if raw and (not path.exists() or max(raw) > path.stat().st_mtime):
        from harness.publish import report  # pandas: loaded only when the file must be built
        report.write(Path(results))
    return read_json(path, "matrix.json")
