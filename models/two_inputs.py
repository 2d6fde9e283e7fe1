"""Two inputs (tabular features and a signal), fused before the head."""
import torch
from torch import nn

INPUT_SHAPES = [(6,), (2, 8)]
FAMILY = "two_inputs"
DESCRIPTION = "A model with two inputs (tabular features and a signal) fused before the head."
DESCRIPTION_ZH = "有两个输入（表格特征和一段信号）的模型，在输出层之前融合。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.tab = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.sig = nn.Sequential(nn.Conv1d(2, 2, kernel_size=3, padding=1), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(8 + 16, 2)

    def forward(self, tab, sig):
        return self.head(torch.cat([self.tab(tab), self.sig(sig)], dim=1))


def build():
    return Model()
