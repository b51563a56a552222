"""The identity store: sealing, binding to records, key handling, and who can see identifiers."""

from __future__ import annotations

import pytest
from django.db import connection

from steppingstones.core import identity_store
from steppingstones.core.identity import (
    Identifiers,
    IdentityKeyError,
    generate_key,
    key_id,
    seal,
    unseal,
)
from steppingstones.core.models import AuditEvent, IdentityRecord


def test_sealed_values_open_only_with_the_key_and_record_they_were_sealed_for() -> None:
    key = generate_key()
    sealed = seal({"full_name": "Test Person"}, key, "record-1")
    assert "Test Person" not in sealed
    assert unseal(sealed, key, "record-1") == {"full_name": "Test Person"}
    with pytest.raises(IdentityKeyError, match="does not belong to this record"):
        unseal(sealed, key, "record-2")
    with pytest.raises(IdentityKeyError, match="sealed with key"):
        unseal(sealed, generate_key(), "record-1")


def test_a_tampered_ciphertext_is_refused() -> None:
    key = generate_key()
    version, kid, packed = seal({"phone": "07700 900001"}, key, "r").split(":", 2)
    flipped = packed[:-6] + ("A" if packed[-6] != "A" else "B") + packed[-5:]
    with pytest.raises(IdentityKeyError):
        unseal(f"{version}:{kid}:{flipped}", key, "r")


def test_nothing_identifying_is_stored_in_clear_text(
    participant, django_assert_num_queries
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM core_identityrecord")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "Test Person" not in stored and "07700" not in stored and "5919" not in stored


def test_reading_and_changing_identifiers_is_audited_without_values(participant) -> None:
    identity = identity_store.read_identity(participant)
    assert identity is not None and identity.full_name == "Test Person"
    changed = identity_store.write_identity(
        participant,
        Identifiers(
            full_name="Changed Person", phone="07700 900123", nhs_or_chi_number="943 476 5919"
        ),
    )
    assert changed == ["full_name"]
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "changes"))
    assert ("identity.view", {}) in actions
    assert ("identity.change", {"full_name": {"changed": True}}) in actions
    everything = str(list(AuditEvent.objects.values()))
    assert "Changed Person" not in everything and "Test Person" not in everything


def test_a_record_copied_onto_another_person_does_not_open(participant) -> None:
    from steppingstones.core.models import Participant

    other = Participant.objects.create(
        study=participant.study, site=participant.site, kind="woman", pseudonym="EL-W02"
    )
    IdentityRecord.objects.create(participant=other, sealed=participant.identity.sealed)
    with pytest.raises(IdentityKeyError):
        identity_store.read_identity(other)


def test_a_wrong_key_is_refused_with_a_clear_message(participant, monkeypatch) -> None:
    from steppingstones.core.identity import encode_key

    wrong = generate_key()
    monkeypatch.setenv("STEPPINGSTONES_IDENTITY_KEY", encode_key(wrong))
    with pytest.raises(
        IdentityKeyError, match=f"identity key \\({key_id(wrong)}\\) is not the key"
    ):
        identity_store.read_identity(participant)


def test_a_missing_key_file_is_never_silently_replaced(participant, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("STEPPINGSTONES_IDENTITY_KEY_FILE", str(tmp_path / "gone.key"))
    with pytest.raises(IdentityKeyError, match="is missing"):
        identity_store.ensure_key()
    assert not (tmp_path / "gone.key").exists()


def test_the_key_file_is_private(identity_key) -> None:
    from steppingstones.config.paths import identity_key_file

    assert identity_key_file().stat().st_mode & 0o777 == 0o600
