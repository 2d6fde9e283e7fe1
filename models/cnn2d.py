"""Small image classifier: Conv2d, BatchNorm2d, MaxPool2d and a Softmax output."""
from torch import nn

INPUT_SHAPES = [(1, 8, 8)]
FAMILY = "cnn"
DESCRIPTION = "A small image classifier: convolution, batch norm, max pooling and a softmax output."
DESCRIPTION_ZH = "小型图像分类器：卷积、批归一化、最大池化，输出经过 softmax。"


def build():
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
        nn.Softmax(dim=1),
    )
