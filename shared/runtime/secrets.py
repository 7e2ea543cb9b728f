"""The secrets a service will not start with outside development: a default published in this
repository, a key that is not 32 random bytes, a short password. Each refusal names the setting
and never its value."""

from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from shared.privacy.crypto import key_ring_weakness

# Published here and in docker-compose.yml, so anyone may know them.
PUBLISHED = frozenset({"development-only-secret-change-me", "carepath", "postgres", "password", "changeme", "secret"})
MIN_PASSWORD = 16


def refusals(settings: BaseSettings) -> list[str]:
    """What is wrong with the settings' secrets, one line per setting (empty: nothing)."""
    prefix = settings.model_config.get("env_prefix", "")
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if not isinstance(value, SecretStr):
            continue
        secret, setting = value.get_secret_value(), f"{prefix}{name}".upper()
        if secret in PUBLISHED:
            found.append(f"{setting} is the development default published with carepath")
        elif name.endswith("_key") and (problem := key_ring_weakness(secret)):
            found.append(f"{setting} {problem}")
        elif not name.endswith("_key") and len(secret) < MIN_PASSWORD:
            found.append(f"{setting} is shorter than {MIN_PASSWORD} characters")
    database_url = getattr(settings, "database_url", None)
    if database_url and (urlsplit(database_url).password or "") in PUBLISHED:
        found.append(f"{prefix.upper()}DATABASE_URL has the development default password published with carepath")
    keystore_url = getattr(settings, "keystore_url", None)
    if keystore_url:
        keys = urlsplit(keystore_url)
        if (keys.password or "") in PUBLISHED:
            found.append(f"{prefix.upper()}KEYSTORE_URL has the development default password published with carepath")
        if database_url and (keys.hostname, keys.port) == (urlsplit(database_url).hostname, urlsplit(database_url).port):
            found.append(f"{prefix.upper()}KEYSTORE_URL is on the service database's server, whose backups would bring "
                         "destroyed keys back: keep the key store on a server of its own")
    return found
