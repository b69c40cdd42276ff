#!/bin/sh
# Installs servesim's build and test dependencies from Debian 12 packages.
# Runs as root directly, or through sudo for a normal user.
set -e
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="build-essential cmake pkg-config libgsl-dev libyaml-dev libsqlite3-dev libcjson-dev \
libcmocka-dev zlib1g-dev openmpi-bin libopenmpi-dev gnuplot-nox sqlite3 libssl-dev"
missing=
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
