"""What the supervisor and a worker say to each other, in one place both import.

One JSON object per line.  The supervisor sends case messages on the
worker's stdin; the worker answers on a private duplicate of its stdout:
first a hello (its import time and environment, or an import error), then
one record per case, in order.  A line that is not JSON (a stray print that
escaped the fd redirection) is dropped, never taken for a result.

Standard library only; Python 3.8+ (runs inside every cell).
"""
from __future__ import annotations

import json

HELLO = "hello"
# The fields of a case message; ``remedy`` names a code remedy of remedies.py to apply first.
CASE_FIELDS = ("model", "path", "explainer", "device", "seed", "repeats", "keep_attributions", "remedy")


def case_message(case, **changes):
    """A case as the worker reads it: only the protocol's fields, with ``changes`` applied."""
    message = dict(case, **changes)
    unknown = set(message) - set(CASE_FIELDS)
    if unknown:
        raise ValueError("not part of the cell protocol: %s" % ", ".join(sorted(unknown)))
    return message


def hello(payload):
    return dict(payload, type=HELLO)


def encode(message):
    """One line of the protocol (text, newline included)."""
    return json.dumps(message) + "\n"


def decode(line):
    """The message on one line, or None for anything that is not a JSON object."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
