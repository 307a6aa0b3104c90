from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "lcnfast",
    deadline=None,
    max_examples=int(os.environ.get("LCNFAST_HYPOTHESIS_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("lcnfast")

# Start systems of the strata are cached on disk (lcnfast.start_system_cache): the tests use
# a fresh folder of their own, so that nothing from an earlier run is trusted.
os.environ["LCNFAST_CACHE_DIR"] = tempfile.mkdtemp(prefix="lcnfast-test-cache-")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20221)
