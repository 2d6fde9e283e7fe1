"""The real CUDA records of tests/fixtures/gpu/ as the cell documents harness.run.supplied writes.

Those files are the supervisor's raw output from an H200 with no network (see their README): the host,
packages and date below are what that README and the records themselves say, and the document is built by
harness.run.supplied.build_document, the code that writes a supplied environment's record.
"""
import json
from pathlib import Path

from harness.plan import suite
from harness.records import store
from harness.run import supplied

GPU = Path(__file__).parent / "fixtures" / "gpu"
VERSIONS = ("0.46.0", "0.49.1", "0.54.1")
LABEL = "h200"


def document(shap: str) -> dict:
    cases = json.loads((GPU / f"shap-{shap}.json").read_text())
    env = cases["environment"]
    reference = json.loads((GPU / "shap-0.54.1.json").read_text())["environment"]  # 0.46.0's import failed
    python = "/opt/env/bin/python"
    found = {"python": reference["python"], "prefix": "/opt/env", "platform": reference["platform"],
             "packages": dict(reference["versions"], shap=shap)}  # torch, numpy and the shap of this record
    options = supplied.SuppliedOptions(timeout=60.0, threads=4)
    models = suite.select(sorted({c["model"] for c in cases["cases"]}))
    run = {"date": "2026-11-29T21:40:00+00:00", "harness_commit": "0a309d31c48b",
           "host": {"name": "h200-node", "platform": reference["platform"], "machine": "x86_64",
                    "cpu_model": env.get("cpu_model") or reference["cpu_model"], "cpu_count": reference["cpu_count"]}}
    fingerprint = {"devices": "cpu+cuda:GPU 0: NVIDIA H200",
                   "gpus": [(GPU / "nvidia.txt").read_text().splitlines()[1].strip()]}
    return supplied.build_document(found, python, LABEL, options, models, cases, cases["seconds"], run=run,
                                   gpu_fingerprint=fingerprint)


def write(results: Path, versions=VERSIONS, folder: str = "") -> list[Path]:
    """Write the records as raw results (under raw/ or raw/<folder>/) of a results folder."""
    paths = []
    for shap in versions:
        doc = document(shap)
        path = store.raw_dir(results) / folder / f"{doc['cell']['id']}.json"
        store.write_atomic(path, json.dumps(doc, indent=1, sort_keys=True))
        paths.append(path)
    return paths
