"""The identity store: the only code that reads or writes direct identifiers.

Every read and write is written to the audit trail. The key comes from the environment
(``STEPPINGSTONES_IDENTITY_KEY``) or the key file, never from the database; the database holds
only a sealed check value that proves the key is the right one.
"""

from __future__ import annotations

import os

from django.db import transaction

from steppingstones.config.paths import identity_key_file, write_private_file
from steppingstones.core import audit
from steppingstones.core.identity import (
    Identifiers,
    IdentityKeyError,
    decode_key,
    encode_key,
    generate_key,
    key_id,
    read_key_file,
    seal,
    unseal,
)
from steppingstones.core.models import IdentityRecord, KeyCheck, Participant

CHECK_VALUE = {"check": "stepping-stones-identity-key"}
CHECK_BINDING = "key-check"


def configured_key() -> bytes | None:
    from_env = os.environ.get("STEPPINGSTONES_IDENTITY_KEY")
    if from_env:
        return decode_key(from_env, source="STEPPINGSTONES_IDENTITY_KEY")
    path = identity_key_file()
    return read_key_file(path) if path.exists() else None


def verify_key(key: bytes) -> None:
    """Raise :class:`IdentityKeyError` unless ``key`` opens the database's check value."""
    check = KeyCheck.objects.order_by("pk").first()
    if check is None:
        return
    if check.key_id != key_id(key):
        raise IdentityKeyError(
            f"the identity key ({key_id(key)}) is not the key this database was sealed with "
            f"({check.key_id})"
        )
    unseal(check.sealed, key, CHECK_BINDING)


def load_key() -> bytes:
    """The verified identity key; raises :class:`IdentityKeyError` with the reason if unusable."""
    key = configured_key()
    if key is None:
        raise IdentityKeyError(
            f"no identity key: set STEPPINGSTONES_IDENTITY_KEY or create {identity_key_file()} "
            "(steppingstones creates it on first run of an empty database)"
        )
    verify_key(key)
    return key


@transaction.atomic
def ensure_key() -> bytes:
    """Create the identity key on first run; afterwards only ever load and verify it."""
    key = configured_key()
    if key is None:
        if KeyCheck.objects.exists():
            raise IdentityKeyError(
                f"the database holds sealed identifiers but the identity key file "
                f"{identity_key_file()} is missing: restore it from your key backup"
            )
        key = generate_key()
        write_private_file(identity_key_file(), encode_key(key) + "\n")
    if not KeyCheck.objects.exists():
        KeyCheck.objects.create(key_id=key_id(key), sealed=seal(CHECK_VALUE, key, CHECK_BINDING))
    verify_key(key)
    return key


def _binding(participant: Participant) -> str:
    return f"study:{participant.study_id}/participant:{participant.pk}"


def read_identity(participant: Participant) -> Identifiers | None:
    """Open a participant's identifiers, recording that someone looked."""
    record = IdentityRecord.objects.filter(participant=participant).first()
    if record is None:
        return None
    values = unseal(record.sealed, load_key(), _binding(participant))
    audit.record("identity.view", study=participant.study_id, obj=participant)
    known = set(Identifiers.field_names())
    return Identifiers(**{name: value for name, value in values.items() if name in known})


@transaction.atomic
def write_identity(participant: Participant, identifiers: Identifiers) -> list[str]:
    """Store identifiers; returns and audits the names (never the values) of changed fields."""
    key = load_key()
    record = IdentityRecord.objects.select_for_update().filter(participant=participant).first()
    previous = Identifiers()
    if record is not None:
        old = unseal(record.sealed, key, _binding(participant))
        previous = Identifiers(**{k: v for k, v in old.items() if k in Identifiers.field_names()})
    changed = identifiers.changed_fields(previous)
    sealed = seal(identifiers.as_dict(), key, _binding(participant))
    if record is None:
        IdentityRecord.objects.create(participant=participant, sealed=sealed)
        action = "identity.create"
    elif changed:
        record.sealed = sealed
        record.save(update_fields=["sealed", "updated_at"])
        action = "identity.change"
    else:
        return []
    audit.record(
        action,
        study=participant.study_id,
        obj=participant,
        changes={name: {"changed": True} for name in changed},
    )
    return changed


@transaction.atomic
def erase_identity(participant: Participant, reason: str) -> bool:
    deleted, _ = IdentityRecord.objects.filter(participant=participant).delete()
    if deleted:
        audit.record(
            "identity.erase",
            study=participant.study_id,
            obj=participant,
            changes={"reason": reason},
        )
    return bool(deleted)
