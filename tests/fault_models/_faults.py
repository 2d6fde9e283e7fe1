"""Shared by the fault-injection models: a tiny model whose forward pass misbehaves."""
from torch import nn


class FaultyModel(nn.Module):
    def __init__(self, fault):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.fault = fault

    def forward(self, x):
        self.fault()
        return self.fc(x)
