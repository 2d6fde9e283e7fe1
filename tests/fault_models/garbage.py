"""Fault injection: garbage on stdout and stderr, at Python and file-descriptor level, then a normal result."""
import os
import sys

from _faults import FaultyModel

INPUT_SHAPES = [(4,)]


def scribble():
    print('{"outcome": "pass", "garbage": true}')
    sys.stderr.write("\x00\xff not json\n")
    os.write(1, b'{"broken json\n')
    os.write(2, b"raw bytes on fd 2\n")


def build():
    return FaultyModel(scribble)
