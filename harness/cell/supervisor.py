"""Runs every case of a cell through a worker process, surviving crashes and hangs.

The worker imports torch and shap once and serves cases one by one.  When a
case kills the worker (signal, exit) or hangs past the timeout, that case is
recorded as ``crash`` or ``timeout`` and a fresh worker takes the next case.
Workers are fresh interpreters (exec, never a bare fork), since CUDA is not
fork-safe.

Usage (inside a cell's virtualenv):
    python supervisor.py --out FILE --model NAME=PATH [--model ...]
        [--explainer deep] [--device cuda] [--timeout S] [--repeats N] [--threads N] [--memory-limit GB] [--no-remedies]

A case that fails, gives wrong numbers or crashes is run again once per code
remedy that applies (remedies.py), judged by the same criteria; the verdicts
are kept in the case's record under ``remedies`` (``--no-remedies``: none).

``--device cuda`` alone (a GPU shard whose CPU cases come from a CPU runner)
records only cuda cases; for the CPU/CUDA agreement each is preceded by one
untimed CPU call of the same case (no warm repeats), which is not recorded.

Standard library only; Python 3.8+.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol as wire  # noqa: E402  (beside this script; standard library only)
import remedies  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXPLAINERS = ("deep", "gradient")
DEVICES = ("cpu", "cuda")
STDERR_TAIL_LINES = 15


def exit_description(returncode):
    if returncode is not None and returncode < 0:
        try:
            return "killed by signal %s (%d)" % (signal.Signals(-returncode).name, -returncode)
        except ValueError:
            return "killed by signal %d" % -returncode
    return "exited with code %s" % returncode


class WorkerProcess(object):
    """One worker interpreter, with a reader thread so reads can time out."""

    def __init__(self, threads, memory_limit=0):
        self.stderr = tempfile.TemporaryFile(mode="w+b")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker.py"), str(threads), str(memory_limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        self.replies = queue.Queue()
        thread = threading.Thread(target=self._read, daemon=True)
        thread.start()

    def _read(self):
        for line in self.process.stdout:
            message = wire.decode(line)
            if message is not None:
                self.replies.put(message)
        self.replies.put(None)

    def send(self, message):
        try:
            self.process.stdin.write(wire.encode(message).encode())
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def receive(self, timeout):
        """The next reply; 'timeout' when none came in time; None when the worker died."""
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            return "timeout"

    def stderr_tail(self):
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return [line[:300] for line in lines[-STDERR_TAIL_LINES:]]

    def death(self):
        """Evidence for a worker that went away: how it ended and what it said."""
        try:
            returncode = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            returncode = self.process.wait()
        return {"returncode": returncode, "exit": exit_description(returncode), "stderr_tail": self.stderr_tail()}

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


def compare_devices(cpu, cuda):
    """Max difference between the devices' attributions (numpy is in every cell; imported only with CUDA)."""
    import oracles  # beside this script, so already on sys.path
    return oracles.device_agreement(cpu, cuda)


def compact_remedy(name, result, seconds):
    """What a remedy's run showed: its verdict and the evidence a reader needs, not the whole record."""
    kept = {"remedy": name, "outcome": result.get("outcome"), "seconds": round(seconds, 3)}
    if result.get("explainer"):  # the explainer the remedy ran (GradientExplainer instead of DeepExplainer)
        kept["explainer"] = result["explainer"]
    if result.get("reason"):
        kept["reason"] = result["reason"]
    error = result.get("error") or (result.get("shap_check") if result.get("outcome") == "mismatch" else None)
    if error:
        kept["error"] = {k: error.get(k) for k in ("type", "message", "frame")}
    if result.get("shap_check"):
        kept["shap_check"] = True
    if result.get("additivity"):
        kept["additivity"] = {k: result["additivity"].get(k) for k in ("ok", "metric", "error", "tolerance")}
    if result.get("oracles"):
        kept["oracles"] = {k: v.get("ok") for k, v in result["oracles"].items()}
    if result.get("crash"):
        kept["crash"] = {"exit": result["crash"].get("exit")}
    return kept


def plan_cases(models, explainers, devices):
    """Every case in order; with cuda but not cpu, a cpu reference (for device agreement) before each cuda case."""
    planned = []
    for name, path in models:
        for e in explainers:
            if "cuda" in devices and "cpu" not in devices:
                planned.append({"model": name, "path": path, "explainer": e, "device": "cpu", "reference": True})
            planned += [{"model": name, "path": path, "explainer": e, "device": d} for d in DEVICES if d in devices]
    return planned


