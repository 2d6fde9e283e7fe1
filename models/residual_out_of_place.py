"""Residual block written out-of-place: ``out = x + block(x)``."""
from torch import nn

INPUT_SHAPES = [(8,)]
FAMILY = "mlp"
DESCRIPTION = "A residual block written out-of-place: out = x + block(x)."
DESCRIPTION_ZH = "非原地写法的残差块：out = x + block(x)。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.act = nn.ReLU()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out = x + self.block(x)
        return self.head(self.act(out))


def build():
    return Model()
