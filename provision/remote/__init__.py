"""The same provisioning run on many hosts over SSH, in parallel, with a recap per host.

For each host: connect (Fabric ``Connection``, which is an invoke ``Context``), push the
kit (a tarball of the tracked working tree, over SFTP) unless ``--no-push``, copy the CA
bundle across, run stage 0 (``./bootstrap --version`` builds the kit's tool venv there),
then ``./bootstrap --yes --json ...``, whose JSON recap comes back on stdout.

One module per concern, and nothing re-exported here: import a name from the module that
owns it.

- ``hosts``: ``Host``, ``--hosts`` / inventory parsing, ``--parallel``, ``--connect-timeout``;
- ``kit``: which files are pushed, and the tarball;
- ``commands``: ``RemoteOptions`` and the command lines run on a host;
- ``results``: ``HostResult``, the remote recap, the aggregate and the total line;
- ``ssh``: host keys, connection errors in one line, Fabric's first-use install, the connection;
- ``run``: one host's run (``HostRun``), all hosts (``run_hosts``), the ``remote`` driver.

Everything that can be decided without a network is a pure function (host parsing,
inventory, tarball members, remote command lines, error messages, the aggregation of
results), so it is tested as tables. Fabric is imported lazily: it is installed into the
kit's tool venv on first use (``requirements-remote.txt``).

Secrets never reach the output or the logs: no password or passphrase is ever taken (one
typed into a host spec is refused, masked: ``dev:***@h1``), and only key *paths* and
host-key *fingerprints* are named in messages.
"""
