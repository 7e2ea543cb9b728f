"""Sealing small records at rest with AES-GCM (from `cryptography`).

The record is bound to its owner's id as associated data, so a sealed value copied onto
another row does not open there.
"""

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


def seal(key: bytes, owner: str, record: dict[str, Any]) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, json.dumps(record).encode(), owner.encode())


def unseal(key: bytes, owner: str, sealed: bytes) -> dict[str, Any]:
    return json.loads(AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], owner.encode()))
