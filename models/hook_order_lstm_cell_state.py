"""nn.LSTM whose head reads only the final cell state ``c_n``.

nn.LSTM returns ``(output, (h_n, c_n))``; torch's ``BackwardHook`` wraps only
``output``, so a head that reads ``h_n`` or ``c_n`` sends the gradient to the
LSTM's input without passing a hooked output.  Under shap's DeepExplainer
(0.43.0 onwards, ``register_full_backward_hook`` on leaves) torch 1.8.0 to
1.13.0 raise "Module backward hook for grad_input is called before the
grad_output one"; torch 1.13.1 onwards skip the hook silently.  (The suite's
``lstm_hidden_state`` is the same trigger through ``h_n``.)  shap has no
DeepLIFT rule for LSTM, so without the error the attributions still need not
add up.

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
from torch import nn

INPUT_SHAPES = [(5, 3)]
FAMILY = "lstm_final_state"
DESCRIPTION = "An LSTM whose head reads only the final cell state c_n."
DESCRIPTION_ZH = "LSTM，输出层只读取最终细胞状态 c_n。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=3, hidden_size=4, batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        _, (_, c_n) = self.lstm(x)
        return self.head(c_n[-1])


def build():
    return Model()
