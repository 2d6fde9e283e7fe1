"""Reference attributions the explainers are measured against.

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
