"""One way to report progress, whoever is watching.

Domain code takes a :class:`Progress` and calls ``start(total)`` then ``advance(n)``. The command
line passes a :class:`ConsoleProgress` (a progress bar on standard error); background jobs pass
a reporter that writes to their Job row, which the browser polls.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol

from tqdm import tqdm


class Progress(Protocol):
    def start(self, total: int, label: str = "") -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def finish(self) -> None: ...


class SilentProgress:
    def start(self, total: int, label: str = "") -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class ConsoleProgress:
    """A progress bar on standard error; quiet when standard error is not a terminal-like stream."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def start(self, total: int, label: str = "") -> None:
        self.finish()
        if self.enabled:
            self._bar = tqdm(total=total, desc=label, unit="", file=sys.stderr, leave=True)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
