"""Run the project's real noxfile in a subprocess, as a user would."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def command(args, envdir):
    return [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--envdir", str(envdir), *args]


def nox(*args, envdir, env=None, timeout=1800):
    """``nox -f noxfile.py --envdir ENVDIR ARGS``; returns the completed process (text output)."""
    return subprocess.run(command(args, envdir), capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})), cwd=ROOT)


def nox_in_background(*args, envdir, env=None, new_session=False):
    """The same, started and not waited for (in its own process group when asked, to be killed whole)."""
    return subprocess.Popen(command(args, envdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})), cwd=ROOT, start_new_session=new_session)
