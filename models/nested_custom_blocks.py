"""Custom ``nn.Module`` blocks nested two deep (a stage of blocks), the way model zoos are written.

Reproduces the situation in:
- https://github.com/shap/shap/pull/1141 : DeepExplainer warned "unrecognized nn.Module" and
  fell back to plain gradients for nested custom modules; the fix recursed into children.
- https://github.com/shap/shap/issues/1282 : "unrecognized nn.Module: MBConvBlock" (EfficientNet's
  custom blocks), still seen by later commenters.
- https://github.com/shap/shap/issues/800 : Inception v3's custom InceptionA-E blocks, each warned
  as an unrecognized nn.Module.
"""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "custom_blocks"
DESCRIPTION = "Custom nn.Module blocks nested two deep, the way model zoos are written."
DESCRIPTION_ZH = "两层嵌套的自定义 nn.Module 块，模型库里常见的写法。"


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(width, width), nn.Tanh())
        self.gate = nn.Sequential(nn.Linear(width, width), nn.Sigmoid())

    def forward(self, x):
        return self.body(x) + self.gate(x)


class Stage(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(10, 8)
        self.stage = Stage(8, depth=2)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.stage(self.stem(x)))


def build():
    return Model()
