#!/usr/bin/env bash
# Runs the whole system on this machine: Postgres and NATS (installed and started if needed),
# every service and the gateway in one process, with the demo tenant seeded.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
# Places for sign-ins and sessions: the city-level GeoIP database, downloaded once into a cache
# (a failed download leaves places unknown rather than stopping the run).
if [ -z "${GEOIP_DATABASE:-}" ]; then
  GEOIP_DATABASE="$(deploy/scripts/ensure-geoip.sh)" || {
    echo "run.sh: no GeoIP database; sign-ins and sessions will show no place" >&2
    GEOIP_DATABASE=""
  }
  export GEOIP_DATABASE
fi
cargo build --release -p myaccount
exec target/release/myaccount up --demo
