"""Consistent backups of the database and uploaded files, and restore into an empty instance.

A backup is a gzipped tar holding ``manifest.json`` (format, time, identity-key fingerprint,
record counts, a SHA-256 for every member), ``data.json`` (every stored record, in dependency
order) and ``files/`` (uploads). The identity key itself is never in a backup: keep it apart,
as docs/deployment.md explains; restore refuses a key that does not match.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
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
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give a file name, e.g. {target}/stones.tar.gz")
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
    partial = target.with_name(target.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        _write_archive(partial, data, files, media_root, members, counts, key, progress)
        partial.replace(target)
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    progress.finish()
    audit.record("backup.create", object_repr=target.name, changes={"records": len(records)})
    return BackupSummary(target, len(records), len(files), counts)


def _write_archive(
    partial: Path,
    data: bytes,
    files: list[Path],
    media_root: Path,
    members: dict[str, str],
    counts: dict[str, int],
    key: bytes | None,
    progress: Progress,
) -> None:
    # The archive holds password hashes and sealed identifiers: readable by its owner only.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        _add_bytes(archive, "data.json", data)
        for path in files:
            name = "files/" + path.relative_to(media_root).as_posix()
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(chunk)
            members[name] = digest.hexdigest()
            info = archive.gettarinfo(str(path), arcname=name)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with path.open("rb") as handle:
                archive.addfile(info, handle)
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


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(content))


MAX_MEMBERS = 1_000_000
MAX_TOTAL_BYTES = 200 * 1024**3


def _safe_file_name(name: str) -> str | None:
    """The path below files/ for a member name, or None if the name could escape or is odd."""
    if not name.startswith("files/"):
        return None
    relative = name.removeprefix("files/")
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") for part in parts) or "\\" in relative:
        return None
    return relative


@dataclass
class _Archive:
    manifest: dict[str, Any]
    data: bytes
    staged_files: list[str]


def _read_archive(source: Path, staging: Path) -> _Archive:
    """Check and unpack a backup: small members into memory, files streamed into ``staging``."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    small: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    staged: list[str] = []
    total = 0
    try:
        with tarfile.open(source, "r:gz") as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_MEMBERS:
                    raise BackupError(f"{source}: more than {MAX_MEMBERS} members")
                total += member.size
                if member.size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                    raise BackupError(f"{source}: member {member.name!r} makes it too large")
                if not member.isfile():
                    raise BackupError(f"{source}: member {member.name!r} is not a plain file")
                handle = archive.extractfile(member)
                if handle is None:
                    raise BackupError(f"{source}: member {member.name!r} cannot be read")
                if member.name in ("manifest.json", "data.json"):
                    small[member.name] = handle.read()
                    digests[member.name] = _sha256(small[member.name])
                    continue
                relative = _safe_file_name(member.name)
                if relative is None:
                    raise BackupError(f"{source}: member {member.name!r} is not below files/")
                destination = staging / relative
                if not destination.resolve().is_relative_to(staging.resolve()):
                    raise BackupError(f"{source}: member {member.name!r} points outside the backup")
                destination.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with destination.open("wb") as out:
                    for chunk in iter(functools.partial(handle.read, 1024 * 1024), b""):
                        digest.update(chunk)
                        out.write(chunk)
                digests[member.name] = digest.hexdigest()
                staged.append(relative)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"{source}: not a readable backup archive ({error})") from error
    except OSError as error:
        raise BackupError(f"{source}: cannot be read ({error})") from error
    if "manifest.json" not in small:
        raise BackupError(f"{source}: manifest.json is missing")
    try:
        manifest = json.loads(small["manifest.json"])
    except ValueError as error:
        raise BackupError(f"{source}: manifest.json is not valid JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: not a {FORMAT} manifest")
    expected = manifest.get("members")
    counts = manifest.get("counts")
    if (
        not isinstance(expected, dict)
        or not isinstance(counts, dict)
        or not all(isinstance(value, int) for value in counts.values())
    ):
        raise BackupError(f"{source}: manifest.json lacks member checksums or record counts")
    del digests["manifest.json"]
    if set(expected) != set(digests):
        missing = sorted(set(expected) - set(digests))
        extra = sorted(set(digests) - set(expected))
        raise BackupError(
            f"{source}: members differ from the manifest (missing {missing}, extra {extra})"
        )
    for name, digest in expected.items():
        if digests[name] != digest:
            raise BackupError(f"{source}: {name} is corrupt (checksum does not match the manifest)")
    return _Archive(manifest=manifest, data=small["data.json"], staged_files=staged)


def instance_is_empty() -> bool:
    """No studies and no users yet (a key check from ``migrate`` alone does not count)."""
    return not (Study.objects.exists() or get_user_model().objects.exists())


def _reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _check_key(source: Path, wanted_key: str | None) -> None:
    if not wanted_key:
        return
    try:
        configured = identity_store.configured_key()
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


def restore_backup(source: Path, progress: Progress | None = None) -> BackupSummary:
    """Restore into an empty, migrated instance; all or nothing (database and files)."""
    progress = progress or SilentProgress()
    if not instance_is_empty():
        raise BackupError(
            "cannot restore: this instance already holds data; restore into an empty one"
        )
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root))
    placed: list[Path] = []
    try:
        unpacked = _read_archive(source, staging)
        _check_key(source, unpacked.manifest.get("identity_key_id"))
        # Deserialised lazily: natural keys (users by name) resolve against rows saved before.
        objects = serializers.deserialize(
            "python", json.loads(unpacked.data.decode("utf-8")), handle_forward_references=True
        )
        total = sum(unpacked.manifest["counts"].values())
        progress.start(total + len(unpacked.staged_files), "Restoring")
        restored = 0
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
            # Files go into place inside the transaction: if one cannot, the database rolls back
            # and the files already placed are removed below.
            for relative in unpacked.staged_files:
                final = media_root / relative
                if final.exists():
                    raise BackupError(f"cannot restore: {final} already exists")
                final.parent.mkdir(parents=True, exist_ok=True)
                (staging / relative).replace(final)
                placed.append(final)
                progress.advance()
    except (DeserializationError, DatabaseError, ValueError, LookupError, TypeError) as error:
        _remove(placed)
        raise BackupError(f"{source}: data.json could not be restored ({error})") from error
    except OSError as error:
        _remove(placed)
        raise BackupError(f"{source}: files could not be restored ({error})") from error
    except BackupError:
        _remove(placed)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress.finish()
    audit.record("backup.restore", object_repr=source.name, changes={"records": restored})
    return BackupSummary(source, restored, len(placed), unpacked.manifest["counts"])


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
