#!/usr/bin/env python
"""Reproducer: shap.DeepExplainer on the `functional_activations` model (cpu).

torch 2.4.1, shap 0.49.1, numpy 2.5.5, Python 3.12.1
(pins of every package in requirements.txt beside this file).
Recorded by torch-shap-matrix on 2026-11-29T18:57:33+00:00 (host vm, harness commit dace022c8cb2).

Run, from the repository root:
    cd results/reproducers/torch_2_4_1-shap_0_49_1 && uv venv --python 3.12 && uv pip install -r requirements.txt && .venv/bin/python functional_activations-deep-cpu.py
(or any virtualenv with Python 3.12 and `pip install -r requirements.txt`).

Recorded outcome: mismatch: max abs error 0.016749436259851813 > tolerance 0.001
This file imports only torch, shap and numpy: the model, the data and the call are all below.
"""
import sys
import types

import numpy as np
import shap
import torch

# The model, as the harness ran it.
MODEL_SOURCE = r'''"""Functional ``F.relu``/``torch.sigmoid`` mixed with ``nn.ReLU`` modules."""
import torch
import torch.nn.functional as F
from torch import nn

INPUT_SHAPES = [(10,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.fc2 = nn.Linear(16, 8)
        self.act = nn.ReLU()
        self.fc3 = nn.Linear(8, 2)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = self.act(self.fc2(h))
        return torch.sigmoid(self.fc3(h))


def build():
    return Model()
'''

