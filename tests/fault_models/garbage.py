"""Fault injection: prints garbage to stdout and stderr, at Python and file-descriptor level, then works."""
import os
import sys

from torch import nn

INPUT_SHAPES = [(4,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        print('{"outcome": "pass", "garbage": true}')
        sys.stderr.write("\x00\xff not json\n")
        os.write(1, b'{"broken json\n')
        os.write(2, b"raw bytes on fd 2\n")
        return self.fc(x)


def build():
    return Model()
