"""Analysis: what the records mean (error signatures, the failure catalogue, known problems and remedies).

Pure functions over records and tables; never imports publish or tools.
"""
