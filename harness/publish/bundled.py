"""The published table an installed command answers from: the one in the wheel, or a newer one the user names.

The wheel carries matrix.json xz-compressed in bundled/ with about.json (its date); hatch_build.py puts them
there.  Readers such as lookup take a results folder, so the bundled table is unpacked once into a cache folder
of its own (no raw/ beside it, so nothing tries to rebuild it).  In a checkout there is no bundle: the
repository's results/ folder is the table.
"""
from __future__ import annotations

import json
import lzma
import os
from pathlib import Path

from ..errors import HarnessError
from ..records.store import read_json, write_atomic

HERE = Path(__file__).resolve().parent / "bundled"
CHECKOUT_RESULTS = Path(__file__).resolve().parents[2] / "results"


def about(results: Path | None = None) -> dict:
    """Where the table comes from and its date: {"source", "date", ...}."""
    if results is not None:
        return {"source": str(results), "date": _folder_date(Path(results))}
    if (HERE / "about.json").is_file():
        return dict(json.loads((HERE / "about.json").read_text()), source="bundled with the package")
    return {"source": str(CHECKOUT_RESULTS), "date": _folder_date(CHECKOUT_RESULTS)}


def _folder_date(results: Path) -> str:
    """The newest run date among a folder's raw records, or the matrix file's own date."""
    dates = [read_json(p, "raw result").get("run", {}).get("date", "") for p in (results / "raw").glob("*.json")]
    if dates:
        return max(dates)[:10]
    matrix = results / "matrix.json"
    if matrix.is_file():
        import datetime
        return datetime.datetime.fromtimestamp(matrix.stat().st_mtime, datetime.timezone.utc).date().isoformat()
    return "unknown"


def results_folder(results: Path | None = None) -> Path:
    """A results folder holding matrix.json: the user's (checked), else the bundled table unpacked, else the checkout's."""
    if results is not None:
        results = Path(results)
        if not (results / "matrix.json").is_file() and not any((results / "raw").glob("*.json")):
            raise HarnessError(f"no results in {results}: it needs matrix.json or raw/*.json")
        return results
    packed = HERE / "matrix.json.xz"
    if not packed.is_file():
        if (CHECKOUT_RESULTS / "raw").is_dir():
            return CHECKOUT_RESULTS
        raise HarnessError("this installation carries no results table: pass --results FOLDER")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torch-shap-matrix"
    folder = cache / f"results-{about()['date']}-{packed.stat().st_size}"
    if not (folder / "matrix.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "matrix.json", lzma.decompress(packed.read_bytes()).decode("utf-8"))
    return folder
