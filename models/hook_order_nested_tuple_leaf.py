"""A true leaf module returns ``(y, (a, b))``, shaped like nn.LSTM's output; the parent reads ``a``.

torch's ``BackwardHook`` wraps only the top-level Tensors of a tuple output,
so ``a`` and ``b`` (inside the inner tuple) carry no grad_output hook.  The
parent uses only ``a``, so the gradient reaches the module's input without
passing a hooked output.  Under shap's DeepExplainer (0.43.0 onwards) torch
1.8.0 to 1.13.0 raise "Module backward hook for grad_input is called before
the grad_output one"; torch 1.13.1 onwards skip the hook silently.  The layers
are linear plus ReLU, so once the error is gone the attributions should add up.

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
DESCRIPTION = "A custom layer with no sub-layers that returns a nested tuple (y, (a, b)), shaped like an LSTM's output."
DESCRIPTION_ZH = "没有子层的自定义层，返回形如 LSTM 输出的嵌套 tuple (y, (a, b))。"


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.w_y = nn.Parameter(torch.randn(6, 4) * 0.5)
        self.w_a = nn.Parameter(torch.randn(6, 4) * 0.5)
        self.w_b = nn.Parameter(torch.randn(6, 4) * 0.5)

    def forward(self, x):
        return x @ self.w_y, (x @ self.w_a, x @ self.w_b)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = Cell()
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        _, (a, _) = self.cell(x)
        return self.head(self.act(a))


def build():
    return Model()
