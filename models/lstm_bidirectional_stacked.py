"""Two-layer bidirectional LSTM whose head reads the last time step of the output.

Reproduces the situation in:
- https://github.com/meta-pytorch/captum/issues/328 : a bidirectional LSTM in eval mode failed
  under DeepLift/DeepLiftShap on CUDA with "cudnn RNN backward can only be called in training mode".
- https://github.com/shap/shap/issues/2653 : a PyTorch nn.LSTM model was reported as not
  supported by DeepExplainer (later comments: results came out, with an "unrecognized nn.Module" warning).
"""
from torch import nn

INPUT_SHAPES = [(5, 3)]
FAMILY = "rnn_output"
DESCRIPTION = "A two-layer bidirectional LSTM whose head reads the last time step of the output."
DESCRIPTION_ZH = "两层双向 LSTM，输出层读取输出序列的最后一个时间步。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * 4, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def build():
    return Model()
