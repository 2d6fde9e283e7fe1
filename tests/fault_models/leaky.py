"""A model that changes itself while running: registers a forward hook and sets an attribute on its first call.

The side-effect check must record both, whoever made the change.
"""
from torch import nn

INPUT_SHAPES = [(4,)]


class Leaky(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if not hasattr(self, "seen"):
            self.seen = True
            self.fc.register_forward_hook(lambda module, inputs, output: None)
        return self.fc(x)


def build():
    return Leaky()
