"""Outside development a service refuses the secrets anyone could know or guess, naming the
setting and never the value; keys come as rings so they can be rotated."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.referral.settings import DEVELOPMENT_SECRET, Settings
from shared.privacy.crypto import key_ring
from shared.runtime.secrets import refusals

ROOT = Path(__file__).resolve().parents[2]


def random_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def settings(**secrets_: str) -> Settings:
    values = {"identity_key": random_key(), "identity_encryption_key": random_key()} | secrets_
    return Settings(database_url="postgresql://carepath:a-long-real-password@db/carepath_referral",
                    **{name: SecretStr(value) for name, value in values.items()})


def test_random_keys_and_a_real_database_password_are_accepted() -> None:
    assert refusals(settings()) == []


@pytest.mark.parametrize(("value", "problem"), [
    (DEVELOPMENT_SECRET, "the development default"),
    ("correct horse battery staple", "not a random 32-byte key"),
    (base64.b64encode(b"short").decode(), "not a random 32-byte key"),
    (base64.b64encode(b"ab" * 16).decode(), "too little entropy"),
    (f"v2:{random_key()},v1:{DEVELOPMENT_SECRET}", "not a random 32-byte key"),  # an old key in the ring counts too
])
def test_a_default_passphrase_short_or_patterned_key_is_refused_naming_the_setting_not_the_value(value: str, problem: str) -> None:
    [refusal] = refusals(settings(identity_encryption_key=value))
    assert refusal.startswith("CAREPATH_IDENTITY_ENCRYPTION_KEY") and problem in refusal
    assert value not in refusal


def test_the_published_database_password_is_refused() -> None:
    published = settings().model_copy(update={"database_url": "postgresql://carepath:carepath@db/carepath_referral"})
    assert refusals(published) == ["CAREPATH_DATABASE_URL has the development default password published with carepath"]


def test_a_short_kafka_password_is_refused() -> None:
    [refusal] = refusals(settings().model_copy(update={"kafka_password": SecretStr("hunter2")}))
    assert refusal == "CAREPATH_KAFKA_PASSWORD is shorter than 16 characters"


def test_a_ring_seals_with_its_first_key_and_knows_every_version() -> None:
    new, old = random_key(), random_key()
    ring = key_ring(f"v2:{new},v1:{old}")
    assert ring.current == (2, base64.b64decode(new))
    assert ring.key(1) == base64.b64decode(old)
    assert key_ring(new).current == (1, base64.b64decode(new))
    with pytest.raises(ValueError, match="needs its version"):
        key_ring(f"{new},{old}")


def test_a_passphrase_is_stretched_by_a_kdf_not_hashed_once() -> None:
    import hashlib

    _, key = key_ring("a passphrase").current
    assert len(key) == 32 and key != hashlib.sha256(b"a passphrase").digest()


def test_the_referral_service_started_with_the_default_key_outside_development_exits_naming_the_setting() -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CAREPATH_")}
    env |= {"CAREPATH_DATABASE_URL": "postgresql://carepath:a-long-real-password@127.0.0.1:1/none",
            "CAREPATH_IDENTITY_ENCRYPTION_KEY": random_key(), "CAREPATH_LOG_FORMAT": "json"}
    run = subprocess.run([sys.executable, "-m", "services.referral"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "CAREPATH_IDENTITY_KEY is the development default" in run.stderr
    assert "CAREPATH_IDENTITY_ENCRYPTION_KEY" not in run.stderr  # the random one passes
    assert DEVELOPMENT_SECRET not in run.stderr


def test_a_key_store_on_the_service_databases_server_or_with_the_published_password_is_refused() -> None:
    from services.assessment.settings import Settings as AssessmentSettings

    base = dict(database_url="postgresql://carepath:a-long-real-password@db:5432/carepath_assessment")
    assert refusals(AssessmentSettings(**base, keystore_url="postgresql://keys:another-long-password@keys:5432/carepath_assessment_keys")) == []
    same_server = refusals(AssessmentSettings(**base, keystore_url="postgresql://keys:another-long-password@db:5432/keys"))
    assert same_server == ["CAREPATH_KEYSTORE_URL is on the service database's server, whose backups would bring destroyed keys back: "
                           "keep the key store on a server of its own"]
    published = refusals(AssessmentSettings(**base, keystore_url="postgresql://carepath:carepath@keys:5432/keys"))
    assert published == ["CAREPATH_KEYSTORE_URL has the development default password published with carepath"]
