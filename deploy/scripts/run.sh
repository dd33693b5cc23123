#!/usr/bin/env bash
# Runs the whole system on this machine: Postgres and NATS (installed and started if needed),
# every service and the gateway in one process, with the demo tenant seeded.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
cargo build --release -p myaccount
exec target/release/myaccount up --demo
