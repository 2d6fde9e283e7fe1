"""Fault injection: the forward pass asks for 16 GB at once."""
import torch

from _faults import FaultyModel

INPUT_SHAPES = [(4,)]


def build():
    return FaultyModel(lambda: torch.empty(4 * 1024 ** 3))
