"""``nn.Sequential`` MLP with ``nn.SELU`` activations.

Reproduces the model in:
- https://github.com/shap/shap/issues/3611 : an ``nn.Sequential`` with ``nn.SELU``: DeepExplainer
  warned "unrecognized nn.Module: SELU" and its additivity assertion failed (max diff 8.3); SELU was
  added to shap's PyTorch rules afterwards.
"""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "activations"
DESCRIPTION = "An MLP with SELU activations."
DESCRIPTION_ZH = "使用 SELU 激活的 MLP。"


def build():
    return nn.Sequential(nn.Linear(10, 16), nn.SELU(), nn.Linear(16, 8), nn.SELU(), nn.Linear(8, 2))
