"""The configuration self-test behind ``steppingstones check``."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from steppingstones.config.paths import data_dir, identity_key_file
from steppingstones.core import identity_store
from steppingstones.core.identity import IdentityKeyError, encode_key


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _private(path: Path) -> bool:
    return not stat.S_IMODE(path.stat().st_mode) & 0o077


def run_checks() -> list[CheckResult]:
    results = []
    secret = settings.SECRET_KEY
    results.append(
        CheckResult(
            "secret key",
            len(secret) >= 40 and not secret.startswith("django-insecure"),
            "long and random" if len(secret) >= 40 else "shorter than 40 characters",
        )
    )
    secret_file = data_dir() / "secret.key"
    if secret_file.exists():
        results.append(
            CheckResult(
                "secret key file permissions",
                _private(secret_file),
                f"{secret_file} is readable only by its owner"
                if _private(secret_file)
                else f"{secret_file} is readable by others: chmod 600 it",
            )
        )
    results.append(
        CheckResult(
            "debug off",
            not settings.DEBUG,
            "DEBUG is off" if not settings.DEBUG else "STEPPINGSTONES_DEBUG=1 is set",
        )
    )
    hosts = settings.ALLOWED_HOSTS
    results.append(
        CheckResult(
            "allowed hosts",
            bool(hosts) and "*" not in hosts,
            ", ".join(hosts) if hosts and "*" not in hosts else "must list host names, not '*'",
        )
    )
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        results.append(CheckResult("database", True, f"{connection.vendor} reachable"))
        results.append(
            CheckResult(
                "migrations",
                not pending,
                "all applied"
                if not pending
                else f"{len(pending)} pending: run steppingstones migrate",
            )
        )
    except DatabaseError as error:
        results.append(CheckResult("database", False, f"cannot connect: {error}"))
        return results
    try:
        key = identity_store.load_key()
    except (IdentityKeyError, DatabaseError) as error:
        results.append(CheckResult("identity key", False, str(error)))
        return results
    key_file = identity_key_file()
    if key_file.exists():
        results.append(
            CheckResult(
                "identity key file permissions",
                _private(key_file),
                "readable only by its owner" if _private(key_file) else f"chmod 600 {key_file}",
            )
        )
    results.append(CheckResult("identity key", True, "present and matches the database"))
    results.append(
        CheckResult(
            "identity key not in database",
            not _key_in_database(encode_key(key)),
            "the key appears nowhere in the database"
            if not _key_in_database(encode_key(key))
            else "the identity key text was found in the database: rotate it",
        )
    )
    return results


def _key_in_database(encoded_key: str) -> bool:
    """Whether the key text was pasted into any stored text (a settings field, a note…)."""
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        text_fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        for name in text_fields:
            if model._default_manager.filter(**{f"{name}__contains": encoded_key}).exists():
                return True
    return False
