"""Bisect: the first released version where one case's outcome changes.

    nox -s bisect -- relu_inplace/deep/cpu --axis shap --good 0.42.0 --bad 0.44.0

The grid tests a few releases; when a case changes between two of them, this
searches every release on the package index in between (binary search over
the ordered releases, the other package held fixed).  Each probe is a real
cell: the noxfile's own cell session, run on a one-cell grid, in the same
.nox/ virtualenv and uv cache a grid run would use.  Results already on disk
(the grid's results/raw, earlier probes) are reused, so a second bisect costs
nothing.  The boundary is written to results/bisect/ for the catalogue.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..analysis.signatures import signature
from ..errors import HarnessError, OptionParser, command
from ..plan import grid as gridfile
from ..plan import suite
from ..plan.cells import session_name, token
from ..plan.index import PackageIndex
from ..records import store
from ..records.model import CellRecord
from ..run.options import ROOT

FOLDER = store.BISECT_DIR
FIXED_DEFAULT = {"torch": "2.4.1"}  # the release every grid includes
UNTESTABLE = ("n/a", "install-error")


def parser() -> argparse.ArgumentParser:
    p = OptionParser(prog="nox -s bisect --",
                description="Find the first release where one case's outcome changes, by binary search over "
                            "every release on the index between --good and --bad.")
    p.add_argument("case", help="MODEL/EXPLAINER/DEVICE, e.g. relu_inplace/deep/cpu")
    p.add_argument("--axis", required=True, choices=("torch", "shap"), help="the package whose releases to search")
    p.add_argument("--good", help="one end (default: the oldest version on the axis in the grid's results)")
    p.add_argument("--bad", help="the other end (default: the newest version on the axis in the grid's results)")
    p.add_argument("--torch", help="torch release held fixed when bisecting shap (default: 2.4.1)")
    p.add_argument("--shap", help="shap release held fixed when bisecting torch (default: the newest shap in the "
                                  "grid's results)")
    p.add_argument("--results", type=Path, default=ROOT / "results",
                   help="results folder: grid results are read from it, probes and the boundary written under "
                        "its bisect/ (default: results/)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per case (default: %(default)s)")
    return p


def parse(argv) -> argparse.Namespace:
    options = parser().parse_or_help(argv)
    options.results = options.results.resolve()
    parts = options.case.split("/")
    if len(parts) != 3 or parts[1] not in suite.EXPLAINERS or parts[2] not in suite.DEVICES:
        raise HarnessError(f"bad case {options.case!r}: write MODEL/EXPLAINER/DEVICE with explainer one of "
                           f"{', '.join(suite.EXPLAINERS)} and device one of {', '.join(suite.DEVICES)}")
    suite.select([parts[0]])  # an unknown model is a one-line error
    options.model, options.explainer, options.device = parts
    for name in ("good", "bad", "torch", "shap"):
        value = getattr(options, name)
        try:
            setattr(options, name, Version(value) if value else None)
        except InvalidVersion:
            raise HarnessError(f"--{name} {value!r} is not a version") from None
    return options


def case_name(options) -> str:
    return f"{options.model}-{options.explainer}-{options.device}"


def label_of(document: CellRecord, options) -> str | None:
    """The case's outcome in a raw cell document: its signature, 'pass', or None when it did not run there."""
    if document.status in UNTESTABLE:
        return document.status
    for case in document.cases:
        if (case.model, case.explainer, case.device) == (options.model, options.explainer, options.device):
            return signature(case) or case.outcome.value
    return None


def untestable(label: str) -> bool:
    return label.startswith(UNTESTABLE) or label == "skip"


def cell_id(torch: Version, shap: Version) -> str:
    return f"torch_{token(torch)}-shap_{token(shap)}"


class Prober:
    """Outcomes of the case at (torch, shap), from results on disk or a real one-cell run."""

    def __init__(self, options):
        self.options = options
        self.probe_results = options.results / FOLDER / case_name(options)
        self.probes: list[dict] = []

    def known(self, torch: Version, shap: Version) -> tuple[str, str, str] | None:
        for source, folder in (("grid result", self.options.results), ("earlier probe", self.probe_results)):
            path = store.raw_dir(folder) / f"{cell_id(torch, shap)}.json"
            if path.exists():
                document = store.read_cell(path)
                found = label_of(document, self.options)
                if found is not None:
                    return found, document.cell.python or "", source
        return None

    def __call__(self, torch: Version, shap: Version) -> str:
        known = self.known(torch, shap)
        if known is None:
            self.run_cell(torch, shap)
            known = self.known(torch, shap)
            if known is None:
                raise HarnessError(f"the probe at torch {torch}, shap {shap} wrote no result for {self.options.case}")
            known = (known[0], known[1], "probe run now")
        label, python, source = known
        self.probes.append({"torch": str(torch), "shap": str(shap), "label": label, "python": python,
                            "source": source})
        print(f"bisect: torch {torch} x shap {shap} (Python {python or '-'}, {source}): {label}", flush=True)
        return label

    def run_cell(self, torch: Version, shap: Version) -> None:
        """The noxfile's cell session for (torch, shap): same venv, same uv cache, same supervisor.

        The probe grid is the grid file itself plus a one-cell grid, so a probe runs under the same
        [[constraints]] as a grid cell would (numpy<2 for old torch: otherwise every probe below
        torch 2.3 would only find "Numpy is not available").
        """
        import tomli_w  # the bisect session's dependency group; nox's own environment need not have it

        source = Path(os.environ.get("MATRIX_GRID_FILE") or ROOT / "grid.toml")
        with tempfile.TemporaryDirectory() as folder:
            grid = Path(folder) / "grid.toml"
            document = gridfile.read_toml(source)
            document.setdefault("grids", {})["bisect_probe"] = {
                "description": "one bisect probe", "torch": [str(torch)], "shap": [str(shap)]}
            grid.write_text(tomli_w.dumps(document))
            command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s",
                       session_name(cell_id(torch, shap)), "--", "--results", str(self.probe_results),
                       "--model", self.options.model, "--explainer", self.options.explainer,
                       "--timeout", str(self.options.timeout)]
            done = subprocess.run(command, env=dict(os.environ, MATRIX_GRID_FILE=str(grid)), cwd=ROOT)
        if done.returncode != 0:
            raise HarnessError(f"the probe cell torch {torch} x shap {shap} failed to run (nox exit "
                               f"{done.returncode}); see its output above")


