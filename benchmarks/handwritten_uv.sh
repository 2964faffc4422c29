#!/bin/sh
# The baseline for a uv-locked project: what a careful hand-written script does for the
# same result as `./bootstrap --ca-bundle CA --project DIR` on Debian 12 (the same apt
# packages, uv through pipx at the same version, `uv sync --frozen` into the project's .venv).
# Run as root: sh benchmarks/handwritten_uv.sh /path/to/ca.pem /path/to/project
set -eu
ca=$1
project=$2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential python3-dev python3-venv pipx ca-certificates
install -D -m 0644 "$ca" /usr/local/share/ca-certificates/provision-host-ca.crt
update-ca-certificates
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
pipx ensurepath
pipx install uv==0.13.9 || true   # re-runs: "already installed"
cd "$project"
UV_PYTHON=/usr/bin/python3 "$HOME/.local/bin/uv" sync --frozen
