"""The exception types for mistakes a user can fix.

The command line prints a ``PetnetError`` as ``error: <message>`` and exits with status 2,
never with a traceback. Messages say what is wrong *and* how to fix it.
It subclasses ``ValueError`` so library callers can catch either.

A ``ParamError`` is a bad value of one named parameter. The library names the parameter as the
caller wrote it (``max_iter must be at least 1, got 0``); the command line, which knows which flag
fed that parameter, says the same with the flag (``--how_many_training_steps must be ...``).
"""


class PetnetError(ValueError):
    """A user mistake (bad input, bad option, bad file), with a message that says how to fix it."""


class ParamError(PetnetError):
    """A bad value of the parameter ``param``: the message is ``f"{param} {problem}"``."""

    def __init__(self, param: str, problem: str):
        self.param = param
        self.problem = problem
        super().__init__(f"{param} {problem}")

    def renamed(self, name: str) -> str:
        """The same message with the parameter called ``name`` (e.g. its command-line flag)."""
        return f"{name} {self.problem}"
