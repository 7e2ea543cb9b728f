"""The Trust systems that may call the gateway, and how each proves it is itself: a bearer token
of its own, of which the gateway keeps only the SHA-256 digest (the tokens are random and long,
so a digest is as good as a password hash and quick to check on every request).

The file (`CAREPATH_CALLERS_FILE`, TOML) has one table per system:

    [[caller]]
    name = "belfast-gp-system"          # in the gateway's logs and its idempotency table
    source = "/trust/belfast/gp-system"  # the CloudEvents source of every event it sends
    trust = "belfast"                    # the Trust its referrals go to unless they name one
    routes = ["gp"]                      # the routes it may refer by; the first is its own
    token_sha256 = "<hex digest of its token>"

`carepath up` writes one for development (`development_callers`), each caller with a new token.
"""

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from contracts import Trust
from contracts.referral import ReferralSource
from services.gateway.domain import Caller

SOURCE = re.compile(r"^/[A-Za-z0-9/._-]{1,120}$")  # the envelope's own rule for a source
DIGEST = re.compile(r"^[0-9a-f]{64}$")


class CallersError(ValueError):
    """The callers file is missing or wrong: the gateway does not start."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Callers:
    known: tuple[tuple[Caller, str], ...]  # each caller with its token's digest

    @classmethod
    def load(cls, path: Path) -> "Callers":
        try:
            tables = tomllib.loads(path.read_text()).get("caller", [])
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CallersError(f"cannot read the gateway's callers file {path}: {error}") from error
        known = []
        for index, table in enumerate(tables):
            where = f"{path}: caller {index + 1}"
            try:
                caller = Caller(str(table["name"]), str(table["source"]), Trust(table["trust"]),
                                tuple(ReferralSource(route) for route in table["routes"]))
                token = str(table["token_sha256"])
            except (KeyError, ValueError, TypeError) as error:
                raise CallersError(f"{where}: {error!r}") from error
            if not SOURCE.match(caller.source):
                raise CallersError(f"{where}: source must be a path such as /trust/belfast/gp-system")
            if not caller.routes:
                raise CallersError(f"{where}: routes must name at least one route")
            if not DIGEST.match(token):
                raise CallersError(f"{where}: token_sha256 must be 64 lower-case hex digits")
            known.append((caller, token))
        if len({caller.name for caller, _ in known}) != len(known) or len({t for _, t in known}) != len(known):
            raise CallersError(f"{path}: two callers share a name or a token")
        return cls(tuple(known))

    def authenticate(self, authorization: str | None) -> Caller | None:
        """The caller whose token this `Authorization: Bearer <token>` header carries, if any."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        given = digest(token.strip())
        found = None
        for caller, expected in self.known:  # every one compared, in constant time
            if hmac.compare_digest(given, expected):
                found = caller
        return found


def caller_entry(caller: Caller, token: str) -> str:
    """The TOML table of one caller, for its token."""
    routes = ", ".join(f'"{route.value}"' for route in caller.routes)
    return (f'[[caller]]\nname = "{caller.name}"\nsource = "{caller.source}"\ntrust = "{caller.trust.value}"\n'
            f'routes = [{routes}]\ntoken_sha256 = "{digest(token)}"\n')


# `carepath up`'s callers: a Belfast GP system and a Belfast ED system, each with a token of its own.
DEVELOPMENT_CALLERS = (
    Caller("belfast-gp-system", "/trust/belfast/gp-system", Trust.BELFAST, (ReferralSource.GP,)),
    Caller("belfast-ed-system", "/trust/belfast/ed-system", Trust.BELFAST, (ReferralSource.EMERGENCY_DEPARTMENT,)),
)


def development_callers(directory: Path) -> Path:
    """The callers file of a development run, made once: each caller's token kept beside it in
    `tokens/<name>` (readable by its owner only), for `curl` to send."""
    path = directory / "callers.toml"
    if path.exists():
        return path
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = []
    for caller in DEVELOPMENT_CALLERS:
        token = secrets.token_urlsafe(32)
        with os.fdopen(os.open(tokens / caller.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(token)
        entries.append(caller_entry(caller, token))
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write("\n".join(entries))
    return path
