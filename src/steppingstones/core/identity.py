"""Sealing direct identifiers with AES-GCM.

Plain module, no Django: the identity store keeps only what :func:`seal` returns. Each sealed
value is bound to the record it belongs to (the associated data), so a ciphertext copied onto
another person's record fails to open instead of revealing one person under another's pseudonym.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12


class IdentityKeyError(Exception):
    """The identity key is missing, malformed or not the one the data were sealed with."""


@dataclass(frozen=True)
class Identifiers:
    """The direct identifiers of one person. Nothing else in the platform holds these."""

    full_name: str = ""
    date_of_birth: str = ""  # ISO date
    address: str = ""
    postcode: str = ""
    phone: str = ""
    email: str = ""
    nhs_or_chi_number: str = ""
    gp_practice: str = ""

    @classmethod
    def field_names(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.field_names()}

    def changed_fields(self, other: Identifiers) -> list[str]:
        return [name for name in self.field_names() if getattr(self, name) != getattr(other, name)]


def generate_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def key_id(key: bytes) -> str:
    """A short fingerprint that names a key without revealing it."""
    return hashlib.sha256(b"steppingstones-identity-key" + key).hexdigest()[:16]


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, *, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise IdentityKeyError(f"the identity key in {source} is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise IdentityKeyError(
            f"the identity key in {source} has {len(key)} bytes; it must have {KEY_BYTES}"
        )
    return key


def read_key_file(path: Path) -> bytes:
    if not path.exists():
        raise IdentityKeyError(f"the identity key file {path} does not exist")
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError as error:
        raise IdentityKeyError(f"the identity key file {path} is not base64 text") from error
    except OSError as error:
        raise IdentityKeyError(f"the identity key file {path} cannot be read ({error})") from error
    return decode_key(text, source=str(path))


def seal(values: dict[str, str], key: bytes, bound_to: str) -> str:
    """Encrypt ``values`` for the record named ``bound_to``; returns printable text."""
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(values, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, bound_to.encode("utf-8"))
    packed = base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii")
    return f"{FORMAT_VERSION}:{key_id(key)}:{packed}"


def unseal(sealed: str, key: bytes, bound_to: str) -> dict[str, str]:
    try:
        version, sealed_key_id, packed = sealed.split(":", 2)
    except ValueError as error:
        raise IdentityKeyError("the sealed value is not in a known format") from error
    if version != FORMAT_VERSION:
        raise IdentityKeyError(f"the sealed value has unknown format {version!r}")
    if sealed_key_id != key_id(key):
        raise IdentityKeyError(
            f"the value was sealed with key {sealed_key_id}, "
            f"but the configured key is {key_id(key)}"
        )
    try:
        raw = base64.urlsafe_b64decode(packed.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise IdentityKeyError("the sealed value is damaged (not base64)") from error
    nonce, ciphertext = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, bound_to.encode("utf-8"))
    except (InvalidTag, ValueError) as error:
        raise IdentityKeyError("the sealed value does not belong to this record") from error
    loaded = json.loads(plaintext.decode("utf-8"))
    return {str(name): str(value) for name, value in loaded.items()}
