"""Consistent backups of the database and uploaded files, and restore into an empty instance.

A backup is a gzipped tar holding ``manifest.json`` (format, time, identity-key fingerprint,
record counts, a SHA-256 for every member), ``data.json`` (every stored record, in dependency
order) and ``files/`` (uploads). The identity key itself is never in a backup: keep it apart,
as docs/deployment.md explains; restore refuses a key that does not match.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from steppingstones.core import audit, identity_store
from steppingstones.core.identity import IdentityKeyError, key_id
from steppingstones.core.models import KeyCheck, Study
from steppingstones.core.progress import Progress, SilentProgress

FORMAT = "steppingstones-backup/1"
# Transient or rebuilt-by-migrate tables that a backup leaves out.
EXCLUDED_APPS = frozenset({"contenttypes", "sessions", "axes", "django_tasks_database"})
EXCLUDED_MODELS = frozenset({"auth.permission"})
MAX_MEMBER_BYTES = 4 * 1024**3


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why and where."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    records: int
    files: int
    counts: dict[str, int]


def backed_up_models() -> list[type[models.Model]]:
    chosen = [
        model
        for model in apps.get_models()
        if model._meta.app_label not in EXCLUDED_APPS
        and model._meta.label_lower not in EXCLUDED_MODELS
        and not model._meta.proxy
        and model._meta.managed
    ]
    by_app: dict[Any, list[type[models.Model]]] = {}
    for model in chosen:
        by_app.setdefault(apps.get_app_config(model._meta.app_label), []).append(model)
    return list(serializers.sort_dependencies(list(by_app.items()), allow_cycles=True))


def _full_precision(value: Any) -> str:
    """JSON for values Django's own JSON encoder would round (it keeps only milliseconds)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


def create_backup(target: Path, progress: Progress | None = None) -> BackupSummary:
    progress = progress or SilentProgress()
    try:
        key = identity_store.load_key() if KeyCheck.objects.exists() else None
    except IdentityKeyError as error:
        raise BackupError(f"cannot back up: {error}") from error
    model_list = backed_up_models()
    counts: dict[str, int] = {}
    records: list[Any] = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        querysets = [model._default_manager.order_by("pk") for model in model_list]
        total = sum(queryset.count() for queryset in querysets)
        files = _media_files()
        progress.start(total + len(files), "Backing up")
        for model, queryset in zip(model_list, querysets, strict=True):
            objects = list(queryset)
            counts[model._meta.label_lower] = len(objects)
            records.extend(serializers.serialize("python", objects, use_natural_foreign_keys=True))
            progress.advance(len(objects))
    data = json.dumps(records, ensure_ascii=False, sort_keys=True, default=_full_precision).encode(
        "utf-8"
    )
    members: dict[str, str] = {"data.json": _sha256(data)}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(partial, "w:gz") as archive:
        _add_bytes(archive, "data.json", data)
        for path in files:
            name = "files/" + path.relative_to(media_root).as_posix()
            content = path.read_bytes()
            members[name] = _sha256(content)
            _add_bytes(archive, name, content)
            progress.advance()
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": connection.vendor,
            "identity_key_id": key_id(key) if key else None,
            "counts": counts,
            "members": members,
        }
        _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
    partial.replace(target)
    progress.finish()
    audit.record("backup.create", object_repr=target.name, changes={"records": len(records)})
    return BackupSummary(target, len(records), len(files), counts)


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(content))


def _read_archive(source: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(source, "r:gz") as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    raise BackupError(
                        f"{source}: member {member.name!r} is not a plain relative file"
                    )
                if member.size > MAX_MEMBER_BYTES:
                    raise BackupError(f"{source}: member {member.name!r} is too large")
                handle = archive.extractfile(member)
                contents[member.name] = handle.read() if handle else b""
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as error:
        raise BackupError(f"{source}: not a readable backup archive ({error})") from error
    if "manifest.json" not in contents:
        raise BackupError(f"{source}: manifest.json is missing")
    try:
        manifest = json.loads(contents.pop("manifest.json"))
    except ValueError as error:
        raise BackupError(f"{source}: manifest.json is not valid JSON ({error})") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: unknown backup format {manifest.get('format')!r}")
    expected = manifest.get("members", {})
    if set(expected) != set(contents):
        missing = sorted(set(expected) - set(contents))
        extra = sorted(set(contents) - set(expected))
        raise BackupError(
            f"{source}: members differ from the manifest (missing {missing}, extra {extra})"
        )
    for name, digest in expected.items():
        if _sha256(contents[name]) != digest:
            raise BackupError(f"{source}: {name} is corrupt (checksum does not match the manifest)")
    return manifest, contents


def instance_is_empty() -> bool:
    """No studies and no users yet (a key check from ``migrate`` alone does not count)."""
    return not (Study.objects.exists() or get_user_model().objects.exists())


def _reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def restore_backup(source: Path, progress: Progress | None = None) -> BackupSummary:
    """Restore into an empty, migrated instance; all or nothing."""
    progress = progress or SilentProgress()
    manifest, contents = _read_archive(source)
    wanted_key = manifest.get("identity_key_id")
    if wanted_key:
        try:
            configured = identity_store._configured_key()
        except IdentityKeyError as error:
            raise BackupError(f"cannot restore: {error}") from error
        if configured is None:
            raise BackupError(
                f"cannot restore: this backup's identifiers are sealed with key {wanted_key}; "
                "put that key in place (STEPPINGSTONES_IDENTITY_KEY or the key file) first"
            )
        if key_id(configured) != wanted_key:
            raise BackupError(
                f"cannot restore: the configured identity key is {key_id(configured)}, "
                f"but this backup needs key {wanted_key}"
            )
    if not instance_is_empty():
        raise BackupError(
            "cannot restore: this instance already holds data; restore into an empty one"
        )
    file_names = [name for name in contents if name.startswith("files/")]
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root))
    restored = 0
    try:
        for name in file_names:
            destination = staging / name.removeprefix("files/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(contents[name])
        # Deserialised lazily: natural keys (users by name) resolve against rows saved before.
        objects = serializers.deserialize(
            "python",
            json.loads(contents["data.json"].decode("utf-8")),
            handle_forward_references=True,
        )
        total = sum(int(count) for count in manifest.get("counts", {}).values())
        progress.start(total + len(file_names), "Restoring")
        with transaction.atomic(), audit.suspended():
            deferred = []
            for obj in objects:
                obj.save()
                if obj.deferred_fields:
                    deferred.append(obj)
                restored += 1
                progress.advance()
            for obj in deferred:
                obj.save_deferred_fields()
            _reset_sequences(backed_up_models())
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                final = media_root / path.relative_to(staging)
                final.parent.mkdir(parents=True, exist_ok=True)
                path.replace(final)
                progress.advance()
    except (DeserializationError, DatabaseError, ValueError, LookupError) as error:
        raise BackupError(f"{source}: data.json could not be restored ({error})") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress.finish()
    audit.record("backup.restore", object_repr=source.name, changes={"records": restored})
    return BackupSummary(source, restored, len(file_names), manifest.get("counts", {}))
