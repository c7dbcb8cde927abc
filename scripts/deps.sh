#!/usr/bin/env bash
# Install the Debian packages shardwire builds, tests and runs with, when any
# is missing.  Needs root (or sudo) only when something must be installed.
set -euo pipefail

SW_PACKAGES=(build-essential cmake pkg-config libuv1-dev libpg-query-dev libprotobuf-c-dev
  libxxhash-dev libyaml-dev libssl-dev libpq-dev libcmocka-dev libgmp-dev postgresql-15
  postgresql-client-15 pgbouncer clang libclang-rt-14-dev python3-psycopg)

missing=()
for p in "${SW_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
