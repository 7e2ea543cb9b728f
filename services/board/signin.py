"""Who may look at a team's board: staff in a local users file (argon2 password hashes, written by
`add_user`) or signed in by their Trust's identity provider (OIDC), each belonging to one Trust.

Nothing here reads a request; the web layer asks `Users.check`, `Attempts` and `user_from_claims`.
"""

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contracts import Trust
from shared.runtime.clock import Clock

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12
DEFAULT_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A member of staff signed in to the board: they see their own Trust's teams and no other's."""

    username: str
    trust: Trust


class Users:
    """The local users file: a JSON list of `{"username", "trust", "password_hash"}`. It is read
    at each sign-in, so a user added by `carepath board add-user` can sign in without a restart."""

    def __init__(self, path: Path | str | None, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
        self.path = Path(path) if path is not None else None
        self._hasher = hasher

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def check(self, username: str, password: str) -> User | None:
        """The user if the password is theirs. An unknown username costs the same argon2
        verification as a known one, so the time taken does not tell which usernames exist."""
        entry = _entries(self.path).get(username) if self.path is not None else None
        if entry is None:
            self._verify(self._dummy_hash, password)
            return None
        if not self._verify(entry["password_hash"], password):
            return None
        return User(username, Trust(entry["trust"]))

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(os.urandom(16).hex())


def add_user(path: Path | str, username: str, trust: Trust | str, password: str,
             hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Create the user, or replace their Trust and password. The file is written whole to a
    temporary file beside it and renamed over it, so a reader never sees half a file; only its
    owner may read it (mode 0600), since argon2 hashes still invite offline guessing."""
    if not USERNAME.fullmatch(username):
        raise ValueError("a username is 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password is at least {MIN_PASSWORD} characters")
    path = Path(path)
    entries = _entries(path) if path.exists() else {}
    entries[username] = {"username": username, "trust": Trust(trust).value, "password_hash": hasher.hash(password)}
    _write_atomically(path, json.dumps(sorted(entries.values(), key=lambda e: e["username"]), indent=2) + "\n")


def _entries(path: Path) -> dict[str, dict[str, str]]:
    try:
        listed = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {entry["username"]: entry for entry in listed}


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp makes it 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- Failed sign-ins ------------------------------------------------------------------------------

@dataclass
class _Failures:
    count: int
    last: datetime


@dataclass
class Attempts:
    """Failed sign-ins per username, in memory: after `limit` failures the username is locked for
    `lock_for`, whether or not it exists, and even the right password is refused until then.
    Counted per username (not per address) because staff share ward PCs behind one address."""

    clock: Clock
    limit: int = 5
    lock_for: timedelta = timedelta(minutes=5)
    _failures: dict[str, _Failures] = field(default_factory=dict)

    def locked(self, username: str) -> bool:
        failures = self._failures.get(username.casefold())
        return failures is not None and failures.count >= self.limit and self.clock.now() < failures.last + self.lock_for

    def failed(self, username: str) -> None:
        now = self.clock.now()
        self._forget_before(now - self.lock_for)
        failures = self._failures.setdefault(username.casefold(), _Failures(0, now))
        failures.count, failures.last = failures.count + 1, now

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.casefold(), None)

    def _forget_before(self, cutoff: datetime) -> None:
        # Keeps the table as small as the last few minutes' failures, however many names are tried.
        for name in [name for name, failures in self._failures.items() if failures.last <= cutoff]:
            del self._failures[name]


# --- OIDC -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OidcSettings:
    """A Trust identity provider the board signs staff in through (authorization code flow)."""

    metadata_url: str  # the issuer's /.well-known/openid-configuration
    client_id: str
    client_secret: str = field(repr=False)
    trust_claim: str = "carepath_trust"  # the claim whose value is the user's Trust, e.g. "belfast"
    trust: Trust | None = None  # a Trust's own identity provider: everyone it signs in is that Trust's
    username_claim: str = "preferred_username"
    scope: str = "openid profile"
    redirect_url: str | None = None  # the public /oidc/callback address, when behind a proxy


def user_from_claims(claims: Mapping[str, Any], oidc: OidcSettings) -> User | None:
    """The user an identity provider vouched for, or None when it did not say who they are or
    which Trust they work for: such a user signs in to nothing."""
    username = claims.get(oidc.username_claim) or claims.get("sub")
    if not isinstance(username, str) or not username:
        return None
    if oidc.trust is not None:
        return User(username, oidc.trust)
    try:
        return User(username, Trust(claims.get(oidc.trust_claim)))
    except ValueError:
        return None
