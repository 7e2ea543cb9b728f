#!/usr/bin/env bash
# docker-compose.yml's broker: the same configuration as `make infra`'s (server.properties), but
# reached over TLS (SASL_SSL) by the other containers and the host, with the broker's own and
# the admin's SCRAM credentials from the environment. Runs in the official apache/kafka image.
set -euo pipefail
: "${CAREPATH_KAFKA_BROKER_PASSWORD:?}" "${CAREPATH_KAFKA_CONTROLLER_PASSWORD:?}" "${CAREPATH_KAFKA_ADMIN_PASSWORD:?}"
config=/tmp/server.properties
(umask 077 && {
  cat /carepath/server.properties
  echo "log.dirs=/var/lib/kafka/data"
  echo "controller.quorum.voters=1@127.0.0.1:9093"
  echo "listeners=CLIENT://:9092,HOST://:19092,CONTROLLER://127.0.0.1:9093"
  echo "advertised.listeners=CLIENT://kafka:9092,HOST://127.0.0.1:19092"
  echo "listener.security.protocol.map=CLIENT:SASL_SSL,HOST:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"
  echo "listener.name.host.sasl.enabled.mechanisms=SCRAM-SHA-512"
  echo "ssl.keystore.type=PEM"
  echo "ssl.keystore.location=/certs/broker.pem"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.location=/certs/ca.pem"
  echo "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$CAREPATH_KAFKA_BROKER_PASSWORD\";"
  echo "listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$CAREPATH_KAFKA_BROKER_PASSWORD\";"
  echo "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"controller\" password=\"$CAREPATH_KAFKA_CONTROLLER_PASSWORD\" user_controller=\"$CAREPATH_KAFKA_CONTROLLER_PASSWORD\";"
} >"$config")
# The storage tool takes the passwords on its command line; in this container that is seen only by
# what already shares its environment, where the passwords are. (On a shared host, `make infra`
# hands them over in a 0600 argument file instead.)
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  /opt/kafka/bin/kafka-storage.sh format -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" -c "$config" \
    --add-scram "SCRAM-SHA-512=[name=broker,password=$CAREPATH_KAFKA_BROKER_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$CAREPATH_KAFKA_ADMIN_PASSWORD]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
