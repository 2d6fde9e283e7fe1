#!/usr/bin/env python
"""Reproducer: shap.DeepExplainer on the `residual_out_of_place` model (cpu).

torch 1.13.1, shap 0.44.1, numpy 2.4.6, Python 3.11.7
(pins of every package in requirements.txt beside this file).
Recorded by torch-shap-matrix on 2026-11-29T18:55:36+00:00 (host vm, harness commit dace022c8cb2).

Run, from the repository root:
    cd results/reproducers/torch_1_13_1-shap_0_44_1 && uv venv --python 3.11 && uv pip install -r requirements.txt && .venv/bin/python residual_out_of_place-deep-cpu.py
(or any virtualenv with Python 3.11 and `pip install -r requirements.txt`).

Recorded outcome: fail: RuntimeError: Numpy is not available
This file imports only torch, shap and numpy: the model, the data and the call are all below.
"""
import sys
import types

import numpy as np
import shap
import torch

# The model, as the harness ran it.
MODEL_SOURCE = r'''"""Residual block written out-of-place: ``out = x + block(x)``."""
from torch import nn

INPUT_SHAPES = [(8,)]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.act = nn.ReLU()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out = x + self.block(x)
        return self.head(self.act(out))


def build():
    return Model()
'''


def module_from(name, source):
    module = types.ModuleType(name)
    exec(compile(source, name + ".py", "exec"), module.__dict__)
    return module


def main():
    definition = module_from("model_definition", MODEL_SOURCE)
    shapes = [tuple(s) for s in definition.INPUT_SHAPES]
    device = "cpu"
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = definition.build().eval().to(device)
    generator = torch.Generator().manual_seed(0)
    background = [torch.randn((20,) + s, generator=generator).to(device) for s in shapes]
    samples = [torch.randn((5,) + s, generator=generator).to(device) for s in shapes]
    with torch.no_grad():
        f_x = np.array(model(*samples).detach().cpu().tolist())
        f_background = np.array(model(*background).detach().cpu().tolist())
    single = len(shapes) == 1
    bg_arg, x_arg = (background[0], samples[0]) if single else (background, samples)
    kwargs = {}

    explainer = shap.DeepExplainer(model, bg_arg)
    try:
        values = explainer.shap_values(x_arg, **kwargs)
    except AssertionError as exc:
        if "sum up to the model" not in str(exc):
            raise
        print("note: shap's own additivity check fired: " + str(exc).strip().splitlines()[0])
        values = shap.DeepExplainer(model, bg_arg).shap_values(x_arg, check_additivity=False, **kwargs)
    print("pass: shap_values() returned (the recorded failure did not reproduce)")
    return 0



if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        print("fail: %s: %s" % (type(exc).__name__, lines[0] if lines else ""))
        raise
