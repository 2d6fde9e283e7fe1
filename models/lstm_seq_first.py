"""LSTM left at its default ``batch_first=False``: the model moves time to the front and reads ``h_n``.

Reproduces the situation in:
- https://github.com/pytorch/pytorch/issues/5878 : backward through an ``nn.LSTM(1, 1, 1)`` (default,
  sequence-first layout) in eval mode on CUDA raised "backward_input can only be called in training mode".
- https://github.com/shap/shap/issues/3415 : DeepExplainer on a PyTorch LSTM gave values but kept
  warning "unrecognized nn.Module: LSTM".
"""
from torch import nn

INPUT_SHAPES = [(4, 2)]  # (time, features) per sample: 8 features, small enough for exact Shapley values
FAMILY = "lstm_final_state"
DESCRIPTION = "An LSTM with the default sequence-first layout whose head reads h_n."
DESCRIPTION_ZH = "使用默认时间优先布局的 LSTM，输出层读取 h_n。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=2, hidden_size=6)  # batch_first=False
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x.transpose(0, 1))  # (batch, time, f) -> (time, batch, f)
        return self.head(h_n[-1])


def build():
    return Model()
