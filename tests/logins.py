"""How the tests, the bench and the soak log in to the broker `make infra` started: as the admin
principal to set a run's deployment up (its topics, and every principal's ACLs on them) and to
tear it down; as the operator to watch; as each Trust system or service to play it."""

import asyncio
from functools import cache
from pathlib import Path

from contracts import TOPICS
from contracts.access import ADMIN
from shared.runtime.kafka import KafkaLogin, create_topics
from shared.runtime.settings import KafkaSettings
from tests.acceptance.deployment import delete_topics
from tools import access


@cache
def settings() -> KafkaSettings:
    # Whoever runs the tests may have a principal of their own set for the CLI: not used here.
    return KafkaSettings(kafka_username=None, kafka_password=None)


def admin() -> KafkaLogin:
    return settings().kafka_login(ADMIN)


def operator() -> KafkaLogin:
    return admin().as_principal("operator")


def credentials_dir() -> Path:
    return settings().kafka_credentials_dir


async def open_deployment(prefix: str) -> None:
    """A run's topics, and every principal's rights on them (and only on them)."""
    await create_topics(admin(), prefix)
    await access.provision(admin(), prefix, credentials_dir())


async def close_deployment(prefix: str) -> None:
    await delete_topics(admin(), [topic.full_name(prefix) for topic in TOPICS])
    await asyncio.to_thread(access.revoke, admin(), prefix)
