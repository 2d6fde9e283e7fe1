"""The one exception type the harness shows to users as a single line."""


class HarnessError(Exception):
    """A problem with the user's input or surroundings (grid, version, network).

    Entry points print ``error: <message>`` and exit non-zero instead of a
    traceback; results already written are never touched.
    """
