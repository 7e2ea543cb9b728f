"""Settings every service shares; each service's settings.py extends this class.

Read from `CAREPATH_*` environment variables; only a service's wiring function reads them.
The defaults match what `make infra` starts on 127.0.0.1.
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.kafka import KafkaLogin

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_PG = "postgresql://carepath:carepath@127.0.0.1:15432"
# Where `make infra` keeps each Kafka principal's password, one file per principal (mode 0600).
DEFAULT_CREDENTIALS = Path(os.environ.get("CAREPATH_CACHE", Path(__file__).resolve().parents[2] / ".cache")) / "kafka" / "credentials"


def database_url(service: str) -> str:
    return f"{DEFAULT_PG}/carepath_{service}"


class KafkaSettings(BaseSettings):
    """What any carepath Kafka client needs: the CLI uses this alone."""

    model_config = SettingsConfigDict(env_prefix="CAREPATH_", extra="ignore")

    kafka_bootstrap: str = DEFAULT_BOOTSTRAP
    topic_prefix: str = Field(default="carepath", pattern=r"^[A-Za-z0-9._-]+$")
    # How clients authenticate: SASL/SCRAM-SHA-512, over TLS where traffic leaves the host
    # (`sasl_ssl`, with `kafka_ca_file` the CA that signed the brokers' certificates). `none` is
    # only for a broker that asks for nothing, which carepath's own never is.
    kafka_security: Literal["sasl", "sasl_ssl", "none"] = "sasl"
    # The principal this process logs in as (default: the service's own, or the command's) and
    # its password; without one, the password is read from `kafka_credentials_dir/<principal>`.
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_credentials_dir: Path = DEFAULT_CREDENTIALS
    kafka_ca_file: Path | None = None
    # Replicas of each topic `carepath topics create` makes (3 on a cluster; 1 on `make infra`'s broker).
    kafka_replication_factor: int = Field(default=1, ge=1, le=7)

    def kafka_login(self, principal: str) -> KafkaLogin:
        """How this process reaches the broker, as `kafka_username` if set, else as `principal`."""
        name = self.kafka_username or principal
        password = self.kafka_password.get_secret_value() if self.kafka_password else None
        return KafkaLogin.of(self.kafka_bootstrap, name, self.kafka_security, password=password,
                             credentials_dir=self.kafka_credentials_dir, ca_file=self.kafka_ca_file)


class ServiceSettings(KafkaSettings):
    # `production` (the default) refuses default, short and low-entropy secrets at start
    # (shared/runtime/secrets.py); `development` allows them, for `make run` and the tests.
    env: Literal["production", "development"] = "production"
    database_url: str
    # Where the keys of the copies a service sends are kept: a database of its own, outside the
    # service's database and its backups (shared/privacy/keystore.py). Services that send copies set it.
    keystore_url: str | None = None
    # Bounded retries of a failing handler before its message is dead-lettered.
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_base_delay_s: float = Field(default=0.2, gt=0)
    retry_max_delay_s: float = Field(default=5.0, gt=0)
    # Records fetched and handled at once (one transaction and one offset commit per batch).
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Offsets handled are committed at most this often (all the batches since share a commit).
    commit_interval_s: float = Field(default=0.1, gt=0, le=5)
    database_pool_size: int = Field(default=24, ge=4)  # two loops of six partitions, each may count a failure on a second connection
    # Connections opened at start, one for each lane of the two loops: the first batches after a
    # start, handled at once, do not each wait for a connection to be made.
    database_pool_open: int = Field(default=12, ge=1)
    # An event naming something not heard of yet (e.g. an episode announced on another topic) is
    # parked until it arrives; the sweep tries parked events again this often, and reports any
    # still waiting after a day (they are never dead-lettered for lateness alone).
    parked_retry_interval_s: float = Field(default=2.0, gt=0)
    parked_report_after_s: float = Field(default=86_400.0, gt=0)
    # A partition with lag whose committed offset has not moved for this long makes
    # `carepath health` fail, naming the topic and partition.
    stall_after_s: float = Field(default=60.0, gt=0)
    # How long a copy waits, before delivery, for this service to apply the consent events already
    # published (its own progress, not bad input: a long wait means the service is far behind).
    delivery_consent_wait_s: float = Field(default=300.0, gt=0)
    # How often break-glass overrides whose window has passed are ended (what they disclosed made
    # unreadable), by services that hold consent.
    override_check_interval_s: float = Field(default=30.0, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    # Written while the database and the broker answer, with stalled partitions and parked and
    # set-aside counts; `carepath health` reads it (Docker health checks).
    heartbeat_file: str = "/tmp/carepath.heartbeat"
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    # Prometheus metrics (shared/runtime/metrics.py) are served on this address and port; without a
    # port, each service has its own (referral 9401, assessment 9402, scheduling 9403, discharge 9404,
    # board 9405, gateway 9406);
    # 0 serves none. Bound to 127.0.0.1 unless told otherwise: they are for the host's Prometheus.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65_535)
    # Traces (shared/runtime/tracing.py) are exported over OTLP/HTTP to this collector's base URL
    # (`/v1/traces` is added), e.g. http://127.0.0.1:4318; without one none are exported, though
    # the trace context is still carried on to the next service.
    otlp_endpoint: str | None = Field(default=None, pattern=r"^https?://\S+$")
    # Tests only: a file holding seconds to add to the clock (see shared/runtime/clock.py OffsetClock).
    clock_offset_file: str | None = None
