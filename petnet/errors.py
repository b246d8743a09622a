"""The one exception type for mistakes a user can fix.

The command line prints a ``PetnetError`` as ``error: <message>`` and exits with status 2,
never with a traceback. Messages say what is wrong *and* how to fix it.
It subclasses ``ValueError`` so library callers can catch either.
"""


class PetnetError(ValueError):
    """A user mistake (bad input, bad option, bad file), with a message that says how to fix it."""
