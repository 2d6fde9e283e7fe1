"""Who produced a result: harness commit, date, a fingerprint of the host and its devices."""
from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import platform
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def harness_commit() -> str:
    """The checkout's commit, with "+dirty" when tracked files differ from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        # results/ changes during every run; only the code and models make a checkout dirty
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


MACHINE_TOKEN = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "torch-shap-matrix" / "machine"


def machine_id() -> str:
    """An identifier of this machine that other machines do not share, for the reuse key.

    Host names and CPU models repeat across cloud machines (many are called ``vm``), and
    cloned images share /etc/machine-id, so a random token made on this machine's first run
    (kept outside the checkout, in ~/.local/state) is mixed in: a fresh machine never matches.
    ``MATRIX_MACHINE_ID`` overrides it (the fleet's runners, tests).
    """
    if os.environ.get("MATRIX_MACHINE_ID"):
        return os.environ["MATRIX_MACHINE_ID"]
    parts = []
    for path in (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id")):
        try:
            parts.append(path.read_text().strip())
            break
        except OSError:
            continue
    try:
        if not MACHINE_TOKEN.exists():
            MACHINE_TOKEN.parent.mkdir(parents=True, exist_ok=True)
            MACHINE_TOKEN.write_text(secrets.token_hex(16) + "\n")
        parts.append(MACHINE_TOKEN.read_text().strip())
    except OSError:  # no writable home: the machine id alone
        pass
    return hashlib.sha256("/".join(parts or [platform.node()]).encode()).hexdigest()[:16]


def host() -> dict:
    return {
        "name": os.environ.get("MATRIX_HOST_NAME") or platform.node(),
        "machine_id": machine_id(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
    }


def run_metadata() -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "harness_commit": harness_commit(),
        "host": host(),
    }


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
