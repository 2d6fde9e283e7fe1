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
- https://github.com/shap/shap/issues/3966 : shap_values() of DeepExplainer raised "Module backward hook for
  grad_input is called before the grad_output one" (its traceback's line numbers match shap 0.44.1 with
  torch 1.9.1 to 1.12.1).
- https://github.com/pytorch/pytorch/pull/46163 : torch's BackwardHook behind register_full_backward_hook
  (torch 1.8), the code that raises this error.
- https://github.com/pytorch/pytorch/issues/88312 : a module full_backward_hook raising this error in a
  double backward; fixed by #88357 below.
- https://github.com/pytorch/pytorch/pull/88357 : the raise became a silent return (backported to torch
  1.13.1 in #89928), so torch 1.13.1 onwards say nothing.
"""
import torch
from torch import nn

INPUT_SHAPES = [(6,)]
FAMILY = "container_output"
DESCRIPTION = "A custom layer with its own weights and no sub-layers that returns a dict."
DESCRIPTION_ZH = "有自己的权重、没有子层的自定义层，返回一个 dict。"


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
