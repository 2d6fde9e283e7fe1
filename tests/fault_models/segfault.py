"""Fault injection: the forward pass kills its own process with SIGSEGV."""
import os
import signal

from torch import nn

INPUT_SHAPES = [(4,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        os.kill(os.getpid(), signal.SIGSEGV)
        return self.fc(x)


def build():
    return Model()
