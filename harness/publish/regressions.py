"""One GitHub issue per failure signature that the fleet newly broke, closed when it is gone.

    python -m harness.publish.regressions --diff results/diff.json --matrix results/matrix.json [--dry-run]

For each signature in diff.json's ``newly_broken`` it opens an issue titled
"Matrix regression: <signature>", or updates (and reopens) the issue of that
title; it closes such issues whose signature no case of matrix.json shows any
more. Issues are found by their stable title among those labelled
``matrix-regression``. Uses the REST API with GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_SERVER_URL and GITHUB_RUN_ID; ``--dry-run`` prints the planned actions
as JSON and changes nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tabulate import tabulate

from . import reproducers
from ..records import store
from ..records.merge import run_link
from ..errors import HarnessError, OptionParser, command
from ..plan.cells import session_name

PREFIX = "Matrix regression: "
LABEL = "matrix-regression"
TITLE_MAX = 256  # GitHub's limit on an issue title
BODY_MAX = 65_000  # GitHub refuses an issue body over 65,536 characters
LISTED_CASES = 200  # case rows shown in one issue; the rest are counted
LISTED_COMMANDS = 10  # reproducer commands shown, one per cell
API = os.environ.get("GITHUB_API_URL", "https://api.github.com")


def title_for(signature: str) -> str:
    """A stable title; a signature too long for one is cut and tagged with its hash, so titles stay unique."""
    title = PREFIX + signature
    if len(title) <= TITLE_MAX:
        return title
    tag = f"… [{hashlib.sha256(signature.encode()).hexdigest()[:10]}]"
    return title[:TITLE_MAX - len(tag)] + tag


def reproducer(case: dict) -> str:
    """The command that re-runs one case in the harness: its cell session, for its model and explainer."""
    return f"nox -s '{session_name(case['cell'])}' -- --model {case['model']} --explainer {case['explainer']}"


def cap(text: str, limit: int = BODY_MAX) -> str:
    """Cut an issue body at a line boundary to fit GitHub's limit, saying so."""
    if len(text) <= limit:
        return text
    note = "\n\n… truncated to fit GitHub's issue size limit; the run's results/matrix.csv has every case.\n"
    head = text[:limit - len(note)]
    return head[:head.rfind("\n") if "\n" in head else len(head)] + note


def body_for(signature: str, broken: list[dict], cases: list[dict], diff: dict, run_url: str) -> str:
    """What a maintainer needs: the run, the newly broken cases, every case with the signature, how to reproduce."""
    same = [c for c in cases if c.get("signature") == signature]
    lines = [f"<!-- {LABEL} -->",
             "The scheduled torch × shap matrix found cases failing with a signature they did not have before.", "",
             f"**Signature:** `{signature}`", "", f"**Run:** {run_url}", "",
             f"**Compared with:** {diff.get('previous', 'the previous published results')}", "",
             f"### Newly broken cases ({len(broken)})", ""]
    columns = ["cell", "model", "explainer", "device", "before", "after"]
    lines.append(tabulate([[c[k] for k in columns] for c in broken[:LISTED_CASES]], headers=columns,
                          tablefmt="github", disable_numparse=True))
    if len(broken) > LISTED_CASES:
        lines.append(f"\n… and {len(broken) - LISTED_CASES} more")
    lines += ["", f"### Every published case with this signature ({len(same)})", ""]
    by_cell: dict[str, list[str]] = {}
    for c in same:
        by_cell.setdefault(c["cell"], []).append(f"{c['model']}/{c['explainer']}/{c['device']}")
    lines += [f"- {cell}: {', '.join(sorted(names))}" for cell, names in sorted(by_cell.items())]
    rows = {_key(c): c for c in same}  # matrix rows carry report's reproducer_command, when there is one
    firsts = {}
    for c in broken + same:
        firsts.setdefault(c["cell"], rows.get(_key(c), c))
    chosen = list(firsts.values())[:LISTED_COMMANDS]
    lines += ["", "### Reproduce", "", "In the harness (one cell session, this case's model and explainer):", "", "```"]
    lines += [reproducer(c) for c in chosen] + ["```", ""]
    standalone = [c["reproducer_command"] for c in chosen if c.get("reproducer_command")]
    if standalone:
        lines += ["Standalone, in the cell's pinned environment (from the repository root, after `nox -s site`):", "",
                  "```"]
        lines += standalone + ["```", ""]
    return cap("\n".join(lines))


def _key(case: dict) -> tuple:
    return case["cell"], case["model"], case["explainer"], case["device"]


