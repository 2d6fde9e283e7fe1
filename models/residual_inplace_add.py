"""Residual block written ``out += x``, the way torchvision's ResNet does it.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1479 : DeepExplainer failed on torchvision's ResNet-50; the
  thread's workaround replaces ``out += identity`` with ``out = out + identity``.
- https://github.com/shap/shap/issues/3466 : the same in-place error on ResNet-50; a later comment
  fixed it for ResNet-50/101/152 by rewriting ``out += identity`` and un-sharing the ReLU.
"""
from torch import nn

INPUT_SHAPES = [(8,)]
FAMILY = "inplace"
DESCRIPTION = "A residual block written out += x, as torchvision's ResNet does."
DESCRIPTION_ZH = "写成 out += x 的残差块，与 torchvision 的 ResNet 相同。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(8, 8)
        self.relu2 = nn.ReLU()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out = self.fc2(self.relu1(self.fc1(x)))
        out += x
        return self.head(self.relu2(out))


def build():
    return Model()
