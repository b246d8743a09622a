"""Chapter 2 of the talk: gradient descent, fitting house prices (price = a0 + a1 * area).

* :class:`LinearRegressionGD` -- the vectorised fit (scikit-learn style), any optimizer of
  :data:`petnet.optim.OPTIMIZERS`, feature scaling, polynomial features (curve fit)
* :func:`compare`             -- every optimizer on the same data vs least squares (a :class:`Comparison`)
* :func:`surface`             -- every optimizer on a non-convex function with a local minimum
  (a :class:`SurfaceResult`)
* :func:`load_xy`, :func:`example_path` -- the house table (CSV) and the bundled 16-house example
* :mod:`petnet.gd.losses`     -- the talk's loss catalogue, each with value and gradient
* :mod:`petnet.gd.loop_reference` -- the talk's per-sample Python loops (benchmark reference)
* :mod:`petnet.gd.plots`      -- fitted line/curve, loss curves, paths over loss contours, the surface
"""

from petnet.gd.compare import Comparison, OptimizerRun, compare
from petnet.gd.data import example_path, load_xy
from petnet.gd.errors import DivergenceError
from petnet.gd.linear import ConvergenceWarning, LinearRegressionGD
from petnet.gd.polynomial import power_features
from petnet.gd.scaling import StandardScaler
from petnet.gd.surfaces import DoubleWell, SurfaceResult, SurfaceRun, surface

__all__ = ["LinearRegressionGD", "ConvergenceWarning", "DivergenceError", "compare", "Comparison",
           "OptimizerRun", "surface", "SurfaceResult", "SurfaceRun", "DoubleWell", "StandardScaler",
           "power_features", "load_xy", "example_path"]
