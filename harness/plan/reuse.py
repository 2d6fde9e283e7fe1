"""When a cell's earlier result still holds, and the lock that keeps two runs apart.

A result is keyed by what determines it: the resolved environment (every
package ``uv pip compile`` would install today, and the interpreter's full
version), the suite's content (the selected models and the cell runner), the
devices of this host and the run settings.  ``nox -s matrix`` re-runs only
the cells whose key changed or whose result is missing, so an interrupted or
repeated matrix costs only what is left to do.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.errors import HarnessError
from harness.plan import hostinfo
from harness.records import store
from harness.records.model import CellRecord

CELL_CODE = Path(__file__).resolve().parents[1] / "cell"
_LOCKS: dict[Path, int] = {}


def suite_hash(models: dict[str, Path]) -> str:
    """A digest of the selected model files and of the code that runs them."""
    digest = hashlib.sha256()
    for path in sorted(CELL_CODE.glob("*.py")) + [models[name] for name in sorted(models)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def host_devices() -> str:
    """'cpu', or 'cpu+cuda:<GPU names>' when nvidia-smi lists GPUs (torch is not imported here)."""
    if not shutil.which("nvidia-smi"):
        return "cpu"
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return "cpu"
    gpus = [line.split(" (UUID")[0] for line in out.stdout.splitlines() if line.startswith("GPU ")]
    return "cpu+cuda:" + ";".join(gpus) if out.returncode == 0 and gpus else "cpu"


def python_version(interpreter: str) -> str:
    out = subprocess.run([interpreter, "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def settings(options, models: dict[str, Path]) -> dict:
    chosen = {"models": sorted(models), "explainers": sorted(options.explainer or ["deep", "gradient"]),
              "repeats": int(options.repeats), "timeout": float(options.timeout), "threads": int(options.threads),
              "memory_limit": float(options.memory_limit)}  # typed, so 0 and 0.0 hash alike
    if getattr(options, "device", None):  # only when narrowed, so earlier keys of both-device runs still hold
        chosen["devices"] = sorted(set(options.device))
    return chosen


def key_parts(packages: dict[str, str], python: str, models: dict[str, Path], options, devices: str,
              constraints: list[str] = ()) -> dict:
    """Everything a cell's result depends on; results from another host never count as this host's."""
    host = hostinfo.host()
    return {"packages": dict(sorted(packages.items())), "python": python, "suite": suite_hash(models),
            "devices": devices, "host": f"{host['name']} ({host['cpu_model']}, {host['machine']}, id {host['machine_id']})",
            "settings": settings(options, models), "constraints": list(constraints)}


def key(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


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


def previous(results: Path, cell) -> CellRecord | None:
    """The cell's earlier raw result, if there is a readable one of this schema."""
    return store.earlier_cell(store.raw_dir(results) / f"{cell.id}.json")


def plan_reuse(cells, results: Path, options, models: dict[str, Path]) -> tuple[list, list]:
    """Split runnable cells into (reused, to_run); resolves candidates in parallel."""
    devices, suite, wanted = host_devices(), suite_hash(models), settings(options, models)
    candidates = []
    for cell in cells:
        record = previous(results, cell) if cell.python else None
        parts = record.reuse.get("parts") if record else None
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
        parts = key_parts(packages, versions[cell.interpreter], models, options, devices, cell.constraint_lines)
        if key(parts) == record.reuse.get("key"):
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


def hold_lock(results: Path) -> None:
    """Take this process's exclusive lock on a results folder, or stop with who holds it.

    The lock lives as long as the nox process, so every session of one run
    shares it and a second run on the same folder stops instead of mixing in.
    The matrix's cell processes inherit the same lock (see ``inherited_lock``).
    """
    results = Path(results).resolve()
    if results in _LOCKS:
        return
    results.mkdir(parents=True, exist_ok=True)
    inherited = inherited_lock(results)
    if inherited is not None:
        _LOCKS[results] = inherited
        return
    fd = os.open(results / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 100).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise HarnessError(f"another matrix run ({holder}) is writing {results}; wait for it to finish "
                           "or use --results elsewhere") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}".encode())
    _LOCKS[results] = fd


def held_lock(results: Path) -> int:
    """The descriptor of the lock this process holds on ``results`` (hold_lock first)."""
    return _LOCKS[Path(results).resolve()]


LOCK_FD = "MATRIX_LOCK_FD"  # set by the matrix for the cell processes it starts (harness/run/parallel.py)


def inherited_lock(results: Path) -> int | None:
    """The lock's descriptor, when this process inherited the matrix's own hold on ``results/.lock``.

    flock belongs to an open file description, which a child shares with the
    parent that passed it the descriptor: the lock is then held until the last of
    them exits, so cells started by the matrix write under its lock, and cells
    left running after the matrix is killed still keep a second run out.  A
    stray variable cannot open the lock: the descriptor must be that very file
    and re-taking the lock through it must succeed.
    """
    try:
        fd = int(os.environ[LOCK_FD])
        mine, lock = os.fstat(fd), os.stat(results / ".lock")
    except (KeyError, ValueError, OSError):
        return None
    if (mine.st_dev, mine.st_ino) != (lock.st_dev, lock.st_ino):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    return fd
