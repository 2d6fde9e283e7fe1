"""Run a GitHub Actions workflow as written, on this machine: every job's ``run:`` steps, in ``needs:`` order.

What is real: the YAML as GitHub reads it, the ``${{ }}`` expressions (the subset the workflow uses; anything
else fails loudly), job and step conditions with their status functions, the matrix from a job's output,
``GITHUB_OUTPUT`` / ``GITHUB_ENV`` / ``GITHUB_PATH`` / ``GITHUB_STEP_SUMMARY`` files, ``bash -eo pipefail`` for
every script, one fresh workspace per job, and artifacts as folders named as the upload and download steps name
them. What is stood in for: only the third-party actions (``uses:``), each by what it does to the job's
workspace, PATH and outputs:

- actions/checkout: ``git clone`` of a local origin made from this checkout's working tree;
- actions/setup-python and astral-sh/setup-uv: a prepared Python 3.12 virtualenv and this machine's uv on PATH;
- actions/cache/restore and save: the restore links the cache path to this machine's uv cache (a hit on an
  entry that holds every wheel), the save records its key;
- actions/upload-artifact, download-artifact, upload-pages-artifact: copies into and out of the run's artifact
  store, rooted as GitHub roots them (at the part of the path before its first wildcard);
- actions/deploy-pages: records the deploy and sets ``page_url``.
"""
from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
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
    failed: bool = False
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
            return not self.failed
        if name == "failure":
            return self.failed
        if name == "always":
            return True
        if name == "cancelled":
            return False
        if name == "fromJSON":
            try:
                return json.loads(text_of(args[0]))
            except ValueError:
                raise WorkflowError(f"fromJSON of {args[0]!r} is not JSON ({text!r})") from None
        if name == "toJSON":
            return json.dumps(args[0])
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


def interpolate(value, scope: Scope):
    """A YAML value with every ${{ }} evaluated; a string that is one whole expression keeps its type."""
    if isinstance(value, dict):
        return {k: interpolate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, scope) for v in value]
    if not isinstance(value, str):
        return value
    whole = EMBEDDED.fullmatch(value.strip())
    if whole:
        return Expression(whole.group(1)).evaluate(scope)
    return EMBEDDED.sub(lambda m: text_of(Expression(m.group(1)).evaluate(scope)), value)


def condition(text, scope: Scope) -> bool:
    """A job's or step's if:, with the implicit success() when it names no status function."""
    if text is None:
        return not scope.failed
    if isinstance(text, bool):
        return text and not scope.failed
    inner = EMBEDDED.fullmatch(str(text).strip())
    expression = Expression(inner.group(1) if inner else str(text))
    result = truthy(expression.evaluate(scope))
    return result if expression.uses_status() else result and not scope.failed


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Tools:
    """What the stand-ins put on PATH, and the machine's uv cache that a cache restore links to."""
    python_bin: Path  # setup-python: a virtualenv's bin folder (with pip)
    uv_bin: Path  # setup-uv: a folder with only uv in it
    interpreters_bin: Path  # the runner image: python3.X for every version this machine has
    uv_cache: Path


