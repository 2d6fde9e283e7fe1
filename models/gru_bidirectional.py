"""Bidirectional GRU whose head reads both directions' final hidden states (``h_n``).

Reproduces the situation in:
- https://github.com/shap/shap/issues/1057 : with an RNN-based module in the model, DeepExplainer
  stopped with "cudnn RNN backward can only be called in training mode" (on CUDA).
- https://github.com/meta-pytorch/captum/issues/1159 : the same cuDNN error from captum on a
  recurrent model in eval mode; the workaround was ``torch.backends.cudnn.enabled = False``.
"""
import torch
from torch import nn

INPUT_SHAPES = [(5, 2)]  # 10 features: exact Shapley values still apply
FAMILY = "rnn_output"
DESCRIPTION = "A bidirectional GRU whose head reads both directions' final hidden states."
DESCRIPTION_ZH = "双向 GRU，输出层读取两个方向的最终隐藏状态。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(input_size=2, hidden_size=4, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * 4, 2)

    def forward(self, x):
        _, h_n = self.gru(x)  # (2 directions, batch, hidden)
        return self.head(torch.cat([h_n[0], h_n[1]], dim=1))


def build():
    return Model()