def search(versions: list[Version], outcome) -> tuple[dict | None, str | None]:
    """Binary search for the first version whose outcome differs from the first one's.

    Versions that cannot be tested (no shared Python, install error) are
    stepped around, as `git bisect skip` does.
    """
    lo, hi = 0, len(versions) - 1
    labels = {lo: outcome(versions[lo]), hi: outcome(versions[hi])}
    for end in (lo, hi):
        if untestable(labels[end]):
            return None, f"{versions[end]} cannot be tested here ({labels[end]}); choose another end"
    if labels[lo] == labels[hi]:
        return None, f"same outcome at {versions[lo]} and {versions[hi]} ({labels[lo]}): nothing to bisect"
    skipped: set[int] = set()
    while hi - lo > 1:
        middle = (lo + hi) // 2
        inside = sorted((i for i in range(lo + 1, hi) if i not in skipped), key=lambda i: abs(i - middle))
        if not inside:
            return ({"last": _end(versions[lo], labels[lo]), "first": _end(versions[hi], labels[hi])},
                    f"releases between {versions[lo]} and {versions[hi]} cannot be tested here")
        middle = inside[0]
        labels[middle] = outcome(versions[middle])
        if untestable(labels[middle]):
            skipped.add(middle)
        elif labels[middle] == labels[lo]:
            lo = middle
        else:
            hi = middle
    return {"last": _end(versions[lo], labels[lo]), "first": _end(versions[hi], labels[hi])}, None


def _end(version: Version, label: str) -> dict:
    return {"version": str(version), "label": label}


def grid_versions(options, axis: str, fixed: dict) -> list[Version]:
    """Versions on ``axis`` where the grid's results have this case, the other axis as fixed."""
    found = []
    for document in store.read_cells(options.results):
        cell = document.cell
        if all(getattr(cell, k) == str(v) for k, v in fixed.items()):
            label = label_of(document, options)
            if label and not untestable(label):
                found.append(Version(getattr(cell, axis)))
    return sorted(found)


def run(options, index: PackageIndex | None = None) -> dict:
    axis = options.axis
    other = "shap" if axis == "torch" else "torch"
    fixed_version = getattr(options, other) or _default_fixed(options, other)
    fixed = {other: str(fixed_version)}
    ends = [options.good, options.bad]
    if None in ends:
        tested = grid_versions(options, axis, fixed)
        if len(tested) < 2:
            raise HarnessError(f"give --good and --bad: the results in {options.results} have fewer than two "
                               f"{axis} versions for {options.case} with {other} {fixed_version}")
        ends = [options.good or tested[0], options.bad or tested[-1]]
    low, high = sorted(ends)
    releases = (index or PackageIndex()).releases(axis)
    for end in (low, high):
        if end not in releases:
            raise HarnessError(f"{axis} {end} is not a release on the package index")
    versions = [v for v in releases if low <= v <= high]
    print(f"bisect: {options.case} along {axis} {low} .. {high} ({len(versions)} releases), {other} {fixed_version}",
          flush=True)
    prober = Prober(options)
    boundary, note = search(versions, lambda v: prober(v, fixed_version) if axis == "torch" else prober(fixed_version, v))
    record = {"schema": store.SCHEMA_VERSION, "case": options.case, "axis": axis, "fixed": fixed,
              "good": str(options.good or ends[0]), "bad": str(options.bad or ends[1]),
              "versions": [str(v) for v in versions], "versions_between": len(versions),
              "probes": prober.probes, "boundary": boundary, "note": note,
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = options.results / FOLDER / f"{case_name(options)}--{axis}--{other}_{token(fixed_version)}.json"
    store.write_atomic(path, json.dumps(record, indent=1))
    if boundary:
        print(f"bisect: boundary {axis} {boundary['last']['version']} -> {boundary['first']['version']}\n"
              f"  {boundary['last']['version']}: {boundary['last']['label']}\n"
              f"  {boundary['first']['version']}: {boundary['first']['label']}")
    if note:
        print(f"bisect: {note}")
    print(f"bisect: recorded in {path} ({len(prober.probes)} probes)")
    return record


def _default_fixed(options, other: str) -> Version:
    if other in FIXED_DEFAULT:
        return Version(FIXED_DEFAULT[other])
    tested = sorted({Version(getattr(d.cell, other)) for d in store.read_cells(options.results) if d.status == "ran"})
    if not tested:
        raise HarnessError(f"give --{other}: no grid results in {options.results} to take a {other} release from")
    return tested[-1]


@command
def main(argv=None) -> int:
    run(parse(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
