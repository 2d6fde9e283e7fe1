"""Records: the result files every stage shares (typed records, reading with migration, writing, merging, the lock).

The data model of the harness: it imports nothing from the other layers, so that
planning (reuse), running, analysis and publishing can all read and write records;
the results lock (lock.py) sits beside the store whose writes it guards.
"""
