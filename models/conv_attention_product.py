"""Attention pooling by element-wise product: ``(h * softmax(W h)).sum(time)`` over a Conv1d encoder.

Reproduces the model in:
- https://github.com/shap/shap/issues/1057 : Conv1d (kernel 1) features ``h``, scores ``a = softmax(W(h))``
  over time, ``c = (h * a).sum(dim=1)``, a Linear output; DeepExplainer's values failed the additivity
  check (differences > 1e-2), while ``h + a`` in place of ``h * a`` added up.
"""
import torch
from torch import nn

INPUT_SHAPES = [(5, 2)]  # (time, features), as in the report; 10 features
FAMILY = "attention"
DESCRIPTION = "Attention pooling: a 1-D convolution, softmax scores over time, and a weighted sum (h * a)."
DESCRIPTION_ZH = "注意力池化：一维卷积、沿时间做 softmax 打分，再加权求和（h * a）。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, kernel_size=1)
        self.score = nn.Linear(4, 1)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        h = self.conv(x.transpose(-1, -2)).transpose(-1, -2)  # (batch, time, 4)
        a = torch.softmax(self.score(h), dim=1)  # (batch, time, 1)
        return self.out((h * a).sum(dim=1))


def build():
    return Model()
