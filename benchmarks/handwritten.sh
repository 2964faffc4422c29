#!/bin/sh
# The baseline: what a careful hand-written laptop script does for the same result as
# `./bootstrap --ca-bundle CA` on Debian 12 (same packages, same pipx tool, same venv).
# Run from the kit's directory as root: sh benchmarks/handwritten.sh /path/to/ca.pem
set -eu
ca=$1
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential python3-dev python3-venv pipx ca-certificates
install -D -m 0644 "$ca" /usr/local/share/ca-certificates/provision-host-ca.crt
update-ca-certificates
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
pipx ensurepath
pipx install ruff || true   # re-runs: "already installed"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip setuptools wheel
    .venv/bin/python -m pip install --disable-pip-version-check -q -e '.[dev]'
fi
