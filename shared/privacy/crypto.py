"""AES-GCM (from `cryptography`), written once: sealing bytes bound to associated data, so a
sealed value moved onto another row or event does not open there; and small records sealed at
rest for their owner. Sealed copies (`copies`) and the referral service's identity records
both seal here."""

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
# A passphrase (development only: production takes random keys) is stretched by scrypt.
_SCRYPT_SALT = b"carepath key from passphrase v1"
_VERSIONED = re.compile(r"^v(\d{1,4}):(.+)$")


@dataclass(frozen=True)
class KeyRing:
    """Keys by version, newest first: the first seals, every one opens. A key is rotated by
    putting the new one first (`v2:<new>,v1:<old>`); the old one stays until nothing needs it."""

    keys: tuple[tuple[int, bytes], ...]

    @property
    def current(self) -> tuple[int, bytes]:
        return self.keys[0]

    def key(self, version: int) -> bytes:
        return dict(self.keys)[version]


def key_ring(setting: str) -> KeyRing:
    """`v2:<key>,v1:<key>` (or one `<key>`, version 1). A key is 32 random bytes in base64; any
    other text is a passphrase, stretched by scrypt (production refuses passphrases)."""
    keys = []
    for number, part in enumerate(item.strip() for item in setting.split(",")):
        match = _VERSIONED.match(part)
        version, text = (int(match[1]), match[2]) if match else (1 if number == 0 else None, part)
        if version is None:
            raise ValueError("every key after the first needs its version: v2:<key>,v1:<key>")
        keys.append((version, random_key(text) or _stretched(text)))
    if len({version for version, _ in keys}) != len(keys):
        raise ValueError("two keys with the same version")
    return KeyRing(tuple(keys))


def unversioned(setting: str) -> bool:
    """A single key with no version: a setting from before key rings (the text was the key)."""
    return "," not in setting and _VERSIONED.match(setting.strip()) is None


def random_key(text: str) -> bytes | None:
    """The key if `text` is 32 bytes in base64, else None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == KEY_BYTES else None


def key_ring_weakness(setting: str) -> str | None:
    """Why a key setting is unfit for production (never echoing it), or None."""
    for part in (item.strip() for item in setting.split(",")):
        match = _VERSIONED.match(part)
        key = random_key(match[2] if match else part)
        if key is None:
            return "is not a random 32-byte key in base64 (a passphrase, or too short)"
        if len(set(key)) < 16:  # 32 random bytes have about 30 distinct values; fewer than 16 is a pattern
            return "has too little entropy to be a random key"
    return None


def _stretched(passphrase: str) -> bytes:
    return hashlib.scrypt(passphrase.encode(), salt=_SCRYPT_SALT, n=2**14, r=8, p=1, dklen=KEY_BYTES)


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
