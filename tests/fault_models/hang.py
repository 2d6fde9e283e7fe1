"""Fault injection: the forward pass never returns."""
import time

from _faults import FaultyModel

INPUT_SHAPES = [(4,)]


def build():
    return FaultyModel(lambda: time.sleep(3600))
