"""One ``nn.ReLU`` object called at two places in ``forward``.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1479 : a commenter's diagnosis: any PyTorch
  network that reuses a ReLU/MaxPool module gets wrong SHAP values or errors from DeepExplainer.
- https://github.com/shap/shap/issues/3725 : a tensor-size mismatch from DeepExplainer, solved by never
  calling an activation module twice in ``forward``.
- https://github.com/meta-pytorch/captum/issues/1082 : captum's DeepLift disagreed with shap's TF
  DeepExplainer until each ReLU call had its own module.
"""
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "reused_module"
DESCRIPTION = "One nn.ReLU object called at two places in forward()."
DESCRIPTION_ZH = "同一个 nn.ReLU 对象在 forward() 中的两个地方调用。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


def build():
    return Model()
