"""The project's own error: one paragraph saying what went wrong and how to fix it."""


class MnistError(Exception):
    """An error a user can act on; the command line prints it without a traceback."""
