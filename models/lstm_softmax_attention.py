"""Attention-based LSTM: softmax weights over the LSTM outputs, context by element-wise product.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1668 : a user asked whether SHAP works with attention-based
  LSTM models built in PyTorch (no answer; closed as stale).
- https://github.com/meta-pytorch/captum/issues/1085 : DeepLift's convergence deltas grew large when
  the model had ``torch.exp``/softmax or element-wise multiplications.
"""
import torch
from torch import nn

INPUT_SHAPES = [(6, 3)]
FAMILY = "rnn_output"
DESCRIPTION = "An LSTM with softmax attention over its output sequence."
DESCRIPTION_ZH = "在 LSTM 输出序列上做 softmax 注意力的模型。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=3, hidden_size=6, batch_first=True)
        self.score = nn.Linear(6, 1)
        self.softmax = nn.Softmax(dim=1)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        out, _ = self.lstm(x)  # (batch, time, hidden)
        weights = self.softmax(self.score(out))  # (batch, time, 1)
        return self.head((out * weights).sum(dim=1))


def build():
    return Model()
