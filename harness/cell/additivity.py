"""The harness's own additivity check: sum of attributions + E[f] vs f(x).

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
