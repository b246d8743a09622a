"""Errors of chapter 2 whose advice names another parameter.

A :class:`~petnet.errors.ParamError` names the one parameter whose value is bad, and the command
line rewords that name into its flag. Some advice names a *different* setting ("or scale the
features"); an :class:`AdviceError` keeps that advice as a template, spelled the Python way by
default (``scale=True``) and the command line's way by the CLI (``exc.spell(scale="--scale")``).
"""

from __future__ import annotations

from petnet.errors import PetnetError

#: how the advice names each setting when called from Python
PYTHON_SPELLING = {"scale": "scale=True", "no_scale": "scale=False"}


class AdviceError(PetnetError):
    """``text`` followed by ``advice``, a template with ``{scale}``/``{no_scale}`` placeholders."""

    def __init__(self, text: str, advice: str = ""):
        self.text, self.advice = text, advice
        super().__init__(self.spell())

    def spell(self, **spelling: str) -> str:
        """The message with the settings spelled as given (the rest the Python way)."""
        return self.text + self.advice.format(**{**PYTHON_SPELLING, **spelling})


class DivergenceError(AdviceError):
    """Gradient descent diverged: the loss grew without bound (the learning rate is too large)."""
