"""The ``steppingstones journeys`` subcommands."""

from __future__ import annotations

from typing import Any


def add_commands(subcommands: Any, command_error: type[Exception]) -> None:
    """Add the journeys subcommands to the ``journeys`` subparsers."""
