"""The fleet's last step (nox -s publish): merge the shards' raw results, report, diff, build the page.

Each step is its own module run with ``python -m`` in the publish session's
virtualenv (pandas and jinja2 live there, not in nox's process), under the
results lock so no matrix run writes the folder meanwhile.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..records.lock import hold_lock


def publish(session, options: argparse.Namespace, requirements: list[str]) -> None:
    """``options``: --artifacts, --results and --description, parsed by harness.run.options.parse_publish."""
    results = str(options.results)
    hold_lock(options.results)
    session.install(*requirements)
    previous = str(Path(session.create_tmp()) / "previous-snapshot.json")
    session.run("python", "-m", "harness.publish.diff", "snapshot", "--results", results, "--out", previous)
    session.run("python", "-m", "harness.records.merge", "--artifacts", str(options.artifacts), "--results", results)
    session.run("python", "-m", "harness.publish.report", "--results", results)
    described = ["--description", options.description] if options.description else []
    session.run("python", "-m", "harness.publish.diff", "compare", "--previous", previous, "--results", results,
                *described)
    session.run("python", "-m", "harness.publish.page", "--results", results,
                "--diff", str(options.results / "diff.json"), "--out", str(options.results / "site"))
