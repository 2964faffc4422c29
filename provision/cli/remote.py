"""The ``remote`` task: provision many hosts over SSH, in parallel (logic in the package provision.remote).

tasks.py registers it: ``from provision.cli.remote import remote``.
"""

from __future__ import annotations

from invoke import task

from provision.cli import finish, user_errors

REMOTE_HELP = {
    "hosts": "comma-separated [user@]host[:port] targets (IPv6 in brackets: [::1]:22); SSH config aliases work",
    "inventory": "file with one [user@]host[:port] per line ('#' starts a comment)",
    "parallel": "how many hosts run at once (default: the number of hosts, at most 8)",
    "ssh-config": "SSH config file to use instead of ~/.ssh/config",
    "identity": "private key file to authenticate with (also: ssh-agent and the SSH config's IdentityFile)",
    "remote-path": "where the kit lives on each host (default ~/.cache/provision/kit)",
    "no-push": "do not push the kit: --remote-path is an existing checkout on every host",
    "dry-run": "passed on: each host prints its plan and changes nothing",
    "ca-bundle": "local PEM file of a CA to trust; copied to each host and passed on as --ca-bundle",
    "project": "passed on: the project to provision, a path on the remote hosts",
    "accept-new-host-keys": "accept and record host keys not yet in known_hosts (a changed key is still refused)",
    "connect-timeout": "seconds to wait for each SSH connection (default 15)",
    "json": "print {hosts: {host: {status, recap, error, duration}}, total} as JSON on stdout and nothing else there",
}


@task(help=REMOTE_HELP, auto_shortflags=False)
def remote(c, hosts=None, inventory=None, parallel=0, ssh_config=None, identity=None, remote_path=None, no_push=False,
           dry_run=False, ca_bundle=None, project=None, accept_new_host_keys=False, connect_timeout=None, json=False):
    """Provision many hosts over SSH in parallel: push the kit, run stage 0 and bootstrap there, recap per host."""
    from provision.remote.commands import DEFAULT_REMOTE_PATH, RemoteOptions
    from provision.remote.hosts import parse_timeout
    from provision.remote.results import failed_hosts
    from provision.remote.run import remote as run_remote

    with user_errors("provision: interrupted; hosts that were mid-run converge when run again"):
        timeout = parse_timeout(connect_timeout)
        options = RemoteOptions(
            remote_path=remote_path or DEFAULT_REMOTE_PATH, push=not no_push, dry_run=dry_run, ca_bundle=ca_bundle,
            project=project, ssh_config=ssh_config, identity=identity, accept_new_host_keys=accept_new_host_keys,
            connect_timeout=timeout,
        )
        code, results = run_remote(hosts=hosts, inventory=inventory, parallel=parallel, options=options, as_json=json)
    finish(code, f"provision: remote failed on: {', '.join(failed_hosts(results))}")
