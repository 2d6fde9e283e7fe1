"""One ``nn.TransformerEncoderLayer`` (attention, residuals, LayerNorm) with a mean-pooled logit head.

Reproduces the situation in:
- https://github.com/shap/shap/issues/4251 : an FT-Transformer-style model built on
  ``nn.TransformerEncoderLayer``: DeepExplainer warned "unrecognized nn.Module: LayerNorm", then its
  additivity assertion failed (shap 0.50.0, torch 2.11 nightly).
- https://github.com/shap/shap/issues/2874 : transformer encoder layers over (sample, time, feature)
  data; DeepExplainer's values did not sum to the output.
"""
from torch import nn

INPUT_SHAPES = [(4, 4)]  # (tokens, d_model)
FAMILY = "attention"
DESCRIPTION = "One nn.TransformerEncoderLayer (attention, residuals, LayerNorm) with a mean-pooled head."
DESCRIPTION_ZH = "一个 nn.TransformerEncoderLayer（注意力、残差、LayerNorm）加平均池化输出层。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0,
                                                  batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


def build():
    return Model()
