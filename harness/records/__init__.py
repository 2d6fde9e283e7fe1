"""Records: the result files every stage shares (reading, writing, merging raw cell documents).

The data model of the harness: it imports nothing from the other layers, so that
planning (reuse), running, analysis and publishing can all read and write records.
"""