def plan(diff: dict, cases: list[dict], issues: list[dict], run_url: str) -> list[dict]:
    """The actions to take, from the diff, the published cases and the existing regression issues (no network)."""
    by_title: dict[str, dict] = {}
    for issue in sorted(issues, key=lambda i: (i["state"] != "open", i["number"])):
        by_title.setdefault(issue["title"], issue)
    newly: dict[str, list[dict]] = {}
    for row in diff.get("newly_broken", []):
        newly.setdefault(row["signature"], []).append(row)
    actions = []
    for signature, broken in sorted(newly.items()):
        title = title_for(signature)
        action = {"title": title, "signature": signature, "cases": len(broken),
                  "body": body_for(signature, broken, cases, diff, run_url)}
        existing = by_title.get(title)
        if existing is None:
            actions.append(dict(action, action="open"))
        else:
            actions.append(dict(action, action="update", number=existing["number"],
                                reopen=existing["state"] != "open"))
    still_there = {title_for(c["signature"]) for c in cases if c.get("signature")}
    acted_on = {a["title"] for a in actions}
    for title, issue in sorted(by_title.items()):
        if (issue["state"] == "open" and title.startswith(PREFIX) and title not in still_there
                and title not in acted_on):
            actions.append({"action": "close", "number": issue["number"], "title": title,
                            "comment": f"No published case shows this signature after {run_url}; closing."})
    return actions


class GitHub:
    """The few REST calls needed, over urllib; an HTTP error is a one-line HarnessError."""

    def __init__(self, token: str, repository: str, api: str = API):
        self.token, self.repository, self.api = token, repository, api.rstrip("/")

    def call(self, method: str, path: str, payload=None):
        request = urllib.request.Request(
            f"{self.api}/repos/{self.repository}{path}", method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "torch-shap-matrix"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:200]
            raise HarnessError(f"GitHub API {method} {path}: HTTP {exc.code} {exc.reason} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise HarnessError(f"GitHub API {method} {path}: {exc}") from None

    def regression_issues(self, label: str = LABEL) -> list[dict]:
        """Every issue (open or closed) with the label, as {number, title, state}."""
        issues, page = [], 1
        while True:
            query = urllib.parse.urlencode({"state": "all", "labels": label, "per_page": 100, "page": page})
            batch = self.call("GET", f"/issues?{query}")
            issues += [{"number": i["number"], "title": i["title"], "state": i["state"]}
                       for i in batch if "pull_request" not in i]
            if len(batch) < 100:
                return issues
            page += 1

    def ensure_label(self, label: str = LABEL) -> None:
        """Create the label if missing, so that new issues keep it and are found next week."""
        try:
            self.call("GET", f"/labels/{label}")
        except HarnessError as problem:
            if "HTTP 404" not in str(problem):
                raise
            self.call("POST", "/labels", {"name": label, "color": "d93f0b",
                                          "description": "opened by the scheduled torch x shap matrix"})

    def apply(self, action: dict, run_url: str) -> None:
        if action["action"] == "open":
            self.call("POST", "/issues", {"title": action["title"], "body": action["body"], "labels": [LABEL]})
        elif action["action"] == "update":
            self.call("PATCH", f"/issues/{action['number']}", {"body": action["body"], "state": "open"})
            self.call("POST", f"/issues/{action['number']}/comments",
                      {"body": f"Newly broken again in {run_url}: {action['cases']} cases (body updated)."})
        elif action["action"] == "close":
            self.call("POST", f"/issues/{action['number']}/comments", {"body": action["comment"]})
            self.call("PATCH", f"/issues/{action['number']}", {"state": "closed", "state_reason": "completed"})


@command
def main(argv=None) -> int:
    parser = OptionParser(prog="python -m harness.publish.regressions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--diff", type=Path, default=Path("results/diff.json"))
    parser.add_argument("--matrix", type=Path, default=Path("results/matrix.json"))
    parser.add_argument("--dry-run", action="store_true", help="print the planned actions as JSON; change nothing")
    parser.add_argument("--issues", type=Path, metavar="FILE",
                        help="existing issues as a JSON list of {number, title, state} instead of asking GitHub")
    args = parser.parse_args(argv)
    diff = store.read_json(args.diff, "diff")
    matrix = store.read_json(args.matrix, "matrix")
    cases = matrix.get("cases") if isinstance(matrix, dict) else None
    if not isinstance(diff, dict) or "newly_broken" not in diff or not isinstance(cases, list):
        raise HarnessError(f"{args.diff} or {args.matrix} is not what harness.publish.diff and harness.publish.report write")
    token, repository = os.environ.get("GITHUB_TOKEN"), os.environ.get("GITHUB_REPOSITORY")
    client = GitHub(token, repository) if token and repository else None
    if args.issues:
        issues = store.read_json(args.issues, "issue list", kind=list)
    elif client:
        issues = client.regression_issues()
    elif args.dry_run:
        issues = []
        print("note: no GITHUB_TOKEN/GITHUB_REPOSITORY: planning as if no regression issue existed",
              file=sys.stderr)
    else:
        raise HarnessError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set (or use --dry-run)")
    cases = [dict(c, reproducer_command=reproducers.command_of(matrix, c)) for c in cases]  # kept once per script
    actions = plan(diff, cases, issues, run_link())
    if args.dry_run:
        print(json.dumps(actions, indent=1, ensure_ascii=False))
        return 0
    if client is None:
        raise HarnessError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set (or use --dry-run)")
    if any(a["action"] == "open" for a in actions):
        client.ensure_label()
    for action in actions:
        client.apply(action, run_link())
        print(f"{action['action']}: {action['title'][:120]}" + (f" (#{action['number']})" if "number" in action else ""))
    print(f"{len(actions)} issue actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
