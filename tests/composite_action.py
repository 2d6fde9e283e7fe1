"""Run a local composite action (``uses: ./``) inside tests/workflow_runner.py's job, as GitHub runs one.

What is real: the action.yml as GitHub reads it, its inputs with their defaults (a required one missing fails),
``${{ inputs.* }}``, ``${{ steps.* }}`` and ``github.action_path``, ``GITHUB_ACTION_PATH`` in every ``run:``
step (each must name ``shell: bash``), the step conditions, and the action's outputs.  A ``uses:`` step inside it
goes to the runner's own stand-ins.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from workflow_runner import Scope, WorkflowError, condition, interpolate, text_of

STEP_KEYS = {"name", "id", "if", "env", "run", "shell", "uses", "with", "working-directory"}


def run_composite(run, job, uses: str, inputs: dict, env: dict) -> dict:
    """The composite action at ``uses`` (a path in the job's workspace): its steps in the job; its outputs."""
    folder = (Path(job["workspace"]) / uses).resolve()
    spec = yaml.safe_load((folder / "action.yml").read_text())
    if (spec.get("runs") or {}).get("using") != "composite":
        raise WorkflowError(f"{uses}: only composite actions are supported")
    declared = spec.get("inputs") or {}
    if set(inputs) - set(declared):
        raise WorkflowError(f"{uses}: inputs the action does not declare: {sorted(set(inputs) - set(declared))}")
    values = {}
    for name, spec_input in declared.items():
        if name in inputs:
            values[name] = text_of(inputs[name])
        elif spec_input.get("required") and "default" not in spec_input:
            raise WorkflowError(f"{uses}: required input {name!r} missing")
        else:
            values[name] = text_of(spec_input.get("default", ""))
    github = dict(run.github(job["workspace"]), action_path=str(folder))
    runner = {"os": "Linux", "arch": "X64", "temp": str(Path(job["workspace"]).parent / "runner-temp")}
    scope = Scope({"github": github, "inputs": values, "runner": runner, "env": dict(env), "steps": {}},
                  Path(job["workspace"]))
    for number, step in enumerate(spec["runs"]["steps"]):
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise WorkflowError(f"{uses} step {number}: keys this runner does not know: {sorted(unknown)}")
        step_id = step.get("id") or f"__{number}"
        if not condition(step.get("if"), scope):
            scope.contexts["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        step_env = dict(env, GITHUB_ACTION_PATH=str(folder))
        scope.contexts["env"] = step_env
        step_env.update({k: text_of(v) for k, v in interpolate(step.get("env") or {}, scope).items()})
        if "run" in step:
            if step.get("shell") != "bash":
                raise WorkflowError(f"{uses} step {number}: a composite run step needs shell: bash")
            where = job["workspace"] / interpolate(step.get("working-directory") or ".", scope)
            ok, outputs, tail = run.shell(job, interpolate(step["run"], scope), step_env, where)
        else:
            ok, outputs, tail = True, run.action(job, step["uses"], interpolate(step.get("with") or {}, scope),
                                                 step_env), ""
        outcome = "success" if ok else "failure"
        scope.contexts["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        run.log.append((job["name"], f"{uses}: {step.get('name') or step_id}", outcome, tail))
        if not ok:
            scope.failed = True
            raise ActionFailed(f"{uses} step {step.get('name') or step_id} failed:\n{tail}")
    return {name: text_of(interpolate(output.get("value"), scope))
            for name, output in (spec.get("outputs") or {}).items()}


class ActionFailed(Exception):
    """A step of the composite action failed: the calling step fails with its output."""
