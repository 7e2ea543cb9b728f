"""Turning `contracts.access` into the broker's principals and ACLs, as the admin principal.

A principal's password is made once (random, 32 bytes), kept in the credentials directory (one
file per principal, readable by its owner only) and given to the broker as a SCRAM-SHA-512
credential; the broker keeps only the salted hash. ACLs are literal, one deployment prefix at a
time, so a principal of one deployment has no rights on another's topics.
"""

import asyncio
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from contracts import TOPICS
from contracts.access import PRINCIPALS, Kind, Principal, principal
from contracts.topics import kept_forever
from shared.runtime.kafka import KafkaLogin

RESERVED = frozenset({"admin", "broker", "controller"})  # the broker's superusers
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,62}$")
_SCRAM_ITERATIONS = 8192
_TIMEOUT_S = 30


class AccessError(RuntimeError):
    """The broker refused or did not answer a change to principals or ACLs."""


def bindings(user: str, rights: Principal, prefix: str) -> list[AclBinding]:
    """The ACLs that give `user` the rights of `rights` on one deployment's topics and groups."""
    who = f"User:{user}"

    def allow(resource: ResourceType, name: str, operation: AclOperation, pattern=ResourcePatternType.LITERAL) -> AclBinding:
        return AclBinding(resource, name, pattern, who, "*", operation, AclPermissionType.ALLOW)

    granted = [allow(ResourceType.TOPIC, topic.full_name(prefix), AclOperation.WRITE) for topic in rights.writes]
    granted += [allow(ResourceType.TOPIC, topic.full_name(prefix), AclOperation.READ) for topic in rights.reads]
    granted += [allow(ResourceType.GROUP, f"{prefix}-{group}", AclOperation.READ) for group in rights.groups]
    if rights.kind is Kind.SERVICE:  # a service checks at start that consent and audit are kept forever
        granted += [allow(ResourceType.TOPIC, topic.full_name(prefix), AclOperation.DESCRIBE_CONFIGS)
                    for topic in TOPICS if kept_forever(topic)]
    if rights.describes_groups:
        granted.append(allow(ResourceType.GROUP, f"{prefix}-", AclOperation.DESCRIBE, ResourcePatternType.PREFIXED))
    return granted


def ensure_credentials(admin_login: KafkaLogin, names: Iterable[str], credentials_dir: Path) -> list[str]:
    """Gives each principal a SCRAM credential on the broker, from its password file (made now,
    at random, if there is none); returns the names whose password was made now."""
    credentials_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    made, upserts = [], []
    for name in names:
        if not _NAME.match(name):
            raise AccessError(f"{name!r} is not a principal name (lower-case letters, digits, '.' and '-')")
        path = credentials_dir / name
        if not path.exists():
            _write_private(path, secrets.token_urlsafe(32))
            made.append(name)
        upserts.append(UserScramCredentialUpsertion(
            name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, _SCRAM_ITERATIONS), path.read_text().strip().encode()
        ))
    admin = _admin(admin_login)  # held until the answers are in: a dropped client cancels its requests
    _wait(admin.alter_user_scram_credentials(upserts, request_timeout=_TIMEOUT_S), "SCRAM credentials")
    return made


def grant(admin_login: KafkaLogin, prefix: str, users: dict[str, Principal] | None = None) -> int:
    """Creates the ACLs of every principal (each kind's own user, unless `users` names others) on
    the deployment `prefix`; returns how many. Creating an ACL that exists changes nothing."""
    users = users if users is not None else {known.name: known for known in PRINCIPALS}
    wanted = [binding for user, rights in users.items() for binding in bindings(user, rights, prefix)]
    admin = _admin(admin_login)
    _wait(admin.create_acls(wanted, request_timeout=_TIMEOUT_S), "ACLs")
    return len(wanted)


def revoke(admin_login: KafkaLogin, prefix: str) -> None:
    """Removes every ACL on the deployment's topics and groups (a test run's, when it ends)."""
    filters = [
        AclBindingFilter(ResourceType.TOPIC, topic.full_name(prefix), ResourcePatternType.LITERAL, None, None,
                         AclOperation.ANY, AclPermissionType.ANY)
        for topic in TOPICS
    ] + [
        AclBindingFilter(ResourceType.GROUP, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY)
    ]
    admin = _admin(admin_login)
    groups = [b for b in _one(admin.describe_acls(filters[-1], request_timeout=_TIMEOUT_S), "ACL listing") if b.name.startswith(f"{prefix}-")]
    doomed = filters[:-1] + [
        AclBindingFilter(ResourceType.GROUP, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type)
        for b in groups
    ]
    _wait(admin.delete_acls(doomed, request_timeout=_TIMEOUT_S), "ACLs")


def add_system(admin_login: KafkaLogin, prefix: str, name: str, like: str, credentials_dir: Path) -> Path:
    """Onboards one more system as a principal with the rights of the kind `like`; returns the
    file holding its password, to be handed to the system's administrators."""
    rights = principal(like)
    if name in RESERVED or any(known.name == name for known in PRINCIPALS):
        raise AccessError(f"{name!r} is taken (the broker's own, the admin, or one of carepath's principals): choose another name")
    ensure_credentials(admin_login, [name], credentials_dir)
    grant(admin_login, prefix, {name: rights})
    return credentials_dir / name


async def provision(admin_login: KafkaLogin, prefix: str, credentials_dir: Path) -> tuple[list[str], int]:
    """Every principal's credential and ACLs for one deployment (what `make infra` runs)."""
    made = await asyncio.to_thread(ensure_credentials, admin_login, [known.name for known in PRINCIPALS], credentials_dir)
    granted = await asyncio.to_thread(grant, admin_login, prefix)
    return made, granted


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text + "\n")


def _admin(login: KafkaLogin) -> AdminClient:
    return AdminClient(login.admin_config() | {"log_level": "3"})


def _one(future, what: str = "request"):  # noqa: ANN001, ANN202 - a confluent-kafka future
    try:
        return future.result(timeout=_TIMEOUT_S)
    except KafkaException as error:
        raise AccessError(f"the broker refused the {what}: {error.args[0].str() if error.args else error}") from None


def _wait(futures: dict, what: str) -> None:
    for future in futures.values():
        _one(future, what)
