"""Shared test helpers.

Real data lives in ``../shared/data`` beside the project (see its README). A user's fresh
clone does not have it: tests that need it are skipped there with the reason, but under CI
(``CI=true``) a missing data set is a failure, so the real-data checks can never silently vanish.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from petnet.paths import ROOT, shared_dir

SHARED = shared_dir()


def shared_path(*parts: str) -> Path:
    """Path of a file under ``../shared``; skips the test if missing (fails under CI)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = (f"real data {path} is missing: it lives in ../shared/data beside the project "
               "(not part of a fresh clone)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " -- under CI=true it must be present")
        pytest.skip(msg)
    return path


def breed_folders(folder: Path, breeds=("pug", "Persian", "samoyed"), per_breed: int = 5) -> Path:
    """``folder/<breed>/`` holding the first ``per_breed`` shared photos of each breed (copies): a
    small training set laid out as retrain.py expects. Skips without ``../shared`` (fails under CI)."""
    import shutil
    train = shared_path("data", "pets", "train")
    for breed in breeds:
        (folder / breed).mkdir(parents=True)
        for photo in sorted((train / breed).glob("*.jpg"))[:per_breed]:
            shutil.copy(photo, folder / breed / photo.name)
    return folder


@pytest.fixture
def shared():
    """The ``shared_path`` function as a fixture: ``shared("data", "mnist")``."""
    return shared_path


@pytest.fixture
def alarm():
    """Fail instead of hanging forever if a special file is ever opened for reading."""
    signal.signal(signal.SIGALRM, lambda *a: pytest.fail("blocked on a special file"))
    signal.alarm(20)
    yield
    signal.alarm(0)


@pytest.fixture(autouse=True, scope="session")
def _every_answer_is_consistent():
    """Every answer any test makes through ``Recognizer`` is checked against the rules of the one
    decision (:func:`petnet.pets.answer.check_consistent`): not a pet => no species; a sure pet =>
    its top class's species; unsure => a reason. A contradiction fails the test that made it."""
    from petnet.pets.answer import check_consistent
    from petnet.pets.predict import Recognizer
    made = Recognizer._prediction

    def checked(self, *args, **kwargs):
        pred = made(self, *args, **kwargs)
        check_consistent(pred)
        return pred

    Recognizer._prediction = checked
    yield
    Recognizer._prediction = made
