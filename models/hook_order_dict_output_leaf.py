"""A true leaf module (parameters, no child modules) returns a dict.

shap's DeepExplainer (0.43.0 onwards) calls ``register_full_backward_hook`` on
every module without children.  torch's ``BackwardHook`` can only wrap Tensors
(or a flat tuple of Tensors) in a module's output, so a dict output gets no
grad_output hook while the input still gets its grad_input hook: the gradient
reaches the module's input without passing a hooked output.  torch 1.8.0 to
1.13.0 raise "Module backward hook for grad_input is called before the
grad_output one"; torch 1.13.1 onwards skip the hook silently.

Unlike ``dict_output_leaf`` (whose encoder holds an ``nn.Linear`` child, so shap
never hooks the encoder itself), the encoder here is a leaf.

Public threads:
https://github.com/shap/shap/issues/3966 (the error from DeepExplainer),
https://github.com/pytorch/pytorch/pull/46163 (BackwardHook, where the error comes from),
https://github.com/pytorch/pytorch/issues/88312 and
https://github.com/pytorch/pytorch/pull/88357 (the raise became a silent return; in 1.13.1 via #89928).
"""
import torch
from torch import nn

INPUT_SHAPES = [(6,)]


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 4) * 0.5)

    def forward(self, x):
        return {"features": x @ self.weight}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.act(self.encoder(x)["features"]))


def build():
    return Model()
