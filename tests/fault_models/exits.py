"""Fault injection: the forward pass calls sys.exit(3)."""
import sys

from torch import nn

INPUT_SHAPES = [(4,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        sys.exit(3)


def build():
    return Model()
