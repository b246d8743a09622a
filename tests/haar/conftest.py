"""Fixtures of the Haar tests: the OpenCV reference (4.x; 5.0 removed CascadeClassifier)."""

import os

import pytest


@pytest.fixture(scope="session")
def cv2_cascade():
    """``cv2`` with a working ``CascadeClassifier``; skipped (failed under CI=true) without it."""
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "CascadeClassifier"):
        msg = (f"OpenCV {cv2.__version__} has no CascadeClassifier (removed in 5.0); "
               "install the test extra: opencv-python-headless>=4.9,<5")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    cv2.setNumThreads(1)
    return cv2