# The harness's own checks (harness/cell/additivity.py and oracles.py, verbatim).
ADDITIVITY_SOURCE = r'''"""The harness's own additivity check: sum of attributions + E[f] vs f(x).

Older shap releases do not check their own numbers, so the harness does it
for every version, with a criterion that fits how each explainer works.
numpy only: this runs inside every cell.
"""
from __future__ import annotations

import numpy as np

# DeepExplainer (DeepLIFT rescale rules) is deterministic: its attributions add
# up exactly in exact arithmetic, so only float32 rounding is allowed.  The
# error is judged against the output's scale (1 at least).
DEEP_RTOL = 1e-3

# GradientExplainer estimates expected gradients by Monte Carlo sampling
# (nsamples background/interpolation draws): the attributions add up to
# f(x) - E[f] only in expectation.  We judge the relative L2 error over all
# samples and outputs; measured sampling noise on the reference suite with
# shap's default nsamples=200 stays well below this, while a real defect
# (zeros, a wrong output, a broken gradient) gives an error near 1.
GRADIENT_REL_TOL = 0.35

CRITERIA = {
    "deep": "max|sum(phi) + E[f] - f(x)| <= %g * max(1, max|f|) (deterministic rules: float rounding only)"
    % DEEP_RTOL,
    "gradient": "||sum(phi) - (f(x) - E[f])||2 / ||f(x) - E[f]||2 <= %g (Monte Carlo estimate: sampling noise allowed)"
    % GRADIENT_REL_TOL,
}


class ShapeProblem(Exception):
    """shap returned attributions whose layout matches no known convention."""


def _as_array(obj):
    return np.asarray(obj, dtype=np.float64)


def per_input(raw, n_samples, input_shapes, n_outputs):
    """Bring shap's return value to one array per input, shaped (n, *input, outputs).

    shap changed conventions over time: a list over outputs (of lists over
    inputs) before 0.45, a trailing output axis since; a single output may
    come back without an output axis at all.
    """
    k = len(input_shapes)
    wanted = [(n_samples,) + tuple(shape) for shape in input_shapes]

    def fits(arrays, with_output_axis):
        if len(arrays) != k:
            return False
        if with_output_axis:
            return all(a.shape == w + (n_outputs,) for a, w in zip(arrays, wanted))
        return all(a.shape == w for a, w in zip(arrays, wanted))

    candidates = []
    if isinstance(raw, (list, tuple)):
        items = list(raw)
        # new style, several inputs: a list over inputs, each with an output axis
        if len(items) == k and all(not isinstance(i, (list, tuple)) for i in items):
            arrays = [_as_array(i) for i in items]
            candidates.append((arrays, True))
            if n_outputs == 1:
                candidates.append(([a[..., None] for a in arrays], False))
        # old style: a list over outputs, each an input's array (or a list over inputs)
        if len(items) == n_outputs:
            if k == 1 and all(not isinstance(i, (list, tuple)) for i in items):
                per_output = [[_as_array(i)] for i in items]
            elif all(isinstance(i, (list, tuple)) and len(i) == k for i in items):
                per_output = [[_as_array(a) for a in i] for i in items]
            else:
                per_output = None
            if per_output is not None and all(fits(o, False) for o in per_output):
                stacked = [np.stack([o[j] for o in per_output], axis=-1) for j in range(k)]
                candidates.append((stacked, True))
    elif k == 1:
        array = _as_array(raw)
        candidates.append(([array], True))
        if n_outputs == 1:
            candidates.append(([array[..., None]], True))

    for arrays, with_axis in candidates:
        if fits(arrays, with_axis):
            return arrays
    raise ShapeProblem("unexpected attribution layout %s for inputs %s and %d output(s)" % (_describe(raw), wanted, n_outputs))


def _describe(raw):
    if isinstance(raw, (list, tuple)):
        return "[" + ", ".join(_describe(i) for i in raw) + "]"
    return str(tuple(np.shape(raw)))


def check(explainer, raw, f_x, f_background, input_shapes):
    """Judge one explanation; returns the evidence as a plain dict.

    ``f_x`` and ``f_background`` are the model's outputs on the explained
    samples and on the background, computed by the harness itself.
    """
    f_x = _as_array(f_x).reshape(len(f_x), -1)
    expected = _as_array(f_background).reshape(len(f_background), -1).mean(axis=0)
    n, m = f_x.shape
    arrays = per_input(raw, n, input_shapes, m)
    total = sum(a.reshape(n, -1, m).sum(axis=1) for a in arrays)
    if not np.all(np.isfinite(total)):
        return {"ok": False, "metric": "non-finite attributions", "error": None, "tolerance": None,
                "criterion": CRITERIA[explainer]}
    if explainer == "deep":
        scale = max(1.0, float(np.abs(f_x).max()))
        error = float(np.abs(total + expected - f_x).max())
        tolerance = DEEP_RTOL * scale
        metric = "max abs error"
    else:
        delta = f_x - expected
        error = float(np.linalg.norm(total - delta) / max(np.linalg.norm(delta), 1e-12))
        tolerance = GRADIENT_REL_TOL
        metric = "relative L2 error"
    return {"ok": error <= tolerance, "metric": metric, "error": error, "tolerance": tolerance,
            "criterion": CRITERIA[explainer]}
'''
ORACLES_SOURCE = r'''"""Reference attributions the explainers are measured against.

Additivity only says the attributions add up; these say whether they are the
right attributions.  Two oracles, both interventional Shapley values against
the same background the explainer was given:

- the closed form for an affine model f(x) = W x + c:  phi_i = W_i (x_i - E[x_i]),
  where W is read off the model itself (f(e_i) - f(0));
- brute force for small inputs: all 2^M coalitions, v(S) = E_b f(x_S, b_~S).

numpy only: this runs inside every cell, with every numpy in the grid.
"""
from __future__ import annotations

from math import factorial

import numpy as np

# 2^10 coalitions x 5 samples x 20 background rows = 102,400 model rows: a
# fraction of a second; each extra feature doubles it.
EXACT_MAX_FEATURES = 10

# DeepLIFT's rules are exact on an affine model, so only float32 rounding
# separates DeepExplainer from the closed form.
DEEP_ORACLE_RTOL = 1e-3

# Expected gradients of an affine model are W_i (x_i - mean of the *sampled*
# background rows): GradientExplainer draws nsamples=200 rows from the 20
# background rows, so its mean differs from theirs by sampling noise (measured
# 0.03-0.12 relative on the suite); a wrong attribution is off by about 1.
GRADIENT_ORACLE_RTOL = 0.35

# CPU and CUDA run the same float32 arithmetic in a different order (and cuDNN
# may use TF32 for convolutions), so attributions may differ in the third
# digit; a real disagreement (a wrong device path) is off by far more.
DEVICE_RTOL = 1e-2

ORACLE_TOLERANCES = {"deep": DEEP_ORACLE_RTOL, "gradient": GRADIENT_ORACLE_RTOL}
METRIC = "||phi - phi*||2 / ||phi*||2"


def flatten_inputs(arrays):
    """Concatenate several inputs, each (n, *shape), into one (n, M) feature matrix."""
    return np.concatenate([np.asarray(a, dtype=np.float64).reshape(len(a), -1) for a in arrays], axis=1)


def split_inputs(rows, input_shapes):
    """Inverse of flatten_inputs: (k, M) -> one (k, *shape) array per input."""
    out, start = [], 0
    for shape in input_shapes:
        size = int(np.prod(shape))
        out.append(rows[:, start:start + size].reshape((len(rows),) + tuple(shape)))
        start += size
    return out


def exact_shapley(f, x, background):
    """Interventional Shapley values by enumerating every coalition.

    ``f`` maps (k, M) rows to (k, m) outputs; ``x`` is (n, M), ``background``
    (b, M).  Returns (n, M, m).
    """
    x, background = np.asarray(x, dtype=np.float64), np.asarray(background, dtype=np.float64)
    n, m_features = x.shape
    b = len(background)
    masks = np.arange(2 ** m_features)
    member = ((masks[:, None] >> np.arange(m_features)) & 1).astype(bool)  # (2^M, M)
    value = []
    for mask in member:  # one model call per coalition keeps memory flat
        rows = np.where(mask, x[:, None, :], background[None, :, :]).reshape(n * b, m_features)
        value.append(np.asarray(f(rows), dtype=np.float64).reshape(n, b, -1).mean(axis=1))
    value = np.stack(value)  # (2^M, n, m)
    sizes = member.sum(axis=1)
    weight = np.array([factorial(s) * factorial(m_features - s - 1) / factorial(m_features)
                       if s < m_features else 0.0 for s in sizes])
    phi = np.zeros((n, m_features, value.shape[2]))
    for i in range(m_features):
        without = masks[~member[:, i]]
        gain = value[without | (1 << i)] - value[without]  # (k, n, m)
        phi[:, i, :] = np.tensordot(weight[without], gain, axes=1)
    return phi


def linear_closed_form(f, x, background):
    """phi_i = W_i (x_i - E[x_i]) for an affine f, with W read off f itself.  Returns (n, M, m)."""
    x, background = np.asarray(x, dtype=np.float64), np.asarray(background, dtype=np.float64)
    m_features = x.shape[1]
    probes = np.vstack([np.zeros((1, m_features)), np.eye(m_features)])
    outputs = np.asarray(f(probes), dtype=np.float64).reshape(m_features + 1, -1)
    weights = outputs[1:] - outputs[0]  # (M, m)
    return (x - background.mean(axis=0))[:, :, None] * weights[None, :, :]


def deviation(phi, reference):
    """Relative L2 distance between an explainer's attributions and the oracle's."""
    phi, reference = np.asarray(phi, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return float(np.linalg.norm(phi - reference) / max(np.linalg.norm(reference), 1e-12))


def judge(explainer, phi, reference, verdict):
    """The evidence for one oracle; ``verdict`` False means measured only (theory promises no equality)."""
    if phi.shape != reference.shape:
        return {"metric": METRIC, "deviation": None, "tolerance": None, "ok": False if verdict else None,
                "note": "attribution shape %s, oracle shape %s" % (phi.shape, reference.shape)}
    error = deviation(phi, reference)
    tolerance = ORACLE_TOLERANCES[explainer]
    return {"metric": METRIC, "deviation": error, "tolerance": tolerance,
            "ok": (error <= tolerance) if verdict else None}


def device_agreement(cpu, cuda):
    """Largest difference between two devices' attributions, relative to their scale."""
    cpu, cuda = np.asarray(cpu, dtype=np.float64), np.asarray(cuda, dtype=np.float64)
    if cpu.shape != cuda.shape:
        return {"max_abs_diff": None, "scale": None, "tolerance": DEVICE_RTOL, "ok": False,
                "note": "shapes differ: cpu %s, cuda %s" % (cpu.shape, cuda.shape)}
    diff = float(np.abs(cpu - cuda).max()) if cpu.size else 0.0
    scale = max(1.0, float(np.abs(cpu).max()) if cpu.size else 0.0)
    return {"max_abs_diff": diff, "scale": scale, "tolerance": DEVICE_RTOL, "ok": diff <= DEVICE_RTOL * scale}
'''


