#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit, service API, platform runtime and end-to-end
# tests, against real Postgres and NATS (installed and started if needed), and the fault suite
# (integration-tests' `fault`: the shipped binaries on a three-node JetStream cluster and a
# Postgres of its own, short profile; FAULT_PROFILE=long for the long one).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
deploy/scripts/ensure-browser.sh
# The pinned nats-server of the fault suite (a three-node JetStream cluster) and the plane test.
deploy/scripts/ensure-nats-server.sh >/dev/null

# Dockerfile, compose file and Helm chart, with pinned tools cached outside the repository.
deploy/scripts/check-deploy.sh

# Protos against the last release's: nothing a consumer on the wire relies on has changed.
deploy/scripts/check-protos.sh

echo "== module imports"
python3 deploy/scripts/check-module-cycles.py
echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo test"
cargo test --workspace --all-features --no-fail-fast
