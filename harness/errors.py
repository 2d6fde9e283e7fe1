"""The one exception type the harness shows to users as a single line, and the one way commands show it."""
import argparse
import functools
import sys


class HarnessError(Exception):
    """A problem with the user's input or surroundings (grid, version, network).

    Entry points print ``error: <message>`` and exit non-zero instead of a
    traceback; results already written are never touched.
    """


class OptionParser(argparse.ArgumentParser):
    """argparse that turns a bad option into a HarnessError (one line) instead of usage text and exit 2."""

    def error(self, message):
        raise HarnessError(f"bad option: {message} (see {self.prog} --help)")

    def parse_or_help(self, args) -> argparse.Namespace:
        """parse_args, except that -h/--help prints the help and exits 0 even with required arguments missing."""
        args = list(args)
        if "-h" in args or "--help" in args:
            self.print_help()
            raise SystemExit(0)
        return self.parse_args(args)


def command(main):
    """A command line's main(): a HarnessError becomes "error: <message>" on stderr and exit code 2."""
    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except HarnessError as problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    return wrapped
