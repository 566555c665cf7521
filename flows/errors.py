"""The one error type the command line turns into a single clear line."""


class ChisoError(Exception):
    """A problem the user can act on, reported as one line without a traceback."""
