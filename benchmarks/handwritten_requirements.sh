#!/bin/sh
# The baseline for a requirements-file project: the same apt packages, then a venv with
# the project's requirement file installed (once: a re-run finds the venv and stops there).
# Run as root: sh benchmarks/handwritten_requirements.sh /path/to/ca.pem /path/to/project
set -eu
ca=$1
project=$2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential python3-dev python3-venv pipx ca-certificates
install -D -m 0644 "$ca" /usr/local/share/ca-certificates/provision-host-ca.crt
update-ca-certificates
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
pipx ensurepath
cd "$project"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
    .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
fi
