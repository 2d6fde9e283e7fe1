"""Transformer-style feed-forward block: LayerNorm and GELU.

Reproduces the situation in:
- https://github.com/shap/shap/issues/3465 : DeepExplainer on a tsai model warned "unrecognized
  nn.Module: GELU" (and Flatten, Pad1d, Transpose).
- https://github.com/shap/shap/issues/3438 : adding LayerNorm to the PyTorch rules; the thread
  shows it is not linear (its statistics depend on the input), unlike BatchNorm in eval.
"""
from torch import nn

INPUT_SHAPES = [(12,)]
FAMILY = "attention"
DESCRIPTION = "A transformer-style feed-forward block: Linear, LayerNorm and GELU."
DESCRIPTION_ZH = "Transformer 风格的前馈块：Linear、LayerNorm 和 GELU。"


def build():
    return nn.Sequential(nn.Linear(12, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 2))
