#!/bin/sh
# The bare probes behind a no-op run, with nothing around them: one interpreter start
# asking the interpreter about itself, one dpkg-query for all packages, and the stat
# calls for the CA anchor, pipx's metadata and the venv stamp.
dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' build-essential python3-dev python3-venv pipx ca-certificates >/dev/null
/usr/bin/python3 -I -c 'import sys, sysconfig, ssl, json; json.dumps(sysconfig.get_paths())' >/dev/null
test -e /usr/local/share/ca-certificates/provision-host-ca.crt
test -e /root/.local/pipx/venvs/ruff/pipx_metadata.json || test -e /root/.local/share/pipx/venvs/ruff/pipx_metadata.json
test -e .venv/.provision-stamp.json
