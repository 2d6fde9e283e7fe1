"""A purely linear model with two outputs: SHAP values are known in closed form, phi_i = w_i (x_i - E[x_i])."""
from torch import nn

INPUT_SHAPES = [(8,)]
CLOSED_FORM = "linear"  # affine in its inputs: the harness checks both explainers against the closed form
FAMILY = "mlp"
DESCRIPTION = "A single linear layer with two outputs (exact SHAP values are known)."
DESCRIPTION_ZH = "只有一个线性层、两个输出的模型（精确的 SHAP 值已知）。"


def build():
    return nn.Linear(8, 2)
