"""MLP using ``nn.ReLU(inplace=True)``, a frequent source of backward-hook errors."""
from torch import nn

INPUT_SHAPES = [(10,)]


def build():
    return nn.Sequential(
        nn.Linear(10, 16), nn.ReLU(inplace=True), nn.Linear(16, 8), nn.ReLU(inplace=True), nn.Linear(8, 2)
    )
