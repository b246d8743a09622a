"""Section 3.1.2 of the talk: Haar features and early face detection (Viola-Jones, 2001).

Before CNNs, faces were found by sliding a small window over the photo and asking a *cascade*
of very cheap questions -- "is this band darker than the one below it?" -- each a Haar-like
feature: a difference of rectangle sums. The integral image makes any rectangle sum four
lookups, so thousands of features per window are affordable.

* :mod:`~petnet.haar.integral` -- the integral image, rectangle sums, window mean/std
* :mod:`~petnet.haar.features` -- Haar-like features (two-, three-, four-rectangle)
* :mod:`~petnet.haar.cascade`  -- reading OpenCV's cascade XML, evaluating it on many windows
* :mod:`~petnet.haar.pyramid`  -- the scales visited and OpenCV's bit-exact bilinear shrinking
* :mod:`~petnet.haar.grouping` -- merging overlapping boxes (``cv2.groupRectangles``)
* :mod:`~petnet.haar.detect`   -- ``detect_multiscale``: the whole detector
* :mod:`~petnet.haar.figure`   -- drawing the boxes
* :mod:`~petnet.haar.api`      -- photos in, result objects out (what ``petnet haar`` prints)

OpenCV's ``haarcascade_frontalcatface.xml`` (cat faces) and ``haarcascade_frontalface_default.xml``
(human faces) ship in ``petnet/haar/data`` under Intel's BSD-style licence (``data/LICENSE``).
``detect_multiscale`` returns the same boxes as OpenCV 4's ``CascadeClassifier.detectMultiScale``
(tested in ``tests/haar``), without OpenCV.
"""

from petnet.haar.api import Detections, IntegralExample, detect_files, integral_example, read_rgb
from petnet.haar.cascade import BUILTIN, Cascade, CascadeError, load_cascade, parse_cascade
from petnet.haar.detect import detect_candidates, detect_multiscale, to_gray
from petnet.haar.features import KINDS, HaarFeature, feature_values, haar_feature
from petnet.haar.grouping import group_rectangles, partition
from petnet.haar.integral import integral_image, rect_sum, squared_integral, window_mean_std
from petnet.haar.pyramid import pyramid_scales, resize_linear_exact

__all__ = [
    "integral_image", "squared_integral", "rect_sum", "window_mean_std",
    "HaarFeature", "haar_feature", "feature_values", "KINDS",
    "Cascade", "CascadeError", "load_cascade", "parse_cascade", "BUILTIN",
    "pyramid_scales", "resize_linear_exact",
    "group_rectangles", "partition",
    "detect_multiscale", "detect_candidates", "to_gray",
    "detect_files", "Detections", "integral_example", "IntegralExample", "read_rgb",
]
