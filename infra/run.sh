#!/usr/bin/env bash
# `make run`: the four services, the board and the FHIR gateway, one demo journey fed in as the Trust's systems would, and the
# event log as it flows. Ctrl-C stops the services, and the infrastructure if this run started it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if bash infra/infra.sh status; then
  echo "run: using the Kafka and PostgreSQL already running"
else
  bash infra/infra.sh up || exit 1
  trap 'echo; bash infra/infra.sh down' EXIT
fi
.venv/bin/carepath up --demo
