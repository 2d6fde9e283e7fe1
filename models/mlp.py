"""MLP with three outputs: the plain case every explainer should handle."""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "mlp"
DESCRIPTION = "A plain MLP with ReLU activations and three outputs."
DESCRIPTION_ZH = "使用 ReLU 激活、有三个输出的普通 MLP。"


def build():
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
