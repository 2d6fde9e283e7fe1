"""Wheel build hook: the published table goes into the wheel, compressed, with its date.

matrix.json is generated, not kept in git, so the hook builds it here from results/raw (and results/bisect) with the
harness's own report code, exactly as `nox -s report` does, and ships it xz-compressed (about 70 KB for 3 MB) as
torch_shap_matrix/publish/bundled/matrix.json.xz beside about.json (date of the newest run, cells).  The installed
command then answers offline with no pandas; the raw records stay in the repository.
"""
from __future__ import annotations

import json
import lzma
import shutil
import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLED = "torch_shap_matrix/publish/bundled"


class BundleResults(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        root = Path(self.root)
        self.work = Path(tempfile.mkdtemp(prefix="torch-shap-matrix-build-"))
        results = self.work / "results"
        for part in ("raw", "bisect"):
            if (root / "results" / part).is_dir():
                shutil.copytree(root / "results" / part, results / part)
        records = [json.loads(p.read_text()) for p in (results / "raw").glob("*.json")]
        if not records:
            raise RuntimeError(f"no raw results under {root / 'results' / 'raw'}: nothing to bundle")
        sys.path.insert(0, str(root))
        try:
            from harness.publish import report  # the same code as `nox -s report`; pandas is a hook dependency
            report.write(results)
        finally:
            sys.path.remove(str(root))
        packed = self.work / "matrix.json.xz"
        packed.write_bytes(lzma.compress((results / "matrix.json").read_bytes(), preset=9))
        about = self.work / "about.json"
        dates = sorted(r["run"]["date"] for r in records)
        about.write_text(json.dumps({"date": dates[-1][:10], "first_run": dates[0], "last_run": dates[-1],
                                     "cells": len(records)}, indent=1) + "\n")
        build_data["force_include"][str(packed)] = f"{BUNDLED}/matrix.json.xz"
        build_data["force_include"][str(about)] = f"{BUNDLED}/about.json"

    def finalize(self, version, build_data, artifact_path):
        shutil.rmtree(self.work, ignore_errors=True)
