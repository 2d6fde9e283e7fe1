"""LSTM whose head reads the last time step of the output, ``out[:, -1]``."""
from torch import nn

INPUT_SHAPES = [(6, 4)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=4, hidden_size=8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def build():
    return Model()
