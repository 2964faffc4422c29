#!/bin/sh
# The bare probes behind a no-op run on a project: one interpreter start, one dpkg-query for
# all packages, the stat calls for the CA anchor, pipx's metadata and the venv stamp, and a
# read of the files that decide the install (what the kit hashes for its stamp).
# Run from the project's directory: sh probes_project.sh TOOL
dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' build-essential python3-dev python3-venv pipx ca-certificates >/dev/null
/usr/bin/python3 -I -c 'import sys, sysconfig, ssl, json; json.dumps(sysconfig.get_paths())' >/dev/null
test -e /usr/local/share/ca-certificates/provision-host-ca.crt
[ -z "${1:-}" ] || test -e "/root/.local/pipx/venvs/$1/pipx_metadata.json" || test -e "/root/.local/share/pipx/venvs/$1/pipx_metadata.json"
test -e .venv/.provision-stamp.json
cat pyproject.toml uv.lock requirements*.txt 2>/dev/null | sha256sum >/dev/null
