"""Fault injection: the forward pass kills its own process with SIGSEGV."""
import os
import signal

from _faults import FaultyModel

INPUT_SHAPES = [(4,)]


def build():
    return FaultyModel(lambda: os.kill(os.getpid(), signal.SIGSEGV))
