"""Run a GitHub Actions workflow as written, on this machine: every job's ``run:`` steps, in ``needs:`` order.

What is real: the YAML as GitHub reads it (anchors included), the ``${{ }}`` expressions (the subset the
workflow uses; anything else fails loudly), job and step conditions with GitHub's status rules (a job's implicit
``success()`` covers its whole ``needs`` chain, ``failure()`` any failed ancestor, ``cancelled()`` a cancelled
run), ``needs.<job>.result``, the matrix from a job's output with ``fail-fast``, ``defaults.run``,
``GITHUB_OUTPUT`` / ``GITHUB_ENV`` / ``GITHUB_PATH`` / ``GITHUB_STEP_SUMMARY`` files, ``bash -eo pipefail`` for
every script, and per job a fresh workspace, HOME and tools environment. A run has a triggering commit: a
checkout without ``ref:`` gets that commit, one with ``ref:`` the branch tip, which may have moved since.
``github.token`` is set and the REST API is a local fake (``FakeGitHub``) that keeps issues and records calls.
A runner label listed in ``missing_runners`` has no online runner: the job queues until GitHub fails it.
What is stood in for: only the third-party actions (``uses:``), each by what it does to the job's
workspace, PATH and outputs:

- actions/checkout: ``git clone`` of a local origin whose main branch starts as this checkout's working tree
  (a clone made with ``persist-credentials: false`` cannot push);
- actions/setup-python and astral-sh/setup-uv: a new Python 3.12 virtualenv per job and this machine's uv on
  PATH (jobs that name no UV_CACHE_DIR share this machine's uv cache, standing in for a fast index);
- actions/cache/restore and save: GitHub's key rules over the run's (or the repository's) saved entries: an
  exact key, else the newest entry whose key starts with a restore key; a miss leaves the path cold;
- actions/upload-artifact, download-artifact, upload-pages-artifact: copies into and out of the run's artifact
  store, rooted as GitHub roots them (at the part of the path before its first wildcard);
- actions/deploy-pages: records the deploy and sets ``page_url``.
"""
from __future__ import annotations

import fnmatch
import glob
import hashlib
import http.server
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class WorkflowError(Exception):
    """Something the runner does not know how to run: an expression, a context, an action or one of its inputs."""


# --- expressions -----------------------------------------------------------------------------------------------

TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,])
                     |(?P<name>[A-Za-z_][A-Za-z0-9_-]*))""", re.VERBOSE)
STATUS = ("success", "failure", "always", "cancelled")


def tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = TOKEN.match(text, at)
        if not match or match.end() == at:
            raise WorkflowError(f"cannot read the expression {text!r} at {text[at:]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


class Expression:
    """A parsed ``${{ }}`` expression: literals, contexts, property access, functions, ! && || == != < <= > >=."""

    def __init__(self, text: str):
        self.text, self.items, self.at = text, tokens(text), 0
        self.tree = self.parse_or()
        if self.at != len(self.items):
            raise WorkflowError(f"unexpected {self.items[self.at][1]!r} in {text!r}")

    def peek(self, *values):
        return self.at < len(self.items) and self.items[self.at][1] in values and self.items[self.at][0] == "op"

    def take(self, value=None):
        if self.at >= len(self.items) or (value is not None and self.items[self.at][1] != value):
            raise WorkflowError(f"expected {value!r} in {self.text!r}")
        self.at += 1
        return self.items[self.at - 1]

    def parse_or(self):
        node = self.parse_and()
        while self.peek("||"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_compare()
        while self.peek("&&"):
            self.take()
            node = ("and", node, self.parse_compare())
        return node

    def parse_compare(self):
        node = self.parse_unary()
        while self.peek("==", "!=", "<", "<=", ">", ">="):
            node = ("cmp", self.take()[1], node, self.parse_unary())
        return node

    def parse_unary(self):
        if self.peek("!"):
            self.take()
            return ("not", self.parse_unary())
        return self.parse_postfix()

    def parse_postfix(self):
        node = self.parse_primary()
        while True:
            if self.peek("."):
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise WorkflowError(f"expected a property name in {self.text!r}")
                node = ("get", node, ("lit", name))
            elif self.peek("["):
                self.take()
                index = self.parse_or()
                self.take("]")
                node = ("get", node, index)
            else:
                return node

    def parse_primary(self):
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "op" and value == "(":
            node = self.parse_or()
            self.take(")")
            return node
        if kind != "name":
            raise WorkflowError(f"unexpected {value!r} in {self.text!r}")
        if value in ("true", "false"):
            return ("lit", value == "true")
        if value == "null":
            return ("lit", None)
        if self.peek("("):
            self.take()
            args = []
            while not self.peek(")"):
                args.append(self.parse_or())
                if not self.peek(")"):
                    self.take(",")
            self.take(")")
            return ("call", value, args)
        return ("context", value)

    def uses_status(self) -> bool:
        def walk(node):
            if node[0] == "call" and node[1] in STATUS:
                return True
            return any(walk(child) for child in node[1:] if isinstance(child, tuple))
        return walk(self.tree)

    def evaluate(self, scope: "Scope"):
        return scope.evaluate(self.tree, self.text)


def truthy(value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def number(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def compare(op: str, left, right) -> bool:
    """GitHub's loose comparison: strings case-insensitively, mixed types as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    elif type(left) is not type(right) or isinstance(left, bool):
        left, right = number(left), number(right)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        raise WorkflowError(f"cannot order {left!r} and {right!r}")
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def text_of(value) -> str:
    """How ${{ }} turns a value into text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


@dataclass
class Scope:
    """The contexts an expression sees, and the status its status functions report."""
    contexts: dict
    workspace: Path | None = None
    failed: bool = False  # success() is false: a step of this job failed, or (for a job's if:) a needs ancestor did
    failed_ancestor: bool | None = None  # failure(): for a job's if:, an ancestor failed (None: use failed)
    cancelled: bool = False
    strict: tuple = ("github", "runner", "strategy")  # contexts whose every property this runner must provide

    def evaluate(self, node, text):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "context":
            if node[1] not in self.contexts:
                raise WorkflowError(f"unknown context {node[1]!r} in {text!r}")
            return self.contexts[node[1]]
        if kind == "get":
            base, key = self.evaluate(node[1], text), self.evaluate(node[2], text)
            if isinstance(base, dict):
                if key not in base and node[1][0] == "context" and node[1][1] in self.strict:
                    raise WorkflowError(f"the {node[1][1]} context of this runner has no {key!r} ({text!r})")
                return base.get(key)
            if isinstance(base, list) and isinstance(key, (int, float)):
                return base[int(key)] if 0 <= int(key) < len(base) else None
            return None
        if kind == "not":
            return not truthy(self.evaluate(node[1], text))
        if kind == "and":
            left = self.evaluate(node[1], text)
            return self.evaluate(node[2], text) if truthy(left) else left
        if kind == "or":
            left = self.evaluate(node[1], text)
            return left if truthy(left) else self.evaluate(node[2], text)
        if kind == "cmp":
            return compare(node[1], self.evaluate(node[2], text), self.evaluate(node[3], text))
        if kind == "call":
            return self.call(node[1], [self.evaluate(arg, text) for arg in node[2]], text)
        raise WorkflowError(f"cannot evaluate {text!r}")

    def call(self, name, args, text):
        if name == "success":
            return not self.failed and not self.cancelled
        if name == "failure":
            return self.failed if self.failed_ancestor is None else self.failed_ancestor
        if name == "always":
            return True
        if name == "cancelled":
            return self.cancelled
        if name == "format":
            def field(match):
                if match.group(0) in ("{{", "}}"):
                    return match.group(0)[0]
                index = int(match.group(1))
                if index + 1 >= len(args):
                    raise WorkflowError(f"format() has no argument {{{index}}} ({text!r})")
                return text_of(args[index + 1])
            return re.sub(r"\{\{|\}\}|\{(\d+)\}", field, text_of(args[0]))
        if name == "join":
            items, separator = args[0], (text_of(args[1]) if len(args) > 1 else ",")
            return separator.join(text_of(i) for i in items) if isinstance(items, list) else text_of(items)
        if name == "endsWith":
            return text_of(args[0]).lower().endswith(text_of(args[1]).lower())
        if name == "fromJSON":
            try:
                return json.loads(text_of(args[0]))
            except ValueError:
                raise WorkflowError(f"fromJSON of {args[0]!r} is not JSON ({text!r})") from None
        if name == "toJSON":
            return json.dumps(args[0], indent=2)
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(compare("==", item, needle) for item in haystack)
            return text_of(needle).lower() in text_of(haystack).lower()
        if name == "startsWith":
            return text_of(args[0]).lower().startswith(text_of(args[1]).lower())
        if name == "hashFiles":
            return hash_files(self.workspace, [text_of(a) for a in args])
        raise WorkflowError(f"unknown function {name}() in {text!r}")


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """GitHub's hashFiles: sha256 over each matching file's sha256, '' when nothing matches."""
    files = sorted({p for pattern in patterns for p in glob.glob(str(workspace / pattern), recursive=True)
                    if os.path.isfile(p)})
    if not files:
        return ""
    total = hashlib.sha256()
    for path in files:
        total.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return total.hexdigest()


EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def whole_expression(value: str) -> str | None:
    """The inside of a value that is exactly one ${{ }} (``${{ a }}-${{ b }}`` is two, joined as text)."""
    found = list(EMBEDDED.finditer(value.strip()))
    return found[0].group(1) if len(found) == 1 and found[0].group(0) == value.strip() else None


def interpolate(value, scope: Scope):
    """A YAML value with every ${{ }} evaluated; a string that is one whole expression keeps its type."""
    if isinstance(value, dict):
        return {k: interpolate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, scope) for v in value]
    if not isinstance(value, str):
        return value
    whole = whole_expression(value)
    if whole is not None:
        return Expression(whole).evaluate(scope)
    return EMBEDDED.sub(lambda m: text_of(Expression(m.group(1)).evaluate(scope)), value)


def condition(text, scope: Scope) -> bool:
    """A job's or step's if:, with the implicit success() when it names no status function."""
    if text is None:
        return not scope.failed and not scope.cancelled
    if isinstance(text, bool):
        return text and not scope.failed and not scope.cancelled
    inner = whole_expression(str(text))
    expression = Expression(inner if inner is not None else str(text))
    result = truthy(expression.evaluate(scope))
    return result if expression.uses_status() else result and not scope.failed and not scope.cancelled


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Tools:
    """What the stand-ins put on PATH, and the machine's uv cache (the default cache of jobs that name none)."""
    python: str  # setup-python: the interpreter each job's new virtualenv is made from
    uv_bin: Path  # setup-uv: a folder with only uv in it
    interpreters_bin: Path  # the runner image: python3.X for every version this machine has
    uv_cache: Path
    wheelhouse: Path | None = None  # when set, pip installs from here only (a stand-in for PyPI, offline)


