"""torchvision's ResNet BasicBlock in miniature: one in-place ReLU object used twice, ``out += identity``.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1479 : DeepExplainer failed on torchvision's ResNet-50; the
  thread traced it to reused ReLU modules, ``ReLU(inplace=True)`` and ``out += identity``.
- https://github.com/shap/shap/issues/3466 : DeepExplainer on a torchvision ResNet-50 stopped with an
  in-place modification error from the backward hooks (a warning in older releases).
- https://github.com/shap/shap/issues/3725 : tensor-size mismatch from DeepExplainer, fixed by not
  calling any layer twice in ``forward``; then the additivity check failed by 0.075.
"""
from torch import nn

INPUT_SHAPES = [(2, 5, 5)]
FAMILY = "inplace"
DESCRIPTION = "A miniature ResNet BasicBlock: one in-place ReLU used twice and out += identity."
DESCRIPTION_ZH = "缩小版 ResNet BasicBlock：一个原地 ReLU 用了两次，并且 out += identity。"


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 3, kernel_size=1)
        self.block = BasicBlock(3)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 5 * 5, 2))

    def forward(self, x):
        return self.head(self.block(self.stem(x)))


def build():
    return Model()
