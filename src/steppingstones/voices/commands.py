"""The ``steppingstones voices`` subcommands."""

from __future__ import annotations

from typing import Any


def add_commands(subcommands: Any, command_error: type[Exception]) -> None:
    """Add the voices subcommands to the ``voices`` subparsers."""
