"""MLP with the other smooth or leaky activations: ``LeakyReLU``, ``ELU`` and ``Softplus`` modules.

Reproduces the situation in:
- https://github.com/shap/shap/pull/507 : LeakyReLU was missing from the PyTorch DeepExplainer's
  rules and was added as a nonlinearity (with Conv1d/Conv3d).
- https://github.com/shap/shap/issues/3611 : an activation missing from those rules (SELU) gave an
  "unrecognized nn.Module" warning and a failed additivity check; this model checks its neighbours.
"""
from torch import nn

INPUT_SHAPES = [(8,)]
FAMILY = "activations"
DESCRIPTION = "An MLP with LeakyReLU, ELU and Softplus activations."
DESCRIPTION_ZH = "使用 LeakyReLU、ELU 和 Softplus 激活的 MLP。"


def build():
    return nn.Sequential(
        nn.Linear(8, 12), nn.LeakyReLU(0.1), nn.Linear(12, 12), nn.ELU(), nn.Linear(12, 8), nn.Softplus(),
        nn.Linear(8, 2),
    )