def make_tools(folder: Path, python: str, interpreters: dict) -> Tools:
    """The stand-ins' tools in ``folder``: a Python virtualenv with pip, uv alone, and python3.X links."""
    venv = folder / "setup-python"
    subprocess.run(["uv", "venv", "-q", "--seed", "--python", python, str(venv)], check=True)
    uv_bin, interpreters_bin = folder / "setup-uv", folder / "image-pythons"
    uv_bin.mkdir()
    interpreters_bin.mkdir()
    search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the test group's uv first
    for name in ("uv", "uvx"):
        if shutil.which(name, path=search):
            (uv_bin / name).symlink_to(shutil.which(name, path=search))
    for version, path in interpreters.items():
        (interpreters_bin / f"python{version}").symlink_to(path)
    cache = subprocess.run(["uv", "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    return Tools(venv / "bin", uv_bin, interpreters_bin, Path(cache))


@dataclass
class Run:
    workflow: Path
    root: Path  # a scratch folder for workspaces, artifacts and the origin repository
    tools: Tools
    inputs: dict
    variables: dict
    source: Path  # the checkout whose working tree becomes the origin
    event: str = "workflow_dispatch"
    timeout: int = 1800
    jobs: dict = field(default_factory=dict)  # job id -> {"result", "outputs", "instances": [...]}
    log: list = field(default_factory=list)  # (job, step, outcome, output tail)
    caches: list = field(default_factory=list)
    deployments: list = field(default_factory=list)

    def __post_init__(self):
        self.spec = yaml.safe_load(self.workflow.read_text())
        self.artifacts = self.root / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.origin = make_origin(self.source, self.root / "origin.git")

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

    def github(self, workspace: Path | None) -> dict:
        return {"workflow": self.spec.get("name"), "workspace": str(workspace or ""), "event_name": self.event,
                "ref_name": "main", "token": "", "run_id": "4242", "repository": "example/torch-shap-matrix",
                "server_url": "https://github.invalid", "event": {"inputs": self.inputs}}

    def run(self) -> dict:
        for job_id in self.order():
            self.run_job(job_id)
        return self.jobs

    def run_job(self, job_id: str) -> None:
        spec = self.spec["jobs"][job_id]
        unknown = set(spec) - {"needs", "if", "name", "runs-on", "timeout-minutes", "permissions", "outputs",
                               "strategy", "env", "steps", "environment", "defaults"}
        if unknown:
            raise WorkflowError(f"job {job_id}: keys this runner does not know: {sorted(unknown)}")
        needs = {n: {"result": self.jobs[n]["result"], "outputs": self.jobs[n]["outputs"]} for n in needs_of(spec)}
        base = {"github": self.github(None), "inputs": self.inputs, "vars": self.variables, "needs": needs,
                "env": {}}
        scope = Scope(base, failed=any(n["result"] != "success" for n in needs.values()))
        if not condition(spec.get("if"), scope):
            self.jobs[job_id] = {"result": "skipped", "outputs": {}, "instances": []}
            return
        strategy = spec.get("strategy") or {}
        matrices = [{}]
        if "matrix" in strategy:
            matrix = interpolate(strategy["matrix"], scope)
            if not isinstance(matrix, dict) or set(matrix) - {"include"}:
                raise WorkflowError(f"job {job_id}: only a matrix of include: entries is supported, got {matrix!r}")
            matrices = matrix["include"]
        instances = [self.run_instance(job_id, spec, needs, matrix, i) for i, matrix in enumerate(matrices)]
        result = "success" if all(i["result"] == "success" for i in instances) else "failure"
        self.jobs[job_id] = {"result": result, "outputs": instances[-1]["outputs"] if instances else {},
                             "instances": instances}

    def run_instance(self, job_id, spec, needs, matrix, index) -> dict:
        workspace = self.root / "jobs" / f"{job_id}-{index}" / "workspace"
        workspace.mkdir(parents=True)
        temp = workspace.parent / "runner-temp"
        temp.mkdir()
        runner = {"os": "Linux", "arch": "X64", "environment": "self-hosted", "temp": str(temp), "name": "local"}
        contexts = {"github": self.github(workspace), "inputs": self.inputs, "vars": self.variables, "needs": needs,
                    "matrix": matrix, "runner": runner, "strategy": {"job-index": index}, "steps": {}, "env": {},
                    "job": {"status": "success"}, "secrets": {}}
        scope = Scope(contexts, workspace)
        name = interpolate(spec.get("name", job_id), scope)
        interpolate(spec.get("runs-on"), scope)
        env = {k: text_of(v) for k, v in interpolate(self.spec.get("env") or {}, scope).items()}
        contexts["env"] = env
        env.update({k: text_of(v) for k, v in interpolate(spec.get("env") or {}, scope).items()})
        job = {"name": name, "workspace": workspace, "env": env, "path": [], "summary": "", "steps": [],
               "result": "success", "outputs": {}}
        shell = ((spec.get("defaults") or self.spec.get("defaults") or {}).get("run") or {}).get("shell", "bash")
        if shell != "bash":
            raise WorkflowError(f"job {job_id}: shell {shell!r} is not supported")
        for number, step in enumerate(spec["steps"]):
            self.run_step(job_id, job, scope, step, number)
        scope.failed = job["result"] != "success"
        job["outputs"] = {k: text_of(v) for k, v in interpolate(spec.get("outputs") or {}, scope).items()}
        interpolate(spec.get("environment") or {}, scope)  # its url must evaluate too
        return job

    # -- steps --
    def run_step(self, job_id, job, scope, step, number) -> None:
        unknown = set(step) - {"name", "id", "if", "env", "run", "uses", "with", "continue-on-error"}
        if unknown:
            raise WorkflowError(f"{job_id} step {number}: keys this runner does not know: {sorted(unknown)}")
        step_id = step.get("id") or f"__{number}"
        if not condition(step.get("if"), scope):
            scope.contexts["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            job["steps"].append((step.get("name") or step.get("uses") or step.get("run", "")[:40], "skipped", ""))
            return
        env = dict(job["env"])
        scope.contexts["env"] = env
        env.update({k: text_of(v) for k, v in interpolate(step.get("env") or {}, scope).items()})
        outputs, ok, tail = {}, True, ""
        if "run" in step:
            script = interpolate(step["run"], scope)
            ok, outputs, tail = self.shell(job, script, env)
        else:
            outputs = self.action(job, step["uses"], interpolate(step.get("with") or {}, scope), env)
        outcome = "success" if ok else "failure"
        scope.contexts["steps"][step_id] = {"outputs": outputs, "outcome": outcome,
                                            "conclusion": "success" if step.get("continue-on-error") else outcome}
        label = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
        job["steps"].append((label, outcome, tail))
        self.log.append((job["name"], label, outcome, tail))
        if not ok and not step.get("continue-on-error"):
            job["result"] = "failure"
            scope.failed = True

    def shell(self, job, script, env) -> tuple[bool, dict, str]:
        folder = job["workspace"].parent
        files = {name: folder / f"{name.lower()}-{len(job['steps'])}" for name in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("")
        script_file = folder / f"step-{len(job['steps'])}.sh"
        script_file.write_text(script)
        # what setup-* put first, then the runner image's interpreters, then this machine's PATH
        path = os.pathsep.join(job["path"][::-1] + [str(self.tools.interpreters_bin), os.environ.get("PATH", "")])
        process_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "UV_", "NOX"))
                       and k not in ("VIRTUAL_ENV", "PYTHONPATH", "CI")}
        process_env.update(env)
        process_env.update({k: str(v) for k, v in files.items()})
        process_env.update(PATH=path, CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(job["workspace"]),
                           GITHUB_RUN_ID="4242", GITHUB_EVENT_NAME=self.event, GITHUB_REF_NAME="main",
                           GITHUB_REPOSITORY="example/torch-shap-matrix", GITHUB_SERVER_URL="https://github.invalid",
                           RUNNER_OS="Linux", RUNNER_ARCH="X64", RUNNER_TEMP=str(folder / "runner-temp"))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
                              cwd=job["workspace"], env=process_env, capture_output=True, text=True,
                              timeout=self.timeout)
        tail = (done.stdout + done.stderr)[-6000:]
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
            "actions/upload-pages-artifact": ({"path"}, self.upload_pages),
            "actions/deploy-pages": (set(), self.deploy_pages),
        }
        if name not in known:
            raise WorkflowError(f"no stand-in for the action {uses}")
        allowed, handler = known[name]
        if set(inputs) - allowed:
            raise WorkflowError(f"{name}: inputs this stand-in does not know: {sorted(set(inputs) - allowed)}")
        return handler(job, inputs) or {}

    def checkout(self, job, inputs):
        ref = inputs.get("ref") or "main"
        subprocess.run(["git", "clone", "-q", "--branch", ref, str(self.origin), str(job["workspace"])], check=True)

    def setup_python(self, job, inputs):
        version = subprocess.run([str(self.tools.python_bin / "python"), "-c",
                                  "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        if version != str(inputs.get("python-version")):
            raise WorkflowError(f"setup-python asks for {inputs.get('python-version')}, the stand-in has {version}")
        job["path"].append(str(self.tools.python_bin))

    def setup_uv(self, job, inputs):
        job["path"].append(str(self.tools.uv_bin))
        if inputs.get("cache-local-path"):
            job["env"]["UV_CACHE_DIR"] = str(inputs["cache-local-path"])

    def cache_restore(self, job, inputs):
        target = Path(inputs["path"])
        if target.exists() or target.is_symlink():
            raise WorkflowError(f"cache restore into {target}, which already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(self.tools.uv_cache, target_is_directory=True)
        matched = f"{inputs['restore-keys'].strip()}machine-uv-cache"
        self.caches.append(("restore", inputs["key"], matched))
        return {"cache-hit": "false", "cache-primary-key": inputs["key"], "cache-matched-key": matched}

    def cache_save(self, job, inputs):
        if not Path(inputs["path"]).exists():
            raise WorkflowError(f"cache save of {inputs['path']}, which does not exist")
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
        shutil.copytree(source, self.artifacts / "github-pages", dirs_exist_ok=True)

    def deploy_pages(self, job, inputs):
        if not (self.artifacts / "github-pages").is_dir():
            raise WorkflowError("deploy-pages: no github-pages artifact was uploaded")
        self.deployments.append(job["name"])
        return {"page_url": "https://example.github.invalid/torch-shap-matrix/"}


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
