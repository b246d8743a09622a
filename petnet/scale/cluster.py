"""Connecting to Ray: a local cluster for one machine, or an existing one.

``address``: ``"local"`` starts a private Ray on this machine (``num_cpus`` of its cores) and stops
it afterwards; ``"auto"`` joins the cluster this machine belongs to (``ray start --head`` /
``ray start --address=...`` was run); ``"ray://HOST:10001"`` connects through Ray Client. If Ray is
already initialised in this process (a notebook, a test), it is used as it is and left running.
"""

from __future__ import annotations

import contextlib
import os

from petnet.errors import ParamError
from petnet.scale import require_ray


def check_address(address: str) -> str:
    """``local``, ``auto`` or ``ray://HOST:PORT``."""
    address = str(address)
    if address in ("local", "auto") or address.startswith("ray://"):
        return address
    raise ParamError("ray_address", f"must be 'local', 'auto' or 'ray://HOST:PORT', got {address!r}")


def local_runtime_env() -> dict:
    """Workers of a local cluster import the same ``petnet`` as this process (a source checkout
    or a virtual environment alike)."""
    from petnet.paths import ROOT
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


def quiet_ray_data() -> None:
    """Ray Data's own progress bars and INFO lines off: petnet reports progress itself."""
    import logging

    import ray.data
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


@contextlib.contextmanager
def connected(address: str = "local", num_cpus: int | None = None):
    """Ray initialised for the ``with`` block; shut down afterwards only if this block started it."""
    ray = require_ray()
    address = check_address(address)
    quiet_ray_data()
    if ray.is_initialized():
        yield ray
        return
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    if address == "local":
        kwargs["num_cpus"] = num_cpus or len(os.sched_getaffinity(0))
        kwargs["runtime_env"] = local_runtime_env()
        ray.init(**kwargs)
    else:
        ray.init(address=address, **kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()
