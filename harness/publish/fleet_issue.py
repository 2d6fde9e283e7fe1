"""One GitHub issue that says the scheduled fleet failed, updated while it keeps failing, closed by a clean run.

    python -m harness.publish.fleet_issue --needs needs.json [--status results/fleet-status.json] [--dry-run]

``needs.json`` is the last job's ``toJSON(needs)``: every job of the run with its
result. A job that failed (a shard, a harness error, publishing) makes the run
"not clean": the issue titled "Scheduled matrix run failed" (label
``matrix-fleet``) is opened, or updated with a comment when it is already open,
so there is never more than one. A clean run closes it. This is how xarray's
upstream-dev CI reports its nightly runs. Uses the REST API with GITHUB_TOKEN
and GITHUB_REPOSITORY, like harness.publish.regressions; ``--dry-run`` prints
the planned action as JSON.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..errors import HarnessError, OptionParser, command
from .regressions import GitHub
from ..records import store
from ..records.merge import read_status, run_link

TITLE = "Scheduled matrix run failed"
LABEL = "matrix-fleet"


def failed_jobs(needs: dict) -> dict[str, str]:
    """{job: result} of the jobs that failed (skipped ones follow from those; a superseded deploy is cancelled)."""
    if not all(isinstance(job, dict) and "result" in job for job in needs.values()):
        raise HarnessError("--needs is not GitHub's needs context: expected {job: {result, outputs}}")
    return {name: job["result"] for name, job in sorted(needs.items()) if job["result"] == "failure"}


def body_for(failed: dict[str, str], status: dict, run: str) -> str:
    """What a maintainer needs: the run, the jobs that failed, and the cells left with older results."""
    lines = [f"<!-- {LABEL} -->", f"The scheduled torch × shap matrix did not finish cleanly: {run}", "",
             "Jobs that failed:", ""] + [f"- `{job}`: {result}" for job, result in failed.items()]
    marks = status.get("not_rerun") or []
    if marks:
        lines += ["", f"Cells that kept their previous results ({len(marks)}), marked in the table and the page:", ""]
        lines += [f"- {m['kind']} {m['cell']}: {m['note']}" for m in marks[:100]]
    lines += ["", "The next clean run closes this issue."]
    return "\n".join(lines)


def plan(failed: dict[str, str], status: dict, issues: list[dict], run: str) -> dict | None:
    """The one action to take (open, update or close), or None when there is nothing to do."""
    open_issues = sorted((i for i in issues if i["state"] == "open" and i["title"] == TITLE), key=lambda i: i["number"])
    existing = open_issues[0] if open_issues else None
    if failed:
        body = body_for(failed, status, run)
        if existing:
            return {"action": "update", "number": existing["number"], "title": TITLE, "body": body}
        return {"action": "open", "title": TITLE, "body": body}
    if existing:
        return {"action": "close", "number": existing["number"], "title": TITLE,
                "comment": f"{run} finished cleanly; closing."}
    return None


def apply(client: GitHub, action: dict) -> None:
    if action["action"] == "open":
        client.ensure_label(LABEL)
        client.call("POST", "/issues", {"title": TITLE, "body": action["body"], "labels": [LABEL]})
    elif action["action"] == "update":
        client.call("POST", f"/issues/{action['number']}/comments", {"body": action["body"]})
    else:
        client.call("POST", f"/issues/{action['number']}/comments", {"body": action["comment"]})
        client.call("PATCH", f"/issues/{action['number']}", {"state": "closed", "state_reason": "completed"})


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.publish.fleet_issue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=Path, required=True, help="the run's jobs and results: toJSON(needs)")
    parser.add_argument("--status", type=Path, help="results/fleet-status.json of this run's publish, if any")
    parser.add_argument("--dry-run", action="store_true", help="print the planned action as JSON; change nothing")
    args = parser.parse_args(argv)
    failed = failed_jobs(store.read_json(args.needs, "needs context"))
    status = read_status(args.status.parent) if args.status and args.status.is_file() else {}
    token, repository = os.environ.get("GITHUB_TOKEN"), os.environ.get("GITHUB_REPOSITORY")
    if not (token and repository) and not args.dry_run:
        raise HarnessError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set (or use --dry-run)")
    client = GitHub(token, repository) if token and repository else None
    action = plan(failed, status, client.regression_issues(LABEL) if client else [], run_link())
    if args.dry_run or action is None:
        print(json.dumps(action, indent=1, ensure_ascii=False) if args.dry_run else "no failure issue to change")
        return 0
    apply(client, action)
    print(f"{action['action']}: {TITLE}" + (f" (#{action['number']})" if "number" in action else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
