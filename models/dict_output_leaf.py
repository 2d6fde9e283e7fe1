"""A leaf module returns a dict, and the parent reads one entry of it."""
from torch import nn


INPUT_SHAPES = [(10,)]
FAMILY = "custom_blocks"
DESCRIPTION = "A sub-block that holds its own layers returns a dict; the parent reads one entry."
DESCRIPTION_ZH = "一个带自己子层的子模块返回 dict，父模块读取其中一项。"


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 8)

    def forward(self, x):
        return {"features": self.fc(x)}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.act = nn.ReLU()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.act(self.encoder(x)["features"]))


def build():
    return Model()
