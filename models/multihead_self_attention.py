"""``nn.MultiheadAttention`` self-attention over a short sequence, mean-pooled into a classifier.

Reproduces the situation in:
- https://github.com/shap/shap/issues/2874 : a PyTorch classifier made of transformer encoder
  (self-attention) layers over (sample, time, feature) data: DeepExplainer ran but its values
  did not add up to the model's output.
- https://github.com/shap/shap/issues/3881 : a transformer with its own multi-head attention;
  neither DeepExplainer nor GradientExplainer produced values that added up.
"""
from torch import nn

INPUT_SHAPES = [(4, 4)]  # (tokens, embedding)
FAMILY = "attention"
DESCRIPTION = "Self-attention with nn.MultiheadAttention over a short sequence, mean-pooled."
DESCRIPTION_ZH = "在短序列上用 nn.MultiheadAttention 做自注意力，再做平均池化。"


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed_dim=4, num_heads=2, batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        attended, _ = self.attention(x, x, x, need_weights=False)
        return self.head(attended.mean(dim=1))


def build():
    return Model()
