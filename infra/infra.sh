#!/usr/bin/env bash
# carepath's local infrastructure without Docker: one Apache Kafka broker (KRaft, combined
# broker+controller) from its Maven Central jars, and a PostgreSQL cluster from Debian's
# packages, both on 127.0.0.1 only; `metrics` starts Prometheus (Debian's) scraping the services.
# `up` is idempotent; `down` stops what `up` and `metrics` started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CAREPATH_CACHE:-$ROOT/.cache}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/infra/kafka/pom.xml")
KAFKA_LIBS=$CACHE/kafka/$KAFKA_VERSION/libs
KAFKA_STATE=$CACHE/kafka/state
# One password file per Kafka principal (0600): the broker's own two, the admin's, and those
# `carepath access grant` makes for every principal in contracts/access.py.
KAFKA_CREDENTIALS=$CACHE/kafka/credentials
KAFKA_PORT=${CAREPATH_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${CAREPATH_KAFKA_CONTROLLER_PORT:-19093}
PG_PORT=${CAREPATH_PG_PORT:-15432}
PG_CLUSTER=carepath
PG_ROLE=carepath
PG_PASSWORD=${CAREPATH_PG_PASSWORD:-carepath}
# The services that send copies keep their keys in a database of their own, apart from their own.
DATABASES=(referral assessment scheduling discharge board gateway assessment_keys discharge_keys)
CAREPATH=$ROOT/.venv/bin/carepath

say() { printf 'infra: %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

apt_install() {
  say "installing $* from Debian's packages"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------- Kafka
carepath_admin() {
  CAREPATH_KAFKA_CREDENTIALS_DIR=$KAFKA_CREDENTIALS "$CAREPATH" --bootstrap "127.0.0.1:$KAFKA_PORT" --as admin "$@"
}

kafka_fetch() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$KAFKA_LIBS.partial"
  mvn -B -q -Dstyle.color=never -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.partial"
  rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.partial" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

kafka_pid() {
  local pid
  pid=$(cat "$KAFKA_STATE/kafka.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

password_of() {
  local file=$KAFKA_CREDENTIALS/$1
  if [ ! -s "$file" ]; then
    mkdir -p "$KAFKA_CREDENTIALS" && chmod 700 "$KAFKA_CREDENTIALS"
    (umask 077 && LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 43 >"$file")
  fi
  cat "$file"
}

kafka_up() {
  kafka_fetch
  mkdir -p "$KAFKA_STATE"
  if kafka_pid >/dev/null; then
    say "Kafka already running (pid $(kafka_pid))"
  else
    local config=$KAFKA_STATE/server.properties broker controller admin
    broker=$(password_of broker) controller=$(password_of controller) admin=$(password_of admin)
    (umask 077 && {
      cat "$ROOT/infra/kafka/server.properties"
      echo "log.dirs=$KAFKA_STATE/data"
      echo "listeners=CLIENT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
      echo "advertised.listeners=CLIENT://127.0.0.1:$KAFKA_PORT"
      echo "controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT"
      echo "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$broker\";"
      echo "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"controller\" password=\"$controller\" user_controller=\"$controller\";"
    } >"$config")
    if [ -f "$KAFKA_STATE/data/meta.properties" ] && [ ! -f "$KAFKA_STATE/.authenticated" ]; then
      say "Kafka's storage predates authentication: formatting it anew (its topics and events are dropped)"
      rm -rf "$KAFKA_STATE/data"
    fi
    if [ ! -f "$KAFKA_STATE/data/meta.properties" ]; then
      say "formatting KRaft storage, with the SCRAM credentials of the broker and the admin principal"
      # The passwords go to the storage tool in a 0600 argument file, which the java launcher
      # reads itself: on the command line, anyone on the host could read them with `ps`.
      local arguments=$KAFKA_STATE/format.args
      (umask 077 && printf '"%s"\n' \
        "-Dlog4j2.configurationFile=$ROOT/infra/kafka/log4j2.properties" -cp "$KAFKA_LIBS/*" \
        kafka.tools.StorageTool format --ignore-formatted \
        -t "$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid)" -c "$config" \
        --add-scram "SCRAM-SHA-512=[name=broker,password=$broker]" \
        --add-scram "SCRAM-SHA-512=[name=admin,password=$admin]" >"$arguments")
      java "@$arguments" >/dev/null || { rm -f "$arguments"; exit 1; }
      rm -f "$arguments"
      touch "$KAFKA_STATE/.authenticated"
    fi
    say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_STATE/kafka.log)"
    setsid nohup java -Xms256m -Xmx1g -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$config" \
      </dev/null >>"$KAFKA_STATE/kafka.log" 2>&1 &
    echo $! >"$KAFKA_STATE/kafka.pid"
  fi
  carepath_admin wait-kafka --timeout 120 || { tail -n 30 "$KAFKA_STATE/kafka.log" >&2; exit 1; }
}

kafka_down() {
  local pid
  if pid=$(kafka_pid); then
    say "stopping Kafka (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$KAFKA_STATE/kafka.pid"
}

# ---------------------------------------------------------------- Prometheus
# Scrapes the four services' metrics (shared/runtime/metrics.py: ports 9401-9404 on 127.0.0.1);
# its own web page and API on 127.0.0.1:9090.
PROMETHEUS_STATE=$CACHE/prometheus
PROMETHEUS_PORT=${CAREPATH_PROMETHEUS_PORT:-9090}

prometheus_fetch() { command -v prometheus >/dev/null || apt_install prometheus; }

# The board's browser tests and `make screenshots` drive Debian's chromium through its driver.
chromium_fetch() {
  command -v chromium >/dev/null && command -v chromedriver >/dev/null || apt_install chromium chromium-driver fonts-liberation
}

prometheus_pid() {
  local pid
  pid=$(cat "$PROMETHEUS_STATE/prometheus.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

prometheus_up() {
  prometheus_fetch
  mkdir -p "$PROMETHEUS_STATE"
  if prometheus_pid >/dev/null; then
    say "Prometheus already running (pid $(prometheus_pid)) at http://127.0.0.1:$PROMETHEUS_PORT"
    return 0
  fi
  setsid nohup prometheus --config.file="$ROOT/infra/prometheus/prometheus.yml" --storage.tsdb.path="$PROMETHEUS_STATE/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" </dev/null >>"$PROMETHEUS_STATE/prometheus.log" 2>&1 &
  echo $! >"$PROMETHEUS_STATE/prometheus.pid"
  for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null || { tail -n 20 "$PROMETHEUS_STATE/prometheus.log" >&2; exit 1; }
  say "Prometheus scraping the services at http://127.0.0.1:$PROMETHEUS_PORT (log: $PROMETHEUS_STATE/prometheus.log)"
}

prometheus_down() {
  local pid
  if pid=$(prometheus_pid); then
    say "stopping Prometheus (pid $pid)"
    kill "$pid"
  fi
  rm -f "$PROMETHEUS_STATE/prometheus.pid"
}

# ---------------------------------------------------------------- PostgreSQL
pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1; }

pg_up() {
  [ -n "$(pg_version)" ] && command -v pg_createcluster >/dev/null || apt_install postgresql
  local version
  version=$(pg_version)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version $PG_CLUSTER"; then
    say "creating PostgreSQL $version cluster '$PG_CLUSTER' on 127.0.0.1:$PG_PORT"
    as_root pg_createcluster "$version" "$PG_CLUSTER" -p "$PG_PORT" >/dev/null
    printf "listen_addresses = '127.0.0.1'\nmax_connections = 200\n" |
      as_root tee "/etc/postgresql/$version/$PG_CLUSTER/conf.d/carepath.conf" >/dev/null
  fi
  if ! pg_lsclusters -h | awk '{print $1" "$2" "$4}' | grep -qx "$version $PG_CLUSTER online"; then
    say "starting PostgreSQL $version cluster '$PG_CLUSTER'"
    as_root pg_ctlcluster "$version" "$PG_CLUSTER" start
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 0.5
  done
  pg_isready -h 127.0.0.1 -p "$PG_PORT" >/dev/null || { say "PostgreSQL did not answer"; exit 1; }
  as_postgres psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 -c "
    DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
        CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
      END IF;
    END \$\$;" >/dev/null
  local database
  for database in "${DATABASES[@]}"; do
    if [ -z "$(as_postgres psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = 'carepath_$database'")" ]; then
      as_postgres createdb -p "$PG_PORT" -O "$PG_ROLE" "carepath_$database"
    fi
  done
  say "PostgreSQL ready on 127.0.0.1:$PG_PORT (databases: ${DATABASES[*]/#/carepath_})"
}

pg_down() {
  local version
  version=$(pg_version)
  [ -n "$version" ] || return 0
  if pg_lsclusters -h | awk '{print $1" "$2" "$4}' | grep -qx "$version $PG_CLUSTER online"; then
    say "stopping PostgreSQL cluster '$PG_CLUSTER'"
    as_root pg_ctlcluster "$version" "$PG_CLUSTER" stop
  fi
}

case "${1:-}" in
  up)
    [ -x "$CAREPATH" ] || { say "run 'make setup' first (no virtual environment at .venv)"; exit 1; }
    pg_up
    kafka_up
    carepath_admin topics create
    carepath_admin access grant
    prometheus_fetch  # installed, not started: `make metrics` starts it, the tests run their own
    chromium_fetch
    ;;
  metrics)
    prometheus_up
    ;;
  status)
    # exit 0 when both are up: `make run` uses it to stop only what it started itself
    kafka_pid >/dev/null && pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
    ;;
  down)
    prometheus_down
    kafka_down
    pg_down
    ;;
  *)
    echo "usage: $0 up|metrics|down|status" >&2
    exit 2
    ;;
esac
