"""Which Python each cell uses: the newest one on this machine that both releases ship wheels for."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

from packaging import tags

CANDIDATES = [f"3.{minor}" for minor in range(8, 15)]


def _runs_as(executable: str, version: str) -> bool:
    """Whether the file really is a working interpreter of that version (pyenv shims may not be)."""
    try:
        out = subprocess.run([executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def _find(version: str) -> str | None:
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")),
                         reverse=True)
    for candidate in candidates:
        if candidate and _runs_as(candidate, version):
            return candidate
    return None


def available() -> dict[str, str]:
    """The working "3.x" interpreters on this machine, oldest first, with their paths.

    Looks on PATH (pythonX.Y) and in pyenv's versions folder; every candidate
    is run once, so a shim that only prints "command not found" is skipped.
    """
    with ThreadPoolExecutor(max_workers=len(CANDIDATES)) as pool:
        found = dict(zip(CANDIDATES, pool.map(_find, CANDIDATES)))
    return {v: path for v, path in found.items() if path}


def compatible_tags(versions=CANDIDATES) -> dict[str, set[str]]:
    """For each "3.x", the wheel tags a CPython of that version accepts on this platform."""
    platforms = list(tags.platform_tags())
    result = {}
    for version in versions:
        major_minor = tuple(int(p) for p in version.split("."))
        accepted = set(tags.cpython_tags(major_minor, platforms=platforms))
        accepted |= set(tags.compatible_tags(major_minor, platforms=platforms))
        result[version] = {str(t) for t in accepted}
    return result


def _span(versions: set[str]) -> str:
    ordered = sorted(versions, key=lambda v: tuple(map(int, v.split("."))))
    if not ordered:
        return "no Python"
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}-{ordered[-1]}"


def choose(torch: str, torch_pythons: set[str], shap: str, shap_pythons: set[str],
           on_machine) -> tuple[str | None, str]:
    """(python, reason): the newest common interpreter, or None and why not."""
    common = torch_pythons & shap_pythons
    usable = [v for v in on_machine if v in common]
    if usable:
        best = max(usable, key=lambda v: tuple(map(int, v.split("."))))
        return best, f"newest Python on this machine with wheels of both (torch {_span(torch_pythons)}, shap {_span(shap_pythons)})"
    if not torch_pythons:
        return None, f"no torch {torch} wheel for this platform"
    if not shap_pythons:
        return None, f"no shap {shap} wheel for this platform"
    if not common:
        return None, (f"no Python has wheels of both: torch {torch} covers {_span(torch_pythons)}, "
                      f"shap {shap} covers {_span(shap_pythons)}")
    return None, f"torch {torch} and shap {shap} share wheels only for {_span(common)}, not on this machine"
