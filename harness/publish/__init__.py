"""Publish: the views of the records (COMPATIBILITY.md, matrix.csv/json, the web page, reproducers)
and the fleet's publish step (diff against the last publish, regression issues).
"""
