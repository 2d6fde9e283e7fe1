"""A version-matrix test harness for PyTorch x SHAP, in layers that follow the flow grid -> plan -> cell -> records
-> analysis -> publish:

- ``records``: the data model (raw cell files, outcome names, the cell verdict), the store and the results lock,
  shared by every stage;
- ``plan``: grid.toml to cells (versions, Python per cell, typed suite settings, resolution, reuse of earlier results);
- ``cell``: runs inside each cell's virtualenv (standard library, numpy, torch and shap only);
- ``run``: the work of the nox sessions (options, one cell, the matrix with its parallel cells and disk budget,
  supplied environments, the fleet's publish step); the noxfile only parses and calls it;
- ``analysis``: what the records mean (signatures, catalogue, known problems);
- ``publish``: the tables, the web page, lookup of a pasted error, reproducers, the fleet's diff and issues;
- ``tools``: bisect, bench and the fleet's job matrix, on top.

A layer imports only the layers above it in this list (``harness.errors`` is shared); tests/test_layers.py checks it.
"""


def __getattr__(name):
    """`from torch_shap_matrix import doctor` in a notebook; loaded only when asked for (it is in the tools layer)."""
    if name == "doctor":
        from .tools import doctor
        return doctor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
