"""Reads ``grid.toml`` and expands a named grid into concrete releases."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..errors import HarnessError

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: nox itself depends on tomli there
    import tomli as tomllib

PROJECTS = ("torch", "shap")
GRID_FILE = Path(__file__).resolve().parents[2] / "grid.toml"
LATEST = re.compile(r"^latest:(\d+)$")


@dataclass
class Note:
    specifiers: dict[str, SpecifierSet]
    text: str

    def applies(self, versions: dict[str, Version]) -> bool:
        return all(versions[p] in spec for p, spec in self.specifiers.items())


@dataclass
class Constraint:
    """Requirement lines a user of some era really has (``numpy<2`` for old torch), applied with uv's --constraint.

    ``applies_to`` is the selector as written (``torch<2.3``), for the views.
    """
    specifiers: dict[str, SpecifierSet]
    requires: list[str]
    reason: str

    def applies(self, versions: dict[str, Version]) -> bool:
        return all(versions[p] in spec for p, spec in self.specifiers.items())

    @property
    def applies_to(self) -> str:
        return ", ".join(f"{p}{spec}" for p, spec in self.specifiers.items())

    def record(self) -> dict:
        return {"applies_to": self.applies_to, "requires": list(self.requires), "reason": self.reason}


@dataclass
class GridFile:
    path: Path
    floors: dict[str, Version]
    always: dict[str, list[Version]]
    grids: dict[str, dict]
    notes: list[Note] = field(default_factory=list)
    pre: dict[str, bool] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    resolved: dict[str, dict[str, list[Version]]] = field(default_factory=dict)

    def require(self, name: str) -> None:
        if name not in self.grids:
            raise HarnessError(f"unknown grid {name!r} in {self.path.name} (known: {', '.join(self.grids)})")

    def expand(self, name: str, releases) -> dict[str, list[Version]]:
        """The torch and shap releases of one named grid.

        ``releases(project, pre)`` lists the project's releases on the index,
        oldest first, with pre-releases only where the grid file asks for them.
        """
        self.require(name)
        axes = {p: self._axis(p, self.grids[name][p], releases(p, self.pre.get(p, False)), name) for p in PROJECTS}
        self.resolved[name] = axes
        return axes

    def _axis(self, project, spec, releases, grid_name) -> list[Version]:
        if not releases:
            raise HarnessError(f"the package index lists no {project} releases")
        eligible = [v for v in releases if v >= self.floors[project]]
        chosen = set(self.always[project])
        entries = [spec] if isinstance(spec, str) else spec
        for entry in entries:
            chosen |= set(_resolve(project, entry, eligible, releases))
        for version in chosen:
            if version not in releases:
                newest = releases[-1]
                raise HarnessError(f"{project} {version} (grid {grid_name!r}) is not a release on the package index "
                                   f"(newest is {newest})")
        return sorted(chosen)


def _latest_patch_per_minor(versions: list[Version]) -> list[Version]:
    latest = {}
    for v in versions:
        latest[v.release[:2]] = max(v, latest.get(v.release[:2], v))
    return sorted(latest.values())


def _resolve(project: str, entry: str, eligible: list[Version], releases: list[Version]) -> list[Version]:
    if entry == "newest":
        return [releases[-1]]
    if entry == "each-minor":
        return _latest_patch_per_minor(eligible)
    match = LATEST.match(entry)
    if match:
        return _latest_patch_per_minor(eligible)[-int(match.group(1)):]
    return [Version(entry)]


def _version(text, where: str) -> Version:
    try:
        return Version(str(text))
    except InvalidVersion:
        raise HarnessError(f"{where}: {text!r} is not a version") from None


def _check_entry(entry, where: str) -> None:
    if not isinstance(entry, str):
        raise HarnessError(f"{where}: expected a string, got {entry!r}")
    if entry in ("newest", "each-minor") or LATEST.match(entry):
        return
    _version(entry, where)


def read_toml(path: Path) -> dict:
    """The grid file as TOML data, unvalidated; a missing or malformed file is one HarnessError line."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise HarnessError(f"grid file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"{path.name} is not valid TOML: {exc}") from None