def module_from(name, source):
    module = types.ModuleType(name)
    exec(compile(source, name + ".py", "exec"), module.__dict__)
    return module


def main():
    definition = module_from("model_definition", MODEL_SOURCE)
    shapes = [tuple(s) for s in definition.INPUT_SHAPES]
    device = "cpu"
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = definition.build().eval().to(device)
    generator = torch.Generator().manual_seed(0)
    background = [torch.randn((20,) + s, generator=generator).to(device) for s in shapes]
    samples = [torch.randn((5,) + s, generator=generator).to(device) for s in shapes]
    with torch.no_grad():
        f_x = np.array(model(*samples).detach().cpu().tolist())
        f_background = np.array(model(*background).detach().cpu().tolist())
    single = len(shapes) == 1
    bg_arg, x_arg = (background[0], samples[0]) if single else (background, samples)
    kwargs = {}

    explainer = shap.DeepExplainer(model, bg_arg)
    try:
        values = explainer.shap_values(x_arg, **kwargs)
    except AssertionError as exc:
        if "sum up to the model" not in str(exc):
            raise
        print("note: shap's own additivity check fired: " + str(exc).strip().splitlines()[0])
        values = shap.DeepExplainer(model, bg_arg).shap_values(x_arg, check_additivity=False, **kwargs)
    return judge(values, f_x, f_background, shapes, definition, model, background, samples)


