"""The corporate CA in the system trust store, so every tool trusts it.

Two states, two steps. ``TrustAnchor`` puts the CA file among the store's anchors before
the package transaction: where the store's package is not installed yet, installing it
builds the bundle with the anchor already there (one rebuild, not two), and where it is,
the anchor step rebuilds at once, so an https package mirror behind the same TLS
interception is trusted too. ``TrustedCA``, after the transaction, confirms the bundle was
rebuilt since the anchor was placed, and rebuilds it when it was not.

pip, uv and requests do not read the system store by default; the venv's pip.conf and
pipx's environment point them at the system bundle these steps complete.
"""

from __future__ import annotations

import posixpath
import re

from ..certs import fingerprint
from ..command import Command
from . import Change, Step, StepEnv


def anchor_path(env: StepEnv) -> str:
    """The bundle's name in the store: readable stem plus the certificates' fingerprint.

    Two different CAs never share a name (a second ``corp.pem`` does not replace the first),
    and the kit never removes an anchor it installed earlier: that is the user's decision.
    """
    store = env.profile.trust_store
    assert store is not None and env.config.ca_bundle is not None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", env.config.ca_bundle.stem).strip("-.") or "ca"
    return posixpath.join(store.anchors, f"provision-{stem[:40]}-{fingerprint(env.config.ca_bundle)[:16]}{store.suffix}")


def no_store_reason(env: StepEnv) -> str | None:
    """Why the CA does not go into a system store here (None: it does)."""
    if not env.config.ca_bundle:
        return "no CA bundle given (--ca-bundle or the 'ca-bundle' key)"
    if env.profile.trust_store is None:
        if env.facts.system == "Darwin":
            return ("macOS keeps trust in the keychain, an explicit step: sudo security add-trusted-cert -d -r trustRoot "
                    f"-k /Library/Keychains/System.keychain {env.config.ca_bundle} ; pip uses the bundle through the venv's pip.conf")
        return f"the {env.profile.name} profile has no system trust store; pip uses the bundle through the venv's pip.conf"
    return None


def rebuild(env: StepEnv) -> Command:
    store = env.profile.trust_store
    assert store is not None
    return Command(store.update, sudo=True, purpose=f"rebuild {store.bundle}")


class TrustAnchor(Step):
    """The CA file among the store's anchors (rebuilt at once where the store's tool is installed)."""

    name = "ca-anchor"
    title = "CA certificate file"

    def skip_reason(self, env: StepEnv) -> str | None:
        return no_store_reason(env)

    def check(self, env: StepEnv) -> Change:
        assert env.config.ca_bundle is not None
        dest = anchor_path(env)
        wanted = env.config.ca_bundle.read_bytes()
        have = env.probe.read_text(dest)
        # read_text reads with universal newlines: a CRLF file (exported on Windows) compares equal too
        if have is not None and have == wanted.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n"):
            return Change(f"{dest} is in place")
        store = env.profile.trust_store
        assert store is not None
        install = Command(("install", "-D", "-m", "0644", str(env.config.ca_bundle), dest), sudo=True, purpose="add the CA to the trust store")
        # without the store's tool, the transaction brings the store's package, whose install builds the bundle
        commands = (install, rebuild(env)) if env.probe.which(store.update[0]) else (install,)
        return Change(f"{env.config.ca_bundle} is not in the system trust store ({dest})", commands)


class TrustedCA(Step):
    """The system bundle rebuilt since the anchor was placed (by the store's package or by hand)."""

    name = "ca-trust"
    title = "CA trust store"

    def skip_reason(self, env: StepEnv) -> str | None:
        return no_store_reason(env)

    def check(self, env: StepEnv) -> Change:
        store = env.profile.trust_store
        assert store is not None
        dest = anchor_path(env)
        placed, built = env.probe.mtime(dest), env.probe.mtime(store.bundle)
        if placed is None:  # planned before the anchor step: it rebuilds, or the store's package does (checked again then)
            by = f"'{' '.join(store.update)}' in the CA file's step" if env.probe.which(store.update[0]) else f"installing {store.package or 'its package'}"
            return Change(f"{store.bundle} is built with the CA file by {by}")
        if built is not None and built >= placed:
            return Change(f"{store.bundle} is built with {dest}")
        return Change(f"{store.bundle} is {'missing' if built is None else 'older than ' + dest}", (rebuild(env),))
