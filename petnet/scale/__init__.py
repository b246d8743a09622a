"""Beyond one machine: bulk recognition and bottleneck features on a Ray cluster (``petnet[ray]``).

The per-photo work (read, decode, preprocess, backbone) is embarrassingly parallel and the head is
tiny, so petnet scales out on Ray rather than on home-made multiprocessing:

* :func:`~petnet.scale.bulk.bulk_predict` -- ``petnet predict SRC... --ray ADDRESS --out results.parquet``:
  a Ray Data pipeline whose actor pool holds one :class:`~petnet.pets.Recognizer` per worker,
  streaming rows to a resumable result set (:mod:`petnet.scale.results`);
* :class:`~petnet.scale.features.RayBackbone` -- ``petnet retrain ... --ray ADDRESS``: the bottleneck
  features of a large folder computed on the cluster, written into the usual bottleneck cache.

Ray is optional: nothing here is imported by the single-machine path, and :func:`require_ray`
says how to install it.
"""

from __future__ import annotations

from petnet.errors import PetnetError


def require_ray():
    """``import ray``, or a ``PetnetError`` that says how to install the extra."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise PetnetError("Ray is not installed: pip install 'petnet[ray]' (Ray Data and pyarrow)") from None
    return ray
