"""One local Ray cluster (2 CPUs) for all tests of this folder, stopped at the end."""

import pytest


@pytest.fixture(scope="session")
def cluster():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'petnet[ray]'")
    from petnet.scale.cluster import local_runtime_env
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env=local_runtime_env())
    yield ray
    ray.shutdown()
