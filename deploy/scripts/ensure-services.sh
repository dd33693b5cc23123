#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres without password from loopback) and NATS
# with JetStream (127.0.0.1:4222) are running: installs them with apt on a bare Debian/Ubuntu,
# starts them when they are down. Safe to run again and again. Needs root (or sudo) only when it
# has something to install or start.
set -euo pipefail

# shellcheck source=deploy/scripts/apt.sh
source "$(dirname "$0")/apt.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Build dependencies: webauthn-rs (security-info's security keys) links OpenSSL.
if [ ! -d /usr/include/openssl ] || ! command -v pkg-config >/dev/null 2>&1; then
  echo "installing libssl-dev and pkg-config..."
  apt_install libssl-dev pkg-config
fi

# --- PostgreSQL
if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing postgresql..."
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Local development and CI: the postgres role may connect from loopback without a password.
  if ! $SUDO grep -q "myaccount: loopback trust" "$hba"; then
    $SUDO sed -i "1i host all postgres 127.0.0.1/32 trust # myaccount: loopback trust\nhost all postgres ::1/128 trust # myaccount: loopback trust" "$hba"
  fi
  echo "starting postgresql $version..."
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 50); do port_open 5432 && break; sleep 0.2; done
port_open 5432 || { echo "postgresql did not come up on 127.0.0.1:5432" >&2; exit 1; }

# --- NATS with JetStream
if ! port_open 4222; then
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "installing nats-server..."
    apt_install nats-server
  fi
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  store="${NATS_STORE_DIR:-/var/lib/nats-server}"
  $SUDO mkdir -p "$store"
  echo "starting nats-server with JetStream (store: $store)..."
  $SUDO sh -c "nohup '$nats_bin' -a 127.0.0.1 -p 4222 -js -sd '$store' >/tmp/myaccount-nats.log 2>&1 &"
fi
for _ in $(seq 1 50); do port_open 4222 && break; sleep 0.2; done
port_open 4222 || { echo "nats-server did not come up on 127.0.0.1:4222" >&2; exit 1; }

echo "postgresql and nats are running"