class Supervisor(object):
    def __init__(self, threads, timeout, import_timeout, memory_limit=0, try_remedies=True):
        self.threads, self.timeout, self.import_timeout = threads, timeout, import_timeout
        self.memory_limit = memory_limit
        self.remedies = try_remedies
        self.worker = None
        self.hello = None
        self.worker_starts = 0

    def start_worker(self):
        """Start a worker and wait for its hello (import results)."""
        self.worker = WorkerProcess(self.threads, self.memory_limit)
        self.worker_starts += 1
        hello = self.worker.receive(self.import_timeout)
        if isinstance(hello, dict):
            return hello
        if hello == "timeout":
            self.worker.stop()
            return {"import_error": {"type": "Timeout", "message": "importing torch and shap took over %ss" % self.import_timeout}}
        return {"import_error": dict({"type": "Crash", "message": "the worker died while importing"}, **self.worker.death())}

    def run(self, cases, repeats):
        records = []
        kept = {}  # (model, explainer) -> {device: attributions}, for the CPU/CUDA comparison
        for case in cases:
            base = dict(model=case["model"], explainer=case["explainer"], device=case["device"])
            if case.get("reference"):
                if self.worker is None:
                    self.hello = self.start_worker()
                if not self.hello.get("cuda_available"):
                    continue  # no cuda case will run, so nothing to compare with
            started = time.perf_counter()
            # attributions cross the pipe only where a CPU/CUDA comparison can follow (or before the first hello)
            both_devices = self.hello is None or bool(self.hello.get("cuda_available"))
            sent = {k: v for k, v in case.items() if k != "reference"}
            record = self.run_case(wire.case_message(sent, repeats=0 if case.get("reference") else repeats,
                                                     keep_attributions=both_devices))
            record.update(base, seconds=round(time.perf_counter() - started, 4))
            attributions = record.pop("attributions", None)
            if attributions is not None:
                pair = kept.setdefault((case["model"], case["explainer"]), {})
                pair[case["device"]] = attributions
                if len(pair) == 2:
                    record["device_agreement"] = compare_devices(pair["cpu"], pair["cuda"])
            if not case.get("reference"):
                if self.remedies and record.get("outcome") in remedies.NEEDS_REMEDY:
                    record["remedies"] = self.try_remedies(case, repeats)
                records.append(record)
        if self.worker is not None:
            self.worker.stop()
        return records

    def try_remedies(self, case, repeats):
        """The same case once per applicable code remedy, judged by the same criteria; compact evidence."""
        tried = []
        for name in remedies.applicable(case):
            started = time.perf_counter()
            # a gradient run needs its replicates (the worker raises 1 to them); deep needs no warm timing
            result = self.run_case(wire.case_message(case, remedy=name, repeats=min(repeats, 1),
                                                     keep_attributions=False))
            tried.append(compact_remedy(name, result, time.perf_counter() - started))
        return tried

    def run_case(self, case):
        if self.worker is None:
            self.hello = self.start_worker()
        if "import_error" in self.hello:
            self.worker = self.worker if self.worker and self.worker.process.poll() is None else None
            return {"outcome": "import-error", "error": self.hello["import_error"]}
        if case["device"] == "cuda" and not self.hello.get("cuda_available"):
            return {"outcome": "skip", "reason": "torch.cuda.is_available() is False on this host"}
        if not self.worker.send(case):
            reply = None
        else:
            reply = self.worker.receive(self.timeout)
        if isinstance(reply, dict):
            return reply
        if reply == "timeout":
            self.worker.stop()
            self.worker = None
            return {"outcome": "timeout", "reason": "no result within %ss; the worker was killed" % self.timeout}
        evidence = self.worker.death()
        self.worker.stop()
        self.worker = None
        return {"outcome": "crash", "crash": evidence}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="where to write the cell's raw JSON")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                        help="a model module to run (repeatable)")
    parser.add_argument("--explainer", action="append", choices=EXPLAINERS)
    parser.add_argument("--device", action="append", choices=DEVICES,
                        help="run only this device's cases (repeatable; default: both)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--import-timeout", type=float, default=600.0)
    parser.add_argument("--repeats", type=int, default=3, help="warm repeats per case")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--memory-limit", type=float, default=0, metavar="GB",
                        help="cap each worker's address space (0: no cap)")
    parser.add_argument("--no-remedies", action="store_true",
                        help="do not re-run failing cases with the code remedies of remedies.py")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    models = [tuple(m.split("=", 1)) for m in args.model]
    cases = plan_cases(models, args.explainer or list(EXPLAINERS), args.device or list(DEVICES))
    supervisor = Supervisor(args.threads, args.timeout, args.import_timeout, int(args.memory_limit * 1024 ** 3),
                            not args.no_remedies)
    started = time.perf_counter()
    records = supervisor.run(cases, args.repeats)
    hello = dict(supervisor.hello or {})
    hello.pop("type", None)
    result = {"environment": hello, "worker_starts": supervisor.worker_starts,
              "seconds": round(time.perf_counter() - started, 3), "cases": records}
    tmp = args.out + ".part"
    with open(tmp, "w") as handle:
        json.dump(result, handle)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
