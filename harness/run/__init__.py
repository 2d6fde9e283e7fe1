"""Run: the work of the nox sessions, which turns planned cells into records.

Options after ``--`` (typed), one cell's session (install, freeze, supervisor),
the matrix (reuse, re-timing, the disk budget row by row, cells in parallel
with progress lines, the report), supplied environments and the fleet's
publish step.  Runs ``harness/cell/`` in each cell's virtualenv; never imports
analysis or publish.
"""
