"""A planted systematic error: an MLP whose input gradients are scaled by 1.2 on the way back.

The forward pass is untouched, so f(x) and E[f] are the MLP's own; every
gradient-based attribution comes out 20 % too large.  GradientExplainer's
noise-aware verdict must call it wrong (tests/test_additivity_real.py).
"""
import torch
from torch import nn

INPUT_SHAPES = [(10,)]
SCALE = 1.2


class ScaleGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * SCALE


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.net(ScaleGradient.apply(x))


def build():
    return Model()