def make_tools(folder: Path, python: str, interpreters: dict, wheelhouse: Path | None = None) -> Tools:
    """The stand-ins' tools in ``folder``: uv alone and python3.X links (each job gets its own virtualenv)."""
    uv_bin, interpreters_bin = folder / "setup-uv", folder / "image-pythons"
    uv_bin.mkdir(parents=True)
    interpreters_bin.mkdir()
    search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the test group's uv first
    for name in ("uv", "uvx"):
        if shutil.which(name, path=search):
            (uv_bin / name).symlink_to(shutil.which(name, path=search))
    for version, path in interpreters.items():
        (interpreters_bin / f"python{version}").symlink_to(path)
    cache = subprocess.run(["uv", "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    return Tools(python, uv_bin, interpreters_bin, Path(cache), wheelhouse)


class FakeGitHub:
    """GitHub's REST API for issues and labels, on localhost: keeps issues and records every call."""

    def __init__(self):
        self.issues: list[dict] = []  # {number, title, state, body, labels, comments}
        self.labels: set[str] = set()
        self.calls: list[tuple[str, str, object]] = []  # (method, path, payload)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length)) if length else None
                status, body = fake.handle(method, self.path, payload, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer("GET")

            def do_POST(self):
                self.answer("POST")

            def do_PATCH(self):
                self.answer("PATCH")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method, path, payload, authorization):
        self.calls.append((method, path, payload))
        if not authorization.startswith("Bearer ") or len(authorization) <= len("Bearer "):
            return 401, {"message": "Bad credentials"}
        url = urllib.parse.urlparse(path)
        parts = url.path.strip("/").split("/")[3:]  # after repos/<owner>/<name>
        query = urllib.parse.parse_qs(url.query)
        if parts == ["issues"] and method == "GET":
            label = (query.get("labels") or [""])[0]
            page = int((query.get("page") or ["1"])[0])
            found = [i for i in self.issues if not label or label in i["labels"]][(page - 1) * 100:page * 100]
            return 200, [{k: i[k] for k in ("number", "title", "state", "body")} for i in found]
        if parts == ["issues"] and method == "POST":
            issue = {"number": len(self.issues) + 1, "title": payload["title"], "state": "open",
                     "body": payload.get("body", ""), "labels": list(payload.get("labels") or []), "comments": []}
            self.issues.append(issue)
            return 201, issue
        if len(parts) >= 2 and parts[0] == "issues" and parts[1].isdigit():
            issue = next((i for i in self.issues if i["number"] == int(parts[1])), None)
            if issue is None:
                return 404, {"message": "Not Found"}
            if parts[2:] == ["comments"] and method == "POST":
                issue["comments"].append(payload["body"])
                return 201, {"body": payload["body"]}
            if not parts[2:] and method == "PATCH":
                issue.update({k: v for k, v in payload.items() if k in ("title", "body", "state")})
                return 200, issue
        if parts[:1] == ["labels"]:
            if method == "POST":
                self.labels.add(payload["name"])
                return 201, payload
            return (200, {"name": parts[1]}) if parts[1] in self.labels else (404, {"message": "Not Found"})
        return 404, {"message": f"the fake API has no {method} {url.path}"}


@dataclass
class Run:
    """One workflow run. Several runs may share an origin, a cache store and a fake API, as on one repository."""
    workflow: Path
    root: Path  # a scratch folder for workspaces, artifacts and the origin repository
    tools: Tools
    inputs: dict
    variables: dict
    source: Path  # the checkout whose working tree becomes the origin (when no origin is given)
    event: str = "workflow_dispatch"
    ref: str = "main"  # the branch (or tag) the run was triggered on
    ref_type: str = "branch"
    run_id: str = "4242"
    origin: Path | None = None  # an origin a previous run left (results committed), else made from source
    api: FakeGitHub | None = None
    cache_store: list = field(default_factory=list)  # (key, folder) saved entries, oldest first
    missing_runners: set = field(default_factory=set)  # runner labels with no online runner
    stubs: dict = field(default_factory=dict)  # step name -> the script run instead (a recorded stand-in)
    before_step: object = None  # callable(run, job id, step name), e.g. to move the branch under a job
    cancel_after: str | None = None  # cancel the run when this job finishes
    timeout: int = 1800
    jobs: dict = field(default_factory=dict)  # job id -> {"result", "outputs", "instances": [...]}
    log: list = field(default_factory=list)  # (job, step, outcome, output tail)
    caches: list = field(default_factory=list)
    deployments: list = field(default_factory=list)
    cancelled: bool = False

    def __post_init__(self):
        self.spec = yaml.safe_load(self.workflow.read_text())
        self.artifacts = self.root / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        if self.origin is None:
            self.origin = make_origin(self.source, self.root / "origin.git")
        self.api = self.api or FakeGitHub()
        self.sha = git_out(self.origin, "rev-parse", self.ref)  # the triggering commit

    # -- jobs --
    def order(self) -> list[str]:
        jobs, done, order = self.spec["jobs"], set(), []
        while len(order) < len(jobs):
            ready = [j for j in jobs if j not in done and set(needs_of(jobs[j])) <= done]
            if not ready:
                raise WorkflowError("the needs: graph has a cycle")
            for job in ready:  # in file order, as GitHub lists them
                done.add(job)
                order.append(job)
        return order

    def ancestors(self, job_id: str) -> set[str]:
        """Every job this one needs, directly or through others."""
        found, todo = set(), list(needs_of(self.spec["jobs"][job_id]))
        while todo:
            job = todo.pop()
            if job not in found:
                found.add(job)
                todo += needs_of(self.spec["jobs"][job])
        return found

    def github(self, workspace: Path | None) -> dict:
        return {"workflow": self.spec.get("name"), "workspace": str(workspace or ""), "event_name": self.event,
                "ref_name": self.ref, "ref": f"refs/{'heads' if self.ref_type == 'branch' else 'tags'}/{self.ref}",
                "ref_type": self.ref_type, "sha": self.sha, "token": "ghs_local_fake_token", "run_id": self.run_id,
                "repository": "example/torch-shap-matrix", "repository_owner": "example",
                "server_url": "https://github.invalid", "api_url": self.api.url,
                "event": {"inputs": self.inputs, "repository": {"fork": False}}}

    def run(self) -> dict:
        for job_id in self.order():
            self.run_job(job_id)
            if job_id == self.cancel_after:
                self.cancelled = True
        return self.jobs

    def run_job(self, job_id: str) -> None:
        spec = self.spec["jobs"][job_id]
        unknown = set(spec) - {"needs", "if", "name", "runs-on", "timeout-minutes", "permissions", "outputs",
                               "strategy", "env", "steps", "environment", "defaults", "concurrency"}
        if unknown:
            raise WorkflowError(f"job {job_id}: keys this runner does not know: {sorted(unknown)}")
        needs = {n: {"result": self.jobs[n]["result"], "outputs": self.jobs[n]["outputs"]} for n in needs_of(spec)}
        base = {"github": self.github(None), "inputs": self.inputs, "vars": self.variables, "needs": needs,
                "env": {}}
        chain = [self.jobs[a]["result"] for a in self.ancestors(job_id)]
        # GitHub: the implicit success() of a job covers its whole needs chain; a skipped ancestor counts too
        scope = Scope(base, failed=any(r != "success" for r in chain), failed_ancestor="failure" in chain,
                      cancelled=self.cancelled)
        if not condition(spec.get("if"), scope):
            self.jobs[job_id] = {"result": "cancelled" if self.cancelled else "skipped", "outputs": {},
                                 "instances": []}
            return
        interpolate(spec.get("concurrency") or {}, scope)  # its group must evaluate
        strategy = spec.get("strategy") or {}
        matrices = [{}]
        if "matrix" in strategy:
            matrix = interpolate(strategy["matrix"], scope)
            if not isinstance(matrix, dict) or set(matrix) - {"include"}:
                raise WorkflowError(f"job {job_id}: only a matrix of include: entries is supported, got {matrix!r}")
            matrices = matrix["include"]
        fail_fast = strategy.get("fail-fast", True)
        instances = []
        for i, matrix in enumerate(matrices):
            if fail_fast and any(x["result"] == "failure" for x in instances):
                instances.append({"name": f"{job_id} ({i})", "result": "cancelled", "outputs": {}, "steps": []})
                continue
            instances.append(self.run_instance(job_id, spec, needs, matrix, i))
        results = {i["result"] for i in instances}
        result = "failure" if "failure" in results else "cancelled" if "cancelled" in results else "success"
        self.jobs[job_id] = {"result": result, "outputs": instances[-1]["outputs"] if instances else {},
                             "instances": instances}

    def run_instance(self, job_id, spec, needs, matrix, index) -> dict:
        folder = self.root / "jobs" / f"{job_id}-{index}"
        workspace = folder / "workspace"
        workspace.mkdir(parents=True)
        for name in ("runner-temp", "home"):
            (folder / name).mkdir()
        runner = {"os": "Linux", "arch": "X64", "environment": "self-hosted", "temp": str(folder / "runner-temp"),
                  "name": "local"}
        contexts = {"github": self.github(workspace), "inputs": self.inputs, "vars": self.variables, "needs": needs,
                    "matrix": matrix, "runner": runner, "strategy": {"job-index": index}, "steps": {}, "env": {},
                    "job": {"status": "success"}, "secrets": {}}
        scope = Scope(contexts, workspace, cancelled=self.cancelled)
        name = interpolate(spec.get("name", job_id), scope)
        labels = interpolate(spec.get("runs-on"), scope)
        env = {k: text_of(v) for k, v in interpolate(self.spec.get("env") or {}, scope).items()}
        contexts["env"] = env
        env.update({k: text_of(v) for k, v in interpolate(spec.get("env") or {}, scope).items()})
        job = {"name": name, "workspace": workspace, "env": env, "path": [], "summary": "", "steps": [],
               "result": "success", "outputs": {}, "id": job_id}
        if set([labels] if isinstance(labels, str) else labels) & self.missing_runners:
            # no online runner has these labels: the job waits, and GitHub fails it after 24 hours in the queue
            job["result"] = "failure"
            self.log.append((name, "waiting for a runner", "failure", f"no runner with the labels {labels!r}"))
            return job
        defaults = dict((self.spec.get("defaults") or {}).get("run") or {})
        defaults.update((spec.get("defaults") or {}).get("run") or {})
        job["defaults"] = defaults
        for number, step in enumerate(spec["steps"]):
            self.run_step(job_id, job, scope, step, number)
            contexts["job"]["status"] = job["result"]
        scope.failed = job["result"] != "success"
        job["outputs"] = {k: text_of(v) for k, v in interpolate(spec.get("outputs") or {}, scope).items()}
        interpolate(spec.get("environment") or {}, scope)  # its url must evaluate too
        return job

    # -- steps --
    def run_step(self, job_id, job, scope, step, number) -> None:
        unknown = set(step) - {"name", "id", "if", "env", "run", "uses", "with", "continue-on-error", "shell",
                               "working-directory"}
        if unknown:
            raise WorkflowError(f"{job_id} step {number}: keys this runner does not know: {sorted(unknown)}")
        step_id = step.get("id") or f"__{number}"
        label = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
        if not condition(step.get("if"), scope):
            scope.contexts["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            job["steps"].append((label, "skipped", ""))
            return
        if self.before_step:
            self.before_step(self, job_id, label)
        env = dict(job["env"])
        scope.contexts["env"] = env
        env.update({k: text_of(v) for k, v in interpolate(step.get("env") or {}, scope).items()})
        outputs, ok, tail = {}, True, ""
        if "run" in step:
            shell = step.get("shell") or job["defaults"].get("shell", "bash")
            if shell != "bash":
                raise WorkflowError(f"{job_id} step {number}: shell {shell!r} is not supported")
            script = self.stubs.get(label) or interpolate(step["run"], scope)
            where = interpolate(step.get("working-directory") or job["defaults"].get("working-directory") or ".",
                                scope)
            ok, outputs, tail = self.shell(job, script, env, job["workspace"] / where)
        else:
            outputs = self.action(job, step["uses"], interpolate(step.get("with") or {}, scope), env)
        outcome = "success" if ok else "failure"
        scope.contexts["steps"][step_id] = {"outputs": outputs, "outcome": outcome,
                                            "conclusion": "success" if step.get("continue-on-error") else outcome}
        job["steps"].append((label, outcome, tail))
        self.log.append((job["name"], label, outcome, tail))
        if not ok and not step.get("continue-on-error"):
            job["result"] = "failure"
            scope.failed = True

    def shell(self, job, script, env, cwd) -> tuple[bool, dict, str]:
        folder = job["workspace"].parent
        files = {name: folder / f"{name.lower()}-{len(job['steps'])}" for name in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("")
        script_file = folder / f"step-{len(job['steps'])}.sh"
        script_file.write_text(script)
        # what setup-* put first, then the runner image's interpreters, then this machine's PATH
        path = os.pathsep.join(job["path"][::-1] + [str(self.tools.interpreters_bin), os.environ.get("PATH", "")])
        process_env = {k: v for k, v in os.environ.items()
                       if not k.startswith(("GITHUB_", "RUNNER_", "UV_", "NOX", "PIP_"))
                       and k not in ("VIRTUAL_ENV", "PYTHONPATH", "CI", "XDG_CACHE_HOME")}
        process_env["UV_CACHE_DIR"] = str(self.tools.uv_cache)  # a job's own UV_CACHE_DIR (below) comes first
        if self.tools.wheelhouse:
            process_env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(self.tools.wheelhouse))
        process_env.update(env)
        process_env.update({k: str(v) for k, v in files.items()})
        process_env.update(PATH=path, CI="true", HOME=str(folder / "home"), GITHUB_ACTIONS="true",
                           GITHUB_WORKSPACE=str(job["workspace"]), GITHUB_RUN_ID=self.run_id,
                           GITHUB_EVENT_NAME=self.event, GITHUB_REF_NAME=self.ref, GITHUB_REF_TYPE=self.ref_type,
                           GITHUB_SHA=self.sha, GITHUB_REPOSITORY="example/torch-shap-matrix",
                           GITHUB_SERVER_URL="https://github.invalid", GITHUB_API_URL=self.api.url,
                           RUNNER_OS="Linux", RUNNER_ARCH="X64", RUNNER_TEMP=str(folder / "runner-temp"))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)], cwd=cwd,
                              env=process_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=self.timeout)
        tail = done.stdout[-20000:]  # stdout and stderr as they came, as a job's log shows them
        outputs = read_key_values(files["GITHUB_OUTPUT"].read_text())
        job["env"].update(read_key_values(files["GITHUB_ENV"].read_text()))
        job["path"] += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()]
        job["summary"] += files["GITHUB_STEP_SUMMARY"].read_text()
        return done.returncode == 0, outputs, tail

    # -- the stand-ins for third-party actions --
    def action(self, job, uses: str, inputs: dict, env: dict) -> dict:
        if uses.startswith("./"):  # a local composite action: tests/composite_action.py runs its steps
            from composite_action import run_composite
            return run_composite(self, job, uses, inputs, env)
        name = uses.split("@")[0]
        known = {
            "actions/checkout": ({"persist-credentials", "ref"}, self.checkout),
            "actions/setup-python": ({"python-version"}, self.setup_python),
            "astral-sh/setup-uv": ({"enable-cache", "cache-local-path"}, self.setup_uv),
            "actions/cache/restore": ({"path", "key", "restore-keys"}, self.cache_restore),
            "actions/cache/save": ({"path", "key"}, self.cache_save),
            "actions/upload-artifact": ({"name", "path", "if-no-files-found", "overwrite", "retention-days",
                                         "include-hidden-files"}, self.upload),
            "actions/download-artifact": ({"name", "pattern", "merge-multiple", "path"}, self.download),
            "actions/upload-pages-artifact": ({"path", "name"}, self.upload_pages),
            "actions/deploy-pages": ({"artifact_name"}, self.deploy_pages),
        }
        if name not in known:
            raise WorkflowError(f"no stand-in for the action {uses}")
        allowed, handler = known[name]
        if set(inputs) - allowed:
            raise WorkflowError(f"{name}: inputs this stand-in does not know: {sorted(set(inputs) - allowed)}")
        return handler(job, inputs) or {}

    def checkout(self, job, inputs):
        """The triggering commit (detached), or the tip of ``ref:`` as it is now."""
        target = job["workspace"]
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(self.origin), str(target)], check=True)
        subprocess.run(["git", "checkout", "-q", *([inputs["ref"]] if inputs.get("ref") else ["--detach", self.sha])],
                       cwd=target, check=True)
        if str(inputs.get("persist-credentials", True)).lower() == "false":
            subprocess.run(["git", "remote", "set-url", "--push", "origin", "https://no-credentials.invalid/"],
                           cwd=target, check=True)

    def setup_python(self, job, inputs):
        venv = job["workspace"].parent / "setup-python"
        subprocess.run(["uv", "venv", "-q", "--seed", "--python", self.tools.python, str(venv)], check=True,
                       env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"})
        version = subprocess.run([str(venv / "bin" / "python"), "-c",
                                  "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        if version != str(inputs.get("python-version")):
            raise WorkflowError(f"setup-python asks for {inputs.get('python-version')}, the stand-in has {version}")
        job["path"].append(str(venv / "bin"))

    def setup_uv(self, job, inputs):
        job["path"].append(str(self.tools.uv_bin))
        if inputs.get("cache-local-path"):
            job["env"]["UV_CACHE_DIR"] = str(inputs["cache-local-path"])

    def cache_restore(self, job, inputs):
        """GitHub's rules: the primary key exactly, else the newest entry that starts with a restore key."""
        target = Path(inputs["path"])
        if target.exists() or target.is_symlink():
            raise WorkflowError(f"cache restore into {target}, which already exists")
        prefixes = [line.strip() for line in str(inputs.get("restore-keys") or "").splitlines() if line.strip()]
        exact = [entry for entry in self.cache_store if entry[0] == inputs["key"]]
        matched = exact or [entry for prefix in prefixes for entry in reversed(self.cache_store)
                            if entry[0].startswith(prefix)][:1]
        if matched:
            shutil.copytree(matched[-1][1], target, symlinks=True)
        key = matched[-1][0] if matched else ""
        self.caches.append(("restore", inputs["key"], key))
        return {"cache-hit": text_of(bool(exact)), "cache-primary-key": inputs["key"], "cache-matched-key": key}

    def cache_save(self, job, inputs):
        source = Path(inputs["path"])
        if not source.exists():  # GitHub warns and saves nothing
            self.caches.append(("nothing to save", inputs["key"], inputs["path"]))
            return
        if any(entry[0] == inputs["key"] for entry in self.cache_store):  # entries are immutable: GitHub warns
            self.caches.append(("exists", inputs["key"], inputs["path"]))
            return
        kept = self.root / "cache-store" / f"{len(self.cache_store)}"
        shutil.copytree(source, kept, symlinks=True)
        self.cache_store.append((inputs["key"], kept))
        self.caches.append(("save", inputs["key"], inputs["path"]))

    def upload(self, job, inputs):
        name = inputs["name"]
        if re.search(r'[\\/:"<>|*?\r\n]', name) or not name:
            raise WorkflowError(f"artifact name {name!r} is not allowed")
        target = self.artifacts / name
        if target.exists() and not inputs.get("overwrite"):
            raise WorkflowError(f"artifact {name} exists and overwrite is false")
        files = collect(job["workspace"], inputs["path"], bool(inputs.get("include-hidden-files")))
        if not files:
            if inputs.get("if-no-files-found", "warn") == "error":
                raise WorkflowError(f"artifact {name}: no files found at {inputs['path']!r}")
            return
        shutil.rmtree(target, ignore_errors=True)
        for source, relative in files:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)

    def download(self, job, inputs):
        base = job["workspace"] / inputs.get("path", ".")
        if inputs.get("name"):
            chosen = [inputs["name"]]
            if not (self.artifacts / inputs["name"]).is_dir():
                raise WorkflowError(f"download of artifact {inputs['name']}, which no job uploaded")
        else:
            chosen = sorted(p.name for p in self.artifacts.iterdir()
                            if fnmatch.fnmatchcase(p.name, inputs.get("pattern") or "*"))
        single = inputs.get("name") or inputs.get("merge-multiple")
        for name in chosen:
            shutil.copytree(self.artifacts / name, base if single else base / name, dirs_exist_ok=True)

    def upload_pages(self, job, inputs):
        source = job["workspace"] / inputs["path"]
        if not (source / "index.html").is_file():
            raise WorkflowError(f"upload-pages-artifact: no index.html in {source}")
        shutil.copytree(source, self.artifacts / (inputs.get("name") or "github-pages"), dirs_exist_ok=True)

    def deploy_pages(self, job, inputs):
        name = inputs.get("artifact_name") or "github-pages"
        if not (self.artifacts / name).is_dir():
            raise WorkflowError(f"deploy-pages: no {name} artifact was uploaded")
        self.deployments.append(job["name"])
        return {"page_url": "https://example.github.invalid/torch-shap-matrix/"}


def git_out(repository: Path, *args) -> str:
    return subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()


def needs_of(spec) -> list[str]:
    needs = spec.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def read_key_values(text: str) -> dict:
    """GITHUB_OUTPUT / GITHUB_ENV: name=value lines and name<<DELIMITER blocks."""
    values, lines, at = {}, text.splitlines(), 0
    while at < len(lines):
        line = lines[at]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, at + 1)
            values[key] = "\n".join(lines[at + 1:end])
            at = end + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
        elif line.strip():
            raise WorkflowError(f"cannot read the line {line!r} of a GITHUB_OUTPUT/GITHUB_ENV file")
        at += 1
    return values


def collect(workspace: Path, paths: str, hidden: bool) -> list[tuple[Path, Path]]:
    """upload-artifact's files as (file, path in the artifact).

    As upload-artifact roots them: at the common folder of every search path, where a pattern's search path is
    the folder before its first wildcard, a folder's is itself and a file's is its folder."""
    lines = [line.strip() for line in str(paths).splitlines() if line.strip()]
    include = [line for line in lines if not line.startswith("!")]
    exclude = [line[1:] for line in lines if line.startswith("!")]
    roots, found = [], set()
    for pattern in include:
        wild = min([pattern.index(c) for c in "*?[" if c in pattern], default=None)
        if wild is not None:
            roots.append((workspace / pattern[:wild]).parent if not pattern[:wild].endswith("/")
                         else workspace / pattern[:wild])
        else:
            roots.append(workspace / pattern if (workspace / pattern).is_dir() else (workspace / pattern).parent)
        for match in glob.glob(str(workspace / pattern), recursive=True):
            match = Path(match)
            found.update(match.rglob("*") if match.is_dir() else [match])
    root = Path(os.path.commonpath([str(r) for r in roots])) if roots else workspace
    files = []
    for path in sorted(p for p in found if p.is_file()):
        inside = path.relative_to(workspace).as_posix()
        if any(fnmatch.fnmatch(inside, pattern) for pattern in exclude):
            continue
        relative = path.relative_to(root)
        if not hidden and any(part.startswith(".") for part in relative.parts):
            continue
        files.append((path, relative))
    return files


def make_origin(source: Path, origin: Path) -> Path:
    """A bare repository whose main branch is the working tree of ``source`` (tracked and untracked, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source, capture_output=True,
                            check=True).stdout.decode().split("\0")
    tree = origin.parent / "origin-tree"
    for name in filter(None, listed):
        if (source / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, tree / name)
    git = ["git", "-c", "user.name=runner", "-c", "user.email=runner@example.invalid"]
    subprocess.run(git + ["init", "-q", "-b", "main"], cwd=tree, check=True)
    subprocess.run(git + ["add", "-A"], cwd=tree, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "the checkout under test"], cwd=tree, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(tree), str(origin)], check=True)
    return origin
