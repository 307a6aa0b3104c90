"""Set-up run in each worker process of lcnfast's private ``LocalCluster`` (a Dask preload
module): the worker's task-state messages are logged from ERROR on, so that Ctrl-C, which
cancels the running tasks, does not print a warning per cancelled task after the command's
one line."""

from __future__ import annotations

import logging
from typing import Any


def dask_setup(worker: Any) -> None:
    """Called by Dask in the worker process when it starts."""
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)
