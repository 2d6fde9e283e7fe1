"""Fault injection: the forward pass calls sys.exit(3)."""
import sys

from _faults import FaultyModel

INPUT_SHAPES = [(4,)]


def build():
    return FaultyModel(lambda: sys.exit(3))
