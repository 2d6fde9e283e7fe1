"""A small MLP compiled with ``torch.jit.script``, as a deployed TorchScript model would be loaded.

Reproduces the model in:
- https://github.com/shap/shap/issues/3532 : DeepExplainer on a ``torch.jit.script`` model raised
  "register_forward_hook is not supported on ScriptModules", also when wrapped in an nn.Module.
"""
import torch
from torch import nn

INPUT_SHAPES = [(10,)]
FAMILY = "torchscript"
DESCRIPTION = "A small MLP compiled with torch.jit.script, as a deployed TorchScript model is loaded."
DESCRIPTION_ZH = "用 torch.jit.script 编译的小型 MLP，就像加载一个已部署的 TorchScript 模型。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def build():
    return torch.jit.script(Model())