def judge(values, f_x, f_background, shapes, definition, model, background, samples):
    """The harness's verdict: additivity, then the closed form for affine models."""
    additivity = module_from("additivity", ADDITIVITY_SOURCE)
    oracles = module_from("oracles", ORACLES_SOURCE)
    check = additivity.check("deep", values, f_x, f_background, shapes)
    if not check["ok"]:
        print("mismatch: %s %s > tolerance %s" % (check["metric"], check["error"], check["tolerance"]))
        return 1
    if getattr(definition, "CLOSED_FORM", None) == "linear":
        n, m = f_x.reshape(len(f_x), -1).shape
        phi = np.concatenate([a.reshape(n, -1, m) for a in additivity.per_input(values, n, shapes, m)], axis=1)

        def f(rows):
            inputs = [torch.tensor(p.tolist(), dtype=torch.float32).to("cpu")
                      for p in oracles.split_inputs(rows, shapes)]
            with torch.no_grad():
                return np.array(model(*inputs).detach().cpu().tolist()).reshape(len(rows), -1)
        x = oracles.flatten_inputs([np.array(s.cpu().tolist()) for s in samples])
        bg = oracles.flatten_inputs([np.array(b.cpu().tolist()) for b in background])
        verdict = oracles.judge("deep", phi, oracles.linear_closed_form(f, x, bg), verdict=True)
        if not verdict["ok"]:
            print("mismatch: closed form %s %s > tolerance %s" % (verdict["metric"], verdict["deviation"],
                                                                  verdict["tolerance"]))
            return 1
    print("pass: the attributions hold (the recorded mismatch did not reproduce)")
    return 0



if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        print("fail: %s: %s" % (type(exc).__name__, lines[0] if lines else ""))
        raise
