"""The benchmark's floor: the same suite in one plain process, no isolation, no nox.

    python floor.py NAME=PATH [NAME=PATH ...]

Runs every case of the given models in this process with the worker's own
code, so the only difference from the harness is what the harness adds
(nox, a supervisor, a worker process, result files).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cell"))

from supervisor import DEVICES, EXPLAINERS, plan_cases  # noqa: E402
from worker import Worker  # noqa: E402


def main(argv):
    worker = Worker(threads=1)
    worker.import_libraries()
    models = [tuple(arg.split("=", 1)) for arg in argv]
    cuda = worker.torch.cuda.is_available()
    outcomes = {}
    for case in plan_cases(models, EXPLAINERS, DEVICES):
        if case["device"] == "cuda" and not cuda:
            continue
        outcome = worker.run_case(dict(case, repeats=3))["outcome"]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(outcomes)


if __name__ == "__main__":
    main(sys.argv[1:])
