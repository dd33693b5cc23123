#!/usr/bin/env bash
# Fails when proto/ breaks a consumer of the last release on the wire: `buf breaking` (rules
# WIRE_JSON: no field renumbered, retyped, renamed or removed without reserving its number and
# name; no message, enum value or RPC removed) against proto/released/<version>.binpb, the image
# of the released protos. Releasing adds that version's image (docs/OPERATIONS.md, "Releasing").
set -euo pipefail
cd "$(dirname "$0")/../.."

BUF=$(deploy/scripts/ensure-buf.sh)
# The newest released image (versions sort as versions, 0.10.0 after 0.9.0).
released=$(find proto/released -name '*.binpb' | sort -V | tail -n 1)
[ -n "$released" ] || { echo "check-protos: no released image in proto/released" >&2; exit 1; }
echo "== protos: buf $("$BUF" --version) breaking against $released"
"$BUF" breaking proto --against "$released"
