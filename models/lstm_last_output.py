"""LSTM whose head reads the last time step of the output, ``out[:, -1]``.

Reproduces the situation in:
- https://github.com/meta-pytorch/captum/issues/564 : Integrated Gradients on an LSTM read through
  ``lstm(...)[0][:, -1]`` failed on CUDA with "cudnn RNN backward can only be called in training mode";
  on CPU it ran.
- https://github.com/shap/shap/issues/2653 : the PyTorch DeepExplainer reported as not supporting
  nn.LSTM; a later comment saw results with an "unrecognized nn.Module" warning.
"""
from torch import nn

INPUT_SHAPES = [(6, 4)]
FAMILY = "rnn_output"
DESCRIPTION = "An LSTM whose head reads the last time step of the output, out[:, -1]."
DESCRIPTION_ZH = "LSTM，输出层读取输出序列的最后一个时间步 out[:, -1]。"


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
