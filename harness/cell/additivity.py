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
# (nsamples background/interpolation draws): its attributions add up to
# f(x) - E[f] only in expectation, and the noise differs from model to model
# (relative L2 error 0.03 to 0.16 at shap's default nsamples=200).  A fixed
# tolerance would let a 20 % systematic error pass on a quiet model, so the
# verdict comes from the estimate's own spread: the cell calls shap_values()
# GRADIENT_REPLICATES times with different seeds (the warm repeats double as
# replicates) and tests whether the mean residual is zero within its standard
# error.  Noise shrinks like 1/sqrt(replicates); a wrong answer does not.
GRADIENT_REPLICATES = 8
GRADIENT_Z = 5.0  # standard errors a systematic error must exceed to count
GRADIENT_FLOOR = 0.05  # ... and 5 % of f(x) - E[f]: smaller biases are not called wrong
GRADIENT_REL_TOL = 0.35  # only with a single estimate (--repeats 0), where no spread can be measured

CRITERIA = {
    "deep": "max|sum(phi) + E[f] - f(x)| <= %g * max(1, max|f|) (deterministic rules: float rounding only)"
    % DEEP_RTOL,
    "gradient": "over %d seeded estimates, the systematic error along f(x) - E[f] and the mean residual's "
                "relative size are each within max(%g, %g standard errors) (Monte Carlo estimate: noise "
                "measured, not assumed)" % (GRADIENT_REPLICATES, GRADIENT_FLOOR, GRADIENT_Z),
    "gradient-single": "||sum(phi) - (f(x) - E[f])||2 / ||f(x) - E[f]||2 <= %g (a single estimate: fixed "
                       "tolerance, no spread to measure)" % GRADIENT_REL_TOL,
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


def _totals(raw, n, m, input_shapes):
    """sum(phi) over every feature of every input: (n, m)."""
    return sum(a.reshape(n, -1, m).sum(axis=1) for a in per_input(raw, n, input_shapes, m))


def check(explainer, raw, f_x, f_background, input_shapes, replicates=()):
    """Judge one explanation; returns the evidence as a plain dict.

    ``f_x`` and ``f_background`` are the model's outputs on the explained
    samples and on the background, computed by the harness itself.  For
    GradientExplainer, ``replicates`` are further shap_values() results with
    other seeds (same settings), from which the noise is measured.
    """
    f_x = _as_array(f_x).reshape(len(f_x), -1)
    expected = _as_array(f_background).reshape(len(f_background), -1).mean(axis=0)
    n, m = f_x.shape
    total = _totals(raw, n, m, input_shapes)
    if not np.all(np.isfinite(total)):
        return {"ok": False, "metric": "non-finite attributions", "error": None, "tolerance": None,
                "criterion": CRITERIA[explainer]}
    if explainer == "deep":
        scale = max(1.0, float(np.abs(f_x).max()))
        error = float(np.abs(total + expected - f_x).max())
        tolerance = DEEP_RTOL * scale
        return {"ok": error <= tolerance, "metric": "max abs error", "error": error, "tolerance": tolerance,
                "criterion": CRITERIA[explainer]}
    delta = f_x - expected
    single = float(np.linalg.norm(total - delta) / max(np.linalg.norm(delta), 1e-12))
    totals = [total] + [_totals(r, n, m, input_shapes) for r in replicates]
    if len(totals) < 2:
        return {"ok": single <= GRADIENT_REL_TOL, "metric": "relative L2 error", "error": single,
                "tolerance": GRADIENT_REL_TOL, "criterion": CRITERIA["gradient-single"]}
    return dict(judge_replicates(np.stack(totals) - delta, delta), single_call_error=single)


def judge_replicates(residuals, delta):
    """Is the mean residual of S independent estimates zero within its own standard error?

    ``residuals``: (S, n, m) = sum(phi) - (f(x) - E[f]) per replicate.  Samples are
    independent (their own random draws); the outputs of one sample share draws, so
    each sample's residual is projected on ``delta`` before its spread is taken.
    Two tests: the systematic error along ``delta`` (a scaled gradient, a wrong
    multiplier: the usual failure) and the size of the mean residual (anything else).
    """
    s = residuals.shape[0]
    norm2 = max(float((delta ** 2).sum()), 1e-24)
    per_sample = (residuals * delta).sum(axis=2) / norm2  # (S, n): each sample's share of the bias
    bias = float(per_sample.sum(axis=1).mean())
    bias_se = float(np.sqrt(per_sample.var(axis=0, ddof=1).sum() / s))
    mean = residuals.mean(axis=0)
    size = float(np.linalg.norm(mean) / np.sqrt(norm2))
    size_se = float(np.sqrt(residuals.var(axis=0, ddof=1).sum() / s / norm2))
    bias_tol = max(GRADIENT_FLOOR, GRADIENT_Z * bias_se)
    size_tol = max(GRADIENT_FLOOR, GRADIENT_Z * size_se)
    ok = abs(bias) <= bias_tol and size <= size_tol
    return {"ok": ok, "metric": "systematic error along f(x) - E[f]", "error": abs(bias), "tolerance": bias_tol,
            "criterion": CRITERIA["gradient"], "replicates": s, "bias": bias, "bias_se": bias_se,
            "mean_residual": size, "mean_residual_se": size_se, "mean_residual_tolerance": size_tol}
