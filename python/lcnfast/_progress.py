"""Progress of long work (training runs, homotopy paths): a bar or the user's callable.

``progress=`` arguments across lcnfast take :data:`Progress`: ``False`` (nothing), ``True``
(a tqdm bar when tqdm is installed, else a line on stderr) or a callable ``f(done, total)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Union

__all__ = ["Progress", "ProgressBar"]

#: What a ``progress=`` argument accepts.
Progress = Union[bool, Callable[[int, int], Any]]


class ProgressBar:
    """Progress of long work: tqdm when installed, else a line on stderr; or the user's
    callable ``spec(done, total)``."""

    def __init__(self, total: int, spec: Progress, unit: str = "run", desc: str = "lcnfast.train") -> None:
        self.total = total
        self.unit = unit
        self.desc = desc
        self.callback = spec if callable(spec) else None
        self.bar: Any = None
        self.last = -1
        if spec is True:
            try:
                from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]

                self.bar = tqdm(total=total, unit=unit, desc=desc)
            except ImportError:
                self.bar = None

    def __call__(self, done: int) -> None:
        if done == self.last:
            return
        if self.callback is not None:
            self.callback(done, self.total)
        elif self.bar is not None:
            self.bar.update(done - max(self.last, 0))
        else:
            sys.stderr.write(f"\r{self.desc}: {done}/{self.total} {self.unit}s")
            sys.stderr.flush()
        self.last = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.callback is None:
            sys.stderr.write("\n")
