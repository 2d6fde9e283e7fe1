"""Two linear layers with no activation between them: still affine, so the closed form holds exactly."""
from torch import nn

INPUT_SHAPES = [(6,)]
CLOSED_FORM = "linear"  # affine in its inputs: the harness checks both explainers against the closed form
FAMILY = "mlp"
DESCRIPTION = "Two linear layers with no activation between them (still linear)."
DESCRIPTION_ZH = "两个线性层之间没有激活（整体仍是线性的）。"


def build():
    return nn.Sequential(nn.Linear(6, 12), nn.Linear(12, 3))
