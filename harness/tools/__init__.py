"""Tools on top of the matrix: bisect a boundary, benchmark against the floor, plan the fleet's jobs.

The top layer: may use every other layer; nothing imports it.
"""
