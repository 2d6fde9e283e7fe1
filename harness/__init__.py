"""A version-matrix test harness for PyTorch x SHAP.

``harness.cell`` runs inside each cell's virtualenv (standard library, numpy,
torch and shap only); every other module runs on the host, under nox.
"""
