"""Multi-task model: a shared trunk, a 2-class head and a regression head, joined into one output.

Reproduces the situation in:
- https://github.com/shap/shap/issues/2019 : a PyTorch model whose forward returned several outputs
  (a tuple) stopped DeepExplainer at construction: "'tuple' object has no attribute 'device'".
- https://github.com/shap/shap/issues/439 : for a multi-output (Keras) model the maintainer's advice
  was to break it into heads; here the heads are concatenated, the shape shap accepts.
"""
import torch
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "custom_blocks"
DESCRIPTION = "A multi-task model: a shared trunk and two heads concatenated into one output."
DESCRIPTION_ZH = "多任务模型：共享主干，两个输出头拼接成一个输出。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(10, 12), nn.ReLU())
        self.classify = nn.Sequential(nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 2))
        self.regress = nn.Sequential(nn.Linear(12, 4), nn.Tanh(), nn.Linear(4, 1))

    def forward(self, x):
        h = self.trunk(x)
        return torch.cat([self.classify(h), self.regress(h)], dim=1)


def build():
    return Model()
