"""Signal model: Conv1d and MaxPool1d over two channels.

Reproduces the situation in:
- https://github.com/shap/shap/issues/477 : a Conv1d model warned "unrecognized nn.Module" and
  hit a bug in DeepExplainer's MaxPool1d rule.
- https://github.com/shap/shap/pull/516 : the fix for MaxPool1d, whose backward hook receives gradients
  shaped unlike the other pooling layers'.
"""
from torch import nn

INPUT_SHAPES = [(2, 16)]
FAMILY = "cnn"
DESCRIPTION = "A 1-D convolution over a two-channel signal, with max pooling."
DESCRIPTION_ZH = "对双通道信号做一维卷积，带最大池化。"


def build():
    return nn.Sequential(
        nn.Conv1d(2, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Flatten(),
        nn.Linear(4 * 8, 2),
    )
