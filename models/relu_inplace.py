"""MLP using ``nn.ReLU(inplace=True)``, a frequent source of backward-hook errors.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1479 : DeepExplainer failed on torchvision's ResNet-50; the
  workaround given in the thread starts with ``inplace=False`` on every ReLU.
- https://github.com/shap/shap/issues/3466 : DeepExplainer on a torchvision ResNet-50 stopped with an
  in-place modification error raised through its backward hooks (a warning in older releases).
"""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "inplace"
DESCRIPTION = "An MLP with nn.ReLU(inplace=True)."
DESCRIPTION_ZH = "使用 nn.ReLU(inplace=True) 的 MLP。"


def build():
    return nn.Sequential(
        nn.Linear(10, 16), nn.ReLU(inplace=True), nn.Linear(16, 8), nn.ReLU(inplace=True), nn.Linear(8, 2)
    )
