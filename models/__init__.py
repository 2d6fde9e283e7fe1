"""The reference suite: one plain module per model.

Contract (the same for a user's own models file): a module defines
``INPUT_SHAPES``, a list of per-sample input shapes (one tuple per model
input), and ``build()``, which returns an ``nn.Module``.  The harness seeds
torch before ``build()`` and makes the inputs itself, so a model declares its
shapes only, never what outcome it "should" have.

Each reference model also says what kind of model it is, for the answer cards
(harness/analysis/answers.py reads these without importing the module):
``FAMILY`` (a family id of answers.FAMILIES), ``DESCRIPTION`` (one line in plain
words) and ``DESCRIPTION_ZH`` (the same in Simplified Chinese).  A user's model may
leave them out: it is then shown under "your own models".

Only torch may be imported here: this code runs inside every cell's
virtualenv (Python 3.8 to 3.13, torch 1.13 onwards).
"""
