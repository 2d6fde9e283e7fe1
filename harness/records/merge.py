"""Merge a fleet run's shard results into a results folder.

    python -m harness.records.merge --artifacts DIR --results results/

DIR is what download-artifact leaves (with merge-multiple, or one folder per
artifact): ``<kind>/raw/<cell-id>.json``, where kind is ``cpu`` (hosted
runners; CUDA cases are skip) or ``gpu`` (a runner with CUDA). A record
replaces the older record of the same cell and kind; cells this run did not
touch keep theirs. CPU records go where ``nox -s matrix`` writes them
(``raw/<cell-id>.json``), CUDA-runner records beside them in ``raw/gpu/``, and
``results.read_cells`` takes each device's cases from one of the two, so both
survive and no case is counted twice.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import HarnessError, OptionParser, command
from . import store

KINDS = {"cpu": Path(), "gpu": Path(store.GPU_DIR)}  # runner kind -> folder under results/raw


def find_records(artifacts: Path) -> dict[tuple[str, str], tuple[Path, str]]:
    """{(kind, cell id): (file, text)} for every raw record in the downloaded artifacts, checked."""
    if not artifacts.is_dir():
        raise HarnessError(f"no artifacts folder {artifacts}: download the shards' raw-* artifacts there first")
    records = {}
    for path in sorted(artifacts.rglob("*.json")):
        parts = path.relative_to(artifacts).parts
        if len(parts) < 3 or parts[-2] != store.RAW_DIR or parts[-3] not in KINDS:
            raise HarnessError(f"{path} is not where a shard puts a record: expected <cpu|gpu>/raw/<cell-id>.json")
        kind, cell = parts[-3], path.stem
        text = path.read_text(encoding="utf-8")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise HarnessError(f"{path} is not a valid result file ({exc})") from None
        if store.upgrade(document, path).id != cell:
            raise HarnessError(f"{path} does not hold the cases of cell {cell}")
        if (kind, cell) in records:
            raise HarnessError(f"two {kind} records of {cell}: {records[(kind, cell)][0]} and {path}")
        records[(kind, cell)] = (path, text)
    if not records:
        raise HarnessError(f"no shard results in {artifacts} (expected <cpu|gpu>/raw/<cell-id>.json): "
                           "did every cell job fail before uploading?")
    return records


def merge(artifacts: Path, results: Path) -> dict:
    """Write every record of this run into results/raw; return what was replaced, added and kept."""
    records = find_records(artifacts)
    raw = store.raw_dir(results)
    before = {(kind, p.stem) for kind, folder in KINDS.items() for p in (raw / folder).glob("*.json")}
    for (kind, cell), (_, text) in sorted(records.items()):
        store.write_atomic(raw / KINDS[kind] / f"{cell}.json", text)
    return {
        "replaced": sorted(key for key in records if key in before),
        "added": sorted(key for key in records if key not in before),
        "kept": sorted(before - set(records)),
    }


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.records.merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=Path, required=True, help="the downloaded shard artifacts")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder (default: results/)")
    args = parser.parse_args(argv)
    done = merge(args.artifacts, args.results)
    kinds = {kind: sum(1 for k, _ in done["replaced"] + done["added"] if k == kind) for kind in KINDS}
    print(f"merged {len(done['replaced']) + len(done['added'])} records "
          f"({', '.join(f'{n} {kind}' for kind, n in kinds.items() if n)}) into {store.raw_dir(args.results)}: "
          f"{len(done['replaced'])} replaced, {len(done['added'])} new; "
          f"{len(done['kept'])} records of cells not in this run kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
