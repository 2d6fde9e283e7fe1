"""Plan: from grid.toml to the list of cells (versions, Python per cell, constraints, reuse).

Host side, before anything is installed: the grid file, the package index, the
interpreters on this machine, the models of the suite and their hash, the host's
identity and devices, the typed suite settings, what an install resolves to
(``uv pip compile``) and which earlier results still hold.  Imports only
``harness.errors`` and ``harness.records``.
"""
