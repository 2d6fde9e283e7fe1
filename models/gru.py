"""GRU sequence classifier reading the final hidden state.

Reproduces the situation in:
- https://github.com/shap/shap/issues/1057 : an RNN-based module in a PyTorch model made
  DeepExplainer stop with "cudnn RNN backward can only be called in training mode".
- https://github.com/pytorch/pytorch/issues/15788 : the same cuDNN error from a gradient-based
  explanation (grad-cam's backward) through a recurrent model.
"""
from torch import nn

INPUT_SHAPES = [(6, 4)]
FAMILY = "rnn_output"
DESCRIPTION = "A GRU classifier whose head reads the final hidden state h_n."
DESCRIPTION_ZH = "GRU 分类器，输出层读取最终隐藏状态 h_n。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(input_size=4, hidden_size=8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


def build():
    return Model()
