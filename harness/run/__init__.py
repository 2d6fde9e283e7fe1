"""Run: the nox glue that turns planned cells into records.

Options after ``--``, one cell's session (install, freeze, supervisor), cells in
parallel with progress lines, the disk budget, and supplied environments.  Runs
``harness/cell/`` in each cell's virtualenv; never imports analysis or publish.
"""
