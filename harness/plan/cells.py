"""The cells of the matrix: which (torch, shap) pairs, with which Python, under which names.

Everything nox needs to list the cells comes from here, so that `nox -l`, the
workflow's job matrix and the matrix session agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from packaging.version import Version

from . import grid as gridfile
from . import pythons
from .index import PackageIndex


def token(version: Version) -> str:
    """An identifier-friendly version: 2.4.1 -> 2_4_1 (for -k and -t)."""
    return str(version).replace(".", "_").replace("+", "_").replace("-", "_")


def session_name(cell_id: str) -> str:
    """The nox session of a cell: the parametrized session ``cell`` with the cell's id as its parameter id
    (nox keeps its virtualenv in .nox/cell-<id>)."""
    return f"cell({cell_id})"


@dataclass
class Cell:
    torch: Version
    shap: Version
    python: str | None
    python_reason: str
    interpreter: str | None = None
    grids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    constraints: list[gridfile.Constraint] = field(default_factory=list)
    grid_axes: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return f"torch_{token(self.torch)}-shap_{token(self.shap)}"

    @property
    def session(self) -> str:
        return session_name(self.id)

    @property
    def constraint_lines(self) -> list[str]:
        """The requirement lines uv gets as --constraint for this cell (empty: none)."""
        return list(dict.fromkeys(line for c in self.constraints for line in c.requires))

    @property
    def tags(self) -> list[str]:
        t, s = self.torch, self.shap
        tags = ["cell", f"torch_{token(t)}", f"torch_{t.major}_{t.minor}", f"shap_{token(s)}",
                f"shap_{s.major}_{s.minor}"]
        tags.append(f"py{self.python.replace('.', '_')}" if self.python else "na")
        tags += [f"grid_{g}" for g in self.grids]
        return tags


def plan(grid_path=gridfile.GRID_FILE, index: PackageIndex | None = None,
         on_machine: dict[str, str] | None = None) -> tuple[gridfile.GridFile, list[Cell]]:
    """Every cell of every named grid, torch-major so each torch is downloaded once."""
    grid = gridfile.load(grid_path)
    index = index or PackageIndex()
    on_machine = pythons.available() if on_machine is None else on_machine
    tags = pythons.compatible_tags()
    cells: dict[tuple, Cell] = {}
    for name in grid.grids:
        axes = grid.expand(name, index.releases)
        for t in axes["torch"]:
            for s in axes["shap"]:
                if (t, s) not in cells:
                    python, reason = pythons.choose(
                        str(t), index.supported_pythons("torch", t, tags),
                        str(s), index.supported_pythons("shap", s, tags), on_machine)
                    versions = {"torch": t, "shap": s}
                    notes = [n.text for n in grid.notes if n.applies(versions)]
                    constraints = [c for c in grid.constraints if c.applies(versions)]
                    cells[(t, s)] = Cell(t, s, python, reason, on_machine.get(python), notes=notes,
                                         constraints=constraints)
                cells[(t, s)].grids.append(name)
                cells[(t, s)].grid_axes[name] = axes
    return grid, [cells[key] for key in sorted(cells)]
