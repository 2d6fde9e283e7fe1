"""Functional ``F.relu``/``torch.sigmoid`` mixed with ``nn.ReLU`` modules.

Reproduces the situation in:
- https://github.com/shap/shap/issues/3938 : a plain MNIST CNN written with ``F.relu``/``F.max_pool2d``
  failed DeepExplainer's additivity check by 0.905; a comment traced it to shap's rules seeing only
  ``nn.Module`` activations, not ``torch.nn.functional`` calls.
- https://github.com/shap/shap/issues/3363 : an MLP whose nonlinearity is ``nn.functional.relu``
  (skorch) failed the same additivity assertion.
"""
import torch
import torch.nn.functional as F
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "activations"
DESCRIPTION = "An MLP whose activations are partly functions (F.relu, torch.sigmoid), not nn modules."
DESCRIPTION_ZH = "部分激活以函数形式调用（F.relu、torch.sigmoid）而不是 nn 模块的 MLP。"


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
