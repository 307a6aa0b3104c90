from __future__ import annotations

import os
import signal
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


# Tests that send SIGINT expect KeyboardInterrupt. A shell that starts the suite in the
# background (`&`, nohup, some CI runners) makes SIGINT ignored, and Python then installs no
# handler: the signal is lost and a test that waits for it runs for hours. Restore Python's
# own handler for the session, and give child processes the default disposition (with which
# Python installs it again): see interruptible_child.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def interruptible_child() -> None:
    """``preexec_fn`` for a child process that a test interrupts with SIGINT (an ignored
    SIGINT is inherited across exec; the default one is not)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20221)
