"""Chapter 2 of the talk: gradient descent, fitting house prices (price = a0 + a1 * area).

* :class:`LinearRegressionGD` -- the vectorised fit (scikit-learn style), any optimizer of
  :mod:`petnet.optim`, feature scaling, polynomial features (curve fit)
* :mod:`petnet.gd.losses`     -- the talk's loss catalogue, each with value and gradient
* :mod:`petnet.gd.loop_reference` -- the talk's per-sample Python loops (benchmark reference)
* :mod:`petnet.gd.surfaces`   -- a non-convex 2-D function with a local minimum (optimizer demo)
* :mod:`petnet.gd.plots`      -- fitted line/curve, loss curves, paths over loss contours
"""

from petnet.gd.data import example_path, load_xy
from petnet.gd.linear import ConvergenceWarning, LinearRegressionGD
from petnet.gd.polynomial import power_features
from petnet.gd.scaling import StandardScaler

__all__ = ["LinearRegressionGD", "ConvergenceWarning", "StandardScaler", "power_features",
           "load_xy", "example_path"]
