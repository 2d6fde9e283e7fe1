"""Fault injection: the forward pass never returns."""
import time

from torch import nn

INPUT_SHAPES = [(4,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        time.sleep(3600)
        return self.fc(x)


def build():
    return Model()
