"""MLP with three outputs: the plain case every explainer should handle."""
from torch import nn

INPUT_SHAPES = [(10,)]


def build():
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
