"""Where the platform keeps its files, and the secrets it creates on first run.

Secrets live in files readable only by their owner (0600), never in the database, so a
database dump alone cannot reveal identifiers or forge sessions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def whole_number_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def data_dir() -> Path:
    return Path(os.environ.get("STEPPINGSTONES_DATA_DIR", "var")).resolve()


def identity_key_file() -> Path:
    configured = os.environ.get("STEPPINGSTONES_IDENTITY_KEY_FILE")
    return Path(configured).resolve() if configured else data_dir() / "identity.key"


def write_private_file(path: Path, content: str) -> None:
    """Create ``path`` with mode 0600 from the start (no window where others could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content)


def secret_key() -> str:
    """The Django secret key: from the environment, else a file generated on first run."""
    from_env = os.environ.get("STEPPINGSTONES_SECRET_KEY")
    if from_env:
        return from_env
    path = data_dir() / "secret.key"
    if not path.exists():
        # Another process may create it between our check and our write.
        with contextlib.suppress(FileExistsError):
            write_private_file(path, secrets.token_urlsafe(50))
    return path.read_text(encoding="ascii").strip()
