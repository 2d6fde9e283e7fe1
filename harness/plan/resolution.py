"""What an install resolves to: ``uv pip compile`` for a cell today, and ``name==version`` pins as a dict.

A cell's reuse key names every package it would install, so the plan asks uv
what a fresh install resolves to without installing anything.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def python_version(interpreter: str) -> str:
    """The interpreter's full version (3.11.7), asked of the interpreter."""
    out = subprocess.run([interpreter, "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def constraint_args(lines: list[str], folder: Path) -> list[str]:
    """uv's ``--constraint FILE`` for a cell's constraint lines, written into ``folder`` (none: no arguments)."""
    if not lines:
        return []
    path = Path(folder) / "constraints.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return ["--constraint", str(path)]


def resolve(cell) -> dict[str, str] | None:
    """What a fresh ``uv pip install torch==X shap==Y`` (with the cell's constraints) installs today; None: fails."""
    requirements = f"torch=={cell.torch}\nshap=={cell.shap}\n"
    with tempfile.TemporaryDirectory() as folder:
        extra = constraint_args(cell.constraint_lines, Path(folder))
        out = subprocess.run(["uv", "pip", "compile", "-", "--quiet", "--no-header", "--no-annotate",
                              "--python", cell.interpreter, *extra], input=requirements, capture_output=True,
                             text=True, timeout=300)
    return parse_pins(out.stdout) if out.returncode == 0 else None


def parse_pins(text: str) -> dict[str, str]:
    """``name==version`` lines (uv pip freeze or compile) as {normalized name: version}."""
    packages = {}
    for line in text.splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.strip().split("==", 1)
            packages[name.lower().replace("_", "-")] = version.split(";")[0].strip()
    return packages
