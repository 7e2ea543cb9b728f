"""AES-GCM (from `cryptography`), written once: sealing bytes bound to associated data, so a
sealed value moved onto another row or event does not open there; and small records sealed at
rest for their owner. Sealed copies (`copies`) and the referral service's identity records
both seal here."""

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def key_from_secret(secret: str) -> bytes:
    """A 256-bit key: the secret itself if it is 32 base64-encoded bytes, else its SHA-256."""
    try:
        raw = base64.b64decode(secret, validate=True)
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    return hashlib.sha256(secret.encode()).digest()


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal_bytes(key: bytes, plain: bytes, associated: bytes) -> bytes:
    """A fresh nonce, then the ciphertext and its tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plain, associated)


def open_bytes(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    """Raises `cryptography.exceptions.InvalidTag` if the key or the associated data do not fit."""
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)


def seal(key: bytes, owner: str, record: dict[str, Any]) -> bytes:
    return seal_bytes(key, json.dumps(record).encode(), owner.encode())


def unseal(key: bytes, owner: str, sealed: bytes) -> dict[str, Any]:
    return json.loads(open_bytes(key, sealed, owner.encode()))
