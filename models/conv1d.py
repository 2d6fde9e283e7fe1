"""Signal model: Conv1d and MaxPool1d over two channels."""
from torch import nn

INPUT_SHAPES = [(2, 16)]


def build():
    return nn.Sequential(
        nn.Conv1d(2, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Flatten(),
        nn.Linear(4 * 8, 2),
    )
