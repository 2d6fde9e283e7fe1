"""Conv2d + BatchNorm2d (eval) + ReLU, then ``AdaptiveAvgPool2d`` and a linear classifier.

Reproduces the situation in:
- https://github.com/shap/shap/issues/593 : DeepExplainer on torchvision's AlexNet (which ends its
  features in ``AdaptiveAvgPool2d``) printed "unrecognized nn.Module" warnings.
- https://github.com/shap/shap/pull/609 : adaptive average pooling added to the PyTorch rules, to stop
  the warnings of the AlexNet report.
- https://github.com/shap/shap/pull/494 : BatchNorm added to the PyTorch DeepExplainer as a linear
  layer, on the stated assumption that a batch norm being explained is fixed (eval mode).
"""
from torch import nn

INPUT_SHAPES = [(2, 6, 6)]
FAMILY = "cnn"
DESCRIPTION = "Convolution, batch norm and adaptive average pooling before a linear classifier (AlexNet-style)."
DESCRIPTION_ZH = "卷积、批归一化和自适应平均池化，后接线性分类器（AlexNet 风格）。"


def build():
    return nn.Sequential(
        nn.Conv2d(2, 4, kernel_size=3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3),
    )
