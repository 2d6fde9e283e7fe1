"""Run the project's real noxfile in a subprocess, as a user would."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def nox(*args, envdir, env=None, timeout=1800):
    """``nox -f noxfile.py --envdir ENVDIR ARGS``; returns the completed process (text output)."""
    command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--envdir", str(envdir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, **(env or {})),
                          cwd=ROOT)
