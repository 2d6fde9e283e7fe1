"""MLP whose output is 1-D, shape (N,): a regression head squeezed by the user."""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "one_d_output"
DESCRIPTION = "An MLP whose output is 1-D, shape (N,): a regression head squeezed with .squeeze(-1)."
DESCRIPTION_ZH = "输出为一维、形状 (N,) 的 MLP：回归头用 .squeeze(-1) 压缩过。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def build():
    return Model()
