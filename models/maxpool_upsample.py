"""Encoder-decoder shape: Conv2d, MaxPool2d(2), ``nn.Upsample`` back to full size, Conv2d, linear head.

Reproduces the situation in:
- https://github.com/shap/shap/issues/2511 : a CNN with ``nn.MaxPool2d(2, 2)`` failed inside
  DeepExplainer's maxpool rule: "The size of tensor a (12) must match the size of tensor b (4)".
- https://github.com/meta-pytorch/captum/issues/712 : a segmentation model with ``nn.Upsample`` was
  refused by a rule-based attribution method: captum's LRP raised "Module type ... Upsample is not
  supported. No default rule defined."
"""
from torch import nn

INPUT_SHAPES = [(1, 6, 6)]
FAMILY = "cnn"
DESCRIPTION = "An encoder-decoder CNN: convolution, max pooling, upsampling, convolution."
DESCRIPTION_ZH = "编码-解码结构的 CNN：卷积、最大池化、上采样、再卷积。"


def build():
    return nn.Sequential(
        nn.Conv2d(1, 3, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(3, 2, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * 6 * 6, 2),
    )
