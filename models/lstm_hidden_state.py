"""LSTM whose head reads the final hidden state ``h_n``.

Reproduces the situation in:
- https://github.com/shap/shap/issues/3415 : DeepExplainer on a PyTorch LSTM returned values but kept
  warning "unrecognized nn.Module: LSTM".
- https://github.com/meta-pytorch/captum/issues/1159 : attributions on an LSTM in eval mode on CUDA
  raised "cudnn RNN backward can only be called in training mode".
"""
from torch import nn

INPUT_SHAPES = [(6, 4)]
FAMILY = "lstm_final_state"
DESCRIPTION = "An LSTM whose head reads the final hidden state h_n."
DESCRIPTION_ZH = "LSTM，输出层读取最终隐藏状态 h_n。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=4, hidden_size=8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def build():
    return Model()
