"""Residual block written ``out += x``, the way torchvision's ResNet does it."""
from torch import nn

INPUT_SHAPES = [(8,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(8, 8)
        self.relu2 = nn.ReLU()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out = self.fc2(self.relu1(self.fc1(x)))
        out += x
        return self.head(self.relu2(out))


def build():
    return Model()
