"""Code that runs inside a cell's virtualenv.

Imports only the standard library, numpy, torch and shap, and must work on
Python 3.8 to 3.13 with numpy 1.x and 2.x: every torch x shap pair runs it.
"""