def load(path: Path = GRID_FILE) -> GridFile:
    """Parse and validate the grid file; every problem is one HarnessError line."""
    path = Path(path)
    name = path.name
    data = read_toml(path)
    unknown = set(data) - {"torch", "shap", "grids", "notes", "constraints"}
    if unknown:
        raise HarnessError(f"{name}: unknown section(s) {', '.join(sorted(unknown))}")
    floors, always, pre = {}, {}, {}
    for project in PROJECTS:
        section = data.get(project, {})
        if not isinstance(section, dict):
            raise HarnessError(f"{name}: [{project}] must be a table")
        floors[project] = _version(section.get("from", "0"), f"{name} [{project}] from")
        pins = section.get("always", [])
        if not isinstance(pins, list):
            raise HarnessError(f"{name}: [{project}] always must be a list of versions")
        always[project] = [_version(v, f"{name} [{project}] always") for v in pins]
        pre[project] = section.get("pre", False)
        if not isinstance(pre[project], bool):
            raise HarnessError(f"{name}: [{project}] pre must be true or false")
    grids = data.get("grids")
    if not isinstance(grids, dict) or not grids:
        raise HarnessError(f"{name}: no [grids.NAME] table defined")
    for grid_name, grid in grids.items():
        if not isinstance(grid, dict):
            raise HarnessError(f"{name}: [grids.{grid_name}] must be a table")
        for project in PROJECTS:
            if project not in grid:
                raise HarnessError(f"{name}: [grids.{grid_name}] has no {project} entry")
            spec = grid[project]
            for entry in spec if isinstance(spec, list) else [spec]:
                _check_entry(entry, f"{name} [grids.{grid_name}] {project}")
    notes = []
    for i, raw in enumerate(data.get("notes", [])):
        if not isinstance(raw, dict) or "text" not in raw:
            raise HarnessError(f"{name}: [[notes]] entry {i + 1} needs a text")
        try:
            specs = {p: SpecifierSet(raw[p]) for p in PROJECTS if p in raw}
        except InvalidSpecifier as exc:
            raise HarnessError(f"{name}: [[notes]] entry {i + 1}: {exc}") from None
        notes.append(Note(specs, raw["text"]))
    constraints = [_constraint(raw, f"{name}: [[constraints]] entry {i + 1}")
                   for i, raw in enumerate(data.get("constraints", []))]
    return GridFile(path, floors, always, grids, notes, pre, constraints)


def _constraint(raw, where: str) -> Constraint:
    """One [[constraints]] entry: a selector (torch/shap specifiers), requirement lines and a reason."""
    if not isinstance(raw, dict):
        raise HarnessError(f"{where} must be a table")
    unknown = set(raw) - {*PROJECTS, "requires", "reason"}
    if unknown:
        raise HarnessError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: torch, shap, requires, reason)")
    selector = {p: raw[p] for p in PROJECTS if p in raw}
    if not selector:
        raise HarnessError(f"{where} selects no cells: give torch = \"<2.3\" and/or shap = \"<0.45\"")
    specifiers = {}
    for project, text in selector.items():
        try:
            specifiers[project] = SpecifierSet(text) if isinstance(text, str) else None
        except InvalidSpecifier:
            specifiers[project] = None
        if not specifiers[project]:
            raise HarnessError(f"{where}: {project} = {text!r} is not a version specifier such as \"<2.3\"")
    requires = raw.get("requires")
    if isinstance(requires, str):
        requires = [requires]
    if not isinstance(requires, list) or not requires or not all(isinstance(r, str) for r in requires):
        raise HarnessError(f"{where}: requires must be a list of requirement lines such as [\"numpy<2\"]")
    for line in requires:
        try:
            Requirement(line)
        except InvalidRequirement:
            raise HarnessError(f"{where}: {line!r} is not a requirement line such as \"numpy<2\"") from None
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise HarnessError(f"{where} needs a reason: say why users of those releases have {', '.join(requires)}")
    return Constraint(specifiers, list(requires), reason.strip())
